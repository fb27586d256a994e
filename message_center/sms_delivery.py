"""Delivery status of outgoing SMS: the outcome of the API call, then Twilio's status callbacks.

The Channel Message row of an outgoing text holds its status. It only moves forward
(core.sms_status.advance_status): callbacks arrive out of order and repeat, and a late "sent" never
overwrites "delivered". Each message's StatusCallback URL names its row, so a callback that beats
the API answer (or follows an answer that was lost) still finds its message.
"""

from __future__ import annotations

import frappe
from frappe import _

from message_center.core import sms_status
from message_center.core.sms_send import ERROR_UNSUBSCRIBED_RECIPIENT, SendResult
from message_center.realtime import publish_conversation_change

# Channel Message.status (a Select for people) <-> Twilio's lower-case lifecycle.
ROW_STATUS = {
	sms_status.SCHEDULED: "Queued",
	sms_status.ACCEPTED: "Queued",
	sms_status.QUEUED: "Queued",
	sms_status.SENDING: "Sending",
	sms_status.SENT: "Sent",
	sms_status.DELIVERED: "Delivered",
	sms_status.PARTIALLY_DELIVERED: "Delivered",
	sms_status.UNDELIVERED: "Undelivered",
	sms_status.FAILED: "Failed",
	sms_status.CANCELED: "Failed",
	sms_status.READ: "Read",
}
TWILIO_STATUS = {
	"Queued": sms_status.QUEUED,
	"Sending": sms_status.SENDING,
	"Sent": sms_status.SENT,
	"Delivered": sms_status.DELIVERED,
	"Undelivered": sms_status.UNDELIVERED,
	"Failed": sms_status.FAILED,
	"Read": sms_status.READ,
}
# What the standard Communication timeline shows for each row status.
COMMUNICATION_STATUS = {
	"Queued": "Sending",
	"Sending": "Sending",
	"Sent": "Sent",
	"Delivered": "Sent",
	"Read": "Read",
	"Undelivered": "Error",
	"Failed": "Error",
}
# Twilio's most common delivery errors, in words an agent can act on.
TWILIO_ERRORS = {
	21610: "The recipient has opted out (texted STOP).",
	21211: "The number is not a valid phone number.",
	21614: "The number cannot receive text messages.",
	30003: "The handset is unreachable (switched off or out of coverage).",
	30004: "The recipient or their carrier blocked the message.",
	30005: "The number does not exist or is no longer in service.",
	30006: "The number is a landline or cannot receive text messages.",
	30007: "The carrier filtered the message as spam.",
	30008: "The carrier could not deliver the message (unknown error).",
}


def row_status(twilio_status: str | None) -> str | None:
	return ROW_STATUS.get(sms_status.normalise_status(twilio_status) or "")


def advance_row_status(current_row_status: str | None, incoming_twilio_status: str | None) -> str | None:
	"""The row status after Twilio reports `incoming_twilio_status`: forward only, never backwards."""
	current = TWILIO_STATUS.get(current_row_status or "")
	return row_status(sms_status.advance_status(current, incoming_twilio_status)) or current_row_status


def describe_error(code, message: str | None = None) -> str:
	try:
		known = TWILIO_ERRORS.get(int(code))
	except (TypeError, ValueError):
		known = None
	return message or known or _("Twilio error {0}").format(code)


def status_callback_url(channel, row: str) -> str | None:
	"""The StatusCallback given to Twilio for one message: the channel's URL naming the row."""
	return f"{channel.status_callback_url}&message={row}" if channel.status_callback_url else None


def _lock_row(row: str):
	return frappe.db.get_value(
		"Channel Message",
		row,
		["name", "channel", "direction", "status", "external_id", "conversation", "communication"],
		as_dict=True,
		for_update=True,
	)


def _write(row, values: dict):
	frappe.db.set_value("Channel Message", row.name, values)
	status = values.get("status")
	if status and status != row.status and row.communication:
		frappe.db.set_value("Communication", row.communication, "delivery_status", COMMUNICATION_STATUS.get(status))
	if row.conversation:
		team = frappe.db.get_value("Conversation", row.conversation, "team")
		publish_conversation_change(row.conversation, team, "delivery")


def _opt_out_recipient(row, channel: str):
	from message_center import sms_optout

	number, contact = frappe.db.get_value("Conversation", row.conversation, ["party_address", "contact"]) or (None, None)
	if number or contact:
		sms_optout.opt_out(number, contact=contact, source=sms_optout.SOURCE_TWILIO_21610, channel=channel)


def record_send_outcome(row_name: str, result: SendResult, channel: str) -> dict:
	"""Store what the API call did (returns the stored values). An answer lost after the request went out leaves the message
	Sending and flagged for review: its status callback (if Twilio sent it) can still settle it."""
	row = _lock_row(row_name)
	values = {"attempts": result.attempts}
	if result.ok:
		values.update(status=advance_row_status(row.status, result.status), external_id=result.sid)
		if result.num_segments:
			values["segments"] = result.num_segments
	elif result.outcome_unknown:
		values.update(
			status=advance_row_status(row.status, sms_status.SENDING),
			needs_review=1,
			review_note=result.error_message,
			error_message=result.error_message,
		)
	else:
		code = result.error_code or result.http_status
		values.update(
			status="Failed",
			error_code=str(code or ""),
			error_message=(f"{describe_error(code)} {result.error_message}" if result.opted_out else result.error_message),
		)
	_write(row, values)
	if result.opted_out:
		_opt_out_recipient(row, channel)
	return values


def apply_status_callback(
	channel: str,
	*,
	message_sid: str | None,
	status: str | None,
	error_code: str | None = None,
	error_message: str | None = None,
	row_name: str | None = None,
) -> str | None:
	"""Fold one status callback into its message; returns the stored status, None when unknown."""
	row = None
	if row_name:
		row = _lock_row(row_name)
	elif message_sid:
		name = frappe.db.get_value("Channel Message", {"channel": channel, "external_id": message_sid, "direction": "Outbound"})
		row = _lock_row(name) if name else None
	if not row or row.channel != channel or row.direction != "Outbound":
		return None
	if message_sid and row.external_id and row.external_id != message_sid:
		return None  # a callback for another message cannot move this one
	values = {}
	new_status = advance_row_status(row.status, status)
	if new_status != row.status:
		values["status"] = new_status
	if message_sid and not row.external_id:
		values["external_id"] = message_sid
	if error_code and new_status in ("Undelivered", "Failed") and values.get("status"):
		values.update(error_code=str(error_code)[:20], error_message=describe_error(error_code, error_message))
	if values:
		_write(row, values)
	if str(error_code or "") == str(ERROR_UNSUBSCRIBED_RECIPIENT):
		_opt_out_recipient(row, channel)
	return new_status

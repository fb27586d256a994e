"""Texting a customer: the SMS send path of the reply dispatcher (api/reply.py) and system replies.

Order matters and is the contract: refuse opted-out numbers before anything else; record the
outgoing Communication through messages.record_outbound (the conversation rules decide who may
text: the claimer or a manager) and commit it as Queued; wait for the number's send slot; one
Messages API call through the real twilio SDK (core.sms_send retries 429/5xx boundedly and never
twice); store Sent/Failed with Twilio's code and message. Twilio splits long bodies itself.
"""

from __future__ import annotations

import time

import frappe
import redis
from frappe import _
from frappe.utils import escape_html

from message_center import messages, sms_optout
from message_center.core import conversation_rules as rules
from message_center.core.sms_segments import SmsTooLong, count_segments
from message_center.core.sms_send import FAILED, RatePacer, SendResult, send_message
from message_center.core.twilio_client import make_client
from message_center.message_center.doctype.conversation.conversation import ConversationRuleError
from message_center.sms_delivery import record_send_outcome, status_callback_url

# Site config keys (never Channel fields): tests point the SDK at the loopback stand-in with them.
CONF_BASE_URL = "message_center_twilio_base_url"
CONF_RETRY_BACKOFF = "message_center_twilio_retry_backoff"
MAX_ATTEMPTS = 3
MAX_SLOT_WAIT_SECONDS = 30.0  # a send queued longer than this behind others from the same number fails


def text_as_html(text: str) -> str:
	"""SMS is plain text: shown as typed in the desk, never interpreted as markup."""
	return escape_html(text).replace("\r\n", "\n").replace("\n", "<br>")


def segment_info_or_throw(text: str):
	try:
		return count_segments(text)
	except SmsTooLong as error:
		frappe.throw(str(error), title=_("Message too long"))


def _check_channel(channel):
	if channel.kind != "SMS":
		frappe.throw(_("Channel {0} does not send text messages.").format(channel.name))
	if not channel.enabled:
		frappe.throw(_("Channel {0} is disabled: enable it before texting from it.").format(channel.name))
	if not (channel.twilio_account_sid and channel.get_password("twilio_auth_token", raise_exception=False)):
		frappe.throw(_("Channel {0} has no Twilio Account SID or Auth Token.").format(channel.name))
	if not (channel.sms_from_number or channel.messaging_service_sid):
		frappe.throw(_("Channel {0} has no sender number or Messaging Service.").format(channel.name))


def twilio_client(channel):
	return make_client(
		channel.twilio_account_sid,
		channel.get_password("twilio_auth_token"),
		base_url=frappe.conf.get(CONF_BASE_URL) or None,
	)


def reserve_send_slot(channel) -> float:
	"""Seconds to wait for this sender's next free slot, reserved atomically in Redis so every web
	worker and job shares one pace per number (Channel.send_rate_per_second)."""
	pacer = RatePacer(float(channel.send_rate_per_second or 1))
	sender = channel.sms_from_number or channel.messaging_service_sid
	key = frappe.cache.make_key(f"message_center:sms_send_slot:{sender}")
	with frappe.cache.pipeline() as pipe:
		while True:
			try:
				pipe.watch(key)
				last = pipe.get(key)
				slot = pacer.reserve(float(last) if last else None, time.time())
				pipe.multi()
				pipe.set(key, repr(slot.at), ex=int(slot.wait_seconds) + 60)
				pipe.execute()
				return slot.wait_seconds
			except redis.WatchError:
				continue  # another worker took a slot in between: read again


def _send(channel, number: str, body: str, row: str) -> SendResult:
	wait = reserve_send_slot(channel)
	if wait > MAX_SLOT_WAIT_SECONDS:
		return SendResult(
			status=FAILED,
			error_message=_("Too many texts are waiting to go out from {0}; nothing was sent. Try again in a minute.").format(
				channel.sms_from_number or channel.name
			),
			retryable=True,
		)
	time.sleep(wait)
	return send_message(
		twilio_client(channel),
		to=number,
		body=body,
		from_number=channel.sms_from_number or None,
		messaging_service_sid=channel.messaging_service_sid or None,
		status_callback=status_callback_url(channel, row),
		max_attempts=MAX_ATTEMPTS,
		backoff=float(frappe.conf.get(CONF_RETRY_BACKOFF) or 1.0),
	)


def _record(conversation, content: str, actor: rules.Actor, info):
	"""Queued Communication + Channel Message, through the rules (raises ConversationRuleError)."""
	identity = messages.MessageIdentity(
		conversation.channel,
		f"outbound:{frappe.generate_hash(length=24)}",
		extra={"segments": info.segments, "encoding": info.encoding, "kind": "Auto Reply" if actor.is_system else "Normal"},
	)
	_transition, communication, row = messages.record_outbound(
		conversation,
		content=text_as_html(content),
		actor=actor,
		identity=identity,
		sender=None if actor.is_system else actor.user,
		sender_full_name=_("Automatic reply") if actor.is_system else None,
		phone_no=conversation.party_address,
		delivery_status="Sending",
	)
	return communication, row


def send_reply(conversation, content: str, actor: rules.Actor, attachments: list[str]) -> dict:
	"""Text `content` to the conversation's number now; returns {communication, status, error}."""
	channel = frappe.get_cached_doc("Channel", conversation.channel)
	sms_optout.refuse_if_opted_out(conversation.party_address, conversation.contact)
	if attachments:
		frappe.throw(_("Text messages cannot carry attachments. Send a link instead."))
	_check_channel(channel)
	info = segment_info_or_throw(content)
	communication, row = _record(conversation, content, actor, info)
	frappe.db.commit()  # the queued message is on record before Twilio hears of it
	result = _send(channel, conversation.party_address, content, row)
	outcome = record_send_outcome(row, result, channel.name)
	frappe.db.commit()
	return {
		"communication": communication.name,
		"channel_message": row,
		"status": outcome["status"],
		"error": outcome.get("error_message"),
		"segments": info.segments,
		"encoding": info.encoding,
	}


def queue_system_message(conversation, content: str) -> str | None:
	"""Record an automatic text (e.g. the HELP answer) and send it from a background job after
	commit, so the webhook answers Twilio at once. None when the rules refuse (opted out)."""
	channel = frappe.get_cached_doc("Channel", conversation.channel)
	if sms_optout.is_opted_out(conversation.party_address, conversation.contact):
		return None
	try:
		_check_channel(channel)
		info = count_segments(content)
		_communication, row = _record(conversation, content, rules.SYSTEM, info)
	except (ConversationRuleError, SmsTooLong, frappe.ValidationError):
		frappe.clear_messages()
		return None
	frappe.enqueue(
		"message_center.sms_outbound.deliver_queued",
		queue="short",
		channel_message=row,
		body=content,
		enqueue_after_commit=True,
		now=bool(frappe.flags.in_test),
	)
	return row


def deliver_queued(channel_message: str, body: str):
	"""Background job: send a queued system text once. A second run finds it no longer Queued."""
	row = frappe.db.get_value(
		"Channel Message", channel_message, ["channel", "conversation", "status", "external_id"], as_dict=True, for_update=True
	)
	if not row or row.status != "Queued" or row.external_id:
		return
	frappe.db.set_value("Channel Message", channel_message, "status", "Sending")
	frappe.db.commit()  # claimed: a concurrent or repeated job run stops at the check above
	number, contact = frappe.db.get_value("Conversation", row.conversation, ["party_address", "contact"])
	if sms_optout.is_opted_out(number, contact):
		frappe.db.set_value(
			"Channel Message", channel_message, {"status": "Failed", "error_message": sms_optout.opted_out_message(number)}
		)
		frappe.db.commit()
		return
	channel = frappe.get_cached_doc("Channel", row.channel)
	result = _send(channel, number, body, channel_message)
	record_send_outcome(channel_message, result, channel.name)
	frappe.db.commit()

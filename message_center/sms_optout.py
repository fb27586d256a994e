"""Opt-out compliance for SMS: who texted STOP, and refusing every send to them before any API call.

A number that texts an opt-out keyword (or that Twilio refuses with error 21610) is recorded in an
SMS Opt Out row, and its Contact, when we know it, gets Contact.mc_sms_opt_out. Only an opt-in
keyword from the person clears either. The rule is deliberately wider than Twilio's (which blocks
one sender number): we never text that person again from any channel until they opt back in.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import now_datetime

from message_center.core import conversation_rules as rules
from message_center.core.phone import normalise_e164
from message_center.realtime import publish_conversation_change
from message_center.settings import default_phone_region

SOURCE_KEYWORD = "Keyword"
SOURCE_TWILIO_21610 = "Twilio 21610"


def normalise_number(number: str | None) -> str | None:
	"""E.164 when the text is a phone number; short codes and alphanumeric senders stay as sent."""
	text = (number or "").strip()
	if not text or "@" in text:
		return None
	return normalise_e164(text, default_phone_region(), strict=False) or text


def _number_opted_out(number: str | None) -> bool:
	if not number:
		return False
	try:
		return bool(frappe.db.get_value("SMS Opt Out", number, "opted_out"))
	except frappe.db.ProgrammingError as error:
		# A site whose migrate has not created the table yet has no opt-out rows either.
		if frappe.db.is_table_missing(error):
			return False
		raise


def is_opted_out(number: str | None, contact: str | None = None) -> bool:
	"""True when nothing may be texted to `number` (or to `contact`, whatever their number)."""
	if contact and frappe.db.get_value("Contact", contact, "mc_sms_opt_out"):
		return True
	return _number_opted_out(normalise_number(number))


def opted_out_message(number: str | None) -> str:
	return _(
		"{0} has opted out of text messages (they texted STOP). Nothing can be sent to them until they text START."
	).format(number or _("This person"))


def refuse_if_opted_out(number: str | None, contact: str | None = None):
	"""Raise the conversation rules' opted_out refusal, so the desk shows the same clear message."""
	if is_opted_out(number, contact):
		from message_center.message_center.doctype.conversation.conversation import ConversationRuleError

		raise ConversationRuleError("opted_out", opted_out_message(number))


def _upsert(number: str, values: dict):
	if frappe.db.exists("SMS Opt Out", number):
		frappe.db.set_value("SMS Opt Out", number, values)
		return
	try:
		frappe.get_doc({"doctype": "SMS Opt Out", "number": number, **values}).insert(ignore_permissions=True)
	except frappe.DuplicateEntryError:
		# A STOP and a 21610 for the same number at the same moment: the other one inserted it.
		frappe.clear_messages()
		frappe.db.set_value("SMS Opt Out", number, values)


def _sms_conversations(number: str | None, contact: str | None, **filters) -> list[str]:
	or_filters = {key: value for key, value in (("party_address", number), ("contact", contact)) if value}
	return frappe.get_all(
		"Conversation", filters={"medium": "SMS", **filters}, or_filters=or_filters, pluck="name"
	)


def _apply_to_conversations(names: list[str], action: rules.Action, at):
	for name in names:
		conversation = frappe.get_doc("Conversation", name)
		conversation.apply_event(action, at=at)
		conversation.save_via_rules()
		publish_conversation_change(conversation.name, conversation.team, "status")


def opt_out(
	number: str,
	*,
	contact: str | None = None,
	source: str = SOURCE_KEYWORD,
	keyword: str | None = None,
	channel: str | None = None,
	at=None,
):
	"""Record the opt-out and close the person's open SMS conversations (the rules' OPT_OUT)."""
	at = at or now_datetime()
	number = normalise_number(number)
	if number:
		_upsert(
			number,
			{"opted_out": 1, "opted_out_at": at, "source": source, "keyword": keyword, "channel": channel, "contact": contact},
		)
	if contact:
		frappe.db.set_value("Contact", contact, {"mc_sms_opt_out": 1, "mc_sms_opt_out_at": at})
	if number or contact:
		_apply_to_conversations(_sms_conversations(number, contact, status="Open"), rules.Action.OPT_OUT, at)


def opt_in(number: str, *, contact: str | None = None, keyword: str | None = None, channel: str | None = None, at=None):
	"""The person texted START: clear the number and the Contact, and let agents reply again."""
	at = at or now_datetime()
	number = normalise_number(number)
	if number and frappe.db.exists("SMS Opt Out", number):
		frappe.db.set_value(
			"SMS Opt Out", number, {"opted_out": 0, "opted_in_at": at, "keyword": keyword, "channel": channel}
		)
	if contact:
		frappe.db.set_value("Contact", contact, {"mc_sms_opt_out": 0, "mc_sms_opt_out_at": None})
	if number or contact:
		_apply_to_conversations(_sms_conversations(number, contact, opted_out=1), rules.Action.OPT_IN, at)

"""Incoming texts from Twilio's webhook, stored exactly once on the right Conversation.

The API layer (api/twilio.py) has verified Twilio's signature and holds the lock for this
(channel, number); this module turns the posted form into messages:

- the MessageSid is claimed first (messages.claim_identity: a unique key, so a retry or a
  concurrent duplicate raises DuplicateMessage before anything else is written);
- the sender is normalised to E.164 and joins the open Conversation for (channel, number), or a new
  one linked to the one Contact or Lead with that number (else unmatched, with suggestions);
- MMS media are kept as attachments on the message (links to Twilio's media URLs);
- Twilio's keywords: opt-out closes and blocks, opt-in clears, help gets Settings.help_reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import frappe
from frappe import _
from frappe.utils import now_datetime

from message_center import messages, sms_optout
from message_center.core import sms_keywords
from message_center.core.phone import normalise_e164
from message_center.phone_match import PhoneMatch, match_phone
from message_center.settings import default_phone_region

MAX_MEDIA = 10  # Twilio's own limit per MMS
MAX_BODY_CHARACTERS = 5000  # Twilio sends at most 1,600; anything longer is not Twilio's
MAX_ADDRESS_LENGTH = 64
TWILIO_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
CHANNEL_MESSAGE_KIND = {
	sms_keywords.OPT_OUT: "Opt Out",
	sms_keywords.OPT_IN: "Opt In",
	sms_keywords.HELP: "Help",
	sms_keywords.NONE: "Normal",
}


class InvalidWebhook(ValueError):
	"""A correctly signed request that is not an incoming message we can store (nothing written)."""


@dataclass(frozen=True)
class IncomingText:
	sid: str
	number: str  # the sender, E.164 when it is a phone number
	body: str
	media: list[tuple[str, str]] = field(default_factory=list)  # (url, content type)
	segments: int | None = None


@dataclass
class InboundResult:
	conversation: str
	communication: str
	channel_message: str
	keyword: str  # sms_keywords action: opt_out, opt_in, help, none
	help_reply: str | None = None  # Channel Message of the queued answer to HELP


def _text(params: Mapping, key: str) -> str:
	value = params.get(key)
	return value if isinstance(value, str) else ""


def sender_number(raw: str | None, region: str | None = None) -> str:
	"""E.164 for phone numbers; short codes and alphanumeric sender ids as sent (trimmed)."""
	text = (raw or "").strip()[:MAX_ADDRESS_LENGTH]
	return normalise_e164(text, region or default_phone_region(), strict=False) or text


def _media(params: Mapping) -> list[tuple[str, str]]:
	try:
		count = min(max(int(_text(params, "NumMedia") or 0), 0), MAX_MEDIA)
	except ValueError:
		return []
	media = []
	for index in range(count):
		url = _text(params, f"MediaUrl{index}").strip()
		# Only web links become attachments: anything else (javascript:, data:) is not Twilio's media.
		if urlsplit(url).scheme in ("http", "https") and len(url) <= 2000:
			media.append((url, _text(params, f"MediaContentType{index}")[:100]))
	return media


def parse(params: Mapping) -> IncomingText:
	sid = next((_text(params, key) for key in ("MessageSid", "SmsMessageSid", "SmsSid") if _text(params, key)), "")
	if not TWILIO_SID.match(sid):
		raise InvalidWebhook(_("The request has no valid MessageSid."))
	number = sender_number(_text(params, "From"))
	if not number:
		raise InvalidWebhook(_("The request has no sender (From)."))
	try:
		segments = int(_text(params, "NumSegments") or 0) or None
	except ValueError:
		segments = None
	return IncomingText(sid, number, _text(params, "Body")[:MAX_BODY_CHARACTERS], _media(params), segments)


def _content(text: IncomingText) -> str:
	from message_center.sms_outbound import text_as_html

	if text.body.strip() or not text.media:
		return text_as_html(text.body)
	return _("(picture message: {0} attachment(s))").format(len(text.media))


def _start(channel: str, number: str, match: PhoneMatch, at):
	party_name = match.party_name or number
	fields = dict(match.links())
	if not match.matched:
		fields.update(unmatched=1, match_suggestions=json.dumps(match.suggestions))
	return messages.start_conversation(
		channel, number, subject=_("SMS from {0}").format(party_name), party_name=party_name, medium="SMS", links=fields, at=at
	)


def _attach_media(communication: str, text: IncomingText):
	for index, (url, content_type) in enumerate(text.media):
		extension = (content_type.split("/")[-1].split(";")[0].strip() if "/" in content_type else "") or "bin"
		frappe.get_doc(
			{
				"doctype": "File",
				"file_url": url,
				"file_name": f"{text.sid}-{index}.{re.sub(r'[^a-z0-9]', '', extension.lower())[:10] or 'bin'}",
				"attached_to_doctype": "Communication",
				"attached_to_name": communication,
				"is_private": 1,
			}
		).insert(ignore_permissions=True)
	if text.media:
		frappe.db.set_value("Communication", communication, "has_attachment", 1, update_modified=False)


def receive(channel, params: Mapping) -> InboundResult:
	"""Store one incoming text; raises DuplicateMessage (nothing written) when it was seen before."""
	text = parse(params)
	keyword = sms_keywords.match_keyword(text.body)
	identity = messages.MessageIdentity(
		channel.name,
		f"twilio:{text.sid}",
		external_id=text.sid,
		extra={"kind": CHANNEL_MESSAGE_KIND[keyword.action], "segments": text.segments},
	)
	row = messages.claim_identity(identity, "Inbound", status="Received")
	at = now_datetime()

	existing = messages.find_open_conversation(channel.name, text.number)
	match = None if existing else match_phone(text.number, default_phone_region())
	contact = frappe.db.get_value("Conversation", existing, "contact") if existing else match.contact
	if keyword.action == sms_keywords.OPT_IN:
		# Before the conversation is loaded or started, so it is not born opted out.
		sms_optout.opt_in(text.number, contact=contact, keyword=keyword.keyword, channel=channel.name, at=at)
	conversation = frappe.get_doc("Conversation", existing) if existing else _start(channel.name, text.number, match, at)

	conversation, communication = messages.record_inbound(
		conversation, content=_content(text), at=at, phone_no=text.number, sender_full_name=conversation.party_name
	)
	frappe.db.set_value("Channel Message", row, {"conversation": conversation.name, "communication": communication.name})
	_attach_media(communication.name, text)

	help_reply = None
	if keyword.action == sms_keywords.OPT_OUT:
		sms_optout.opt_out(text.number, contact=conversation.contact, keyword=keyword.keyword, channel=channel.name, at=at)
	elif keyword.action == sms_keywords.HELP:
		help_text = (frappe.get_cached_doc("Message Center Settings").help_reply or "").strip()
		if help_text:
			from message_center.sms_outbound import queue_system_message

			help_reply = queue_system_message(conversation, help_text)
	return InboundResult(conversation.name, communication.name, row, keyword.action, help_reply)

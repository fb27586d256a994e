"""Incoming texts from Twilio's webhook, stored exactly once on the right Conversation.

Two steps, so Twilio gets its answer at once whatever the inbox has to do:

- accept() (in the webhook, after api/twilio.py verified the signature) claims the MessageSid with
  messages.claim_identity: a unique key, so a retry or a concurrent duplicate raises
  DuplicateMessage and writes nothing; Twilio's form is kept on the Channel Message row.
- process() (a job right after; process_pending() sweeps up lost jobs) files it under a lock per
  (channel, number): the sender, normalised to E.164, joins the open Conversation for (channel,
  number) or a new one linked to the one Contact or Lead with that number (else unmatched, with
  suggestions); MMS media are kept as attachments (links to Twilio's media URLs); Twilio's keywords:
  opt-out closes and blocks, opt-in clears, help gets Settings.help_reply.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime

from message_center import messages, sms_optout
from message_center.core import sms_keywords
from message_center.core.phone import normalise_e164
from message_center.enquiries import open_channel_enquiry
from message_center.phone_match import PhoneMatch, match_phone
from message_center.settings import default_phone_region

MAX_MEDIA = 10  # Twilio's own limit per MMS
MAX_BODY_CHARACTERS = 5000  # Twilio sends at most 1,600; anything longer is not Twilio's
MAX_ADDRESS_LENGTH = 64
LOCK_TIMEOUT_SECONDS = 10
TWILIO_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
CHANNEL_MESSAGE_KIND = {
	sms_keywords.OPT_OUT: "Opt Out",
	sms_keywords.OPT_IN: "Opt In",
	sms_keywords.HELP: "Help",
	sms_keywords.NONE: "Normal",
}


class InvalidWebhook(ValueError):
	"""A correctly signed request that is not an incoming message we can store (nothing written)."""


class LockTimeout(Exception):
	"""Another run held this number's lock for too long."""


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


def _start(channel: str, number: str, match: PhoneMatch, at, text: IncomingText):
	party_name = match.party_name or number
	fields = dict(match.links())
	if not match.matched:
		fields.update(unmatched=1, match_suggestions=json.dumps(match.suggestions))
	return messages.start_conversation(
		channel,
		number,
		subject=_("SMS from {0}").format(party_name),
		party_name=party_name,
		medium="SMS",
		links=fields,
		at=at,
		opening_message=_content(text),
	)


def _open_enquiry(channel, conversation, text: IncomingText, match: PhoneMatch):
	"""A text starting a conversation is an enquiry (source SMS), like a new mail thread; a bare
	STOP/START/HELP is not."""
	person = ("Contact", match.contact) if match.contact else ("Lead", match.lead) if match.lead else None
	enquiry = open_channel_enquiry(
		conversation,
		channel,
		source="SMS",
		message=text.body,
		person=person,
		links=match.links(),
		person_name=(match.party_name or text.number)[:140],
		phone=text.number,
	)
	frappe.db.set_value("Conversation", conversation.name, "enquiry", enquiry, update_modified=False)
	conversation.enquiry = enquiry


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


def accept(channel, params: Mapping) -> str:
	"""Claim the MessageSid and keep Twilio's form on the Channel Message row; returns the row.

	This is all the webhook does before answering: the unique key makes Twilio's retries and
	concurrent duplicates raise DuplicateMessage (nothing written), and the stored form lets a job
	(or the sweep, if the job was lost) file the message on its conversation."""
	text = parse(params)
	keyword = sms_keywords.match_keyword(text.body)
	identity = messages.MessageIdentity(
		channel.name,
		f"twilio:{text.sid}",
		external_id=text.sid,
		extra={"kind": CHANNEL_MESSAGE_KIND[keyword.action], "segments": text.segments},
	)
	return messages.claim_identity(identity, "Inbound", status="Received", payload=json.dumps(list(_pairs(params))))


def _pairs(params: Mapping):
	if hasattr(params, "getlist"):
		return [(key, value) for key in params for value in params.getlist(key)]
	return list(params.items())


def store(channel, row: str, params: Mapping, at=None) -> InboundResult:
	"""File an accepted text on its conversation: join the open one for (channel, number) or start
	one for the matched person; then act on Twilio's keywords."""
	text = parse(params)
	keyword = sms_keywords.match_keyword(text.body)
	at = at or now_datetime()

	existing = messages.find_open_conversation(channel.name, text.number)
	match = None if existing else match_phone(text.number, default_phone_region())
	contact = frappe.db.get_value("Conversation", existing, "contact") if existing else match.contact
	if keyword.action == sms_keywords.OPT_IN:
		# Before the conversation is loaded or started, so it is not born opted out.
		sms_optout.opt_in(text.number, contact=contact, keyword=keyword.keyword, channel=channel.name, at=at)
	conversation = frappe.get_doc("Conversation", existing) if existing else _start(channel.name, text.number, match, at, text)
	if not existing and keyword.action == sms_keywords.NONE:
		_open_enquiry(channel, conversation, text, match)

	conversation, communication = messages.record_inbound(
		conversation, content=_content(text), at=at, phone_no=text.number, sender_full_name=conversation.party_name
	)
	# The form was only kept to get here: a deleted conversation must not live on in it.
	frappe.db.set_value(
		"Channel Message", row, {"conversation": conversation.name, "communication": communication.name, "payload": None}
	)
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


def receive(channel, params: Mapping) -> InboundResult:
	"""Accept and store in one go (same transaction); raises DuplicateMessage when seen before."""
	return store(channel, accept(channel, params), params)


@contextmanager
def number_lock(channel: str, number: str):
	"""Serialise the filing of one (channel, number)'s texts, so two texts from a new number join one
	conversation instead of starting two. MariaDB named locks are server-wide: the name includes the
	site's database. The caller commits inside the block."""
	digest = hashlib.sha1(f"{channel}\x00{number}".encode()).hexdigest()
	name = f"{frappe.conf.db_name}:{digest}"[:64]
	if frappe.db.sql("select get_lock(%s, %s)", (name, LOCK_TIMEOUT_SECONDS))[0][0] != 1:
		raise LockTimeout(number)
	# A fresh transaction: its snapshot must include what the previous holder committed
	# (REPEATABLE READ keeps the snapshot of the first read, which came before the lock).
	frappe.db.commit()
	try:
		yield
	finally:
		frappe.db.sql("select release_lock(%s)", (name,))


def job_id(row: str) -> str:
	return f"sms-inbound::{row}"


def enqueue_processing(row: str):
	try:
		frappe.enqueue("message_center.sms_inbound.process", queue="short", job_id=job_id(row), channel_message=row)
	except Exception:
		# The text is safely accepted; the sweep (process_pending) files it within minutes.
		frappe.log_error(title=f"SMS {row}: could not queue filing")


def process(channel_message: str) -> InboundResult | None:
	"""Background job: file one accepted text. Safe to run twice or concurrently (a second run finds
	it filed); a failure is kept on the row for review instead of being retried forever, unless the
	database only timed out or chose it as a deadlock victim."""
	row = frappe.db.get_value(
		"Channel Message", channel_message, ["channel", "payload", "communication", "tombstone", "creation"], as_dict=True
	)
	if not row or row.communication or row.tombstone or not row.payload:
		return None
	params = dict(json.loads(row.payload))
	channel = frappe.get_cached_doc("Channel", row.channel)
	with number_lock(row.channel, sender_number(params.get("From"))):
		if frappe.db.get_value("Channel Message", channel_message, "communication"):
			return None  # filed meanwhile by another run
		try:
			result = store(channel, channel_message, params, at=row.creation)
			frappe.db.commit()
			return result
		except Exception as error:
			frappe.db.rollback()
			# A deadlock or lock wait is the database's moment, not the text's: the sweep tries again.
			if not isinstance(error, frappe.QueryDeadlockError | frappe.QueryTimeoutError):
				frappe.db.set_value(
					"Channel Message", channel_message, {"needs_review": 1, "review_note": f"Could not be filed: {error!r}"[:1000]}
				)
				frappe.db.commit()
			raise


def process_pending(limit: int = 200, older_than_seconds: int = 60, channel: str | None = None) -> int:
	"""Scheduler sweep: file accepted texts whose job never ran (e.g. the queue was down)."""
	channels = [channel] if channel else frappe.get_all("Channel", filters={"kind": "SMS"}, pluck="name")
	if not channels:
		return 0
	rows = frappe.get_all(
		"Channel Message",
		filters={
			"channel": ("in", channels),
			"direction": "Inbound",
			"communication": ("is", "not set"),
			"payload": ("is", "set"),
			"tombstone": 0,
			"needs_review": 0,
			"creation": ("<=", add_to_date(now_datetime(), seconds=-older_than_seconds)),
		},
		order_by="creation asc",
		limit=limit,
		pluck="name",
	)
	filed = 0
	for name in rows:
		try:
			filed += process(name) is not None
		except Exception:
			frappe.log_error(title=f"SMS {name} could not be filed")
	return filed

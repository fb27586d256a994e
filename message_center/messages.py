"""Recording messages: every message is a Communication on its Conversation, shown on the timelines
of the linked Contact, Lead, Customer and Opportunity; per-message channel data sits in a Channel
Message row whose unique dedupe key makes every ingestion path idempotent.

Channel-specific code (IMAP sync, Twilio webhooks, web forms, the desk's reply) calls these
functions; none of them re-implements the conversation rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import frappe
from frappe.utils import now_datetime

from message_center.core import conversation_rules as rules
from message_center.core.html_sanitize import html_to_text
from message_center.realtime import publish_conversation_change

PREVIEW_LENGTH = 140
COMMUNICATION_MEDIUM = {"Email": "Email", "SMS": "SMS", "Phone": "Phone", "Fax": "Other", "Web Form": "Other", "Manual": "Other"}


class DuplicateMessage(Exception):
	"""The message was already stored (or deliberately deleted): nothing was written."""


@dataclass
class MessageIdentity:
	"""How a channel recognises a message it has seen before (Message-ID + content hash, MessageSid...)."""

	channel: str
	key: str
	external_id: str | None = None
	content_hash: str | None = None
	extra: dict = field(default_factory=dict)  # imap_folder, imap_uid, segments... (Channel Message fields)

	@property
	def dedupe_key(self) -> str:
		return hashlib.sha256(f"{self.channel}\x00{self.key}".encode()).hexdigest()


def claim_identity(identity: MessageIdentity, direction: str, **values) -> str:
	"""Insert the Channel Message row first: its unique key turns a concurrent duplicate into an error
	from the database itself (not a read-then-write race). Returns the row's name."""
	row = frappe.get_doc(
		{
			"doctype": "Channel Message",
			"channel": identity.channel,
			"direction": direction,
			"dedupe_key": identity.dedupe_key,
			"external_id": identity.external_id,
			"content_hash": identity.content_hash,
			**identity.extra,
			**values,
		}
	)
	try:
		row.db_insert()
	except (frappe.DuplicateEntryError, frappe.UniqueValidationError) as error:
		# db_insert also queued a "must be unique" popup: a duplicate is expected here, not an error.
		frappe.clear_messages()
		raise DuplicateMessage(identity.key) from error
	except frappe.db.IntegrityError as error:
		if frappe.db.is_duplicate_entry(error) or frappe.db.is_unique_key_violation(error):
			raise DuplicateMessage(identity.key) from error
		raise
	return row.name


def find_open_conversation(channel: str, party_address: str) -> str | None:
	return frappe.db.get_value(
		"Conversation",
		{"channel": channel, "party_address": party_address, "status": "Open"},
		"name",
		order_by="last_message_at desc",
	)


def start_conversation(
	channel: str,
	party_address: str,
	*,
	subject: str | None = None,
	party_name: str | None = None,
	medium: str | None = None,
	links: dict | None = None,
	at=None,
	opening_message: str | None = None,
	preview_text: str | None = None,
	closed: bool = False,
):
	"""Insert a new Conversation (open unless `closed`) with the channel's team; links are contact/lead/customer values.

	`opening_message`: the content of the customer's message that opens it. The conversation is then
	inserted in the state that message gives it, and record_inbound() stores the message without
	saving the conversation a second time. `preview_text`: see _touch(). `closed`: insert it closed,
	for mail a machine sent that belongs to no conversation (list mail, an auto-reply, a bounce):
	it is kept and can be reopened, but asks nothing of the team, so it stays out of their queues."""
	channel_doc = frappe.get_cached_doc("Channel", channel)
	medium = medium or {"Email": "Email", "SMS": "SMS", "Web Form": "Web Form"}.get(channel_doc.kind, "Phone")
	conversation = frappe.get_doc(
		{
			"doctype": "Conversation",
			"channel": channel,
			"medium": medium,
			"party_address": party_address,
			"party_name": party_name,
			"subject": (subject or "")[:240],
			**(links or {}),
		}
	)
	conversation._write_rule_state(rules.new_conversation(rules.Medium(medium), at or now_datetime(), team=channel_doc.team))
	conversation.flags.via_rules = True
	# STOP by text message stops texts: an email or a call is still answered
	conversation.opted_out = int(medium == "SMS" and _party_opted_out(party_address, links or {}))
	if opening_message is not None:
		conversation.apply_event(rules.Action.INBOUND, at=at)
		_touch(conversation, opening_message, at or now_datetime(), preview_text)
		conversation.flags.opened_by_inbound = True
	elif closed:
		conversation.apply_event(rules.Action.CLOSE, at=at)
	conversation.insert(ignore_permissions=True)
	return conversation


def _party_opted_out(party_address: str, links: dict) -> bool:
	# The Contact's flag, or an opt-out recorded for this number (people we do not know yet).
	from message_center.sms_optout import is_opted_out

	return is_opted_out(party_address, links.get("contact"))


def _preview(content: str, text: str | None = None) -> str:
	# Paragraphs and line breaks become spaces: "<p>Hi</p><p>Name: Ann</p>" reads "Hi Name: Ann".
	text = " ".join((text if text is not None else html_to_text(content or "")).split())
	return text[: PREVIEW_LENGTH - 1] + "…" if len(text) > PREVIEW_LENGTH else text


def _insert_communication(conversation, *, sent_or_received: str, content: str, at, **values):
	communication = frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": COMMUNICATION_MEDIUM.get(conversation.medium, "Other"),
			"sent_or_received": sent_or_received,
			"reference_doctype": "Conversation",
			"reference_name": conversation.name,
			"subject": values.pop("subject", None) or conversation.subject or _preview(content)[:140] or conversation.party_address,
			"content": content,
			"communication_date": at,
			"status": "Linked",
			"seen": 1 if sent_or_received == "Sent" else 0,
			**values,
		}
	)
	for doctype, name in conversation.timeline_links():
		communication.add_link(doctype, name)
	communication.flags.skip_add_signature = True
	# Communication's hooks would read the conversation (and its owner) back from the database: it is in hand.
	communication.reference_owner = conversation.owner
	communication.parent_doc = conversation
	communication.insert(ignore_permissions=True)
	return communication


def _touch(conversation, content: str, at, preview_text: str | None = None):
	"""`preview_text`: what the list shows of the message when it is not the whole content (a mail's
	new part, without the quoted history and signature)."""
	conversation.last_message_at = at
	conversation.last_message_preview = _preview(content, preview_text or None)


def record_inbound(conversation, *, content: str, at=None, identity: MessageIdentity | None = None, channel_message: dict | None = None, preview_text: str | None = None, **communication_values):
	"""Store a customer's message. A message on a closed conversation starts a new one (the rules say so).

	Returns (conversation, communication): the conversation may be a new one."""
	at = at or now_datetime()
	row = claim_identity(identity, "Inbound", status="Received", **(channel_message or {})) if identity else None
	# A conversation this very message opened was inserted in the state the message gives it.
	counted = conversation.flags.pop("opened_by_inbound", False)
	if not counted:
		transition = conversation.apply_event(rules.Action.INBOUND, at=at)
		if rules.Effect.START_NEW_CONVERSATION in transition.effects:
			conversation = start_conversation(
				conversation.channel,
				conversation.party_address,
				subject=conversation.subject,
				party_name=conversation.party_name,
				medium=conversation.medium,
				links={key: conversation.get(key) for key in ("contact", "lead", "customer") if conversation.get(key)},
				at=at,
				opening_message=content,
				preview_text=preview_text,
			)
			counted = conversation.flags.pop("opened_by_inbound")
	communication = _insert_communication(conversation, sent_or_received="Received", content=content, at=at, **communication_values)
	if not counted:
		_touch(conversation, content, at, preview_text)
		conversation.save_via_rules(ignore_version=True)
	if row:
		frappe.db.set_value("Channel Message", row, {"conversation": conversation.name, "communication": communication.name})
	publish_conversation_change(conversation.name, conversation.team, "message")
	return conversation, communication


def record_automatic(conversation, *, content: str, at=None, identity: MessageIdentity | None = None, channel_message: dict | None = None, preview_text: str | None = None, **communication_values):
	"""Store mail a machine sent (an auto-reply, a bounce, list mail) on the conversation it belongs to.

	Nobody is waiting on it, so it is not a customer's INBOUND event: the conversation's state and
	clocks stay as they are (a closed one stays closed). Returns the Communication."""
	at = at or now_datetime()
	row = claim_identity(identity, "Inbound", status="Received", **(channel_message or {})) if identity else None
	communication = _insert_communication(conversation, sent_or_received="Received", content=content, at=at, **communication_values)
	_touch(conversation, content, at, preview_text)
	conversation.save_via_rules(ignore_version=True)
	if row:
		frappe.db.set_value("Channel Message", row, {"conversation": conversation.name, "communication": communication.name})
	publish_conversation_change(conversation.name, conversation.team, "message")
	return communication


def record_outbound(conversation, *, content: str, actor: rules.Actor, at=None, identity: MessageIdentity | None = None, channel_message: dict | None = None, **communication_values):
	"""Store an agent's message after the rules allow it (raises ConversationRuleError otherwise).

	The caller sends it afterwards and updates the Channel Message row with the outcome."""
	at = at or now_datetime()
	transition = conversation.apply_event(rules.Action.OUTBOUND, actor=actor, at=at)
	communication = _insert_communication(
		conversation, sent_or_received="Sent", content=content, at=at, sender=communication_values.pop("sender", actor.user), **communication_values
	)
	_touch(conversation, content, at)
	conversation.save_via_rules()
	row = None
	if identity is not None:
		row = claim_identity(identity, "Outbound", status="Queued", conversation=conversation.name, communication=communication.name, **(channel_message or {}))
	publish_conversation_change(conversation.name, conversation.team, "message")
	return transition, communication, row


def add_note(conversation, content: str, actor: rules.Actor):
	"""An internal note (a Comment): never sent, shown yellow in the history; @mentions notify colleagues."""
	conversation.apply_event(rules.Action.NOTE, actor=actor)
	comment = conversation.add_comment("Comment", text=content, comment_email=actor.user)
	return comment


def relink_timeline(conversation):
	"""After associating a person or an opportunity, show every message of the conversation on their timelines."""
	links = conversation.timeline_links()
	for name in frappe.get_all(
		"Communication", filters={"reference_doctype": "Conversation", "reference_name": conversation.name}, pluck="name"
	):
		communication = frappe.get_doc("Communication", name)
		existing = {(row.link_doctype, row.link_name) for row in communication.timeline_links}
		missing = [link for link in links if link not in existing]
		for doctype, link_name in missing:
			communication.add_link(doctype, link_name)
		if missing:
			communication.flags.skip_add_signature = True
			communication.save(ignore_permissions=True)


def delete_conversation_messages(conversation):
	"""Remove a conversation's messages and enquiry, keeping each message's dedupe key as a tombstone
	so mail sync never imports the deleted conversation again."""
	frappe.db.sql(
		"""update `tabChannel Message` set tombstone=1, communication=NULL, conversation=NULL
		where conversation=%s""",
		conversation.name,
	)
	for name in frappe.get_all(
		"Communication", filters={"reference_doctype": "Conversation", "reference_name": conversation.name}, pluck="name"
	):
		frappe.delete_doc("Communication", name, ignore_permissions=True, force=True)
	enquiry = conversation.enquiry
	if enquiry:
		frappe.db.set_value("Conversation", conversation.name, "enquiry", None, update_modified=False)
		for doctype in ("Lead", "Opportunity"):
			frappe.db.sql(f"update `tab{doctype}` set mc_source_enquiry=NULL where mc_source_enquiry=%s", enquiry)
		frappe.delete_doc("Enquiry", enquiry, ignore_permissions=True, force=True)
	for doctype in ("Lead", "Opportunity"):
		frappe.db.sql(f"update `tab{doctype}` set mc_source_conversation=NULL where mc_source_conversation=%s", conversation.name)

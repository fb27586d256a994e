"""The inbox search index: one Conversation Search row per conversation under a FULLTEXT index.

Kept current by document events (hooks.py): a conversation's names and addresses when it is saved,
each message's text when its Communication is inserted. Searching then costs a FULLTEXT lookup,
never a scan of the Communications (see message_center.core.inbox_search).
"""

from __future__ import annotations

import frappe
from frappe.utils import now_datetime

from message_center.core import inbox_search
from message_center.core.html_sanitize import html_to_text

HEADER_FIELDS = ("party_name", "party_address", "subject", "contact", "lead", "customer")


def header_for(conversation) -> str:
	return inbox_search.header_text(
		name=conversation.name,
		party_name=conversation.party_name,
		party_address=conversation.party_address,
		subject=conversation.subject,
		other_names=(conversation.contact, conversation.lead, conversation.customer),
	)


def _upsert(conversation: str, *, header: str | None = None, body: str | None = None):
	"""One statement, so concurrent messages on the same conversation never lose each other's text."""
	now = now_datetime()
	frappe.db.sql(
		"""insert into `tabConversation Search`
			(name, conversation, header_text, body_text, creation, modified, owner, modified_by, docstatus, idx)
		values (%(name)s, %(name)s, %(header)s, %(body)s, %(now)s, %(now)s, 'Administrator', 'Administrator', 0, 0)
		on duplicate key update
			header_text = coalesce(%(header)s, header_text),
			body_text = if(%(body)s is null, body_text,
				right(concat_ws(' ', body_text, %(body)s), %(limit)s)),
			modified = %(now)s""",
		{"name": conversation, "header": header, "body": body, "now": now, "limit": inbox_search.BODY_LIMIT},
	)


def on_conversation_update(doc, method=None):
	if doc.flags.in_insert or any(doc.has_value_changed(field) for field in HEADER_FIELDS):
		_upsert(doc.name, header=header_for(doc))


def on_communication_insert(doc, method=None):
	if doc.reference_doctype != "Conversation" or not doc.reference_name:
		return
	text = " ".join(html_to_text(doc.content or "").split())
	if doc.subject and doc.subject not in text:
		text = f"{doc.subject} {text}"
	if text:
		_upsert(doc.reference_name, body=text[-inbox_search.BODY_LIMIT :])


def on_conversation_trash(doc, method=None):
	frappe.db.delete("Conversation Search", {"conversation": doc.name})


def rebuild(conversation: str):
	"""Recompute one row from the stored conversation and its messages (repairs, the demo, tests)."""
	doc = frappe.get_doc("Conversation", conversation)
	body = ""
	for row in frappe.get_all(
		"Communication",
		filters={"reference_doctype": "Conversation", "reference_name": conversation},
		fields=["subject", "content"],
		order_by="communication_date asc",
	):
		body = inbox_search.append_body(body, f"{row.subject or ''} {html_to_text(row.content or '')}")
	frappe.db.delete("Conversation Search", {"conversation": conversation})
	_upsert(conversation, header=header_for(doc), body=body or None)


def condition(text: str | None, params: dict) -> str | None:
	"""SQL restricting `tabConversation` to conversations matching `text`, filling `params`;
	None when there is nothing to search for."""
	query = inbox_search.boolean_query(text)
	if query:
		params["search_query"] = query
		return (
			"`tabConversation`.name in (select search.conversation from `tabConversation Search` search"
			" where match(search.header_text, search.body_text) against (%(search_query)s in boolean mode))"
		)
	pattern = inbox_search.like_pattern(text)
	if not pattern:
		return None
	# Too short for the word index ("al", "+1"): names and addresses by prefix, on their own indexes.
	params["search_prefix"] = pattern
	return "(`tabConversation`.party_name like %(search_prefix)s or `tabConversation`.party_address like %(search_prefix)s)"

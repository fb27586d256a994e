"""A conversation's history for the desk: customer and agent messages and internal notes, newest page
first, older pages on scroll-up; email HTML sanitised for a sandboxed iframe; attachments; SMS
delivery status from Channel Message.
"""

from __future__ import annotations

import frappe
from frappe.utils import cint, get_datetime, get_fullname

from message_center.api.conversation import load_conversation
from message_center.core.html_sanitize import html_to_text, sanitize_html
from message_center.core.mail_quotes import extract_new_text
from message_center.email_ingest import import_notes

DEFAULT_LIMIT = 30
MAX_LIMIT = 100


def _before(cursor: str | None, field: str, params: dict) -> str:
	"""Keyset condition for items older than `cursor` ("<timestamp>|<name>") in (time desc, name desc)."""
	if not cursor:
		return ""
	when, _, name = cursor.partition("|")
	params["before_at"] = get_datetime(when)
	params["before_name"] = name
	return f" and ({field} < %(before_at)s or ({field} = %(before_at)s and name < %(before_name)s))"


def _agent_name(row) -> str | None:
	"""Who wrote a reply: mail goes out from the channel's account address, so the sender is often
	not the agent; the user who recorded it is."""
	for user in (row.sender, row.owner):
		if user and user not in ("Administrator", "Guest") and frappe.db.exists("User", user):
			return get_fullname(user)
	return row.sender


def _communications(conversation: str, cursor: str | None, limit: int) -> list[dict]:
	params = {"conversation": conversation, "limit": limit}
	# Communication's own list permission is by sender/email account, which would hide the team's
	# messages from agents; the conversation's permission was checked by load_conversation(), and
	# every row below belongs to that conversation.
	return frappe.db.sql(
		f"""select name, communication_date as at, sent_or_received, communication_medium, subject, content,
			sender, sender_full_name, cc, has_attachment, owner
		from `tabCommunication`
		where reference_doctype = 'Conversation' and reference_name = %(conversation)s
			and communication_type = 'Communication'{_before(cursor, "communication_date", params)}
		order by communication_date desc, name desc
		limit %(limit)s""",
		params,
		as_dict=True,
	)


def _notes(conversation: str, cursor: str | None, limit: int) -> list[dict]:
	params = {"conversation": conversation, "limit": limit}
	return frappe.db.sql(
		f"""select name, creation as at, content, comment_email, comment_by
		from `tabComment`
		where reference_doctype = 'Conversation' and reference_name = %(conversation)s
			and comment_type = 'Comment'{_before(cursor, "creation", params)}
		order by creation desc, name desc
		limit %(limit)s""",
		params,
		as_dict=True,
	)


def _attachments(names: list[str]) -> dict[str, list]:
	if not names:
		return {}
	found: dict[str, list] = {}
	for row in frappe.get_all(
		"File",
		filters={"attached_to_doctype": "Communication", "attached_to_name": ["in", names]},
		fields=["attached_to_name", "file_name", "file_url", "file_size", "is_private"],
		order_by="creation asc",
	):
		found.setdefault(row.attached_to_name, []).append(
			{"file_name": row.file_name, "file_url": row.file_url, "file_size": row.file_size, "is_private": row.is_private}
		)
	return found


def _deliveries(names: list[str]) -> dict[str, dict]:
	if not names:
		return {}
	return {
		row.communication: row
		for row in frappe.get_all(
			"Channel Message",
			filters={"communication": ["in", names]},
			fields=["communication", "status", "error_code", "error_message", "segments", "kind"],
		)
	}


def _message_item(row, conversation, attachments, delivery) -> dict:
	is_email = row.communication_medium == "Email"
	outgoing = row.sent_or_received == "Sent"
	item = {
		"kind": "message",
		"name": row.name,
		"at": row.at,
		"direction": "out" if outgoing else "in",
		"medium": row.communication_medium,
		"subject": row.subject,
		"sender": row.sender,
		"sender_name": (_agent_name(row) if outgoing else None)
		or row.sender_full_name
		or (conversation.party_name if not outgoing else row.sender),
		"attachments": attachments.get(row.name, []),
		"status": delivery.get("status") if delivery else None,
		"error": (delivery.get("error_message") or delivery.get("error_code")) if delivery else None,
		"segments": delivery.get("segments") if delivery else None,
		"message_kind": delivery.get("kind") if delivery else None,
	}
	if is_email:
		item["cc"] = row.cc or ""
		item["html"] = sanitize_html(row.content or "")
		item["text"] = html_to_text(item["html"])
		if not outgoing:
			item.update(_new_part(row.content or "", item["text"]))
	else:
		item["text"] = html_to_text(row.content or "") if "<" in (row.content or "") else (row.content or "")
	return item


def _new_part(content: str, text: str) -> dict:
	"""What a customer's mail says this time, when quoted history or a signature follows it:
	{"new_text", "notes"} for the view to show first, the whole mail one click away."""
	notes = import_notes(content)
	for note in notes:
		text = text.replace(note, "")
	new_text = extract_new_text(text)
	if not new_text or " ".join(new_text.split()) == " ".join(text.split()):
		return {}
	return {"new_text": new_text, "notes": notes}


def _note_item(row) -> dict:
	return {
		"kind": "note",
		"name": row.name,
		"at": row.at,
		"direction": "note",
		"sender": row.comment_email,
		"sender_name": get_fullname(row.comment_email) if row.comment_email else row.comment_by,
		# Frappe sanitised the note when it was saved; sanitise again with the stricter mail rules.
		"html": sanitize_html(row.content or ""),
		"text": html_to_text(row.content or ""),
		"attachments": [],
	}


@frappe.whitelist()
def history(conversation: str, before: str | None = None, limit=DEFAULT_LIMIT):
	"""Up to `limit` items older than `before` (a cursor from the previous page), oldest first, and
	`older` to fetch the page before them (None at the beginning of the conversation)."""
	doc = load_conversation(conversation)
	limit = max(1, min(cint(limit) or DEFAULT_LIMIT, MAX_LIMIT))
	communications = _communications(doc.name, before, limit + 1)
	notes = _notes(doc.name, before, limit + 1)
	merged = sorted(
		[("message", row) for row in communications] + [("note", row) for row in notes],
		key=lambda pair: (get_datetime(pair[1].at), pair[1].name),
		reverse=True,
	)
	has_more = len(merged) > limit
	merged = merged[:limit]
	message_names = [row.name for kind, row in merged if kind == "message"]
	attachments = _attachments(message_names)
	deliveries = _deliveries(message_names)
	items = [
		_message_item(row, doc, attachments, deliveries.get(row.name)) if kind == "message" else _note_item(row)
		for kind, row in merged
	]
	items.reverse()
	older = f"{items[0]['at']}|{items[0]['name']}" if has_more and items else None
	return {"conversation": doc.name, "items": items, "older": older}

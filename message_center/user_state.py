"""Each agent's own view of a conversation: read/unread, starred, archived (Conversation User State).

One row per conversation and user, written with a single upsert so two tabs of the same agent
never collide. Archiving lasts until the customer writes again; marking unread lasts until the
conversation is opened again.
"""

from __future__ import annotations

import frappe
from frappe.utils import now_datetime

from message_center.realtime import EVENT

TABLE = "`tabConversation User State`"


def _upsert(conversation: str, user: str, values: dict):
	columns = ", ".join(values)
	placeholders = ", ".join(f"%({column})s" for column in values)
	updates = ", ".join(f"{column} = values({column})" for column in values)
	now = now_datetime()
	frappe.db.sql(
		f"""insert into {TABLE}
			(name, conversation, user, {columns}, creation, modified, owner, modified_by, docstatus, idx)
		values (%(row_name)s, %(conversation)s, %(user)s, {placeholders}, %(now)s, %(now)s, %(user)s, %(user)s, 0, 0)
		on duplicate key update {updates}, modified = values(modified), modified_by = values(modified_by)""",
		{**values, "row_name": frappe.generate_hash(length=12), "conversation": conversation, "user": user, "now": now},
	)
	# Only this user's own pages care: their other tabs refetch the row through the API.
	frappe.publish_realtime(EVENT, {"conversation": conversation, "change": "user_state"}, user=user, after_commit=True)


def mark_read(conversation: str, user: str):
	_upsert(conversation, user, {"last_read_at": now_datetime(), "marked_unread": 0})


def mark_unread(conversation: str, user: str):
	_upsert(conversation, user, {"marked_unread": 1})


def set_starred(conversation: str, user: str, starred: bool):
	_upsert(conversation, user, {"starred": int(bool(starred))})


def set_archived(conversation: str, user: str, archived: bool):
	_upsert(conversation, user, {"archived_at": now_datetime() if archived else None})


def states_for(conversations: list[str], user: str) -> dict[str, dict]:
	"""{conversation: {last_read_at, marked_unread, starred, archived_at}} for the rows that exist."""
	if not conversations:
		return {}
	rows = frappe.db.sql(
		f"""select conversation, last_read_at, marked_unread, starred, archived_at from {TABLE}
		where user = %(user)s and conversation in %(conversations)s""",
		{"user": user, "conversations": tuple(conversations)},
		as_dict=True,
	)
	return {row.conversation: row for row in rows}


def is_unread(state: dict | None, last_inbound_at) -> bool:
	"""The rule the inbox SQL applies (inbox_query.UNREAD), for a single conversation."""
	if state and state.get("marked_unread"):
		return True
	if not last_inbound_at:
		return False
	return not (state and state.get("last_read_at") and state["last_read_at"] >= last_inbound_at)


def is_archived(state: dict | None, last_inbound_at) -> bool:
	if not (state and state.get("archived_at")):
		return False
	return not last_inbound_at or state["archived_at"] >= last_inbound_at


def delete_for_conversation(doc, method=None):
	frappe.db.delete("Conversation User State", {"conversation": doc.name})


def delete_for_user(doc, method=None):
	frappe.db.delete("Conversation User State", {"user": doc.name})

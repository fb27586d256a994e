"""The inbox list as SQL: views, filters, the user's own state, keyset pages and capped counts.

Every query carries the same team scoping as frappe.get_list (DatabaseQuery's match conditions, which
include our permission_query_conditions hook), so a page's rows come out of the same query.
Each view reads its page off a composite index in last-activity order (Conversation's
on_doctype_update); counts stop at COUNT_CAP so no filter costs a scan of every conversation.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

import frappe
from frappe import _
from frappe.model.db_query import DatabaseQuery
from frappe.utils import get_datetime

from message_center import search

CONVERSATION = "`tabConversation`"
# The user's own row (unique per conversation and user), joined once per query.
STATE_JOIN = (
	"left join `tabConversation User State` state"
	" on state.conversation = `tabConversation`.name and state.user = %(user)s"
)
# Views that need my own row: an inner join lets MariaDB start from my few marks (its user indexes)
# instead of walking every conversation of my teams.
NEEDS_STATE = ("starred", "archived")


def filters_on_state(view: str) -> bool:
	"""Whether the view's conditions read my own row (read, starred, archived marks)."""
	condition, hides_archived = VIEWS[view]
	return hides_archived or "state." in condition


def state_join(view: str) -> str:
	return STATE_JOIN.replace("left join", "join", 1) if view in NEEDS_STATE else STATE_JOIN


ARCHIVED = (
	"(state.archived_at is not null and (`tabConversation`.last_inbound_at is null"
	" or state.archived_at >= `tabConversation`.last_inbound_at))"
)
UNREAD = (
	"(coalesce(state.marked_unread, 0) = 1 or (`tabConversation`.last_inbound_at is not null"
	" and (state.last_read_at is null or state.last_read_at < `tabConversation`.last_inbound_at)))"
)
UNMATCHED = (
	"(ifnull(`tabConversation`.contact, '') = '' and ifnull(`tabConversation`.lead, '') = ''"
	" and ifnull(`tabConversation`.customer, '') = '')"
)
OPEN = "`tabConversation`.status = 'Open'"
UNCLAIMED = "(`tabConversation`.claimed_by is null or `tabConversation`.claimed_by = '')"

# view -> (SQL condition, hides what I archived)
VIEWS: dict[str, tuple[str, bool]] = {
	"open": (OPEN, True),
	"waiting": (f"{OPEN} and `tabConversation`.waiting_since is not null", True),
	"unassigned": (f"{OPEN} and {UNCLAIMED}", True),
	"mine": (f"{OPEN} and `tabConversation`.claimed_by = %(user)s", True),
	"closed": ("`tabConversation`.status = 'Closed'", True),
	"unread": (f"{OPEN} and {UNREAD}", True),
	"starred": ("state.starred = 1", False),
	"archived": (ARCHIVED, False),
	"unmatched": (UNMATCHED, True),
	# Search looks everywhere the user may look, archived or not.
	"all": ("1 = 1", False),
}
LIST_VIEWS = tuple(view for view in VIEWS if view != "all")
# Single-column indexes (the fields' search_index) that MariaDB likes to intersect (index_merge) and
# then sort thousands of rows by last activity; the composite indexes of on_doctype_update start
# with the same columns and already hold that order (100k conversations: 150 ms -> 20 ms).
SUPERSEDED_INDEXES = ("team", "status", "channel", "claimed_by")
_table_hints: dict[str, str] = {}
COUNT_CAP = 999
# Datetime columns of a page, parsed back from their JSON text.
DATETIME_FIELDS = frozenset(("last_message_at", "last_inbound_at", "waiting_since", "unclaimed_since"))
MAX_PAGE_LENGTH = 100


@dataclass
class InboxFilters:
	view: str = "open"
	mine_only: bool = False  # "My Messages": only what is claimed by / assigned to me
	channel: str | None = None
	assignee: str | None = None
	search: str | None = None

	def __post_init__(self):
		self.view = (self.view or "open").lower()
		if self.view not in VIEWS:
			frappe.throw(_("Unknown inbox view {0}. Use one of: {1}.").format(self.view, ", ".join(LIST_VIEWS)))
		self.mine_only = bool(frappe.utils.cint(self.mine_only))
		self.channel = self.channel or None
		self.assignee = self.assignee or None
		self.search = (self.search or "").strip() or None


def conversation_table() -> str:
	"""`tabConversation`, told to leave the superseded indexes alone (those this site has)."""
	site = frappe.local.site
	if site not in _table_hints:
		present = [index for index in SUPERSEDED_INDEXES if frappe.db.has_index("tabConversation", index)]
		_table_hints[site] = f"{CONVERSATION} ignore index ({', '.join(present)})" if present else CONVERSATION
	return _table_hints[site]


def set_activity_time(doc, method=None):
	"""A conversation without messages yet (a phone enquiry typed in) sorts by when it was created,
	not after every other conversation."""
	if not doc.last_message_at:
		doc.last_message_at = frappe.utils.now_datetime()


def team_scope(user: str) -> str:
	"""The conditions frappe.get_list would add for this user (roles, user permissions, team hook)."""
	if not frappe.has_permission("Conversation", "read", user=user):
		frappe.throw(_("You are not allowed to see conversations."), frappe.PermissionError)
	query = DatabaseQuery("Conversation", user=user)
	query.fields = ["`tabConversation`.name"]
	return query.build_match_conditions() or ""


def _where(filters: InboxFilters, user: str, scope: str, view: str, params: dict) -> str:
	condition, hides_archived = VIEWS[view]
	conditions = [f"({condition})"]
	if hides_archived:
		conditions.append(f"not {ARCHIVED}")
	if scope:
		conditions.append(f"({scope})")
	if filters.mine_only:
		conditions.append("`tabConversation`.claimed_by = %(user)s")
	if filters.channel:
		params["channel"] = filters.channel
		conditions.append("`tabConversation`.channel = %(channel)s")
	if filters.assignee:
		params["assignee"] = filters.assignee
		conditions.append("`tabConversation`.claimed_by = %(assignee)s")
	if filters.search:
		matched = search.condition(filters.search, params)
		if matched:
			conditions.append(matched)
	return " and ".join(conditions)


def encode_cursor(last_message_at, name: str) -> str:
	payload = json.dumps([str(last_message_at) if last_message_at else None, name])
	return base64.urlsafe_b64encode(payload.encode()).decode()


def decode_cursor(cursor: str | None) -> tuple | None:
	if not cursor:
		return None
	try:
		when, name = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
		return (get_datetime(when) if when else None, str(name))
	except (ValueError, TypeError):
		frappe.throw(_("This page link is no longer valid: reload the list."))


def _after(cursor: tuple | None, params: dict) -> str:
	"""Keyset condition for rows after `cursor` in (last_message_at desc, name desc) order; rows
	without any message time sort last."""
	if not cursor:
		return ""
	when, name = cursor
	params["cursor_name"] = name
	if when is None:
		return " and `tabConversation`.last_message_at is null and `tabConversation`.name < %(cursor_name)s"
	params["cursor_at"] = when
	return (
		" and (`tabConversation`.last_message_at < %(cursor_at)s"
		" or (`tabConversation`.last_message_at = %(cursor_at)s and `tabConversation`.name < %(cursor_name)s)"
		" or `tabConversation`.last_message_at is null)"
	)


def page(
	filters: InboxFilters, user: str, scope: str, cursor: str | None = None, page_length: int = 20, fields=()
):
	"""One page of conversations (name, last_message_at and `fields`) with the user's state:
	([row...], next_cursor). `scope` is team_scope(user), computed once per request."""
	page_length = max(1, min(int(page_length or 20), MAX_PAGE_LENGTH))
	params = {"user": user, "limit": page_length + 1}
	where = _where(filters, user, scope, filters.view, params) + _after(decode_cursor(cursor), params)
	columns = {"name": f"{CONVERSATION}.name", "last_message_at": f"{CONVERSATION}.last_message_at"}
	columns.update((field, f"{CONVERSATION}.`{field}`") for field in fields if field not in columns)
	columns.update(starred="coalesce(state.starred, 0)", unread=UNREAD, archived=ARCHIVED)
	order = "order by `tabConversation`.last_message_at desc, `tabConversation`.name desc"
	source = f"{conversation_table()} {state_join(filters.view)} where {where}"
	if filters.search:
		# A common word matches thousands of conversations: sort and cut their keys first (without my
		# marks unless the view filters on them), then build only the page's rows.
		keys_from = f"{conversation_table()} {state_join(filters.view) if filters_on_state(filters.view) else ''} where {where}"
		source = f"""(select `tabConversation`.name from {keys_from} {order} limit %(limit)s) page_keys
			join {CONVERSATION} on {CONVERSATION}.name = page_keys.name
			{STATE_JOIN}"""
	# Each row comes back as one JSON array: decoding a page column by column in Python (and Frappe's
	# strptime for every datetime) cost more than the query itself.
	encoded = frappe.db.sql(
		f"""select json_array({", ".join(columns.values())}) from {source} {order} limit %(limit)s""", params
	)
	keys = [*columns]
	datetimes = DATETIME_FIELDS.intersection(keys)
	rows = []
	for (values,) in encoded:
		row = frappe._dict(zip(keys, json.loads(values), strict=True))
		for field in datetimes:
			if row[field] is not None:
				row[field] = datetime.fromisoformat(row[field])
		rows.append(row)
	next_cursor = None
	if len(rows) > page_length:
		rows = rows[:page_length]
		next_cursor = encode_cursor(rows[-1].last_message_at, rows[-1].name)
	return rows, next_cursor


def count(filters: InboxFilters, user: str, scope: str, view: str) -> int:
	"""How many conversations the view holds, counted up to COUNT_CAP + 1 ("999+")."""
	params = {"user": user, "cap": COUNT_CAP + 1}
	where = _where(filters, user, scope, view, params)
	return frappe.db.sql(
		f"""select count(*) from (select 1 from {conversation_table()} {state_join(view)} where {where} limit %(cap)s) capped""",
		params,
	)[0][0]

"""The Message Center inbox: the conversation list for each view, its counts, search and filter options.

Every method works only on what the user may read: the list query carries frappe.get_list's team
scoping (see message_center.inbox_query); single rows are loaded through frappe.get_list.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import cint, get_fullname, now_datetime

from message_center import inbox_query
from message_center.core.alerts import compute_alerts
from message_center.permissions import AGENT_ROLE, MANAGER_ROLE, is_manager, user_teams
from message_center.realtime import EVENT
from message_center.settings import alert_thresholds

# What a list row shows (the quick view and its alerts). Every column costs decoding time on each
# page, so the page reads only these.
LIST_FIELDS = [
	"name",
	"party_name",
	"party_address",
	"subject",
	"medium",
	"channel",
	"team",
	"status",
	"claimed_by",
	"last_message_at",
	"last_message_preview",
	"waiting_since",
	"unclaimed_since",
]
# An open conversation's header also shows whom it is linked to and whether it may be answered.
ROW_FIELDS = [*LIST_FIELDS, "opted_out", "enquiry", "contact", "lead", "customer", "last_inbound_at"]

VIEW_LABELS = {
	"open": "Open",
	"waiting": "Waiting",
	"unassigned": "Unassigned",
	"mine": "Just Mine",
	"closed": "Closed",
	"unread": "Unread",
	"starred": "Starred",
	"archived": "Archived",
	"unmatched": "Unmatched",
}


def _filters(view="open", mine_only=0, channel=None, assignee=None, search=None) -> inbox_query.InboxFilters:
	if channel and not frappe.has_permission("Channel", "read", doc=channel):
		# The team scope would return nothing anyway; say so rather than show an empty inbox.
		frappe.throw(_("Not permitted to read channel {0}").format(channel), frappe.PermissionError)
	return inbox_query.InboxFilters(view=view, mine_only=mine_only, channel=channel, assignee=assignee, search=search)


def _channel_info(channels: set) -> dict:
	# Only the channels of conversations the user was just allowed to load.
	if not channels:
		return {}
	return {
		row.name: row
		for row in frappe.get_all("Channel", filters={"name": ["in", [*channels]]}, fields=["name", "kind", "campaign"])
	}


def rows_for(names: list[str], states: dict | None = None) -> list[dict]:
	"""The rows of `names` (already permission-filtered), in that order, with alerts and state, and
	their channel's kind and campaign (what an open conversation's header shows)."""
	if not names:
		return []
	loaded = {
		row.name: row
		for row in frappe.get_list("Conversation", filters={"name": ["in", names]}, fields=ROW_FIELDS, limit_page_length=0)
	}
	rows = list_rows([loaded[name] for name in names if name in loaded], states or {})
	channels = _channel_info({row["channel"] for row in rows})
	for row in rows:
		channel = channels.get(row["channel"])
		row["channel_kind"] = channel.kind if channel else None
		row["campaign"] = channel.campaign if channel else None
	return rows


def list_rows(loaded: list, states: dict) -> list[dict]:
	"""Rows as the list shows them: title, agent name, alerts, my marks."""
	thresholds = alert_thresholds()
	now = now_datetime()
	agent_names = {agent: get_fullname(agent) for agent in {row.claimed_by for row in loaded} if agent}
	rows = []
	for row in loaded:
		state = states.get(row.name) or {}
		alerts = compute_alerts(
			is_open=row.status == "Open",
			unclaimed_since=row.unclaimed_since,
			waiting_since=row.waiting_since,
			now=now,
			thresholds=thresholds,
		)
		rows.append(
			{
				**row,
				"title": row.party_name or row.party_address,
				"claimed_by_name": agent_names.get(row.claimed_by),
				"starred": bool(state.get("starred")),
				"unread": bool(state.get("unread")),
				"archived": bool(state.get("archived")),
				"alert_unclaimed": alerts.unclaimed,
				"alert_unclaimed_overdue": alerts.unclaimed_overdue,
				"alert_waiting_overdue": alerts.waiting_overdue,
				"alert_next_change_at": alerts.next_change_at,
			}
		)
	return rows


def _page(filters: inbox_query.InboxFilters, cursor, page_length) -> dict:
	user = frappe.session.user
	scope = inbox_query.team_scope(user)
	# The page query carries the same team scope as frappe.get_list, so it loads the rows' fields too:
	# one query per page instead of a second get_list.
	page, next_cursor = inbox_query.page(
		filters, user, scope, cursor=cursor, page_length=cint(page_length) or 20, fields=LIST_FIELDS
	)
	return {
		"rows": list_rows(page, {row.name: row for row in page}),
		"next_cursor": next_cursor,
		"server_time": now_datetime(),
	}


@frappe.whitelist()
def list(view="open", mine_only=0, channel=None, assignee=None, search=None, cursor=None, page_length=20):  # noqa: A001
	"""One page of a view (open, waiting, unassigned, mine, closed, unread, starred, archived, unmatched),
	newest activity first; pass back `next_cursor` for the next page."""
	return _page(_filters(view, mine_only, channel, assignee, search), cursor, page_length)


@frappe.whitelist()
def search(text, mine_only=0, channel=None, assignee=None, cursor=None, page_length=20):
	"""Conversations of any status whose name, email, phone, subject or message text matches `text`."""
	if not (text or "").strip():
		return {"rows": [], "next_cursor": None, "server_time": now_datetime()}
	return _page(_filters("all", mine_only, channel, assignee, text), cursor, page_length)


@frappe.whitelist()
def counts(mine_only=0, channel=None, assignee=None):
	"""{view: count} for every view; counts stop at COUNT_CAP + 1 (show "999+")."""
	user = frappe.session.user
	scope = inbox_query.team_scope(user)
	result = {}
	for view in inbox_query.LIST_VIEWS:
		result[view] = inbox_query.count(_filters(view, mine_only, channel, assignee), user, scope, view)
	return {"counts": result, "cap": inbox_query.COUNT_CAP}


def _agents(teams: list[str], manager: bool) -> list[dict]:
	if manager:
		users = set(
			frappe.get_all("Has Role", filters={"role": ["in", [AGENT_ROLE, MANAGER_ROLE]], "parenttype": "User"}, pluck="parent")
		)
	else:
		users = set(
			frappe.get_all(
				"Message Center Team Member", filters={"parent": ["in", teams], "parenttype": "Message Center Team"}, pluck="user"
			)
		)
	enabled = frappe.get_all("User", filters={"name": ["in", [*users]], "enabled": 1}, fields=["name", "full_name"]) if users else []
	return sorted(({"user": row.name, "full_name": row.full_name or row.name} for row in enabled), key=lambda row: row["full_name"].lower())


@frappe.whitelist()
def options():
	"""What the page needs once: views, the channels, teams and agents this user may filter by,
	alert thresholds and the realtime event to listen to."""
	user = frappe.session.user
	inbox_query.team_scope(user)  # refuses users who may not read conversations at all
	manager = is_manager(user)
	teams = frappe.get_list("Message Center Team", pluck="name", limit_page_length=0) if manager else user_teams(user)
	thresholds = alert_thresholds()
	return {
		"user": user,
		"full_name": get_fullname(user),
		"is_manager": manager,
		"views": [{"view": view, "label": label} for view, label in VIEW_LABELS.items()],
		"channels": frappe.get_list("Channel", fields=["name", "kind", "team"], order_by="name asc", limit_page_length=0),
		"teams": teams,
		# Transfers may go to any team.
		"all_teams": frappe.get_list("Message Center Team", pluck="name", order_by="name asc", limit_page_length=0),
		"agents": _agents(teams, manager),
		"thresholds": {"unclaimed_minutes": thresholds.unclaimed_minutes, "waiting_minutes": thresholds.waiting_minutes},
		"realtime_event": EVENT,
		"count_cap": inbox_query.COUNT_CAP,
	}


@frappe.whitelist()
def conversation(conversation: str):
	"""One conversation as the page's header needs it: its list row, what the user may do
	(conversation_summary: can_reply and why not), the user's own marks, and for mail what a reply
	adds to the agent's text (_mail_reply)."""
	from message_center import user_state
	from message_center.api.conversation import conversation_summary, load_conversation
	from message_center.api.reply import send_path_for

	doc = load_conversation(conversation)
	state = user_state.states_for([doc.name], frappe.session.user).get(doc.name)
	marks = {
		doc.name: {
			"starred": bool(state and state.starred),
			"unread": user_state.is_unread(state, doc.last_inbound_at),
			"archived": user_state.is_archived(state, doc.last_inbound_at),
		}
	}
	row = rows_for([doc.name], marks)[0]
	return {
		**row,
		"summary": conversation_summary(doc),
		"can_write": bool(frappe.has_permission("Conversation", "write", doc=doc)),
		"can_delete": bool(frappe.has_permission("Conversation", "delete", doc=doc)),
		**(_mail_reply(doc) if send_path_for(doc) == "email" else {"reply_cc": [], "reply_signature": ""}),
	}


def _mail_reply(doc) -> dict:
	"""What a mail reply adds to the agent's text unless changed: the copies, and the signature as
	plain text for the composer to show."""
	from message_center.core.html_sanitize import html_to_text
	from message_center.email_reply import outgoing_account, reply_copies, reply_signature

	account = outgoing_account(doc)
	signature = reply_signature(frappe.session.user, account)
	return {"reply_cc": reply_copies(doc, account), "reply_signature": html_to_text(signature).strip() if signature else ""}

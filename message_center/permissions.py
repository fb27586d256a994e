"""Team-scoped access to Message Center records.

Agents see and act on only the Conversations, Enquiries, Channels and Quick Replies of the teams
they are members of; Message Center Managers and System Managers see everything. The same rule
serves list queries (`permission_query_conditions`) and single documents (`has_permission`).
"""

import frappe

AGENT_ROLE = "Message Center Agent"
MANAGER_ROLE = "Message Center Manager"
_ALL_TEAMS_ROLES = {MANAGER_ROLE, "System Manager"}


def is_manager(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(_ALL_TEAMS_ROLES.intersection(frappe.get_roles(user)))


def user_teams(user: str | None = None) -> list[str]:
	"""The teams `user` belongs to, memoised for the request (teams change rarely, requests are short)."""
	user = user or frappe.session.user
	cache = getattr(frappe.local, "message_center_user_teams", None)
	if cache is None:
		cache = frappe.local.message_center_user_teams = {}
	if user not in cache:
		cache[user] = frappe.get_all(
			"Message Center Team Member", filters={"user": user, "parenttype": "Message Center Team"}, pluck="parent"
		)
	return cache[user]


def clear_team_cache():
	frappe.local.message_center_user_teams = {}


def _team_condition(table: str, column: str, user: str | None) -> str:
	user = user or frappe.session.user
	if is_manager(user):
		return ""
	teams = user_teams(user)
	if not teams:
		return "1=0"
	values = ", ".join(frappe.db.escape(team) for team in teams)
	return f"`tab{table}`.`{column}` in ({values})"


def conversation_query(user=None):
	return _team_condition("Conversation", "team", user)


def enquiry_query(user=None):
	return _team_condition("Enquiry", "team", user)


def channel_query(user=None):
	return _team_condition("Channel", "team", user)


def quick_reply_query(user=None):
	user = user or frappe.session.user
	if is_manager(user):
		return ""
	teams = user_teams(user)
	if not teams:
		return "`tabQuick Reply`.scope = 'Global'"
	values = ", ".join(frappe.db.escape(team) for team in teams)
	return (
		"(`tabQuick Reply`.scope = 'Global'"
		f" or (`tabQuick Reply`.scope = 'Team' and `tabQuick Reply`.team in ({values}))"
		" or (`tabQuick Reply`.scope = 'Channel' and `tabQuick Reply`.channel in"
		f" (select name from `tabChannel` where team in ({values}))))"
	)


def _in_my_teams(team: str | None, user: str, ptype: str | None = None) -> bool | None:
	"""None defers to role permissions (managers); otherwise deny anything outside the user's teams."""
	if is_manager(user):
		return None
	if ptype == "create" and not team:
		return None  # the controller sets the team in validate() and refuses a team that isn't theirs
	return bool(team) and team in user_teams(user)


def has_conversation_permission(doc, ptype=None, user=None, debug=False):
	return _in_my_teams(doc.get("team"), user or frappe.session.user, ptype)


def has_enquiry_permission(doc, ptype=None, user=None, debug=False):
	return _in_my_teams(doc.get("team"), user or frappe.session.user, ptype)


def has_channel_permission(doc, ptype=None, user=None, debug=False):
	return _in_my_teams(doc.get("team"), user or frappe.session.user)


def has_quick_reply_permission(doc, ptype=None, user=None, debug=False):
	user = user or frappe.session.user
	if is_manager(user):
		return None
	if doc.get("scope") == "Team":
		return _in_my_teams(doc.get("team"), user)
	if doc.get("scope") == "Channel":
		return _in_my_teams(frappe.db.get_value("Channel", doc.get("channel"), "team"), user)
	return None

"""Realtime: after commit, ids only, to the rooms of the people allowed to see the conversation.

Clients never trust the payload: they refetch through the permission-checked API.
"""

from contextlib import contextmanager

import frappe

from message_center.permissions import MANAGER_ROLE

EVENT = "message_center"


@contextmanager
def audience_cached():
	"""Within the block, each team's audience is read once (a mail sync run publishes for every
	message it stores; who is in the team does not change meanwhile in a way that matters)."""
	outer = getattr(frappe.local, "mc_audience_cache", None)
	frappe.local.mc_audience_cache = {} if outer is None else outer
	try:
		yield
	finally:
		frappe.local.mc_audience_cache = outer


def audience(team: str | None) -> set[str]:
	cache = getattr(frappe.local, "mc_audience_cache", None)
	if cache is None:
		return _audience(team)
	if team not in cache:
		cache[team] = _audience(team)
	return set(cache[team])


def _audience(team: str | None) -> set[str]:
	members = set(
		frappe.get_all("Message Center Team Member", filters={"parent": team, "parenttype": "Message Center Team"}, pluck="user")
		if team
		else []
	)
	managers = set(
		frappe.get_all("Has Role", filters={"role": MANAGER_ROLE, "parenttype": "User"}, pluck="parent", distinct=True)
	)
	return (members | managers) - {"Guest"}


def publish_conversation_change(conversation: str, team: str | None, change: str, previous_team: str | None = None):
	"""`change` names what happened (message, claim, assign, status, note…) so the page can decide to refetch."""
	payload = {"conversation": conversation, "change": change}
	for user in audience(team) | (audience(previous_team) if previous_team and previous_team != team else set()):
		frappe.publish_realtime(EVENT, payload, user=user, after_commit=True)

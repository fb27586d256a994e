"""Conversation actions for the desk: every method checks permission on the conversation first."""

import frappe
from frappe import _

from message_center import messages
from message_center.core import conversation_rules as rules
from message_center.message_center.doctype.conversation.conversation import actor_for
from message_center.permissions import is_manager
from message_center.realtime import publish_conversation_change


def load_conversation(name: str, ptype: str = "read"):
	"""The conversation, or PermissionError (403) when this user may not `ptype` it."""
	if not name or not frappe.db.exists("Conversation", name):
		frappe.throw(_("Conversation {0} not found").format(name), frappe.DoesNotExistError)
	conversation = frappe.get_doc("Conversation", name)
	conversation.check_permission(ptype)
	return conversation


def _team_members(team: str) -> set[str]:
	return set(frappe.get_all("Message Center Team Member", filters={"parent": team, "parenttype": "Message Center Team"}, pluck="user"))


def _require_member(user: str, team: str):
	if user not in _team_members(team) and not is_manager(user):
		frappe.throw(_("{0} is not a member of team {1}.").format(user, team), frappe.ValidationError)


def _act(name: str, action: rules.Action, change: str, **details):
	conversation = load_conversation(name, "write")
	previous_team = conversation.team
	transition = conversation.apply_event(action, actor=actor_for(), **details)
	conversation.save_via_rules()
	publish_conversation_change(conversation.name, conversation.team, change, previous_team=previous_team)
	return conversation_summary(conversation, transition)


def conversation_summary(conversation, transition: rules.Transition | None = None) -> dict:
	from message_center.api.reply import reply_blocked_reason

	blocked = reply_blocked_reason(conversation, actor_for())
	return {
		"name": conversation.name,
		"status": conversation.status,
		"team": conversation.team,
		"claimed_by": conversation.claimed_by,
		"opted_out": conversation.opted_out,
		"waiting_since": conversation.waiting_since,
		"can_reply": blocked is None,
		"reply_blocked_code": blocked[0] if blocked else "",
		"reply_blocked_reason": blocked[1] if blocked else "",
		"effects": [effect.value for effect in transition.effects] if transition else [],
	}


@frappe.whitelist(methods=["POST"])
def claim(conversation: str):
	return _act(conversation, rules.Action.CLAIM, "claim")


@frappe.whitelist(methods=["POST"])
def release(conversation: str):
	return _act(conversation, rules.Action.RELEASE, "claim")


@frappe.whitelist(methods=["POST"])
def assign(conversation: str, user: str):
	team = load_conversation(conversation, "write").team
	_require_member(user, team)
	return _act(conversation, rules.Action.ASSIGN, "assign", assignee=user)


@frappe.whitelist(methods=["POST"])
def transfer(conversation: str, team: str | None = None, user: str | None = None, note: str | None = None):
	"""Cold transfer (no note) or warm transfer (a hand-over note the recipient reads first)."""
	current = load_conversation(conversation, "write")
	if team and not frappe.db.exists("Message Center Team", team):
		frappe.throw(_("Team {0} not found").format(team), frappe.DoesNotExistError)
	if user:
		_require_member(user, team or current.team)
	warm = bool(note and note.strip())
	if warm:
		messages.add_note(current, note, actor_for())
	return _act(conversation, rules.Action.TRANSFER, "assign", team=team, assignee=user, warm=warm)


@frappe.whitelist(methods=["POST"])
def close(conversation: str):
	return _act(conversation, rules.Action.CLOSE, "status")


@frappe.whitelist(methods=["POST"])
def reopen(conversation: str):
	return _act(conversation, rules.Action.REOPEN, "status")


@frappe.whitelist(methods=["POST"])
def add_note(conversation: str, content: str):
	if not (content or "").strip():
		frappe.throw(_("Write the note first."))
	doc = load_conversation(conversation, "write")
	comment = messages.add_note(doc, content, actor_for())
	publish_conversation_change(doc.name, doc.team, "note")
	return {"name": comment.name}


@frappe.whitelist()
def get(conversation: str):
	return conversation_summary(load_conversation(conversation, "read"))


@frappe.whitelist(methods=["POST"])
def delete(conversation: str):
	"""Delete the conversation, its messages and its enquiry (managers, or roles allowed to delete).
	Each message's dedupe key stays behind as a tombstone, so mail sync never imports it again."""
	doc = load_conversation(conversation, "delete")
	frappe.delete_doc("Conversation", doc.name)
	publish_conversation_change(doc.name, doc.team, "deleted")
	return {"deleted": doc.name}

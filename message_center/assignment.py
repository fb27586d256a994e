"""Assign To and claiming are one thing: a conversation's claimer holds its one open assignment.

Frappe's assignment (a ToDo per assignee) is what the desk sidebar, notifications, "Assigned To Me"
and Assignment Rules (round robin, load balancing) work with; Conversation.claimed_by is what the
state machine and the inbox work with. These doc_events keep them equal in both directions:

- the conversation changes (claim, assign, transfer, release, close, reopen, a reply that takes
  ownership, the channel's default assignee): its ToDos follow, through frappe.desk.form.assign_to
  so the assignee is notified;
- a ToDo changes (Assign To in the sidebar, an Assignment Rule, removing or completing the
  assignment): the conversation follows through the rules, so a refused move (assigning a
  conversation someone else claimed, without being a manager) is refused with the rules' reason.
"""

from __future__ import annotations

import json

import frappe
from frappe import _
from frappe.desk.form import assign_to

from message_center.core import conversation_rules as rules
from message_center.message_center.doctype.conversation.conversation import RULE_FIELDS, actor_for
from message_center.permissions import is_manager
from message_center.realtime import publish_conversation_change

CONVERSATION = "Conversation"
# Assignment Rules and website submissions act for the system, like a manager would.
AUTOMATIC = rules.Actor("Administrator", is_manager=True)


def _local_set(name: str) -> set:
	values = getattr(frappe.local, name, None)
	if values is None:
		values = set()
		setattr(frappe.local, name, values)
	return values


def _syncing() -> set:
	"""Conversations whose ToDos this module is changing right now (their ToDo events are ours)."""
	return _local_set("message_center_todo_sync")


def _changed_behind() -> set:
	"""Conversations saved from a ToDo event while another copy of them may be in the middle of a save."""
	return _local_set("message_center_changed_behind")


def may_be_assigned(user: str | None, team: str | None) -> bool:
	if not user or not frappe.db.get_value("User", user, "enabled"):
		return False
	if is_manager(user):
		return True
	return bool(
		team and frappe.db.exists("Message Center Team Member", {"parent": team, "parenttype": "Message Center Team", "user": user})
	)


def default_assignee(channel: str, team: str | None) -> str | None:
	"""The channel's campaign's default assignee when it has one, else the channel's own."""
	channel_doc = frappe.get_cached_doc("Channel", channel)
	wanted = []
	if channel_doc.campaign and frappe.get_meta("Campaign").has_field("mc_default_assignee"):
		wanted.append(frappe.db.get_value("Campaign", channel_doc.campaign, "mc_default_assignee"))
	wanted.append(channel_doc.default_assignee)
	for user in filter(None, wanted):
		if may_be_assigned(user, team):
			return user
		frappe.log_error(
			title=_("Message Center: default assignee skipped"),
			message=_("{0} is not an enabled member of team {1}; conversations of channel {2} stay unassigned.").format(user, team, channel),
		)
	return None


# -- conversation → ToDo --------------------------------------------------------------------


def assign_new_conversation(doc, method=None):
	"""before_insert: a new conversation goes to its channel's default assignee."""
	if doc.claimed_by or not doc.channel:
		return
	assignee = default_assignee(doc.channel, doc.team)
	if assignee:
		doc.apply_event(rules.Action.ASSIGN, actor=AUTOMATIC, assignee=assignee)


def conversation_updated(doc, method=None):
	"""on_update: bring the ToDos in line with claimed_by and the status."""
	if doc.flags.in_insert and not doc.claimed_by:
		# Nothing is assigned yet to a conversation being inserted unclaimed (these hooks run
		# before Frappe's own, so before any Assignment Rule): no ToDo to look for.
		return
	if doc.has_value_changed("claimed_by") or doc.has_value_changed("status"):
		sync_todos(doc)


def conversation_changed(doc, method=None):
	"""on_change (the last step of a save): if a ToDo event saved this conversation meanwhile (an
	Assignment Rule runs inside the save), take its state so this copy's next save keeps it."""
	if doc.flags.in_delete or doc.name not in _changed_behind():
		return
	_changed_behind().discard(doc.name)
	fresh = frappe.db.get_value(CONVERSATION, doc.name, [*RULE_FIELDS, "modified", "_assign"], as_dict=True)
	if fresh:
		for field, value in fresh.items():
			doc.set(field, value)


def sync_todos(doc):
	"""Open conversation with a claimer: exactly one open ToDo, the claimer's. Unclaimed: none.
	Closed: the claimer's ToDo is completed (Closed), any other cancelled."""
	wanted = doc.claimed_by if doc.status == "Open" else None
	todos = frappe.get_all(
		"ToDo",
		filters={"reference_type": CONVERSATION, "reference_name": doc.name, "status": ("!=", "Cancelled")},
		fields=["name", "allocated_to", "status"],
		order_by="creation desc",
	)
	syncing = _syncing()
	syncing.add(doc.name)
	try:
		for todo in todos:
			if todo.status != "Open" or todo.allocated_to == wanted:
				continue
			done = doc.status == "Closed" and todo.allocated_to == doc.claimed_by
			_set_todo_status(todo.name, "Closed" if done else "Cancelled")
		if wanted and not any(todo.allocated_to == wanted and todo.status == "Open" for todo in todos):
			closed = next((todo for todo in todos if todo.allocated_to == wanted and todo.status == "Closed"), None)
			if closed:
				_set_todo_status(closed.name, "Open")  # reopened conversation: the claimer's task again
			else:
				assign_to.add(
					{
						"assign_to": [wanted],
						"doctype": CONVERSATION,
						"name": doc.name,
						"description": _description(doc),
						"assigned_by": frappe.session.user if frappe.session.user != "Guest" else "Administrator",
					},
					ignore_permissions=True,
				)
	finally:
		syncing.discard(doc.name)
	doc.set("_assign", frappe.db.get_value(CONVERSATION, doc.name, "_assign"))


def _set_todo_status(name: str, status: str):
	todo = frappe.get_doc("ToDo", name)
	todo.status = status
	todo.save(ignore_permissions=True)


def _description(doc) -> str:
	who = doc.party_name or doc.party_address
	return _("Conversation with {0}: {1}").format(who, doc.subject) if doc.subject else _("Conversation with {0}").format(who)


def assigned_users(conversation: str) -> list[str]:
	return json.loads(frappe.db.get_value(CONVERSATION, conversation, "_assign") or "[]")


# -- ToDo → conversation --------------------------------------------------------------------


def _ours(todo) -> bool:
	return todo.reference_type == CONVERSATION and bool(todo.reference_name) and todo.reference_name not in _syncing()


def todo_inserted(todo, method=None):
	if _ours(todo) and todo.status == "Open" and todo.allocated_to:
		_assign_from(todo)


def todo_updated(todo, method=None):
	if not _ours(todo):
		return
	before = todo.get_doc_before_save()
	if before is None:
		return  # an insert: todo_inserted handled it
	if todo.status == "Open" and todo.allocated_to and (before.status != "Open" or before.allocated_to != todo.allocated_to):
		_assign_from(todo)
	elif before.status == "Open" and todo.status != "Open":
		_release_from(todo)


def todo_trashed(todo, method=None):
	if _ours(todo) and todo.status == "Open":
		_release_from(todo)


def _actor_for(todo) -> rules.Actor:
	if todo.assignment_rule or frappe.session.user in ("Guest", "Administrator"):
		return AUTOMATIC
	return actor_for()


def _assign_from(todo):
	if not frappe.db.exists(CONVERSATION, todo.reference_name):
		return
	conversation = frappe.get_doc(CONVERSATION, todo.reference_name)
	if conversation.claimed_by == todo.allocated_to and conversation.status == "Open":
		sync_todos(conversation)  # already theirs: only retire anybody else's assignment
		return
	try:
		if not may_be_assigned(todo.allocated_to, conversation.team):
			frappe.throw(_("{0} is not a member of team {1}.").format(todo.allocated_to, conversation.team))
		conversation.apply_event(rules.Action.ASSIGN, actor=_actor_for(todo), assignee=todo.allocated_to)
	except frappe.ValidationError:
		if not todo.assignment_rule:
			raise
		# A misconfigured Assignment Rule must not break intake: leave the conversation unassigned.
		frappe.clear_last_message()
		frappe.log_error(title=_("Message Center: assignment rule skipped"), message=frappe.get_traceback())
		todo.db_set("status", "Cancelled", update_modified=False)
		return
	_save(conversation, "assign")


def _release_from(todo):
	if not frappe.db.exists(CONVERSATION, todo.reference_name):
		return
	conversation = frappe.get_doc(CONVERSATION, todo.reference_name)
	if conversation.status != "Open" or conversation.claimed_by != todo.allocated_to:
		return  # a closed conversation completes its ToDo; somebody else's stale ToDo changes nothing
	conversation.apply_event(rules.Action.RELEASE, actor=_actor_for(todo))
	_save(conversation, "claim")


def _save(conversation, change: str):
	conversation.save_via_rules()
	_changed_behind().add(conversation.name)
	publish_conversation_change(conversation.name, conversation.team, change)

"""The agent's own marks on a conversation: read, unread, starred, archived.

Reading a conversation is enough to mark it for yourself; nobody else's inbox changes.
"""

import frappe
from frappe.utils import cint

from message_center import user_state
from message_center.api.conversation import load_conversation


def _state(conversation) -> dict:
	state = user_state.states_for([conversation.name], frappe.session.user).get(conversation.name)
	return {
		"conversation": conversation.name,
		"starred": bool(state and state.starred),
		"unread": user_state.is_unread(state, conversation.last_inbound_at),
		"archived": user_state.is_archived(state, conversation.last_inbound_at),
	}


@frappe.whitelist(methods=["POST"])
def mark_read(conversation: str):
	doc = load_conversation(conversation)
	user_state.mark_read(doc.name, frappe.session.user)
	return _state(doc)


@frappe.whitelist(methods=["POST"])
def mark_unread(conversation: str):
	doc = load_conversation(conversation)
	user_state.mark_unread(doc.name, frappe.session.user)
	return _state(doc)


@frappe.whitelist(methods=["POST"])
def star(conversation: str, starred=1):
	doc = load_conversation(conversation)
	user_state.set_starred(doc.name, frappe.session.user, bool(cint(starred)))
	return _state(doc)


@frappe.whitelist(methods=["POST"])
def archive(conversation: str, archived=1):
	doc = load_conversation(conversation)
	user_state.set_archived(doc.name, frappe.session.user, bool(cint(archived)))
	return _state(doc)


@frappe.whitelist()
def get(conversation: str):
	return _state(load_conversation(conversation))

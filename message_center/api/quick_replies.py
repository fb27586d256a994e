"""Quick replies for the composer: the ones that apply to a conversation, rendered for its person.

A conversation offers the global replies, its team's and its channel's, for the medium it is
answered in (SMS conversations by SMS, everything else by email).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import get_fullname

from message_center.api.conversation import load_conversation
from message_center.api.reply import send_path_for
from message_center.core.quick_reply import QuickReplyError, RenderContext
from message_center.core.quick_reply import render as render_template

FIELDS = ["name", "title", "shortcut", "medium", "scope", "team", "channel", "body"]


def reply_medium(conversation) -> str:
	return "SMS" if send_path_for(conversation) == "sms" else "Email"


def applicable(conversation) -> list[dict]:
	"""The quick replies this user may use on `conversation`, most specific first."""
	medium = reply_medium(conversation)
	rows = frappe.get_list(
		"Quick Reply",
		fields=FIELDS,
		filters={"medium": ["in", ["Any", medium, ""]]},
		or_filters=[
			["scope", "in", ["Global", ""]],
			["team", "=", conversation.team or "-"],
			["channel", "=", conversation.channel],
		],
		order_by="title asc",
		limit_page_length=0,
	)
	rank = {"Channel": 0, "Team": 1}
	return sorted(
		(row for row in rows if _applies(row, conversation)),
		key=lambda row: (rank.get(row.scope, 2), (row.title or "").lower()),
	)


def _applies(row, conversation) -> bool:
	if row.scope == "Team":
		return row.team == conversation.team
	if row.scope == "Channel":
		return row.channel == conversation.channel
	return True


def _person_names(conversation) -> tuple[str, str]:
	for doctype, fieldname in (("Contact", "contact"), ("Lead", "lead")):
		name = conversation.get(fieldname)
		if name:
			fields = ["first_name", "last_name"]
			values = frappe.db.get_value(doctype, name, fields, as_dict=True)
			if values and values.first_name:
				return values.first_name or "", values.last_name or ""
	party = (conversation.party_name or "").strip()
	if not party or party == conversation.party_address:
		return "", ""
	first, _, last = party.partition(" ")
	return first, last


def context_for(conversation, user: str | None = None) -> RenderContext:
	user = user or frappe.session.user
	first_name, last_name = _person_names(conversation)
	company = frappe.defaults.get_user_default("Company", user) or frappe.defaults.get_global_default("company") or ""
	return RenderContext(
		first_name=first_name,
		last_name=last_name,
		agent_name=get_fullname(user),
		company=company,
		channel=conversation.channel or "",
	)


@frappe.whitelist()
def list(conversation: str):  # noqa: A001
	"""[{name, title, shortcut, medium, scope, preview}] for the composer's picker and `/` search."""
	doc = load_conversation(conversation)
	return [
		{key: row[key] for key in ("name", "title", "shortcut", "medium", "scope")} | {"preview": (row.body or "")[:140]}
		for row in applicable(doc)
	]


@frappe.whitelist()
def render(conversation: str, quick_reply: str):
	"""The quick reply's text with this conversation's person, this agent and the company filled in."""
	doc = load_conversation(conversation)
	chosen = next((row for row in applicable(doc) if row.name == quick_reply), None)
	if chosen is None:
		frappe.throw(_("Quick reply {0} is not available for this conversation.").format(quick_reply), frappe.PermissionError)
	try:
		text = render_template(chosen.body, context_for(doc))
	except QuickReplyError as error:
		frappe.throw(_("Quick reply {0} cannot be filled in: {1}").format(chosen.title, error))
	return {"name": chosen.name, "title": chosen.title, "text": text}

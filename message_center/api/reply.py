"""Replying to a customer: one entry point for the desk, routed to the conversation's send path.

Each send path implements `send_reply(conversation, content, actor, attachments) -> dict` (the email
path also takes `cc`, the addresses kept in copy) and is
responsible for recording the outgoing Communication through `messages.record_outbound` (which
applies the conversation rules) before it talks to the outside world, and for marking the message
failed with the reason when sending fails.
"""

import email.utils

import frappe
from frappe import _
from frappe.utils import escape_html, validate_email_address

from message_center.api.conversation import conversation_summary, load_conversation
from message_center.core import conversation_rules as rules
from message_center.core.reply_recipients import MAX_COPIES, reply_all_copies
from message_center.message_center.doctype.conversation.conversation import ConversationRuleError, actor_for

SEND_PATHS = {
	"email": "message_center.email_reply.send_reply",
	"sms": "message_center.sms_outbound.send_reply",
}


def send_path_for(conversation) -> str | None:
	"""SMS conversations answer by SMS; anything with an email address answers by email."""
	if conversation.medium == "SMS":
		return "sms"
	if "@" in (conversation.party_address or ""):
		return "email"
	return None


def reply_blocked_reason(conversation, actor: rules.Actor) -> tuple[str, str] | None:
	"""(code, reason) when this actor cannot reply now, for the composer to show instead of failing on send."""
	if send_path_for(conversation) is None:
		return "no_send_path", _("This conversation has no email address or SMS number to reply to.")
	decision = conversation.check_action(rules.Action.OUTBOUND, actor)
	if not decision.allowed:
		return decision.code, _(decision.reason)
	return None


@frappe.whitelist(methods=["POST"])
def send(
	conversation: str,
	content: str,
	attachments: list[str] | str | None = None,
	cc: list[str] | str | None = None,
):
	"""Send `content` to the customer. `attachments` are File names already uploaded and `cc` the
	addresses to copy (a list, or one comma-separated string); both for email only."""
	doc = load_conversation(conversation, "write")
	if not (content or "").strip():
		frappe.throw(_("Write a message first."))
	actor = actor_for()
	blocked = reply_blocked_reason(doc, actor)
	if blocked:
		raise ConversationRuleError(*blocked)
	if isinstance(attachments, str):
		attachments = frappe.parse_json(attachments)
	path = send_path_for(doc)
	copies = checked_copies(cc, doc.party_address)
	if copies and path != "email":
		frappe.throw(_("Copies (Cc) can only be sent with an email reply."))
	send_reply = frappe.get_attr(SEND_PATHS[path])
	result = send_reply(doc, content, actor, attachments or [], **({"cc": copies} if copies else {}))
	doc.reload()
	return {**conversation_summary(doc), "message": result}


def checked_copies(cc: list[str] | str | None, customer: str) -> list[str]:
	"""The Cc addresses as a list, each valid and once, without the customer (the reply's To)."""
	if isinstance(cc, str):
		cc = frappe.parse_json(cc) if cc.strip().startswith("[") else [cc]
	written = [value for value in (cc or []) if isinstance(value, str) and value.strip()]
	for name, address in email.utils.getaddresses(written):
		# an empty entry is "a@b.example, " or "a@b.example; c@d.example" as people type them
		if (name or address) and not validate_email_address(address):
			shown = escape_html(address or name)
			frappe.throw(
				_("{0} is not a valid email address.").format(shown), frappe.InvalidEmailAddressError
			)
	copies = reply_all_copies(written, customer=customer, limit=None)
	if len(copies) > MAX_COPIES:
		frappe.throw(_("A reply can copy at most {0} people.").format(MAX_COPIES))
	return copies

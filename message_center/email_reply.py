"""Email replies from the desk: the send path api/reply.py dispatches to for conversations with an
email address (see its send-path contract).

The reply is recorded first through messages.record_outbound (the conversation rules guard it), then
queued through the channel's outgoing Email Account (Frappe's Email Queue sends it) with:
- a Message-ID carrying our signed reply token (core.mail_threading.make_message_id), stored on the
  reply's Channel Message so that the customer's answer threads back by In-Reply-To, References or
  the token;
- In-Reply-To the customer's latest message and References the thread's earlier Message-IDs;
- in copy (Cc) whoever the agent keeps of reply_copies(): the people on the latest mail a person
  wrote, as reply-all would, less the customer and our own shared inboxes;
- the agent's email signature below the text (reply_signature), as Frappe's own composer adds it.
A send that fails, now or when the queue tries it, leaves the Channel Message "Failed" with the
reason (and Frappe's Communication delivery status "Error").
"""

from __future__ import annotations

import email.utils
import re
from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import escape_html, get_fullname, is_html

from message_center import messages
from message_center.core import conversation_rules as rules
from message_center.core.html_sanitize import html_to_text
from message_center.core.mail_threading import make_message_id, message_id_key
from message_center.core.reply_recipients import reply_all_copies
from message_center.email_config import own_addresses, reply_token_secret
from message_center.realtime import publish_conversation_change

MAX_REFERENCES = 20  # the first message and the newest ones (RFC 5322 allows trimming the middle)
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.I)
# Email Queue status -> Channel Message status (a queue row retrying after an error stays Queued)
_QUEUE_STATUS = {"Sending": "Sending", "Sent": "Sent", "Error": "Failed", "Expired": "Failed"}


class SendRefused(Exception):
	"""The mail could not be handed to the Email Queue; the message says why, for the agent."""


def send_reply(
	conversation, content: str, actor: rules.Actor, attachments: list[str], cc: list[str] | None = None
) -> dict:
	"""Record the agent's reply on the conversation, then queue it to the customer and `cc` (checked
	addresses, see api/reply.py)."""
	files = [_readable_file(name) for name in attachments or []]  # refuse before anything is recorded
	account = outgoing_account(conversation)
	domain = _message_id_domain(account.email_id if account else None, conversation)
	message_id = make_message_id(conversation.name, reply_token_secret(), domain)
	key = message_id_key(message_id)
	in_reply_to, references = thread_headers(conversation.name)
	subject = reply_subject(conversation.subject)
	content = with_signature(content, reply_signature(actor.user, account))
	values = {"sender": account.email_id, "email_account": account.name} if account else {}
	_, communication, row = messages.record_outbound(
		conversation,
		content=content,
		actor=actor,
		identity=messages.MessageIdentity(conversation.channel, key=key, external_id=key),
		channel_message={"kind": "Normal"},
		sender_full_name=get_fullname(actor.user),
		recipients=conversation.party_address,
		cc=", ".join(cc or []) or None,
		subject=subject,
		message_id=message_id.strip("<>"),
		**values,
	)
	file_ids = [_attach_copy(file, communication.name) for file in files]
	frappe.db.savepoint("message_center_send")
	shown = len(frappe.local.message_log)
	try:
		if account is None:
			raise SendRefused(
				_("No outgoing Email Account: set one on channel {0}.").format(conversation.channel)
			)
		with _references_for(message_id, references):
			queued = frappe.sendmail(
				recipients=[conversation.party_address],
				cc=list(cc or []),
				expose_recipients="header",  # every copy shows To and Cc, so reply-all reaches everyone
				sender=email.utils.formataddr((get_fullname(actor.user), account.email_id)),
				subject=subject,
				content=content,
				message_id=message_id.strip("<>"),
				in_reply_to=in_reply_to,
				reference_doctype="Conversation",
				reference_name=conversation.name,
				communication=communication.name,
				attachments=[{"fid": file_id} for file_id in file_ids],
				add_unsubscribe_link=0,
				delayed=True,
			)
		if not queued:
			raise SendRefused(
				_("The mail could not be queued: {0} was refused as a recipient.").format(
					conversation.party_address
				)
			)
	except Exception as error:
		frappe.db.rollback(save_point="message_center_send")
		del frappe.local.message_log[shown:]  # the reason is returned and stored, not popped up twice
		reason = (
			str(error)
			if isinstance(error, SendRefused | frappe.ValidationError)
			else f"{type(error).__name__}: {error}"
		)
		mark(row, "Failed", reason)
		return {"communication": communication.name, "status": "Failed", "error": reason}
	return {"communication": communication.name, "status": "Queued", "error": None}


def outgoing_account(conversation):
	"""The channel's Email Account, or the site's default outgoing account for channels without one."""
	name = frappe.db.get_value("Channel", conversation.channel, "email_account")
	if name and frappe.db.get_value("Email Account", name, "enable_outgoing"):
		return frappe.get_cached_doc("Email Account", name)
	from frappe.email.doctype.email_account.email_account import EmailAccount

	return EmailAccount.find_default_outgoing()


def reply_signature(user: str, account) -> str:
	"""The HTML a reply from `user` ends with: their own Email Signature (My Settings), or else the
	reply account's signature when it adds one; Frappe's composer picks it the same way."""
	signature = frappe.db.get_value("User", user, "email_signature") or (
		account.signature if account and account.add_signature else None
	)
	if not (signature or "").strip():
		return ""
	return signature if is_html(signature) else escape_html(signature).replace("\n", "<br>")


def with_signature(content: str, signature: str) -> str:
	# left off when the agent already wrote it out
	if not signature or " ".join(html_to_text(signature).split()) in " ".join(html_to_text(content).split()):
		return content
	return f'{content}<br><div class="signature">{signature}</div>'


def reply_copies(conversation, account) -> list[str]:
	"""Who a reply keeps in copy: reply-all of the latest mail a person wrote on the conversation (an
	auto-reply or list mail says nothing of who wants the answer), without our shared inboxes.
	`account`: the conversation's outgoing_account(), which may be the site's default one."""
	latest = frappe.db.sql(
		"""select c.sender, c.recipients, c.cc from `tabCommunication` c
		left join `tabChannel Message` m on m.communication = c.name and m.direction = 'Inbound'
		where c.reference_doctype = 'Conversation' and c.reference_name = %s
			and c.sent_or_received = 'Received' and c.communication_type = 'Communication'
			and ifnull(m.kind, 'Normal') = 'Normal'
		order by c.communication_date desc, c.creation desc limit 1""",
		conversation.name,
		as_dict=True,
	)
	if not latest:
		return []
	# Every team's inboxes and reply accounts: a copy sent to one would come back in as an enquiry.
	return reply_all_copies(
		[latest[0].sender, latest[0].recipients, latest[0].cc],
		customer=conversation.party_address,
		own_addresses=[*own_addresses(), account.email_id if account else None],
	)


def thread_headers(conversation: str) -> tuple[str | None, list[str]]:
	"""(In-Reply-To, References): the customer's latest Message-ID, and the thread's ids oldest first."""
	rows = frappe.db.sql(
		"""select external_id, direction from `tabChannel Message`
		where conversation=%s and tombstone=0 and external_id like '<%%' order by creation, name""",
		conversation,
	)
	ids = list(dict.fromkeys(external_id for external_id, _direction in rows))
	inbound = [external_id for external_id, direction in rows if direction == "Inbound"]
	in_reply_to = inbound[-1] if inbound else (ids[-1] if ids else None)
	if len(ids) > MAX_REFERENCES:
		ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
	return in_reply_to, ids


def reply_subject(subject: str | None) -> str:
	subject = (subject or "").strip() or _("Your enquiry")
	return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def mark(row: str | None, status: str, reason: str | None = None, attempts: int | None = None) -> None:
	if not row:
		return
	values = {"status": status}
	if reason is not None:
		values["error_message"] = reason[:2000]
	if attempts is not None:
		values["attempts"] = attempts
	frappe.db.set_value("Channel Message", row, values, update_modified=False)


# ---- delivery status from the Email Queue -----------------------------------------------------


def on_communication_change(doc, method=None):
	"""doc_events hook: the Email Queue sets the Communication's delivery status as it sends; mirror
	it on the reply's Channel Message so a failure shows with its reason."""
	if (
		doc.reference_doctype != "Conversation"
		or doc.sent_or_received != "Sent"
		or doc.communication_medium != "Email"
	):
		return
	row = frappe.db.get_value(
		"Channel Message",
		{"communication": doc.name, "direction": "Outbound"},
		["name", "status"],
		as_dict=True,
	)
	if not row or not doc.delivery_status:
		return
	queue = frappe.db.get_value(
		"Email Queue",
		{"communication": doc.name},
		["status", "error", "retry"],
		as_dict=True,
		order_by="creation desc",
	)
	status = _QUEUE_STATUS.get(queue.status if queue else "", None) or ("Queued" if queue else None)
	if not status:
		return
	reason = _last_line(queue.error) if queue and queue.error else None
	if status == "Queued" and reason:
		reason = _("Attempt {0} failed, will retry: {1}").format(queue.retry, reason)
	if status == row.status and not reason:
		return
	mark(row.name, status, reason, attempts=queue.retry if queue else None)
	conversation = frappe.db.get_value("Conversation", doc.reference_name, ["name", "team"], as_dict=True)
	if conversation:
		publish_conversation_change(conversation.name, conversation.team, "delivery")


def _last_line(text: str) -> str:
	lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
	return lines[-1][:1000] if lines else ""


# ---- References header --------------------------------------------------------------------------


@contextmanager
def _references_for(message_id: str, references: list[str]):
	"""Frappe's mail builder has no References argument: the make_email_body_message hook adds it to
	the mail with this Message-ID while it is being queued."""
	pending = getattr(frappe.local, "message_center_references", None)
	if pending is None:
		pending = frappe.local.message_center_references = {}
	pending[message_id] = " ".join(references)
	try:
		yield
	finally:
		pending.pop(message_id, None)


def add_references_header(mail):
	"""make_email_body_message hook (frappe.email.email_body.EMail)."""
	pending = getattr(frappe.local, "message_center_references", None)
	if not pending:
		return
	references = pending.get(str(mail.msg_root.get("Message-Id") or "").strip())
	if references:
		mail.set_header("References", references)


# ---- attachments ------------------------------------------------------------------------------


def _readable_file(name: str):
	if not frappe.db.exists("File", name):
		frappe.throw(_("Attachment {0} not found").format(name), frappe.DoesNotExistError)
	file = frappe.get_doc("File", name)
	file.check_permission("read")
	if file.is_folder:
		frappe.throw(_("{0} is a folder, not a file.").format(file.file_name))
	return file


def _attach_copy(file, communication: str) -> str:
	"""The same stored file, attached to the reply's Communication (shown on it and sent with it)."""
	copy = frappe.get_doc(
		{
			"doctype": "File",
			"file_url": file.file_url,
			"file_name": file.file_name,
			"is_private": file.is_private,
			"attached_to_doctype": "Communication",
			"attached_to_name": communication,
		}
	).insert(ignore_permissions=True)
	return copy.name


def _message_id_domain(address: str | None, conversation) -> str:
	for candidate in (address, frappe.db.get_value("Channel", conversation.channel, "email_address")):
		domain = (candidate or "").rpartition("@")[2].strip().lower()
		if re.fullmatch(r"[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?", domain or "-"):
			return domain
	return re.sub(r"[^a-z0-9.\-]", "-", (frappe.local.site or "localhost").lower()).strip(".-") or "localhost"

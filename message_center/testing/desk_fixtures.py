"""Fixtures for the desk page's browser tests (browser_tests/run.sh), created through the app's own
functions on a running site:

	bench --site SITE execute message_center.testing.desk_fixtures.create --kwargs '{"smtp_port": 2525}'

Two teams: "BT Sales" (two agents, an email-answerable web form channel whose Email Account points at
the test SMTP server on loopback, a quick reply) and "BT Service" (one agent, one conversation).
Every run starts from scratch: the previous run's conversations are deleted first. bench prints the
returned names as JSON.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_to_date, now_datetime

from message_center import messages
from message_center.demo import ensure_team, ensure_user
from message_center.permissions import AGENT_ROLE, MANAGER_ROLE

PASSWORD = "Browser-Test-2026!"
AGENTS = {
	"agent": ("bt.agent.one@example.com", "Agent", "One"),
	"colleague": ("bt.agent.two@example.com", "Agent", "Two"),
	"outsider": ("bt.outsider@example.com", "Otto", "Outsider"),
}
SALES, SERVICE = "BT Sales", "BT Service"
WEB_CHANNEL, PHONE_CHANNEL, SERVICE_CHANNEL = "BT Website", "BT Phone", "BT Service Phone"
MAIL_CHANNEL = "BT Mailbox"  # its last successful sync an hour ago: no worker has run it since
MANAGER = ("bt.manager@example.com", "Mona", "Manager")
ACCOUNT = "BT Outgoing"


def _user(email: str, first: str, last: str) -> str:
	return ensure_user(email, first, last, [AGENT_ROLE, "Sales User"], PASSWORD)


def _email_account(smtp_port: int) -> str:
	values = {
		"email_id": "bt-sales@example.com",
		"enable_outgoing": 1,
		"enable_incoming": 0,
		"smtp_server": "127.0.0.1",
		"smtp_port": smtp_port,
		"use_tls": 0,
		"use_ssl_for_outgoing": 0,
		"no_smtp_authentication": 1,
		"always_use_account_email_id_as_sender": 1,
	}
	if frappe.db.exists("Email Account", ACCOUNT):
		account = frappe.get_doc("Email Account", ACCOUNT)
		account.update(values)
	else:
		account = frappe.get_doc({"doctype": "Email Account", "email_account_name": ACCOUNT, **values})
	account.save(ignore_permissions=True)
	return account.name


def _channel(name: str, team: str, kind: str, **values):
	if frappe.db.exists("Channel", name):
		doc = frappe.get_doc("Channel", name)
		doc.update({"team": team, **values})
		doc.save(ignore_permissions=True)
	else:
		frappe.get_doc({"doctype": "Channel", "channel_name": name, "kind": kind, "team": team, **values}).insert(ignore_permissions=True)


def _stalled_mail_channel(account: str) -> None:
	# loopback port 9: nothing listens, and no scheduler runs on the test site anyway
	_channel(
		MAIL_CHANNEL,
		SALES,
		"Email",
		email_account=account,
		email_address="bt-mailbox@example.com",
		imap_host="127.0.0.1",
		imap_port=9,
		imap_ssl=0,
		imap_username="bt-mailbox",
		imap_password="not-used",
		imap_folders="INBOX",
	)
	frappe.db.set_value(
		"Channel",
		MAIL_CHANNEL,
		{"sync_status": "Queued", "last_success_at": add_to_date(now_datetime(), hours=-1)},
		update_modified=False,
	)


def _clear():
	for name in frappe.get_all("Conversation", filters={"channel": ["in", [WEB_CHANNEL, PHONE_CHANNEL, SERVICE_CHANNEL, MAIL_CHANNEL]]}, pluck="name"):
		frappe.delete_doc("Conversation", name, ignore_permissions=True, force=True)
	frappe.db.delete("Email Queue", {"reference_doctype": "Conversation", "sender": ["like", "%bt-sales@example.com%"]})


def _conversation(channel: str, address: str, name: str, text: str) -> str:
	conversation = messages.start_conversation(channel, address, party_name=name, subject=f"Enquiry from {name}")
	conversation, _ = messages.record_inbound(conversation, content=text, sender=address, sender_full_name=name)
	return conversation.name


def _list_mail(conversation, subject: str, text: str) -> None:
	"""A newsletter from Roofing News on `conversation`, stored as the mail import stores list mail."""
	from message_center.email_ingest import text_html

	messages.record_automatic(
		conversation,
		content=text_html(text),
		identity=messages.MessageIdentity(MAIL_CHANNEL, frappe.generate_hash()),
		channel_message={"kind": "List"},
		sender="news@lists.example.net",
		sender_full_name="Roofing News",
		subject=subject,
	)


def _mail_conversation() -> str:
	"""A mail thread: a reply quoting our answer (the view shows its new part first), copying a
	colleague, and list mail."""
	from message_center.email_ingest import text_html

	conversation = messages.start_conversation(MAIL_CHANNEL, "mia.mail@example.com", party_name="Mia Mail", subject="Skylights")
	reply = "Friday works for us.\n\nOn Mon, 2 Nov 2026 at 10:00, BT Sales <bt-mailbox@example.com> wrote:\n> We can come on Friday."
	conversation, _ = messages.record_inbound(
		conversation,
		content=text_html(reply),
		sender="mia.mail@example.com",
		sender_full_name="Mia Mail",
		subject="Re: Skylights",
		recipients="bt-mailbox@example.com",
		cc="tom.mail@example.com",  # her colleague: a reply keeps him in copy
	)
	_list_mail(conversation, "Roofing weekly", "This week in roofing.")
	return conversation.name


def _newsletter_conversation() -> str:
	"""List mail that belongs to no conversation, as the mail import keeps it: closed, out of the queues."""
	conversation = messages.start_conversation(
		MAIL_CHANNEL, "news@lists.example.net", party_name="Roofing News", subject="Roofing monthly", closed=True
	)
	_list_mail(conversation, "Roofing monthly", "Slate prices are steady this month.")
	return conversation.name


def _enquiry_conversation() -> str:
	"""A website enquiry: its conversation shows the consumer details panel. Dora is on file as a
	Contact under another address, so the enquiry is unmatched and the Associate dialog offers her."""
	from message_center import enquiries

	if not frappe.db.exists("Contact Email", {"email_id": "dora@home.example", "parenttype": "Contact"}):
		contact = frappe.get_doc({"doctype": "Contact", "first_name": "Dora", "last_name": "Details"})
		contact.add_email("dora@home.example", is_primary=1)
		contact.insert(ignore_permissions=True)

	fields = {"person_name": "Dora Details", "email_id": "dora.details@example.com", "message": "Do you fit skylights?"}
	enquiry = enquiries.intake(WEB_CHANNEL, fields, source="Web Form")
	return frappe.db.get_value("Enquiry", enquiry.name, "conversation")


def create(smtp_port: int = 2525) -> dict:
	frappe.set_user("Administrator")
	users = {role: _user(*details) for role, details in AGENTS.items()}
	# mail replies end with it (My Settings -> Email Signature)
	frappe.db.set_value("User", users["agent"], "email_signature", "Agent One\nBT Roofing, sales desk")
	ensure_team(SALES, [users["agent"], users["colleague"]])
	ensure_team(SERVICE, [users["outsider"]])
	account = _email_account(int(smtp_port))
	_channel(WEB_CHANNEL, SALES, "Web Form", email_account=account)
	_channel(PHONE_CHANNEL, SALES, "Manual", email_account=account)
	_channel(SERVICE_CHANNEL, SERVICE, "Manual")
	manager = ensure_user(*MANAGER, [MANAGER_ROLE], PASSWORD)
	_stalled_mail_channel(account)
	if not frappe.db.exists("Quick Reply", {"title": "BT Thanks"}):
		frappe.get_doc(
			{
				"doctype": "Quick Reply",
				"title": "BT Thanks",
				"shortcut": "btthanks",
				"scope": "Team",
				"team": SALES,
				"medium": "Any",
				"body": "Thanks {{ first_name }}, {{ agent_first_name }} here. We will call you today.",
			}
		).insert(ignore_permissions=True)
	_clear()
	result = {
		"password": PASSWORD,
		"users": users,
		"first": _conversation(WEB_CHANNEL, "bianca.browser@example.com", "Bianca Browser", "Could you quote a new roof?"),
		"second": _conversation(PHONE_CHANNEL, "carl.second@example.com", "Carl Second", "Gutters are overflowing."),
		"outside": _conversation(SERVICE_CHANNEL, "sven.service@example.com", "Sven Service", "Service team only."),
		"enquiry": _enquiry_conversation(),
		"mail": _mail_conversation(),
		"newsletter": _newsletter_conversation(),
		"smtp_port": int(smtp_port),
		"manager": manager,
		"stalled_channel": MAIL_CHANNEL,
	}
	frappe.db.commit()
	return result


def flush_outgoing_mail():
	"""Send the Email Queue now (the scheduler would within a minute)."""
	from frappe.email.queue import flush

	flush()
	frappe.db.commit()

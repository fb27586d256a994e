"""Real mail servers for the email bench tests: a private Dovecot (IMAP) and a loopback SMTP server,
with Email Channels and outgoing Email Accounts pointed at them. Every name carries a fresh suffix,
so the suite can run again and again on the same site (the sync commits, as it does in production).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import email_sync
from message_center.testing.dovecot import DovecotServer, SeedMessage, find_dovecot


def start_dovecot(**options) -> DovecotServer:
	if not find_dovecot():  # never skip: a skipped server test must not count as passing
		raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)")
	return DovecotServer(**options).start()


def suffix() -> str:
	return frappe.generate_hash(length=8)


def mail(
	*,
	sender: str = "Jane Customer <jane@customer.example>",
	to: str = "info@acme.example",
	subject: str = "Question about delivery",
	message_id: str | None = None,
	body: str = "Hello,\nwhen can you deliver?\n",
	headers: dict | None = None,
	content_type: str = 'text/plain; charset="utf-8"',
	date: datetime | None = None,
) -> bytes:
	lines = [
		f"From: {sender}",
		f"To: {to}",
		f"Subject: {subject}",
		f"Date: {format_datetime(date or datetime.now(timezone.utc))}",
		"MIME-Version: 1.0",
		f"Content-Type: {content_type}",
	]
	if message_id:
		lines.append(f"Message-ID: {message_id}")
	lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
	return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


class DovecotTestCase(FrappeTestCase):
	"""A private Dovecot for the test class, and for every test a fresh mailbox and address under
	self.key."""

	address_prefix = "sales"
	dovecot_options: dict = {}  # DovecotServer settings, e.g. oauth2_introspection_url

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.dovecot = start_dovecot(**cls.dovecot_options)

	@classmethod
	def tearDownClass(cls):
		cls.dovecot.stop()
		super().tearDownClass()

	def setUp(self):
		self.key = suffix()
		self.box = Mailbox(self.dovecot)
		self.address = f"{self.address_prefix}-{self.key}@acme.example"


class Mailbox:
	"""One Dovecot user: an inbox that an Email Channel reads."""

	def __init__(self, server: DovecotServer, user: str | None = None):
		self.server = server
		self.user = user or f"mc{suffix()}"
		self.password = f"pw-{self.user}"
		server.add_user(self.user, self.password)

	def deliver(self, *raws: bytes, folder: str = "INBOX", days_ago: float = 0.01, flags=()) -> list[int]:
		arrived = datetime.now(timezone.utc) - timedelta(days=days_ago)
		seeds = [
			SeedMessage(raw, tuple(flags), arrived + timedelta(seconds=number))
			for number, raw in enumerate(raws)
		]
		return self.server.append_many(self.user, folder, seeds)


def make_email_account(address: str, smtp_port: int, smtp_host: str = "127.0.0.1", **values) -> str:
	account = frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": f"MC Test {address}",
			"email_id": address,
			"enable_outgoing": 1,
			"enable_incoming": 0,
			"smtp_server": smtp_host,
			"smtp_port": str(smtp_port),
			"use_tls": 0,
			"use_ssl_for_outgoing": 0,
			"no_smtp_authentication": 1,
			**values,
		}
	).insert(ignore_permissions=True)
	return account.name


def make_email_channel(team: str, mailbox: Mailbox, address: str | None = None, **values) -> str:
	name = values.pop("channel_name", None) or f"MC Test Mail {suffix()}"
	frappe.get_doc(
		{
			"doctype": "Channel",
			"channel_name": name,
			"kind": "Email",
			"team": team,
			"email_address": address or f"info-{suffix()}@acme.example",
			"imap_host": mailbox.server.host,
			"imap_port": mailbox.server.port,
			"imap_ssl": 0,
			"imap_username": mailbox.user,
			"imap_password": mailbox.password,
			"imap_folders": "INBOX",
			**values,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	return name


def sync(channel: str):
	"""One run of the real job's work, in this process."""
	return email_sync.run_sync(channel)


def sync_until_done(channel: str, max_runs: int = 20):
	results = []
	for _ in range(max_runs):
		results.append(sync(channel))
		if not results[-1] or not results[-1].more_pending or not results[-1].ok:
			return results
	raise AssertionError("the sync never caught up")


def conversations(channel: str) -> list:
	return frappe.get_all(
		"Conversation", filters={"channel": channel}, fields=["*"], order_by="creation asc, name asc"
	)


def communications(conversation: str) -> list:
	return frappe.get_all(
		"Communication",
		filters={"reference_doctype": "Conversation", "reference_name": conversation},
		fields=["*"],
		order_by="creation asc, name asc",
	)


def channel_messages(channel: str, **filters) -> list:
	return frappe.get_all(
		"Channel Message",
		filters={"channel": channel, **filters},
		fields=["*"],
		order_by="creation asc, name asc",
	)


def stored_bytes(file: str) -> bytes:
	"""What is on disk (File.get_content decodes whatever looks like text)."""
	with open(frappe.get_doc("File", file).get_full_path(), "rb") as stored:
		return stored.read()


@contextmanager
def settings(**values):
	"""Message Center Settings changed for the block, then restored."""
	doc = frappe.get_single("Message Center Settings")
	before = {field: doc.get(field) for field in values}
	doc.update(values)
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	try:
		yield
	finally:
		doc = frappe.get_single("Message Center Settings")
		doc.update(before)
		doc.save(ignore_permissions=True)
		frappe.db.commit()


@contextmanager
def site_config(**values):
	before = {key: frappe.conf.get(key) for key in values}
	frappe.conf.update(values)
	try:
		yield
	finally:
		frappe.conf.update(before)

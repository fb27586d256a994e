"""Shared set-up for the enquiry suites: one sales team with a manual and a web form channel."""

import random

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center.tests.factories import make_agent, make_channel, make_company, make_manager, make_team

AGENT = "mc.enq.agent@example.com"
COLLEAGUE = "mc.enq.colleague@example.com"
OUTSIDER = "mc.enq.outsider@example.com"  # an agent of another team
MANAGER = "mc.enq.manager@example.com"
TEAM = "MC Test Enquiries"
OTHER_TEAM = "MC Test Enquiries Service"
MANUAL_CHANNEL = "MC Test Enquiry Phone"
OTHER_CHANNEL = "MC Test Enquiry Service Phone"
WEB_CHANNEL = "MC Test Enquiry Website"
DEAD_REASONS = ("Spam", "Too expensive")


def set_up_teams():
	frappe.set_user("Administrator")
	make_company()
	for user in (AGENT, COLLEAGUE, OUTSIDER):
		make_agent(user)
	make_manager(MANAGER)
	make_team(TEAM, [AGENT, COLLEAGUE])
	make_team(OTHER_TEAM, [OUTSIDER])
	make_channel(MANUAL_CHANNEL, TEAM)
	make_channel(OTHER_CHANNEL, OTHER_TEAM)
	make_channel(WEB_CHANNEL, TEAM, kind="Web Form")
	frappe.db.set_single_value("Message Center Settings", "web_form_channel", WEB_CHANNEL)
	for reason in DEAD_REASONS:
		if not frappe.db.exists("Opportunity Lost Reason", reason):
			frappe.get_doc({"doctype": "Opportunity Lost Reason", "lost_reason": reason}).insert(ignore_permissions=True)


class EnquiryTestCase(FrappeTestCase):
	"""The enquiry suites' base: the teams and channels above exist, and every test starts and ends
	as Administrator (tests switch to agents to act as them)."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		set_up_teams()

	def setUp(self):
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")


def unique(prefix: str = "x") -> str:
	return f"{prefix}{frappe.generate_hash(length=8)}"


def unique_phone() -> str:
	"""A fresh US number: ERPNext commits when a Contact with a phone is inserted (Call Log linking),
	so numbers from earlier runs stay behind and fixed numbers would match them."""
	return f"+1415{random.randint(2_000_000, 9_999_999)}"


def unique_email(prefix: str = "person") -> str:
	return f"{unique(prefix)}@customer-{frappe.generate_hash(length=5)}.example"


def manual_enquiry(user: str = AGENT, channel: str = MANUAL_CHANNEL, **fields) -> dict:
	"""Create Enquiry through the API as `user`; returns the enquiry and conversation docs."""
	from message_center.api import enquiry as api

	fields.setdefault("person_name", "Erin Example")
	fields.setdefault("email_id", unique_email())
	fields.setdefault("message", "Do you deliver to Oakland?")
	previous = frappe.session.user
	frappe.set_user(user)
	try:
		created = api.create(channel=channel, **fields)
	finally:
		frappe.set_user(previous)
	return frappe.get_doc("Enquiry", created["enquiry"]), frappe.get_doc("Conversation", created["conversation"])


def communications_of(conversation: str) -> set[str]:
	return set(frappe.get_all("Communication", filters={"reference_doctype": "Conversation", "reference_name": conversation}, pluck="name"))


def open_todos(doctype: str, name: str) -> list[str]:
	return frappe.get_all("ToDo", filters={"reference_type": doctype, "reference_name": name, "status": "Open"}, pluck="allocated_to")


def on_timeline(doctype: str, name: str, conversation: str) -> bool:
	"""Every message of the conversation (at least one) is on the document's timeline, as the
	form's own timeline API returns it."""
	from message_center.tests.factories import timeline

	mine = communications_of(conversation)
	return bool(mine) and mine <= timeline(doctype, name)

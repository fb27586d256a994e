"""Shared set-up for the enquiry suites: one sales team with a manual and a web form channel."""

import frappe

from message_center.tests.factories import make_agent, make_channel, make_manager, make_team

AGENT = "mc.enq.agent@example.com"
COLLEAGUE = "mc.enq.colleague@example.com"
OUTSIDER = "mc.enq.outsider@example.com"  # an agent of another team
MANAGER = "mc.enq.manager@example.com"
TEAM = "MC Test Enquiries"
OTHER_TEAM = "MC Test Enquiries Service"
MANUAL_CHANNEL = "MC Test Enquiry Phone"
OTHER_CHANNEL = "MC Test Enquiry Service Phone"
WEB_CHANNEL = "MC Test Enquiry Website"


def set_up_teams():
	frappe.set_user("Administrator")
	for user in (AGENT, COLLEAGUE, OUTSIDER):
		make_agent(user)
	make_manager(MANAGER)
	make_team(TEAM, [AGENT, COLLEAGUE])
	make_team(OTHER_TEAM, [OUTSIDER])
	make_channel(MANUAL_CHANNEL, TEAM)
	make_channel(OTHER_CHANNEL, OTHER_TEAM)
	make_channel(WEB_CHANNEL, TEAM, kind="Web Form")
	frappe.db.set_single_value("Message Center Settings", "web_form_channel", WEB_CHANNEL)


def unique(prefix: str = "x") -> str:
	return f"{prefix}{frappe.generate_hash(length=8)}"


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

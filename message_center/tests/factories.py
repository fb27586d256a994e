"""Idempotent fixtures for the bench suite: users, teams, channels, conversations.

Names carry a "MC Test" prefix so the suite can run repeatedly on the same site.
"""

import frappe

from message_center import messages
from message_center.demo import ensure_team
from message_center.permissions import AGENT_ROLE, MANAGER_ROLE


def make_user(email: str, *roles: str, first_name: str | None = None) -> str:
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first_name or email.split("@")[0].replace(".", " ").title(),
				"send_welcome_email": 0,
				"user_type": "System User",
			}
		)
		user.insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	missing = [role for role in roles if role not in {row.role for row in user.roles}]
	if missing:
		user.add_roles(*missing)
	return email


def make_agent(email: str) -> str:
	return make_user(email, AGENT_ROLE, "Sales User")


def make_manager(email: str) -> str:
	return make_user(email, MANAGER_ROLE, "Sales User", "Sales Manager")


def make_team(name: str, members: list[str]) -> str:
	return ensure_team(name, members)


def make_channel(name: str, team: str, kind: str = "Manual", **values) -> str:
	if not frappe.db.exists("Channel", name):
		frappe.get_doc({"doctype": "Channel", "channel_name": name, "kind": kind, "team": team, **values}).insert(
			ignore_permissions=True
		)
	return name


def make_conversation(channel: str, party_address: str, **values):
	conversation = messages.start_conversation(channel, party_address, **values)
	return conversation


def make_contact(first_name: str, email: str | None = None, phone: str | None = None, last_name: str = "Tester") -> str:
	existing = frappe.db.get_value("Contact Email", {"email_id": email, "parenttype": "Contact"}, "parent") if email else None
	if existing:
		return existing
	contact = frappe.get_doc({"doctype": "Contact", "first_name": first_name, "last_name": last_name})
	if email:
		contact.add_email(email, is_primary=1)
	if phone:
		contact.add_phone(phone, is_primary_mobile_no=1)
	contact.insert(ignore_permissions=True)
	return contact.name


def api_token(user: str) -> dict:
	"""An Authorization header for `user`, for REST calls through the in-process test client."""
	doc = frappe.get_doc("User", user)
	if not doc.api_key:
		doc.api_key = frappe.generate_hash(length=15)
	secret = frappe.generate_hash(length=15)
	doc.api_secret = secret
	doc.save(ignore_permissions=True)
	return {"Authorization": f"token {doc.api_key}:{secret}"}


def timeline(doctype: str, name: str) -> set[str]:
	"""Communication names the desk shows on a document's timeline (the form's own, permission-checked API)."""
	from frappe.desk.form.load import get_communications

	return {row.name for row in get_communications(doctype, name, limit=500)}



def make_company() -> str:
	"""The site's default Company (the before_tests hook makes one on a bare site)."""
	company = frappe.db.get_default("company") or frappe.db.get_value("Company", {}, "name", order_by="creation asc")
	if not company:
		raise RuntimeError("No Company: run the suite with bench run-tests (its before_tests hook sets the site up)")
	return company

"""Action and Process: what an agent turns an enquiry into, in ERPNext's own records.

Action: Create Task (a ToDo on the Enquiry, shown on the person's timeline), Add to Marketing List
(an Email Group Member). Process: Create Opportunity, Associate Opportunity, Mark as Dead, No
Action, and Reopen. Every status change goes through core.enquiry_rules (via enquiries.decide), and
repeating an action returns what the first call made instead of making it twice.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.desk.form.assign_to import notify_assignment
from frappe.utils import escape_html, get_link_to_form, getdate, now_datetime

from message_center import messages
from message_center.core import enquiry_rules as rules
from message_center.enquiries import (
	InvalidEnquiry,
	action_error,
	conversation_of,
	decide,
	render_message,
	set_status,
	state_of,
)
from message_center.permissions import is_manager

CLOSED_OPPORTUNITY_STATUSES = ("Lost", "Closed", "Converted")
UTM_TARGETS = {"utm_source": "mc_utm_source", "utm_medium": "mc_utm_medium", "utm_campaign": "mc_utm_campaign"}


def lead_source_for(source: str | None) -> str | None:
	"""ERPNext's Lead Source named after the enquiry's source ("Web Form", "Phone"…), created once."""
	if not source:
		return None
	if not frappe.db.exists("Lead Source", source):
		frappe.get_doc({"doctype": "Lead Source", "source_name": source}).insert(ignore_permissions=True)
	return source


def utm_values(enquiry) -> dict:
	return {target: enquiry.get(field) for field, target in UTM_TARGETS.items() if enquiry.get(field)}


# -- Action ----------------------------------------------------------------------------------


def create_task(enquiry, assign_to: str, description: str, date=None) -> dict:
	"""An ERPNext ToDo for `assign_to`, on the Enquiry (and through it on the person's timeline)."""
	description = (description or "").strip()
	decide(enquiry, rules.Request(rules.Action.CREATE_TASK, assignee=assign_to))
	if not description:
		frappe.throw(_("Describe the task."), InvalidEnquiry)
	if not frappe.db.get_value("User", assign_to, "enabled"):
		frappe.throw(_("{0} is not an active user.").format(assign_to), InvalidEnquiry)
	date = getdate(date) if date else None
	existing = frappe.db.get_value(
		"ToDo",
		{"reference_type": "Enquiry", "reference_name": enquiry.name, "allocated_to": assign_to, "status": "Open", "description": escape_html(description)},
		"name",
	)
	if existing:
		return {"todo": existing, "created": False}
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			"allocated_to": assign_to,
			"assigned_by": frappe.session.user,
			"reference_type": "Enquiry",
			"reference_name": enquiry.name,
			"description": escape_html(description),
			"date": date,
			"priority": "Medium",
			"status": "Open",
		}
	).insert(ignore_permissions=True)
	notify_assignment(todo.assigned_by, todo.allocated_to, "Enquiry", enquiry.name, action="ASSIGN", description=todo.description)
	return {"todo": todo.name, "created": True}


def person_email(enquiry) -> tuple[str | None, bool]:
	"""The address a marketing list would use, and whether that person unsubscribed from our mail."""
	unsubscribed = False
	email = None
	if enquiry.contact:
		email, unsubscribed = frappe.db.get_value("Contact", enquiry.contact, ["email_id", "unsubscribed"]) or (None, 0)
	if enquiry.lead:
		lead_email, lead_unsubscribed = frappe.db.get_value("Lead", enquiry.lead, ["email_id", "unsubscribed"]) or (None, 0)
		email = email or lead_email
		unsubscribed = unsubscribed or lead_unsubscribed
	email = (email or enquiry.email_id or "").strip().lower() or None
	return email, bool(unsubscribed)


def add_to_marketing_list(enquiry, email_group: str) -> dict:
	if not email_group or not frappe.db.exists("Email Group", email_group):
		frappe.throw(_("Marketing list {0} not found.").format(email_group), frappe.DoesNotExistError)
	email, unsubscribed = person_email(enquiry)
	member = None
	if email:
		unsubscribed = unsubscribed or _unsubscribed(email, email_group)
		member = frappe.db.get_value("Email Group Member", {"email_group": email_group, "email": email}, ["name", "unsubscribed"], as_dict=True)
		unsubscribed = unsubscribed or bool(member and member.unsubscribed)
	decision = decide(
		enquiry, rules.Request(rules.Action.ADD_TO_MARKETING_LIST, email=email, unsubscribed=unsubscribed, already_member=bool(member))
	)
	if decision.verdict == rules.Verdict.ALREADY_DONE:
		return {"email_group": email_group, "email": email, "member": member.name, "created": False}
	row = frappe.get_doc({"doctype": "Email Group Member", "email_group": email_group, "email": email}).insert(ignore_permissions=True)
	enquiry.add_comment("Info", _("Added {0} to marketing list {1}").format(email, email_group))
	return {"email_group": email_group, "email": email, "member": row.name, "created": True}


def _unsubscribed(email: str, email_group: str) -> bool:
	return bool(
		frappe.db.exists("Email Unsubscribe", {"email": email, "global_unsubscribe": 1})
		or frappe.db.exists("Email Unsubscribe", {"email": email, "reference_doctype": "Email Group", "reference_name": email_group})
	)


# -- Process ---------------------------------------------------------------------------------


def open_opportunities(enquiry) -> list[dict]:
	"""Open Opportunities of the enquiry's party (its Customer, else its Lead) the user may read."""
	party = state_of(enquiry).party
	if not party:
		return []
	return frappe.get_list(
		"Opportunity",
		filters={"opportunity_from": party[0], "party_name": party[1], "status": ("not in", CLOSED_OPPORTUNITY_STATUSES)},
		fields=["name", "title", "status", "transaction_date", "opportunity_amount", "currency", "sales_stage", "opportunity_owner"],
		order_by="transaction_date desc, creation desc",
		limit_page_length=50,
	)


def create_opportunity(enquiry) -> dict:
	"""An Opportunity prefilled from the enquiry; the conversation's messages join its timeline."""
	decision = decide(enquiry, rules.Request(rules.Action.CREATE_OPPORTUNITY))
	if decision.verdict == rules.Verdict.ALREADY_DONE:
		return {"opportunity": enquiry.opportunity, "created": False}
	party_doctype, party_name = state_of(enquiry).party
	conversation = conversation_of(enquiry)
	opportunity = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": party_doctype,
			"party_name": party_name,
			"company": _default_company(),
			"source": lead_source_for(enquiry.source),
			"campaign": enquiry.campaign,
			"contact_person": enquiry.contact,
			"contact_email": enquiry.email_id,
			"opportunity_owner": (conversation and conversation.claimed_by) or frappe.session.user,
			"mc_source_enquiry": enquiry.name,
			"mc_source_conversation": enquiry.conversation,
			**utm_values(enquiry),
			"notes": [{"note": render_message(enquiry, {}), "added_by": frappe.session.user, "added_on": now_datetime()}],
		}
	)
	opportunity.insert()  # ERPNext's own permissions: the agent needs Sales User
	set_status(enquiry, decision.status, {"opportunity": opportunity.name})
	if conversation:
		messages.relink_timeline(conversation)
	return {"opportunity": opportunity.name, "created": True}


def _default_company() -> str:
	company = frappe.defaults.get_user_default("Company") or frappe.db.get_single_value("Global Defaults", "default_company")
	company = company or frappe.db.get_value("Company", {}, "name", order_by="creation asc")
	if not company:
		frappe.throw(_("Create a Company first: an Opportunity belongs to one."), InvalidEnquiry)
	return company


def associate_opportunity(enquiry, opportunity: str) -> bool:
	"""Add the enquiry (its messages) to an open Opportunity of the same party."""
	if not opportunity or not frappe.db.exists("Opportunity", opportunity):
		frappe.throw(_("Opportunity {0} not found.").format(opportunity), frappe.DoesNotExistError)
	doc = frappe.get_doc("Opportunity", opportunity)
	doc.check_permission("read")
	request = rules.Request(
		rules.Action.ASSOCIATE_OPPORTUNITY,
		opportunity=doc.name,
		opportunity_party=(doc.opportunity_from, doc.party_name),
		opportunity_open=doc.status not in CLOSED_OPPORTUNITY_STATUSES,
	)
	decision = decide(enquiry, request)
	if decision.verdict == rules.Verdict.ALREADY_DONE:
		return False
	set_status(enquiry, decision.status, {"opportunity": doc.name})
	conversation = conversation_of(enquiry)
	if conversation:
		messages.relink_timeline(conversation)
	doc.add_comment("Info", _("Enquiry {0} added to this opportunity").format(get_link_to_form("Enquiry", enquiry.name)))
	return True


def dead_reasons() -> dict:
	return {"reasons": frappe.get_all("Opportunity Lost Reason", pluck="name", order_by="name asc"), "can_add": can_add_dead_reason()}


def can_add_dead_reason() -> bool:
	# ERPNext lets every Sales User add lost reasons; in the Message Center that is a manager's call.
	return is_manager()


def mark_dead(enquiry, reason: str) -> bool:
	reason = (reason or "").strip()
	decision = decide(enquiry, rules.Request(rules.Action.MARK_DEAD, reason=reason))
	if decision.verdict == rules.Verdict.ALREADY_DONE:
		return False
	if not frappe.db.exists("Opportunity Lost Reason", reason):
		if not can_add_dead_reason():
			raise action_error("unknown_reason", _("Choose one of the dead reasons; a manager can add new ones."))
		frappe.get_doc({"doctype": "Opportunity Lost Reason", "lost_reason": reason}).insert(ignore_permissions=True)
	set_status(enquiry, decision.status, {"dead_reason": reason})
	return True


def no_action(enquiry) -> bool:
	"""Nothing to sell: the enquiry stays stored against its person, out of the sales pipeline."""
	decision = decide(enquiry, rules.Request(rules.Action.NO_ACTION))
	if decision.verdict == rules.Verdict.ALREADY_DONE:
		return False
	set_status(enquiry, decision.status, {})
	doctype, name = state_of(enquiry).person
	frappe.get_doc(doctype, name).add_comment(
		"Info", _("Enquiry {0}: no action required").format(get_link_to_form("Enquiry", enquiry.name))
	)
	return True


def reopen(enquiry) -> bool:
	decision = decide(enquiry, rules.Request(rules.Action.REOPEN))
	if decision.verdict == rules.Verdict.ALREADY_DONE:
		return False
	set_status(enquiry, decision.status, {"opportunity": None, "dead_reason": None})
	return True


# -- timelines -------------------------------------------------------------------------------


def tasks_on_timeline(doctype: str, docname: str) -> list[dict]:
	"""additional_timeline_content: the tasks of this person's enquiries (those the user may read)."""
	field = {"Contact": "contact", "Lead": "lead", "Customer": "customer"}.get(doctype)
	if not field:
		return []
	enquiries = frappe.get_list("Enquiry", filters={field: docname}, pluck="name", limit_page_length=0)
	if not enquiries:
		return []
	todos = frappe.get_all(
		"ToDo",
		filters={"reference_type": "Enquiry", "reference_name": ("in", enquiries), "status": ("!=", "Cancelled")},
		fields=["name", "allocated_to", "description", "date", "status", "creation", "reference_name"],
	)
	return [
		{
			"icon": "check",
			"is_card": True,
			"creation": todo.creation,
			"content": _("Task for {0} ({1}): {2} · {3}").format(
				escape_html(todo.allocated_to),
				_(todo.status),
				todo.description,  # stored escaped by create_task
				get_link_to_form("Enquiry", todo.reference_name),
			),
			"todo": todo.name,
		}
		for todo in todos
	]

"""Enquiry actions for the desk: Associate, Action, Process, Create Enquiry.

Every method loads the enquiry with a permission check first (another team's enquiry is a 403),
then calls the service (message_center.enquiries / enquiry_process), which applies the lifecycle
rules. Methods that change something answer with the enquiry as `get` returns it.
"""

import frappe
from frappe import _

from message_center import enquiries, enquiry_process, people
from message_center.core import enquiry_rules as rules

EDITABLE_FIELDS = (*enquiries.PERSON_FIELDS, "message", *enquiries.CONSUMER_FIELDS)


def load_enquiry(name: str, ptype: str = "read"):
	"""The enquiry, or PermissionError (403) when this user may not `ptype` it."""
	if not name or not frappe.db.exists("Enquiry", name):
		frappe.throw(_("Enquiry {0} not found").format(name), frappe.DoesNotExistError)
	enquiry = frappe.get_doc("Enquiry", name)
	enquiry.check_permission(ptype)
	return enquiry


def enquiry_summary(enquiry, changed: bool | None = None) -> dict:
	fields = (
		"name", "status", "source", "channel", "conversation", "team", "dead_reason", "opportunity",
		"contact", "lead", "customer", "campaign", *enquiries.INTAKE_FIELDS, "creation", "modified",
	)  # fmt: skip
	summary = {field: enquiry.get(field) for field in fields}
	summary["titles"] = {
		field: frappe.db.get_value(doctype, enquiry.get(field), title) if enquiry.get(field) else None
		for field, doctype, title in (
			("contact", "Contact", "full_name"),
			("lead", "Lead", "lead_name"),
			("customer", "Customer", "customer_name"),
			("opportunity", "Opportunity", "title"),
		)
	}
	summary["actions"] = rules.allowed_actions(enquiries.state_of(enquiry))
	summary["tasks"] = frappe.get_all(
		"ToDo",
		filters={"reference_type": "Enquiry", "reference_name": enquiry.name, "status": ("!=", "Cancelled")},
		fields=["name", "allocated_to", "description", "date", "status"],
		order_by="creation asc",
	)
	if changed is not None:
		summary["changed"] = changed
	return summary


@frappe.whitelist()
def get(enquiry: str):
	return enquiry_summary(load_enquiry(enquiry))


@frappe.whitelist(methods=["POST"])
def update_details(enquiry: str, details: dict | str):
	"""Edit what we know about the person (Consumer Details); status and links move only by actions."""
	doc = load_enquiry(enquiry, "write")
	details = frappe.parse_json(details) if isinstance(details, str) else details
	if not isinstance(details, dict):
		frappe.throw(_("Send the details as an object of field: value."))
	refused = sorted(set(details) - set(EDITABLE_FIELDS))
	if refused:
		frappe.throw(_("These fields cannot be edited here: {0}").format(", ".join(refused)))
	merged = {field: doc.get(field) for field in enquiries.INTAKE_FIELDS} | details
	cleaned = enquiries.clean_fields(merged, require_contact=False, require_message=False)
	doc.update({field: cleaned.get(field) for field in details})
	doc.save()
	if doc.conversation and "person_name" in details:
		frappe.db.set_value("Conversation", doc.conversation, "party_name", doc.person_name or None)
	return enquiry_summary(doc)


@frappe.whitelist(methods=["POST"])
def create(channel: str | None = None, **fields):
	"""Create Enquiry: a phone, fax or manual enquiry typed in by an agent, with its conversation.
	Returns {"enquiry", "conversation"}."""
	if not frappe.has_permission("Enquiry", "create"):
		frappe.throw(_("You may not create enquiries."), frappe.PermissionError)
	channel = channel or _only_manual_channel()
	if not frappe.db.exists("Channel", channel):
		frappe.throw(_("Channel {0} not found").format(channel), frappe.DoesNotExistError)
	frappe.get_doc("Channel", channel).check_permission("read")
	source = fields.pop("source", None) or "Manual"
	if source not in enquiries.MANUAL_SOURCES:
		frappe.throw(_("Create Enquiry records Phone, Fax or Manual enquiries; {0} arrive by themselves.").format(source))
	unknown = sorted(set(fields) - set(enquiries.INTAKE_FIELDS) - {"cmd"})
	if unknown:
		frappe.throw(_("Unknown fields: {0}").format(", ".join(unknown)))
	doc = enquiries.intake(channel, fields, source=source, claim_for=frappe.session.user)
	return {"enquiry": doc.name, "conversation": frappe.db.get_value("Enquiry", doc.name, "conversation")}


def _only_manual_channel() -> str:
	channels = frappe.get_list("Channel", filters={"kind": "Manual", "enabled": 1}, pluck="name", limit_page_length=2)
	if len(channels) != 1:
		frappe.throw(_("Choose the channel this enquiry came in on."))
	return channels[0]


@frappe.whitelist()
def get_suggestions(enquiry: str):
	"""Contacts, Leads and Customers this enquiry may come from, best first, with the reasons."""
	doc = load_enquiry(enquiry)
	details = people.sender_details(doc.email_id, doc.phone, doc.person_name, doc.company_name)
	return [people.as_dict(item) for item in people.suggestions(details)]


@frappe.whitelist(methods=["POST"])
def associate(enquiry: str, doctype: str, name: str):
	doc = load_enquiry(enquiry, "write")
	changed = enquiries.associate(doc, doctype, name)
	return enquiry_summary(doc, changed)


@frappe.whitelist(methods=["POST"])
def create_person(enquiry: str, doctype: str, with_customer: int | str = 0):
	"""New Contact (with_customer=1 also creates the Customer, the "account") or Lead, then associate."""
	doc = load_enquiry(enquiry, "write")
	created = enquiries.create_person(doc, doctype, with_customer=frappe.utils.cint(with_customer))
	return {**created, "enquiry": enquiry_summary(doc)}


@frappe.whitelist(methods=["POST"])
def create_task(enquiry: str, assign_to: str, description: str, date: str | None = None):
	doc = load_enquiry(enquiry, "write")
	return enquiry_process.create_task(doc, assign_to, description, date)


@frappe.whitelist(methods=["POST"])
def add_to_marketing_list(enquiry: str, email_group: str):
	doc = load_enquiry(enquiry, "write")
	return enquiry_process.add_to_marketing_list(doc, email_group)


@frappe.whitelist()
def get_open_opportunities(enquiry: str):
	return enquiry_process.open_opportunities(load_enquiry(enquiry))


@frappe.whitelist(methods=["POST"])
def create_opportunity(enquiry: str):
	doc = load_enquiry(enquiry, "write")
	result = enquiry_process.create_opportunity(doc)
	return {**result, "enquiry": enquiry_summary(doc)}


@frappe.whitelist(methods=["POST"])
def associate_opportunity(enquiry: str, opportunity: str):
	doc = load_enquiry(enquiry, "write")
	return enquiry_summary(doc, enquiry_process.associate_opportunity(doc, opportunity))


@frappe.whitelist(methods=["POST"])
def mark_dead(enquiry: str, reason: str):
	doc = load_enquiry(enquiry, "write")
	return enquiry_summary(doc, enquiry_process.mark_dead(doc, reason))


@frappe.whitelist(methods=["POST"])
def no_action(enquiry: str):
	doc = load_enquiry(enquiry, "write")
	return enquiry_summary(doc, enquiry_process.no_action(doc))


@frappe.whitelist(methods=["POST"])
def reopen(enquiry: str):
	doc = load_enquiry(enquiry, "write")
	return enquiry_summary(doc, enquiry_process.reopen(doc))


def _require_message_center_user():
	roles = set(frappe.get_roles())
	if not roles & {"Message Center Agent", "Message Center Manager", "System Manager"}:
		frappe.throw(_("Only Message Center users can do this."), frappe.PermissionError)


@frappe.whitelist()
def dead_reasons():
	"""Opportunity Lost Reasons to mark an enquiry dead with; can_add: whether this user may add one."""
	_require_message_center_user()
	return enquiry_process.dead_reasons()


@frappe.whitelist()
def email_groups():
	"""The marketing lists (Email Groups) an enquiry's person can be added to."""
	_require_message_center_user()
	return frappe.get_all("Email Group", fields=["name", "title", "total_subscribers"], order_by="title asc")

"""Enquiries: intake (website, JSON landing pages, Create Enquiry by hand) and association with people.

Every enquiry that arrives by web form, phone, fax or by hand gets the same records: the Enquiry, a
Conversation on its channel (assigned by message_center.assignment) and the first Communication.
Status changes go through core.enquiry_rules only; processing lives in enquiry_process.
"""

from __future__ import annotations

import html

import frappe
from frappe import _
from frappe.model import no_value_fields
from frappe.utils import escape_html, validate_email_address

from message_center import messages, people
from message_center.core import conversation_rules
from message_center.core import enquiry_rules as rules
from message_center.core.phone import digits_only, normalise_e164
from message_center.message_center.doctype.conversation.conversation import actor_for
from message_center.realtime import publish_conversation_change
from message_center.settings import default_phone_region

# What a visitor or an agent may tell us; nothing else is ever taken from a submission.
PERSON_FIELDS = ("person_name", "email_id", "phone", "company_name", "address")
CONSUMER_FIELDS = ("potential_lead", "existing_customer", "interested_in", "preferred_appointment_time")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
INTAKE_FIELDS = (*PERSON_FIELDS, "message", *CONSUMER_FIELDS, *UTM_FIELDS)
MAX_LENGTH = {"message": 20000, "address": 1000}
DEFAULT_MAX_LENGTH = 140
# Sources that open their own conversation here; mail and SMS arrive in their channel's conversation.
OPENS_CONVERSATION = {"Web Form": "Web Form", "Phone": "Phone", "Fax": "Fax", "Manual": "Manual"}
MANUAL_SOURCES = ("Phone", "Fax", "Manual")
PERSON_LINKS = (("Contact", "contact"), ("Lead", "lead"), ("Customer", "customer"))


class InvalidEnquiry(frappe.ValidationError):
	http_status_code = 400


class EnquiryActionError(frappe.ValidationError):
	"""An enquiry action the lifecycle rules refuse; `code` is stable for the desk and the tests."""

	def __init__(self, code: str, message: str):
		super().__init__(message)
		self.code = code


def action_error(code: str, message: str) -> EnquiryActionError:
	# The message travels in the response's messages, so the desk shows it (tracebacks are hidden).
	frappe.msgprint(message, title=_("Not possible"), indicator="orange")
	return EnquiryActionError(code, message)


# -- input -----------------------------------------------------------------------------------


def clean_fields(raw: dict, *, require_contact: bool = True, require_message: bool = True) -> dict:
	"""The intake fields of `raw`, trimmed and checked; a clear InvalidEnquiry otherwise."""
	meta = frappe.get_meta("Enquiry")
	fields = {}
	for fieldname in INTAKE_FIELDS:
		value = raw.get(fieldname)
		if value is None:
			continue
		if not isinstance(value, str | int | float) or isinstance(value, bool):
			frappe.throw(_("{0} must be text.").format(meta.get_label(fieldname)), InvalidEnquiry)
		text = str(value).strip()
		limit = MAX_LENGTH.get(fieldname, DEFAULT_MAX_LENGTH)
		if len(text) > limit:
			frappe.throw(_("{0} is too long: at most {1} characters.").format(meta.get_label(fieldname), limit), InvalidEnquiry)
		fields[fieldname] = text
	for fieldname in CONSUMER_FIELDS:
		options = (meta.get_field(fieldname).options or "").split("\n")
		if fields.get(fieldname) and fields[fieldname] not in options:
			frappe.throw(_("{0} must be one of {1}.").format(meta.get_label(fieldname), ", ".join(filter(None, options))), InvalidEnquiry)
	if fields.get("email_id"):
		fields["email_id"] = fields["email_id"].lower()
		if not validate_email_address(fields["email_id"]):
			frappe.throw(_("{0} is not a valid email address.").format(fields["email_id"]), InvalidEnquiry)
	if fields.get("phone"):
		fields["phone"] = _clean_phone(fields["phone"])
	if require_contact and not (fields.get("email_id") or fields.get("phone")):
		frappe.throw(_("Give an email address or a phone number, so we can answer."), InvalidEnquiry)
	if require_message and not fields.get("message"):
		frappe.throw(_("Write the enquiry's message."), InvalidEnquiry)
	return fields


def _clean_phone(text: str) -> str:
	e164 = normalise_e164(text, default_phone_region(), strict=False)
	if e164:
		return e164
	if len(digits_only(text)) < 6:
		frappe.throw(_("{0} is not a phone number.").format(text), InvalidEnquiry)
	return text


# -- intake ----------------------------------------------------------------------------------


def intake(channel: str, fields: dict, *, source: str, extra: dict | None = None, claim_for: str | None = None):
	"""Store one enquiry with its conversation and first message. `fields` are checked here;
	`extra` (other fields a landing page sent) is kept in the message, never in a field."""
	channel_doc = _usable_channel(channel)
	if source not in OPENS_CONVERSATION:
		frappe.throw(_("Enquiries by {0} arrive through their channel.").format(source), InvalidEnquiry)
	enquiry = frappe.get_doc(
		{"doctype": "Enquiry", "source": source, "channel": channel_doc.name, "campaign": channel_doc.campaign, **clean_fields(fields)}
	)
	enquiry.flags.message_center_intake = {"extra": extra or {}, "claim_for": claim_for}
	enquiry.insert(ignore_permissions=True)  # after_enquiry_insert opens the conversation
	return enquiry


def open_channel_enquiry(conversation, channel_doc, *, source: str, message: str, person=None, links=None, **person_fields) -> str:
	"""The Enquiry of a conversation a channel (mail, SMS) has just started; returns its name.

	`person` is (doctype, name) when the sender matched someone: the enquiry then starts Associated,
	as the enquiry rules say. `person_fields` are the details as given (person_name, email_id, phone)."""
	status = rules.Status.NEW
	if person:
		status = rules.decide(rules.EnquiryState(), rules.Request(rules.Action.ASSOCIATE, person=person)).status
	enquiry = frappe.get_doc(
		{
			"doctype": "Enquiry",
			"source": source,
			"channel": channel_doc.name,
			"conversation": conversation.name,
			"team": conversation.team,
			"campaign": channel_doc.campaign,
			"message": (message or "")[:10000],
			"status": rules.Status(status).value,
			**person_fields,
			**(links or {}),
		}
	)
	enquiry.flags.via_actions = True  # the status above came from the enquiry rules
	enquiry.insert(ignore_permissions=True)
	return enquiry.name


def _usable_channel(channel: str | None):
	if not channel or not frappe.db.exists("Channel", channel):
		frappe.throw(_("Channel {0} not found.").format(channel or ""), InvalidEnquiry)
	channel_doc = frappe.get_cached_doc("Channel", channel)
	if not channel_doc.enabled:
		frappe.throw(_("Channel {0} is disabled.").format(channel), InvalidEnquiry)
	return channel_doc


def web_form_channel() -> str:
	"""The channel the website's own /enquiry form feeds: the one chosen in the settings, else the
	oldest enabled Web Form channel."""
	channel = frappe.db.get_single_value("Message Center Settings", "web_form_channel")
	channel = channel or frappe.db.get_value("Channel", {"kind": "Web Form", "enabled": 1}, "name", order_by="creation asc")
	if not channel:
		frappe.throw(_("The enquiry form is not set up yet: create an enabled Web Form channel."), InvalidEnquiry)
	return channel


def before_enquiry_insert(doc, method=None):
	"""Enquiries inserted by something else than intake() get the same checks: the website's standard
	Web Form keeps only what a visitor may say; the desk's New Enquiry form is an agent's Create Enquiry.
	Channel ingesters (mail) set via_actions: they decided the status through the rules already."""
	if doc.flags.message_center_intake is not None or doc.flags.via_actions:
		return
	if frappe.flags.in_web_form:
		_web_form_submission(doc)
	else:
		_desk_entry(doc)


def _web_form_submission(doc):
	from message_center.api.web_form import check_rate_limit

	check_rate_limit()
	fields = clean_fields({fieldname: doc.get(fieldname) for fieldname in INTAKE_FIELDS})
	channel_doc = _usable_channel(web_form_channel())
	for df in doc.meta.fields:
		if df.fieldtype not in no_value_fields:
			doc.set(df.fieldname, None)
	doc.update({"source": "Web Form", "channel": channel_doc.name, "campaign": channel_doc.campaign, "status": "New", **fields})
	doc.flags.message_center_intake = {"extra": {}, "claim_for": None}


def _desk_entry(doc):
	doc.update(clean_fields(doc.as_dict(), require_contact=False, require_message=False))
	# A person picked on the form is associated through the service after the insert (permission
	# checked, every message onto their timeline), not stored as a bare link.
	chosen = next(((doctype, doc.get(field)) for doctype, field in PERSON_LINKS if doc.get(field)), None)
	for _doctype, field in PERSON_LINKS:
		doc.set(field, None)
	# The agent who types in a phone, fax or manual enquiry took it: the conversation is theirs.
	claim_for = frappe.session.user if doc.source in MANUAL_SOURCES and frappe.session.user not in ("Guest", "Administrator") else None
	doc.flags.message_center_intake = {"extra": {}, "claim_for": claim_for, "person": chosen}


def after_enquiry_insert(doc, method=None):
	options = doc.flags.message_center_intake or {}
	if not doc.conversation and doc.source in OPENS_CONVERSATION and doc.channel and (doc.email_id or doc.phone):
		open_conversation(doc)
	if options.get("person"):
		associate(doc, *options["person"])


def open_conversation(enquiry):
	"""The enquiry's conversation and first message; an unambiguous exact match is linked at once."""
	options = enquiry.flags.message_center_intake or {}
	details = people.sender_details(enquiry.email_id, enquiry.phone, enquiry.person_name, enquiry.company_name)
	match = people.auto_match(details)
	links = people.links_for(match.doctype, match.name) if match else {}
	conversation = messages.start_conversation(
		enquiry.channel,
		enquiry.email_id or enquiry.phone,
		subject=_("{0} enquiry from {1}").format(_(enquiry.source), enquiry.person_name or enquiry.email_id or enquiry.phone),
		party_name=enquiry.person_name,
		medium=OPENS_CONVERSATION[enquiry.source],
		links={key: value for key, value in links.items() if value},
	)
	conversation.enquiry = enquiry.name
	claim_for = options.get("claim_for")
	if claim_for and not conversation.claimed_by:
		conversation.apply_event(conversation_rules.Action.CLAIM, actor=actor_for(claim_for))
	conversation, _communication = messages.record_inbound(
		conversation,
		content=render_message(enquiry, options.get("extra") or {}),
		sender=enquiry.email_id,
		sender_full_name=enquiry.person_name,
		phone_no=enquiry.phone,
	)
	enquiry.db_set("conversation", conversation.name)
	if match:
		_apply(enquiry, rules.Request(rules.Action.ASSOCIATE, person=(match.doctype, match.name)), links)
	return conversation


def render_message(enquiry, extra: dict) -> str:
	"""The first message as the timelines show it: the visitor's words, then what else they told us."""
	# Stored values went through Frappe's HTML sanitiser; show them as the plain text people typed.
	text = lambda value: escape_html(html.unescape(str(value)))  # noqa: E731
	body = "<br>".join(text(line) for line in (enquiry.message or "").splitlines()) or text(_("(no message)"))
	meta = frappe.get_meta("Enquiry")
	details = [(meta.get_label(field), enquiry.get(field)) for field in (*PERSON_FIELDS, *CONSUMER_FIELDS, *UTM_FIELDS) if enquiry.get(field)]
	details += [(str(key)[:60], str(value)[:500]) for key, value in extra.items()]
	items = "".join(f"<li>{text(label)}: {text(value)}</li>" for label, value in details)
	return f"<p>{body}</p><ul>{items}</ul>" if items else f"<p>{body}</p>"


# -- lifecycle -------------------------------------------------------------------------------


def state_of(enquiry) -> rules.EnquiryState:
	return rules.EnquiryState(
		status=rules.Status(enquiry.status or "New"),
		contact=enquiry.contact or None,
		lead=enquiry.lead or None,
		customer=enquiry.customer or None,
		opportunity=enquiry.opportunity or None,
		dead_reason=enquiry.dead_reason or None,
	)


def decide(enquiry, request: rules.Request) -> rules.Decision:
	try:
		return rules.decide(state_of(enquiry), request)
	except rules.EnquiryRuleError as error:
		raise action_error(error.code, _(error.reason)) from error


def _apply(enquiry, request: rules.Request, values: dict | None = None) -> bool:
	"""Decide, then store the new status with `values`. False when it had already been done."""
	decision = decide(enquiry, request)
	if decision.verdict == rules.Verdict.ALREADY_DONE:
		return False
	set_status(enquiry, decision.status, values or {})
	return True


def set_status(enquiry, status: rules.Status, values: dict):
	enquiry.update(values)
	enquiry.status = rules.Status(status).value
	enquiry.flags.via_actions = True
	enquiry.save(ignore_permissions=True)
	if enquiry.conversation:
		team = frappe.db.get_value("Conversation", enquiry.conversation, "team")
		publish_conversation_change(enquiry.conversation, team, "enquiry")


def conversation_of(enquiry):
	return frappe.get_doc("Conversation", enquiry.conversation) if enquiry.conversation else None


# -- associate -------------------------------------------------------------------------------


def associate(enquiry, doctype: str, name: str) -> bool:
	"""Store the enquiry (and every message of its conversation) against a Contact, Lead or Customer."""
	if doctype not in people.PERSON_DOCTYPES:
		frappe.throw(_("Associate a Contact, a Lead or a Customer, not a {0}.").format(doctype), InvalidEnquiry)
	if not name or not frappe.db.exists(doctype, name):
		frappe.throw(_("{0} {1} does not exist (was it deleted?).").format(_(doctype), name), frappe.DoesNotExistError)
	frappe.get_doc(doctype, name).check_permission("read")
	links = people.links_for(doctype, name)
	decision = decide(enquiry, rules.Request(rules.Action.ASSOCIATE, person=(doctype, name)))
	current = {field: enquiry.get(field) or None for field in links}
	if decision.verdict == rules.Verdict.ALREADY_DONE and current == links:
		return False
	set_status(enquiry, decision.status, links)
	if enquiry.conversation:
		link_conversation(conversation_of(enquiry), links)
	return True


def link_conversation(conversation, links: dict):
	"""Point a conversation at its people and move its messages onto their timelines (and off the
	timelines of whoever it was linked to before)."""
	before = set(conversation.timeline_links())
	for field in ("contact", "lead", "customer"):
		conversation.set(field, links.get(field))
	conversation.unmatched = 0
	conversation.save(ignore_permissions=True)
	stale = before - set(conversation.timeline_links())
	if stale:
		_unlink_timeline(conversation.name, stale)
	messages.relink_timeline(conversation)
	publish_conversation_change(conversation.name, conversation.team, "links")


def _unlink_timeline(conversation: str, stale: set):
	for name in frappe.get_all("Communication", filters={"reference_doctype": "Conversation", "reference_name": conversation}, pluck="name"):
		communication = frappe.get_doc("Communication", name)
		keep = [row for row in communication.timeline_links if (row.link_doctype, row.link_name) not in stale]
		if len(keep) != len(communication.timeline_links):
			communication.set("timeline_links", keep)
			communication.flags.skip_add_signature = True
			communication.save(ignore_permissions=True)


def create_person(enquiry, doctype: str, with_customer: bool = False) -> dict:
	"""A new Contact (and, by choice, a Customer: the account) or a Lead from what the enquiry tells us."""
	if doctype not in ("Contact", "Lead"):
		frappe.throw(_("Create a Contact or a Lead, not a {0}.").format(doctype), InvalidEnquiry)
	decide(enquiry, rules.Request(rules.Action.ASSOCIATE, person=(doctype, "?")))  # refuses a processed enquiry
	if not (enquiry.person_name or enquiry.company_name or enquiry.email_id):
		frappe.throw(_("Fill in the person's name or email first."), InvalidEnquiry)
	if doctype == "Lead":
		name = enquiry.lead or _create_lead(enquiry)
	else:
		name = enquiry.contact or _create_contact(enquiry)
		if with_customer and not (enquiry.customer or people.links_for("Contact", name)["customer"]):
			_create_customer_for(enquiry, name)
	associate(enquiry, doctype, name)
	return {"doctype": doctype, "name": name, "customer": enquiry.customer}


def split_name(full_name: str | None, fallback: str | None) -> tuple[str, str | None]:
	words = (full_name or "").split()
	if not words:
		return (fallback or _("Unknown")).split("@")[0], None
	return (words[0], " ".join(words[1:]) or None) if len(words) > 1 else (words[0], None)


def _create_contact(enquiry) -> str:
	if enquiry.email_id:
		existing = frappe.db.get_value("Contact Email", {"email_id": enquiry.email_id, "parenttype": "Contact"}, "parent")
		if existing:
			raise action_error("exists", _("Contact {0} already has {1}: associate it instead.").format(existing, enquiry.email_id))
	first_name, last_name = split_name(enquiry.person_name, enquiry.email_id or enquiry.company_name)
	contact = frappe.get_doc({"doctype": "Contact", "first_name": first_name, "last_name": last_name, "company_name": enquiry.company_name})
	if enquiry.email_id:
		contact.add_email(enquiry.email_id, is_primary=1)
	if enquiry.phone:
		contact.add_phone(enquiry.phone, is_primary_mobile_no=1)
	contact.insert()
	return contact.name


def _create_customer_for(enquiry, contact_name: str) -> str:
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": enquiry.company_name or enquiry.person_name or enquiry.email_id,
			"customer_type": "Company" if enquiry.company_name else "Individual",
		}
	)
	customer.insert()
	contact = frappe.get_doc("Contact", contact_name)
	contact.append("links", {"link_doctype": "Customer", "link_name": customer.name})
	contact.save()
	customer.reload()
	customer.customer_primary_contact = contact_name
	customer.save()
	return customer.name


def _create_lead(enquiry) -> str:
	from message_center.enquiry_process import lead_source_for, utm_values

	first_name, last_name = split_name(enquiry.person_name, None)
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"first_name": first_name if enquiry.person_name else None,
			"last_name": last_name,
			"lead_name": enquiry.person_name or None,
			"company_name": enquiry.company_name,
			"email_id": enquiry.email_id,
			"mobile_no": enquiry.phone,
			"source": lead_source_for(enquiry.source),
			"campaign_name": enquiry.campaign,
			"mc_source_enquiry": enquiry.name,
			"mc_source_conversation": enquiry.conversation,
			**utm_values(enquiry),
		}
	)
	lead.insert()
	return lead.name

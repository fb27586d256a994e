"""Who wrote to us, from the database side: gather candidate Contacts, Leads and Customers, then let
core.people_matching rank them (exact email, then E.164 phone, then name and company similarity).

Candidates come from cheap prefilters (exact email, the phone's last digits, name and company words)
so ranking never scans every record. What an agent is shown then passes frappe.get_list, so they
only ever see people they may read; intake from the website (a guest) skips that step, because
matching a sender to a person is the system's job there, not the guest's.
"""

from __future__ import annotations

import re

import frappe

from message_center.core import people_matching
from message_center.core.phone import digits_suffix, like_pattern_for_suffix, normalise_e164, same_number
from message_center.settings import default_phone_region

PER_QUERY = 20  # candidates per prefilter: enough for a human to choose from, bounded for speed
NAME_WORDS = 3
PERSON_DOCTYPES = ("Contact", "Lead", "Customer")


def sender_details(email: str | None = None, phone: str | None = None, name: str | None = None, company: str | None = None):
	return people_matching.SenderDetails(
		email=(email or "").strip().lower() or None,
		phone=(phone or "").strip() or None,
		name=(name or "").strip() or None,
		company=(company or "").strip() or None,
	)


def suggestions(details: people_matching.SenderDetails, *, for_user: bool = True, limit: int = 10) -> list[people_matching.Suggestion]:
	"""Ranked suggestions, best first, each with its reasons in words."""
	return suggestions_for_many([details], for_user=for_user, limit=limit)[0]


def suggestions_for_many(many: list, *, for_user: bool = True, limit: int = 10) -> list[list[people_matching.Suggestion]]:
	"""Suggestions for several senders at once: candidates come from cheap prefilters, then one
	permission query per doctype keeps only the people the user may read (Contact's permission
	conditions are expensive, so they run once, not once per sender and prefilter)."""
	gathered = [_contacts(details) + _leads(details) + _customers(details) for details in many]
	if for_user:
		readable = _readable({(candidate.doctype, candidate.name) for candidates in gathered for candidate in candidates})
		gathered = [[candidate for candidate in candidates if (candidate.doctype, candidate.name) in readable] for candidates in gathered]
	return [_rank(details, candidates, limit) for details, candidates in zip(many, gathered, strict=True)]


def _readable(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
	by_doctype: dict[str, list[str]] = {}
	for doctype, name in keys:
		by_doctype.setdefault(doctype, []).append(name)
	readable = set()
	for doctype, names in by_doctype.items():
		allowed = frappe.get_list(doctype, filters={"name": ("in", names)}, pluck="name", limit_page_length=0)
		readable |= {(doctype, name) for name in allowed}
	return readable


def _rank(details, candidates: list, limit: int) -> list[people_matching.Suggestion]:
	region = default_phone_region()

	def normalise(phone: str) -> str | None:
		# The prefilter over-includes on purpose; same_number decides, whatever the text looks like.
		return details.phone if same_number(phone, details.phone, region) else None

	normaliser = normalise if details.phone else None
	ranked = people_matching.rank_candidates(details, candidates, normalise_phone=normaliser, default_region=region, limit=limit + 5)
	return _without_leads_of_suggested_contacts(ranked)[:limit]


def _without_leads_of_suggested_contacts(ranked: list) -> list:
	"""ERPNext gives every Lead its own Contact: when both are suggested they are one person, and
	choosing the Contact brings its Lead along, so the Lead is not offered twice."""
	contacts = [row.name for row in ranked if row.doctype == "Contact"]
	if not contacts or not any(row.doctype == "Lead" for row in ranked):
		return ranked
	leads_of_contacts = set(
		frappe.get_all(
			"Dynamic Link",
			filters={"parenttype": "Contact", "parent": ("in", contacts), "link_doctype": "Lead"},
			pluck="link_name",
		)
	)
	return [row for row in ranked if not (row.doctype == "Lead" and row.name in leads_of_contacts)]


def as_dict(suggestion: people_matching.Suggestion) -> dict:
	return {
		"doctype": suggestion.doctype,
		"name": suggestion.name,
		"display_name": suggestion.display_name,
		"score": suggestion.score,
		"reasons": list(suggestion.reasons),
		"same_email": suggestion.same_email,
		"same_phone": suggestion.same_phone,
	}


def auto_match(details: people_matching.SenderDetails) -> people_matching.Suggestion | None:
	"""The one person to link without asking: a single exact email match (or phone, without email)."""
	ranked = suggestions(details, for_user=False, limit=20)
	return people_matching.auto_link(ranked, by="email" if details.email else "phone")


def exact_email_candidates(email: str) -> list[people_matching.Candidate]:
	"""Contacts (any of their addresses), enabled Leads and Customers with exactly this address, in
	one query: mail intake links a sender it finds here and leaves ranking to the agent's dialog."""
	rows = frappe.db.sql(
		"""select 'Contact', contact.name, coalesce(nullif(contact.full_name, ''),
			concat_ws(' ', contact.first_name, contact.last_name)), contact.company_name
		from `tabContact Email` email join `tabContact` contact on contact.name = email.parent
		where email.parenttype = 'Contact' and email.email_id = %(email)s
		union all
		select 'Lead', name, coalesce(nullif(lead_name, ''), company_name, ''), company_name
		from `tabLead` where disabled = 0 and email_id = %(email)s
		union all
		select 'Customer', name, customer_name, customer_name
		from `tabCustomer` where disabled = 0 and email_id = %(email)s
		limit %(limit)s""",
		{"email": email, "limit": PER_QUERY * 3},
	)
	return [
		people_matching.Candidate(doctype, name, display_name or "", emails=(email,), company=company)
		for doctype, name, display_name, company in dict.fromkeys(rows)  # a Contact may list it twice
	]


def links_for(doctype: str, name: str) -> dict:
	"""contact/lead/customer values for a chosen person: a Contact brings its Lead and Customer along,
	a Lead its Contact and Customer, a Customer its primary Contact."""
	links = {"contact": None, "lead": None, "customer": None}
	if doctype == "Contact":
		links["contact"] = name
		links["lead"] = _linked_to_contact(name, "Lead")
		links["customer"] = _linked_to_contact(name, "Customer")
	elif doctype == "Lead":
		links["lead"] = name
		links["customer"] = frappe.db.get_value("Lead", name, "customer") or None
		links["contact"] = _contact_linked_to("Lead", name)
	elif doctype == "Customer":
		links["customer"] = name
		links["contact"] = frappe.db.get_value("Customer", name, "customer_primary_contact") or _contact_linked_to("Customer", name)
	else:
		frappe.throw(frappe._("Associate a Contact, a Lead or a Customer, not a {0}.").format(doctype))
	return links


def _linked_to_contact(contact: str, link_doctype: str) -> str | None:
	return frappe.db.get_value(
		"Dynamic Link", {"parenttype": "Contact", "parent": contact, "link_doctype": link_doctype}, "link_name", order_by="idx asc"
	)


def _contact_linked_to(link_doctype: str, link_name: str) -> str | None:
	return frappe.db.get_value(
		"Dynamic Link", {"parenttype": "Contact", "link_doctype": link_doctype, "link_name": link_name}, "parent", order_by="creation asc"
	)


# -- prefilters ------------------------------------------------------------------------------


def _name_words(text: str | None) -> list[str]:
	words = [word for word in re.split(r"[\W_]+", text or "") if len(word) >= 3]
	return sorted(set(words), key=len, reverse=True)[:NAME_WORDS]


def _phone_pattern(details) -> str | None:
	if not details.phone:
		return None
	suffix = digits_suffix(normalise_e164(details.phone, default_phone_region(), strict=False) or details.phone)
	return like_pattern_for_suffix(suffix) if suffix and len(suffix) >= 6 else None


def _any_of(conditions: list[tuple[str, str]], params: dict) -> str:
	"""`(a = %(p0)s or b like %(p1)s ...)` from (SQL with a {} for the parameter, value) pairs."""
	parts = []
	for number, (sql, value) in enumerate(conditions):
		params[f"p{number}"] = value
		parts.append(sql.format(f"%(p{number})s"))
	return "(" + " or ".join(parts) + ")"


def _newest(sql: str, params: dict, limit: int) -> list:
	# Newest first, as a list view would show them: the same candidates get_all gave, without its
	# filter parsing, which cost more than these queries.
	return frappe.db.sql(f"{sql} order by modified desc limit {int(limit)}", params, as_dict=True)


def _name_conditions(details, fields: tuple[str, ...]) -> list[tuple[str, str]]:
	words = _name_words(details.name) + _name_words(details.company)
	return [(f"`{field}` like {{}}", f"%{word}%") for word in words for field in fields]


def _contacts(details) -> list[people_matching.Candidate]:
	names = set()
	if details.email:
		names |= set(
			frappe.db.sql_list(
				"""select contact.name from `tabContact` contact join `tabContact Email` email
				on email.parent = contact.name and email.parenttype = 'Contact'
				where email.email_id = %s order by contact.modified desc limit %s""",
				(details.email, PER_QUERY),
			)
		)
	if pattern := _phone_pattern(details):
		names |= set(
			frappe.db.sql_list(
				"""select contact.name from `tabContact` contact join `tabContact Phone` phone
				on phone.parent = contact.name and phone.parenttype = 'Contact'
				where phone.phone like %s order by contact.modified desc limit %s""",
				(pattern, PER_QUERY),
			)
		)
	if conditions := _name_conditions(details, ("first_name", "last_name", "company_name")):
		params = {}
		names |= {row.name for row in _newest(f"select name from `tabContact` where {_any_of(conditions, params)}", params, PER_QUERY)}
	if not names:
		return []
	# Plain queries by primary key and parent: get_all's filter parsing cost more than these reads.
	names = tuple(names)
	emails, phones = {}, {}
	for parent, email_id in frappe.db.sql(
		"select parent, email_id from `tabContact Email` where parenttype='Contact' and parent in %s", (names,)
	):
		emails.setdefault(parent, []).append(email_id)
	for parent, phone in frappe.db.sql(
		"select parent, phone from `tabContact Phone` where parenttype='Contact' and parent in %s", (names,)
	):
		phones.setdefault(parent, []).append(phone)
	rows = frappe.db.sql(
		"select name, full_name, first_name, last_name, company_name from `tabContact` where name in %s", (names,), as_dict=True
	)
	return [
		people_matching.Candidate(
			"Contact",
			row.name,
			row.full_name or " ".join(filter(None, (row.first_name, row.last_name))),
			emails=emails.get(row.name, ()),
			phones=phones.get(row.name, ()),
			company=row.company_name,
		)
		for row in rows
	]


def _leads(details) -> list[people_matching.Candidate]:
	conditions = []
	if details.email:
		conditions.append(("email_id = {}", details.email))
	if pattern := _phone_pattern(details):
		conditions += [(f"`{field}` like {{}}", pattern) for field in ("phone", "mobile_no", "whatsapp_no")]
	conditions += _name_conditions(details, ("lead_name", "company_name"))
	if not conditions:
		return []
	params = {}
	rows = _newest(
		f"""select name, lead_name, company_name, email_id, phone, mobile_no, whatsapp_no from `tabLead`
		where disabled = 0 and {_any_of(conditions, params)}""",
		params,
		PER_QUERY * 2,
	)
	return [
		people_matching.Candidate(
			"Lead",
			row.name,
			row.lead_name or row.company_name or "",
			emails=[row.email_id] if row.email_id else [],
			phones=[number for number in (row.phone, row.mobile_no, row.whatsapp_no) if number],
			company=row.company_name,
		)
		for row in rows
	]


def _customers(details) -> list[people_matching.Candidate]:
	conditions = []
	if details.email:
		conditions.append(("email_id = {}", details.email))
	if pattern := _phone_pattern(details):
		conditions.append(("mobile_no like {}", pattern))
	conditions += _name_conditions(details, ("customer_name",))
	if not conditions:
		return []
	params = {}
	rows = _newest(
		f"select name, customer_name, email_id, mobile_no from `tabCustomer` where disabled = 0 and {_any_of(conditions, params)}",
		params,
		PER_QUERY,
	)
	return [
		people_matching.Candidate(
			"Customer",
			row.name,
			row.customer_name,
			emails=[row.email_id] if row.email_id else [],
			phones=[row.mobile_no] if row.mobile_no else [],
			company=row.customer_name,
		)
		for row in rows
	]

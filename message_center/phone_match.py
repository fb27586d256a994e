"""Who is texting us: the Contacts and Leads whose phone numbers are this number.

Phone fields hold free text ("(415) 555-2671", "+1 415 555 2671"), so candidates come from a LIKE
prefilter on the number's last digits and are confirmed with core.phone.same_number; only one
unambiguous match is linked (core.people_matching.auto_link), anything else becomes suggestions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import frappe

from message_center.core.people_matching import Candidate, SenderDetails, auto_link, rank_candidates
from message_center.core.phone import digits_suffix, like_pattern_for_suffix, same_number

MAX_CANDIDATES = 50


@dataclass
class PhoneMatch:
	contact: str | None = None
	lead: str | None = None
	customer: str | None = None
	party_name: str | None = None
	suggestions: list[dict] = field(default_factory=list)  # when nobody is linked: who it may be

	@property
	def matched(self) -> bool:
		return bool(self.contact or self.lead)

	def links(self) -> dict:
		return {key: value for key, value in (("contact", self.contact), ("lead", self.lead), ("customer", self.customer)) if value}


def _contact_candidates(pattern: str) -> list[Candidate]:
	rows = frappe.db.sql(
		"""
		select c.name, c.full_name, c.first_name, c.last_name, c.company_name, p.phone
		from `tabContact Phone` p join `tabContact` c on c.name = p.parent
		where p.parenttype = 'Contact' and p.phone like %(pattern)s
		union
		select c.name, c.full_name, c.first_name, c.last_name, c.company_name, c.phone
		from `tabContact` c where c.phone like %(pattern)s
		union
		select c.name, c.full_name, c.first_name, c.last_name, c.company_name, c.mobile_no
		from `tabContact` c where c.mobile_no like %(pattern)s
		limit %(limit)s
		""",
		{"pattern": pattern, "limit": MAX_CANDIDATES},
		as_dict=True,
	)
	phones: dict[str, list[str]] = {}
	names: dict[str, tuple[str, str | None]] = {}
	for row in rows:
		phones.setdefault(row.name, []).append(row.phone)
		display = row.full_name or " ".join(part for part in (row.first_name, row.last_name) if part) or row.name
		names[row.name] = (display, row.company_name)
	return [
		Candidate("Contact", name, display_name=names[name][0], phones=tuple(numbers), company=names[name][1])
		for name, numbers in phones.items()
	]


def _lead_candidates(pattern: str) -> list[Candidate]:
	rows = frappe.db.sql(
		"""
		select name, lead_name, company_name, phone, mobile_no from `tabLead`
		where phone like %(pattern)s or mobile_no like %(pattern)s
		limit %(limit)s
		""",
		{"pattern": pattern, "limit": MAX_CANDIDATES},
		as_dict=True,
	)
	return [
		Candidate(
			"Lead",
			row.name,
			display_name=row.lead_name or row.company_name or row.name,
			phones=tuple(phone for phone in (row.phone, row.mobile_no) if phone),
			company=row.company_name,
		)
		for row in rows
	]


def _linked(contacts: list[str], doctype: str) -> dict[str, list[str]]:
	"""contact -> the `doctype` records it is linked to (ERPNext links a Lead's own Contact to it)."""
	links: dict[str, list[str]] = {}
	if contacts:
		for row in frappe.get_all(
			"Dynamic Link",
			filters={"parenttype": "Contact", "parent": ("in", contacts), "link_doctype": doctype},
			fields=["parent", "link_name"],
		):
			links.setdefault(row.parent, []).append(row.link_name)
	return links


def _single(names: list[str] | None) -> str | None:
	unique = set(names or ())
	return unique.pop() if len(unique) == 1 else None


def match_phone(number: str, default_region: str | None) -> PhoneMatch:
	"""Link the one person with this number (a Contact, with its Lead and Customer, or else a Lead);
	when nobody or several people have it, suggest who it may be instead."""
	suffix = digits_suffix(number)
	if not suffix:
		return PhoneMatch()
	pattern = like_pattern_for_suffix(suffix)
	candidates = _contact_candidates(pattern) + _lead_candidates(pattern)

	def normalise(phone: str) -> str | None:
		# The prefilter over-includes on purpose; same_number decides, whatever the text looks like.
		return number if same_number(phone, number, default_region) else None

	suggestions = rank_candidates(SenderDetails(phone=number), candidates, normalise_phone=normalise)
	contacts = [row.name for row in suggestions if row.doctype == "Contact" and row.same_phone]
	leads_of = _linked(contacts, "Lead")
	# A Lead whose own Contact also has the number is the same person, not a second one.
	same_person = {lead for names in leads_of.values() for lead in names}
	people = [row for row in suggestions if not (row.doctype == "Lead" and row.name in same_person)]
	chosen = auto_link(people, by="phone")
	if chosen is None:
		return PhoneMatch(suggestions=[asdict(suggestion) for suggestion in suggestions])
	if chosen.doctype == "Contact":
		return PhoneMatch(
			contact=chosen.name,
			lead=_single(leads_of.get(chosen.name)),
			customer=_single(_linked([chosen.name], "Customer").get(chosen.name)),
			party_name=chosen.display_name,
		)
	return PhoneMatch(lead=chosen.name, party_name=chosen.display_name)

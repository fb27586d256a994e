"""Suggested people: senders of conversations nobody linked to a Contact, Lead or Customer.

Listed per address (email or phone) over the conversations the user may read, with Add as Lead,
Add as Contact, Add to existing and Ignore; each works on many addresses at once, and Ignore is
remembered (Ignored Sender), so an ignored address never comes back as a suggestion.
"""

from __future__ import annotations

import frappe
from frappe import _

from message_center import enquiries, people
from message_center.core import enquiry_rules as rules

UNLINKED = {"contact": ("is", "not set"), "lead": ("is", "not set"), "customer": ("is", "not set")}
MAX_BULK = 200


def suggested(start: int = 0, page_length: int = 20) -> dict:
	start, page_length = max(int(start or 0), 0), min(max(int(page_length or 20), 1), 100)
	filters = dict(UNLINKED)
	ignored = frappe.get_all("Ignored Sender", pluck="address")
	if ignored:
		filters["party_address"] = ("not in", ignored)
	groups = frappe.get_list(
		"Conversation",
		filters=filters,
		fields=["party_address", "count(name) as conversations", "max(last_message_at) as last_message_at"],
		group_by="party_address",
		order_by="max(`tabConversation`.`last_message_at`) desc",
		limit_start=start,
		limit_page_length=page_length + 1,
	)
	has_more = len(groups) > page_length
	groups = groups[:page_length]
	latest = _latest_conversations([row.party_address for row in groups])
	groups = [row for row in groups if row.party_address in latest]
	suggestions = people.suggestions_for_many(
		[_details(row.party_address, latest[row.party_address].party_name) for row in groups], limit=3
	)
	people_rows = []
	for row, suggested_for_row in zip(groups, suggestions, strict=True):
		conversation = latest[row.party_address]
		people_rows.append(
			{
				"address": row.party_address,
				"kind": "email" if "@" in row.party_address else "phone",
				"party_name": conversation.party_name,
				"conversations": row.conversations,
				"last_message_at": row.last_message_at,
				"conversation": conversation.name,
				"medium": conversation.medium,
				"channel": conversation.channel,
				"preview": conversation.last_message_preview,
				"suggestions": [people.as_dict(item) for item in suggested_for_row],
			}
		)
	return {"people": people_rows, "start": start, "page_length": page_length, "has_more": has_more}


def _latest_conversations(addresses: list[str]) -> dict:
	if not addresses:
		return {}
	rows = frappe.get_list(
		"Conversation",
		filters={**UNLINKED, "party_address": ("in", addresses)},
		fields=["name", "party_address", "party_name", "medium", "channel", "last_message_preview", "last_message_at"],
		order_by="last_message_at desc",
		limit_page_length=0,
	)
	latest = {}
	for row in rows:
		latest.setdefault(row.party_address, row)
	return latest


def _details(address: str, party_name: str | None):
	name = party_name if party_name and party_name != address else None
	return people.sender_details(email=address if "@" in address else None, phone=None if "@" in address else address, name=name)


def parse_addresses(addresses) -> list[str]:
	if isinstance(addresses, str):
		addresses = frappe.parse_json(addresses) if addresses.strip().startswith("[") else [addresses]
	cleaned = []
	for address in addresses or []:
		if not isinstance(address, str) or not address.strip():
			frappe.throw(_("Each address must be an email address or a phone number."))
		address = address.strip()
		cleaned.append(address.lower() if "@" in address else address)
	if not cleaned:
		frappe.throw(_("Choose at least one person."))
	if len(cleaned) > MAX_BULK:
		frappe.throw(_("At most {0} people at a time.").format(MAX_BULK))
	return list(dict.fromkeys(cleaned))


def unlinked_conversations(addresses: list[str]) -> dict[str, list[str]]:
	"""The user's unlinked conversations per address; an address the user cannot see is refused
	before anything is written, so a bulk action is all or nothing."""
	rows = frappe.get_list(
		"Conversation", filters={**UNLINKED, "party_address": ("in", addresses)}, fields=["name", "party_address"], limit_page_length=0
	)
	found: dict[str, list[str]] = {}
	for row in rows:
		found.setdefault(row.party_address, []).append(row.name)
	missing = [address for address in addresses if address not in found]
	if missing:
		frappe.throw(_("Not among your suggested people: {0}").format(", ".join(missing)), frappe.PermissionError)
	return found


def add_as(addresses, doctype: str) -> list[dict]:
	addresses = parse_addresses(addresses)
	found = unlinked_conversations(addresses)
	results = []
	for address in addresses:
		party_name = frappe.db.get_value("Conversation", found[address][0], "party_name")
		name = _create_lead(address, party_name) if doctype == "Lead" else _create_contact(address, party_name)
		link_all(found[address], doctype, name)
		results.append({"address": address, "doctype": doctype, "name": name})
	return results


def _create_contact(address: str, party_name: str | None) -> str:
	first_name, last_name = enquiries.split_name(party_name if party_name != address else None, address)
	contact = frappe.get_doc({"doctype": "Contact", "first_name": first_name, "last_name": last_name})
	_add_address_to_contact(contact, address)
	contact.insert()
	return contact.name


def _create_lead(address: str, party_name: str | None) -> str:
	name = party_name if party_name and party_name != address else None
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"lead_name": name or (address.split("@")[0] if "@" in address else address),
			"email_id": address if "@" in address else None,
			"mobile_no": None if "@" in address else address,
		}
	)
	lead.insert()
	return lead.name


def _add_address_to_contact(contact, address: str):
	if "@" in address:
		contact.add_email(address, is_primary=0 if contact.get("email_ids") else 1)
	else:
		contact.add_phone(address, is_primary_mobile_no=0 if contact.get("phone_nos") else 1)


def add_to_existing(address: str, doctype: str, name: str) -> dict:
	"""Record the address on an existing Contact or Lead and link the sender's conversations to it."""
	(address,) = parse_addresses([address])
	if doctype not in ("Contact", "Lead"):
		frappe.throw(_("Add the address to a Contact or a Lead."))
	if not name or not frappe.db.exists(doctype, name):
		frappe.throw(_("{0} {1} does not exist (was it deleted?).").format(_(doctype), name), frappe.DoesNotExistError)
	found = unlinked_conversations([address])
	doc = frappe.get_doc(doctype, name)
	doc.check_permission("write")
	if doctype == "Contact":
		_add_address_to_contact(doc, address)
	else:
		field = "email_id" if "@" in address else ("mobile_no" if not doc.mobile_no else "phone")
		if doc.get(field) and doc.get(field) != address:
			frappe.throw(_("Lead {0} already has {1}: add this address to its Contact instead.").format(name, doc.get(field)))
		doc.set(field, address)
	doc.save()
	link_all(found[address], doctype, name)
	return {"address": address, "doctype": doctype, "name": name}


def link_all(conversations: list[str], doctype: str, name: str):
	"""Link conversations (and their enquiries, while those are not processed) to one person."""
	links = people.links_for(doctype, name)
	for conversation_name in conversations:
		conversation = frappe.get_doc("Conversation", conversation_name)
		enquiry = frappe.get_doc("Enquiry", conversation.enquiry) if conversation.enquiry else None
		if enquiry and rules.Status(enquiry.status) not in rules.PROCESSED:
			enquiries.associate(enquiry, doctype, name)  # links the conversation too
		else:
			enquiries.link_conversation(conversation, links)


def ignore(addresses) -> list[str]:
	addresses = parse_addresses(addresses)
	unlinked_conversations(addresses)
	for address in addresses:
		if not frappe.db.exists("Ignored Sender", {"address": address}):
			frappe.get_doc({"doctype": "Ignored Sender", "address": address, "ignored_by": frappe.session.user}).insert(ignore_permissions=True)
	return addresses

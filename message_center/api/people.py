"""Suggested people: senders nobody linked to a Contact, Lead or Customer yet.

Each method works on the conversations the user may read; an address only another team's
conversations know is refused (403) before anything is written.
"""

import frappe

from message_center import suggested_people


@frappe.whitelist()
def suggested(start: int = 0, page_length: int = 20):
	"""{"people": [{address, kind, party_name, conversations, last_message_at, conversation, medium,
	channel, preview, suggestions}], "start", "page_length", "has_more"}"""
	return suggested_people.suggested(start, page_length)


@frappe.whitelist(methods=["POST"])
def add_as_lead(addresses: list | str):
	"""A Lead per address (bulk); every conversation of that sender joins its timeline."""
	return suggested_people.add_as(addresses, "Lead")


@frappe.whitelist(methods=["POST"])
def add_as_contact(addresses: list | str):
	return suggested_people.add_as(addresses, "Contact")


@frappe.whitelist(methods=["POST"])
def add_to_existing(address: str, doctype: str, name: str):
	"""Record the address on an existing Contact or Lead and link the sender's conversations to it."""
	return suggested_people.add_to_existing(address, doctype, name)


@frappe.whitelist(methods=["POST"])
def ignore(addresses: list | str):
	"""Never suggest these addresses again (bulk)."""
	return {"ignored": suggested_people.ignore(addresses)}

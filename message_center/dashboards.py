"""Connections on ERPNext forms: the conversations and enquiries of a Contact, Lead, Customer, Opportunity."""

GROUP = "Message Center"


def _add(data, items, fieldname, non_standard=None):
	data = data or {}
	data.setdefault("fieldname", fieldname)
	data.setdefault("transactions", [])
	data.setdefault("non_standard_fieldnames", {})
	for doctype, link_field in (non_standard or {}).items():
		data["non_standard_fieldnames"][doctype] = link_field
	data["transactions"].append({"label": GROUP, "items": items})
	return data


def contact(data):
	return _add(data, ["Conversation", "Enquiry"], "contact")


def lead(data):
	# Lead's own dashboard already uses fieldname "lead", which is also ours.
	return _add(data, ["Conversation", "Enquiry"], "lead")


def customer(data):
	return _add(data, ["Conversation", "Enquiry"], "customer")


def opportunity(data):
	return _add(data, ["Enquiry"], "opportunity")

"""Removing what a benchmark wrote to a site, quickly: thousands of conversations cannot go through
delete_doc one by one in reasonable time, so the rows are deleted by query, table by table, and the
files on disk that no remaining File row uses are removed."""

from __future__ import annotations

import os

import frappe


def purge(
	*, channel: str | None, team: str | None, email_accounts: list[str], contact_suffix: str | None
) -> None:
	frappe.db.rollback()
	conversations = _names("select name from `tabConversation` where channel=%s", channel)
	communications = _names(
		"select name from `tabCommunication` where reference_doctype='Conversation' and reference_name in %s",
		conversations,
	) | _names("select name from `tabCommunication` where email_account in %s", set(email_accounts))
	channel_messages = _names("select name from `tabChannel Message` where channel=%s", channel)
	enquiries = _names("select name from `tabEnquiry` where channel=%s", channel)
	contacts = (
		_names("select name from `tabContact` where last_name like %s", f"% {contact_suffix}")
		if contact_suffix
		else set()
	)
	records = {
		"Conversation": conversations,
		"Communication": communications,
		"Channel Message": channel_messages,
		"Enquiry": enquiries,
		"Contact": contacts,
	}
	_delete_files(records)
	for doctype, names in records.items():
		_delete_dependents(doctype, names)
		_delete_rows(doctype, "name", names)
	for doctype, fieldname in (
		("Conversation Search", "conversation"),
		("Conversation User State", "conversation"),
	):
		_delete_rows(doctype, fieldname, conversations)
	_delete_rows("Unhandled Email", "email_account", set(email_accounts))
	frappe.db.commit()
	for doctype, name in (
		*(("Email Account", account) for account in email_accounts),
		("Channel", channel),
		("Message Center Team", team),
	):
		if name and frappe.db.exists(doctype, name):
			frappe.delete_doc(doctype, name, ignore_permissions=True, force=True)
	frappe.db.commit()


def _names(query: str, value) -> set[str]:
	if not value:
		return set()
	return set(frappe.db.sql_list(query, (tuple(value),) if isinstance(value, set) else value))


def _delete_rows(doctype: str, fieldname: str, names: set[str]) -> None:
	if not names or not frappe.db.table_exists(doctype):
		return
	names = list(names)
	for start in range(0, len(names), 1000):
		frappe.db.sql(
			f"delete from `tab{doctype}` where `{fieldname}` in %s", (tuple(names[start : start + 1000]),)
		)


def _delete_dependents(doctype: str, names: set[str]) -> None:
	"""Child table rows, and the comments, versions, assignments and timeline links that point at them."""
	if not names:
		return
	for child in frappe.get_all(
		"DocField",
		filters={"parent": doctype, "fieldtype": ["in", ["Table", "Table MultiSelect"]]},
		pluck="options",
	):
		_delete_rows(child, "parent", names)
	for dependent, type_field, name_field in (
		("Comment", "reference_doctype", "reference_name"),
		("Version", "ref_doctype", "docname"),
		("ToDo", "reference_type", "reference_name"),
		("Communication Link", "link_doctype", "link_name"),
		("Dynamic Link", "link_doctype", "link_name"),
	):
		listed = list(names)
		for start in range(0, len(listed), 1000):
			frappe.db.sql(
				f"delete from `tab{dependent}` where `{type_field}`=%s and `{name_field}` in %s",
				(doctype, tuple(listed[start : start + 1000])),
			)


def _delete_files(records: dict[str, set[str]]) -> None:
	files = []
	for doctype, names in records.items():
		listed = list(names)
		for start in range(0, len(listed), 1000):
			files += frappe.db.sql(
				"""select name, file_url, is_private from `tabFile`
				where attached_to_doctype=%s and attached_to_name in %s""",
				(doctype, tuple(listed[start : start + 1000])),
				as_dict=True,
			)
	_delete_rows("File", "name", {file.name for file in files})
	for file in {(file.file_url, file.is_private) for file in files}:
		url, private = file
		if not url or frappe.db.exists("File", {"file_url": url}):
			continue  # another File row still uses these bytes
		path = frappe.get_site_path("private" if private else "public", "files", url.rsplit("/", 1)[-1])
		if os.path.isfile(path):
			os.remove(path)

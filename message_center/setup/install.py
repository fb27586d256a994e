import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from message_center.setup.custom_fields import CUSTOM_FIELDS
from message_center.setup.navbar import add_navbar_items, remove_navbar_items

ROLES = ("Message Center Agent", "Message Center Manager")
SETTINGS = "Message Center Settings"
# Indexes our lookups need on other apps' tables: (doctype, columns, index name). Frappe does not index
# a Contact's email addresses, so finding who wrote (ours, and Frappe's own contact lookup for a new
# Communication) read every Contact Email row for each unknown sender.
FOREIGN_INDEXES = (("Contact Email", ("email_id",), "message_center_email_id"),)


def after_install():
	create_roles()
	create_custom_fields(CUSTOM_FIELDS, ignore_validate=True)
	add_navbar_items()
	store_default_settings()
	add_indexes()


def add_indexes():
	for doctype, columns, name in FOREIGN_INDEXES:
		frappe.db.add_index(doctype, list(columns), name)


def drop_indexes():
	for doctype, _columns, name in FOREIGN_INDEXES:
		if frappe.db.has_index(f"tab{doctype}", name):
			frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{name}`")


def store_default_settings():
	# With no stored values Frappe shows the defaults, but once one field is set alone (set_single_value)
	# the others read as empty: store every default at install.
	if not frappe.db.sql("select 1 from `tabSingles` where doctype = %s limit 1", SETTINGS):
		frappe.get_single(SETTINGS).save(ignore_permissions=True)


def before_uninstall():
	delete_custom_fields()
	remove_navbar_items()
	forget_settings()
	drop_indexes()


def forget_settings():
	# Frappe drops a single doctype but not its values: a reinstall would find links to records
	# (channels, teams) that went with the app.
	frappe.db.delete("Singles", {"doctype": SETTINGS})
	frappe.clear_document_cache(SETTINGS, SETTINGS)


def create_roles():
	# DocType sync already creates roles named in permissions; this also covers a patch run on an old site.
	for role in ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(ignore_permissions=True)


def delete_custom_fields():
	for doctype, fields in CUSTOM_FIELDS.items():
		for field in fields:
			name = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": field["fieldname"]})
			if name:
				frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
		frappe.clear_cache(doctype=doctype)

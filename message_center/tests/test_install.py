import frappe
from frappe.tests.utils import FrappeTestCase

from message_center.setup.custom_fields import CUSTOM_FIELDS
from message_center.setup.install import FOREIGN_INDEXES, ROLES, SETTINGS, after_install, before_uninstall


def field_names(doctype: str) -> set[str]:
	frappe.clear_cache(doctype=doctype)
	return {df.fieldname for df in frappe.get_meta(doctype).fields}


def restore_settings(values: dict):
	fields = {df.fieldname for df in frappe.get_meta(SETTINGS).fields}
	frappe.db.set_single_value(SETTINGS, {key: value for key, value in values.items() if key in fields})
	frappe.clear_document_cache(SETTINGS, SETTINGS)
	frappe.db.commit()  # the hooks' DDL committed the uninstall already: make the restore stick too


class TestInstall(FrappeTestCase):
	def test_custom_fields_exist_on_erpnext_doctypes(self):
		for doctype, fields in CUSTOM_FIELDS.items():
			self.assertTrue({field["fieldname"] for field in fields} <= field_names(doctype), doctype)

	def test_an_unknown_sender_is_looked_up_by_index(self):
		plan = frappe.db.sql(
			"explain select parent from `tabContact Email` where email_id = %s", "nobody@example.com", as_dict=True
		)
		self.assertEqual(plan[0].key, "message_center_email_id")

	def test_roles_exist(self):
		for role in ROLES:
			self.assertTrue(frappe.db.exists("Role", role), role)

	def test_uninstall_hook_removes_the_fields_and_install_restores_them_idempotently(self):
		settings = frappe.db.get_singles_dict(SETTINGS)
		self.addCleanup(restore_settings, settings)
		frappe.db.set_single_value(SETTINGS, "help_reply", "Reply STOP to opt out")
		before_uninstall()
		for doctype, fields in CUSTOM_FIELDS.items():
			self.assertFalse({field["fieldname"] for field in fields} & field_names(doctype), doctype)
			self.assertFalse(frappe.db.exists("Custom Field", {"dt": doctype, "fieldname": ("like", "mc_%")}))
		for doctype, _columns, index in FOREIGN_INDEXES:
			self.assertFalse(frappe.db.has_index(f"tab{doctype}", index), index)
		# The settings go too: a reinstall starts from the defaults, not from links to deleted channels.
		self.assertFalse(frappe.db.sql("select 1 from `tabSingles` where doctype = %s", SETTINGS))
		self.assertEqual(frappe.get_single(SETTINGS).unclaimed_alert_minutes, 5)
		after_install()
		# Stored at install: setting one field alone leaves the others at their defaults.
		frappe.db.set_single_value(SETTINGS, "help_reply", "Text STOP to opt out")
		self.assertEqual(frappe.db.get_single_value(SETTINGS, "first_sync_days"), 30)
		after_install()
		after_install()
		for doctype, _columns, index in FOREIGN_INDEXES:
			self.assertTrue(frappe.db.has_index(f"tab{doctype}", index), index)
		for doctype, fields in CUSTOM_FIELDS.items():
			for field in fields:
				self.assertEqual(frappe.db.count("Custom Field", {"dt": doctype, "fieldname": field["fieldname"]}), 1)

	def test_no_custom_field_fixture_is_shipped(self):
		self.assertFalse(frappe.get_hooks("fixtures", app_name="message_center"))

	def test_forms_show_conversations_and_enquiries(self):
		for doctype, fieldname, items in (
			("Contact", "contact", {"Conversation", "Enquiry"}),
			("Lead", "lead", {"Conversation", "Enquiry"}),
			("Customer", "customer", {"Conversation", "Enquiry"}),
			("Opportunity", "opportunity", {"Enquiry"}),
		):
			data = frappe.get_meta(doctype).get_dashboard_data()
			self.assertEqual(data.fieldname, fieldname)
			listed = {item for group in data.transactions for item in group["items"]}
			self.assertTrue(items <= listed, doctype)

	def test_settings_defaults(self):
		settings = frappe.get_single("Message Center Settings")
		self.assertEqual(settings.unclaimed_alert_minutes, 5)
		self.assertEqual(settings.waiting_alert_minutes, 5)
		self.assertEqual(settings.first_sync_days, 30)

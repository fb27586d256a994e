import frappe
from frappe.tests.utils import FrappeTestCase

from message_center.setup.custom_fields import CUSTOM_FIELDS
from message_center.setup.install import ROLES, after_install, before_uninstall


def field_names(doctype: str) -> set[str]:
	frappe.clear_cache(doctype=doctype)
	return {df.fieldname for df in frappe.get_meta(doctype).fields}


class TestInstall(FrappeTestCase):
	def test_custom_fields_exist_on_erpnext_doctypes(self):
		for doctype, fields in CUSTOM_FIELDS.items():
			self.assertTrue({field["fieldname"] for field in fields} <= field_names(doctype), doctype)

	def test_roles_exist(self):
		for role in ROLES:
			self.assertTrue(frappe.db.exists("Role", role), role)

	def test_uninstall_hook_removes_the_fields_and_install_restores_them_idempotently(self):
		before_uninstall()
		for doctype, fields in CUSTOM_FIELDS.items():
			self.assertFalse({field["fieldname"] for field in fields} & field_names(doctype), doctype)
			self.assertFalse(frappe.db.exists("Custom Field", {"dt": doctype, "fieldname": ("like", "mc_%")}))
		after_install()
		after_install()
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

import frappe
import phonenumbers
from frappe import _
from frappe.model.document import Document


class MessageCenterSettings(Document):
	def validate(self):
		for field in ("unclaimed_alert_minutes", "waiting_alert_minutes", "first_sync_days", "sync_batch_size"):
			if (self.get(field) or 0) < 0:
				frappe.throw(_("{0} cannot be negative.").format(self.meta.get_label(field)))
		if self.sync_batch_size and self.sync_batch_size > 500:
			frappe.throw(_("A sync job handles at most 500 messages; the rest follow in the next job."))
		region = (self.default_phone_region or "").strip().upper()
		if region and region not in phonenumbers.SUPPORTED_REGIONS:
			frappe.throw(_("{0} is not a two-letter country code phone numbers know.").format(region))
		self.default_phone_region = region
		if self.public_base_url:
			self.public_base_url = self.public_base_url.strip().rstrip("/")
			if not self.public_base_url.startswith(("https://", "http://")):
				frappe.throw(_("Public Site URL must start with https://"))

	def on_update(self):
		# Channels show webhook URLs built from the public URL.
		for channel in frappe.get_all("Channel", filters={"kind": ("in", ["SMS", "Web Form"])}, pluck="name"):
			frappe.get_doc("Channel", channel).save(ignore_permissions=True)

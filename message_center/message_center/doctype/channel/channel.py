import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_url

from message_center.email_config import OAUTH, oauth_setup_error
from message_center.email_sync import sync_overdue
from message_center.settings import public_base_url

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

WEBHOOK_PATHS = {
	"webhook_url": "/api/method/message_center.api.twilio.incoming",
	"status_callback_url": "/api/method/message_center.api.twilio.status",
	"submission_endpoint": "/api/method/message_center.api.web_form.submit",
}


class Channel(Document):
	def validate(self):
		self.validate_email_settings()
		self.validate_sms_settings()
		self.set_public_urls()

	def validate_email_settings(self):
		if self.kind != "Email":
			return
		if not self.folders():
			frappe.throw(_("List at least one IMAP folder, e.g. INBOX."))
		if self.imap_port and not 0 < int(self.imap_port) < 65536:
			frappe.throw(_("IMAP Port must be between 1 and 65535."))
		if self.email_account and not frappe.db.get_value("Email Account", self.email_account, "enable_outgoing"):
			frappe.throw(_("Email Account {0} does not send mail: enable outgoing on it first.").format(self.email_account))
		if self.imap_auth == OAUTH and (problem := oauth_setup_error(self)):
			frappe.throw(problem, title=_("IMAP Sign-in"))

	def validate_sms_settings(self):
		if self.kind != "SMS":
			return
		if self.twilio_account_sid and not TWILIO_ACCOUNT_SID.match(self.twilio_account_sid.strip()):
			frappe.throw(_("A Twilio Account SID starts with AC followed by 32 hexadecimal characters."))
		if not (self.sms_from_number or self.messaging_service_sid):
			frappe.throw(_("Set the Twilio sender number or a Messaging Service SID."))
		if self.sms_from_number:
			self.sms_from_number = re.sub(r"[\s().-]", "", self.sms_from_number)
			if not E164.match(self.sms_from_number):
				frappe.throw(_("Write the sender number in E.164 form, e.g. +14155550100."))
		if self.messaging_service_sid and not MESSAGING_SERVICE_SID.match(self.messaging_service_sid.strip()):
			frappe.throw(_("A Messaging Service SID starts with MG followed by 32 hexadecimal characters."))
		if (self.send_rate_per_second or 0) <= 0:
			self.send_rate_per_second = 1

	def set_public_urls(self):
		"""The exact URLs Twilio and landing pages call: Twilio signs the URL it was configured with."""
		base = public_base_url() or get_url()
		query = f"?channel={frappe.utils.quote(self.name or self.channel_name)}"
		for fieldname, path in WEBHOOK_PATHS.items():
			wanted = {"webhook_url": "SMS", "status_callback_url": "SMS", "submission_endpoint": "Web Form"}[fieldname]
			self.set(fieldname, f"{base}{path}{query}" if self.kind == wanted else None)

	def folders(self) -> list[str]:
		return [line.strip() for line in (self.imap_folders or "").splitlines() if line.strip()]

	def onload(self):
		self.set_onload("sync_overdue", sync_overdue(self))

	def on_update(self):
		frappe.clear_document_cache("Channel", self.name)

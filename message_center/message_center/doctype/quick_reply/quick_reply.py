import frappe
from frappe import _
from frappe.model.document import Document

from message_center.core.quick_reply import QuickReplyError, validate_template


class QuickReply(Document):
	def validate(self):
		try:
			validate_template(self.body)
		except QuickReplyError as error:
			frappe.throw(str(error), title=_("Quick Reply Text"))
		if self.scope != "Team":
			self.team = None
		if self.scope != "Channel":
			self.channel = None
		if self.shortcut:
			self.shortcut = self.shortcut.strip().lstrip("/").lower().replace(" ", "-")

import frappe
from frappe import _
from frappe.model.document import Document

from message_center.permissions import clear_team_cache


class MessageCenterTeam(Document):
	def validate(self):
		seen = set()
		for row in self.members:
			if row.user in seen:
				frappe.throw(_("Row {0}: {1} is already a member of this team.").format(row.idx, row.user))
			seen.add(row.user)

	def on_update(self):
		clear_team_cache()

	def on_trash(self):
		clear_team_cache()

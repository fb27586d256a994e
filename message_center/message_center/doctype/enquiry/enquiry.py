import frappe
from frappe import _
from frappe.model.document import Document

from message_center.permissions import is_manager, user_teams

# Status and people move through the enquiry actions (associate, process…), never by a plain edit:
# associating also moves the conversation's messages onto the person's timeline.
GUARDED_FIELDS = ("status", "dead_reason", "opportunity", "contact", "lead", "customer")


class Enquiry(Document):
	def validate(self):
		self.set_team()
		self.normalise_person()
		self.refuse_guarded_edits()

	def set_team(self):
		if self.conversation and not self.team:
			self.team = frappe.db.get_value("Conversation", self.conversation, "team")
		if self.channel and not self.team:
			self.team = frappe.db.get_value("Channel", self.channel, "team")
		if not self.team:
			teams = user_teams()
			if len(teams) == 1:
				self.team = teams[0]
		if not self.team:
			frappe.throw(_("Choose the team this enquiry belongs to."))
		if self.is_new() and not self.flags.ignore_permissions and not is_manager() and self.team not in user_teams():
			frappe.throw(_("You can only create enquiries for your own teams."), frappe.PermissionError)

	def normalise_person(self):
		if self.email_id:
			self.email_id = self.email_id.strip().lower()
		if self.potential_lead != "Yes":
			# The consumer details only apply to a potential lead; keep them from going stale.
			self.existing_customer = self.interested_in = self.preferred_appointment_time = None

	def refuse_guarded_edits(self):
		if self.is_new():
			if not self.flags.via_actions:
				self.status = "New"
				self.dead_reason = self.opportunity = None
			return
		if self.flags.via_actions:
			return
		before = self.get_doc_before_save()
		changed = [field for field in GUARDED_FIELDS if before and (before.get(field) or "") != (self.get(field) or "")]
		if changed:
			frappe.throw(
				_("Use the enquiry's actions (associate, process, mark as dead…) to change {0}.").format(
					", ".join(self.meta.get_label(field) for field in changed)
				),
				frappe.PermissionError,
			)

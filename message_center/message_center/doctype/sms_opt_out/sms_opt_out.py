from frappe.model.document import Document


class SMSOptOut(Document):
	"""Written only by message_center.sms_optout (keywords, Twilio's 21610); read-only in the desk."""

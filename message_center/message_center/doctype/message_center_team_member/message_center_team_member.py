from frappe.model.document import Document


class MessageCenterTeamMember(Document):
	pass

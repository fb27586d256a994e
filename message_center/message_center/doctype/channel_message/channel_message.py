from frappe.model.document import Document


class ChannelMessage(Document):
	pass

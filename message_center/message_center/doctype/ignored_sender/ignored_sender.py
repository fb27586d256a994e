from frappe.model.document import Document


class IgnoredSender(Document):
	def validate(self):
		address = (self.address or "").strip()
		self.address = address.lower() if "@" in address else address

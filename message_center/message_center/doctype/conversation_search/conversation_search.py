import frappe
from frappe.model.document import Document

FULLTEXT_INDEX = "conversation_search_text"


class ConversationSearch(Document):
	"""Maintained by message_center.search; never edited by hand."""


def on_doctype_update():
	exists = frappe.db.sql("show index from `tabConversation Search` where Key_name = %s", FULLTEXT_INDEX)
	if not exists:
		frappe.db.sql_ddl(f"alter table `tabConversation Search` add fulltext index `{FULLTEXT_INDEX}` (header_text, body_text)")

import frappe
from frappe.model.document import Document

UNIQUE_INDEX = "unique_conversation_user"


class ConversationUserState(Document):
	"""Written only through message_center.user_state (one row per conversation and user)."""


def on_doctype_update():
	# frappe.db.add_unique looks the constraint up in every schema of the server; ask this table instead.
	if not frappe.db.sql("show index from `tabConversation User State` where Key_name = %s", UNIQUE_INDEX):
		frappe.db.sql_ddl(f"alter table `tabConversation User State` add unique index `{UNIQUE_INDEX}` (conversation, user)")
	# The Starred and Archived views start from the user's own rows.
	frappe.db.add_index("Conversation User State", ["user", "starred"])
	frappe.db.add_index("Conversation User State", ["user", "archived_at"])

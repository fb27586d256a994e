import frappe


def execute():
	# The workspace was first called "Message Center", whose route /app/message-center is the page's:
	# Frappe routes workspaces first, so the page could not be reached. It is now "Messages".
	if frappe.db.exists("Workspace", {"name": "Message Center", "module": "Message Center"}):
		frappe.delete_doc("Workspace", "Message Center", ignore_permissions=True, force=True)

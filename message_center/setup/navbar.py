"""The "Message Center" and "My Messages" entries in the user's profile menu (Navbar Settings).

Frappe reads the standard_navbar_items hook only when Frappe itself is installed, so an app added
later writes its rows into Navbar Settings itself, above "Log out", and removes them on uninstall.
"""

import frappe

# Shown only to people who can use the page; agents without the role would get a 403 page.
CONDITION = "frappe.user.has_role(['Message Center Agent', 'Message Center Manager', 'System Manager'])"
ITEMS = (
	{"item_label": "Message Center", "item_type": "Route", "route": "/app/message-center"},
	{"item_label": "My Messages", "item_type": "Route", "route": "/app/message-center/mine"},
)


def add_navbar_items():
	settings = frappe.get_single("Navbar Settings")
	present = {row.route for row in settings.settings_dropdown}
	missing = [item for item in ITEMS if item["route"] not in present]
	if not missing:
		return
	rows = list(settings.settings_dropdown)
	# Before "Log out" and its separator, after the user's own entries.
	position = next((index for index, row in enumerate(rows) if row.item_type == "Separator"), len(rows))
	for offset, item in enumerate(missing):
		rows.insert(position + offset, frappe._dict({**item, "condition": CONDITION, "is_standard": 0}))
	settings.set("settings_dropdown", [])
	for row in rows:
		settings.append("settings_dropdown", {key: row.get(key) for key in ("item_label", "item_type", "route", "action", "hidden", "is_standard", "condition")})
	settings.save(ignore_permissions=True)


def remove_navbar_items():
	settings = frappe.get_single("Navbar Settings")
	routes = {item["route"] for item in ITEMS}
	kept = [row for row in settings.settings_dropdown if row.route not in routes]
	if len(kept) == len(settings.settings_dropdown):
		return
	settings.set("settings_dropdown", kept)
	settings.save(ignore_permissions=True)

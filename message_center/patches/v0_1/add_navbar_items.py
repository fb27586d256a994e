from message_center.setup.navbar import add_navbar_items


def execute():
	# Sites installed before the Message Center page existed get its profile-menu entries.
	add_navbar_items()

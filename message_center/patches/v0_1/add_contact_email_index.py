from message_center.setup.install import add_indexes


def execute():
	# Sites installed before sender lookups had their index on Contact Email.
	add_indexes()

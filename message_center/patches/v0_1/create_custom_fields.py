from message_center.setup.install import after_install


def execute():
	# Idempotent: brings sites installed before a field was added up to date.
	after_install()

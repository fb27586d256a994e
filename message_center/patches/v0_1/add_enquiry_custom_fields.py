from message_center.setup.install import after_install


def execute():
	# UTM fields on Lead/Opportunity and the Campaign's default assignee, for sites installed before.
	after_install()

app_name = "message_center"
app_title = "Message Center"
app_publisher = "Message Center maintainers"
app_description = "One shared inbox in the ERPNext desk for email, SMS, web form and phone enquiries"
app_email = "maintainers@users.noreply.h-seed-a05321aa.example"
app_license = "mit"

# org/repo form: a bare "erpnext" makes v15's install-app ask GitHub's API for the org.
required_apps = ["frappe/erpnext"]

after_install = "message_center.setup.install.after_install"
before_uninstall = "message_center.setup.install.before_uninstall"

# A bare test site gets a Company and the records ERPNext's setup wizard makes.
before_tests = "message_center.tests.site_setup.before_tests"

# Team-scoped access: agents see only the work of the teams they belong to.
permission_query_conditions = {
	"Conversation": "message_center.permissions.conversation_query",
	"Enquiry": "message_center.permissions.enquiry_query",
	"Channel": "message_center.permissions.channel_query",
	"Quick Reply": "message_center.permissions.quick_reply_query",
}

has_permission = {
	"Conversation": "message_center.permissions.has_conversation_permission",
	"Enquiry": "message_center.permissions.has_enquiry_permission",
	"Channel": "message_center.permissions.has_channel_permission",
	"Quick Reply": "message_center.permissions.has_quick_reply_permission",
}

# Contact, Lead, Customer and Opportunity forms list their conversations and enquiries.
override_doctype_dashboards = {
	"Contact": "message_center.dashboards.contact",
	"Lead": "message_center.dashboards.lead",
	"Customer": "message_center.dashboards.customer",
	"Opportunity": "message_center.dashboards.opportunity",
}

# Message Center page: the inbox search index and each agent's read/star/archive marks follow the
# conversations and messages they describe.
doc_events = {
	"Conversation": {
		"before_insert": ["message_center.inbox_query.set_activity_time", "message_center.assignment.assign_new_conversation"],
		"on_update": ["message_center.search.on_conversation_update", "message_center.assignment.conversation_updated"],
		"on_change": "message_center.assignment.conversation_changed",
		"on_trash": ["message_center.search.on_conversation_trash", "message_center.user_state.delete_for_conversation"],
	},
	"Communication": {
		"after_insert": "message_center.search.on_communication_insert",
		"on_change": "message_center.email_reply.on_communication_change",  # reply delivery status
	},
	"User": {"on_trash": "message_center.user_state.delete_for_user"},
	# Enquiries: the website form's submissions go through the same intake; Assign To (ToDo) and
	# Conversation.claimed_by follow each other.
	"Enquiry": {
		"before_insert": "message_center.enquiries.before_enquiry_insert",
		"after_insert": "message_center.enquiries.after_enquiry_insert",
	},
	"ToDo": {
		"after_insert": "message_center.assignment.todo_inserted",
		"on_update": "message_center.assignment.todo_updated",
		"on_trash": "message_center.assignment.todo_trashed",
	},
}

# Web form JSON endpoint: CORS for each Web Form channel's allowed origins; enquiry tasks on timelines.
after_request = ["message_center.api.web_form.add_cors_headers"]
additional_timeline_content = {
	"Contact": ["message_center.enquiry_process.tasks_on_timeline"],
	"Lead": ["message_center.enquiry_process.tasks_on_timeline"],
	"Customer": ["message_center.enquiry_process.tasks_on_timeline"],
}

# Email: every 5 minutes one deduplicated sync job per enabled Email channel; replies carry References.
scheduler_events = {
	"cron": {
		"*/5 * * * *": ["message_center.email_sync.enqueue_all"],
		# SMS: file accepted texts whose filing job was lost (queue down, worker killed).
		"* * * * *": ["message_center.sms_inbound.process_pending"],
	}
}
make_email_body_message = ["message_center.email_reply.add_references_header"]

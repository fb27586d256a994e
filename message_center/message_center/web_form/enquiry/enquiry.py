def get_context(context):
	# Submissions are inserted by Frappe's web form and completed by message_center.enquiries
	# (before_enquiry_insert / after_enquiry_insert): same checks, same records as every intake.
	context.no_cache = 1

"""Fields Message Center adds to ERPNext doctypes, defined in code (never a Custom Field fixture)."""


def _source_links() -> list[dict]:
	"""Where a Lead or Opportunity came from: the enquiry and its conversation."""
	return [
		{
			"fieldname": "mc_source_enquiry",
			"fieldtype": "Link",
			"label": "Source Enquiry",
			"options": "Enquiry",
			"insert_after": "source",
			"read_only": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "mc_source_conversation",
			"fieldtype": "Link",
			"label": "Source Conversation",
			"options": "Conversation",
			"insert_after": "mc_source_enquiry",
			"read_only": 1,
			"no_copy": 1,
		},
	]


CUSTOM_FIELDS = {
	"Contact": [
		{
			"fieldname": "mc_sms_opt_out",
			"fieldtype": "Check",
			"label": "Opted Out of SMS",
			"insert_after": "unsubscribed",
			"read_only": 1,
			"no_copy": 1,
			"description": "Set when this person texted STOP; only their START clears it.",
		},
		{
			"fieldname": "mc_sms_opt_out_at",
			"fieldtype": "Datetime",
			"label": "Opted Out of SMS At",
			"insert_after": "mc_sms_opt_out",
			"read_only": 1,
			"no_copy": 1,
			"depends_on": "eval:doc.mc_sms_opt_out",
		},
	],
	"Lead": _source_links(),
	"Opportunity": _source_links(),
}

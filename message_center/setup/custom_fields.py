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


def _utm_fields() -> list[dict]:
	"""The website visit's UTM parameters, carried from the enquiry to its Lead and Opportunity."""
	return [
		{
			"fieldname": f"mc_utm_{part}",
			"fieldtype": "Data",
			"label": f"UTM {part.title()}",
			"insert_after": after,
			"read_only": 1,
			"no_copy": 1,
		}
		for part, after in (("source", "mc_source_conversation"), ("medium", "mc_utm_source"), ("campaign", "mc_utm_medium"))
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
	"Lead": _source_links() + _utm_fields(),
	"Opportunity": _source_links() + _utm_fields(),
	"Campaign": [
		{
			"fieldname": "mc_default_assignee",
			"fieldtype": "Link",
			"label": "Default Assignee (Message Center)",
			"options": "User",
			"insert_after": "campaign_name",
			"description": "New conversations of channels linked to this campaign are assigned to this agent.",
		}
	],
}

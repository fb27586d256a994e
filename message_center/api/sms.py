"""SMS helpers for the desk's composer."""

import frappe
from frappe import _

from message_center.core.sms_segments import SmsTooLong, count_segments, detect_encoding, non_gsm_characters


@frappe.whitelist()
def segment_info(text: str | None = None) -> dict:
	"""Encoding and segment count of a draft, as the composer shows them while the agent types.

	Over 1,600 characters the draft cannot be sent: `error` says so and by how much."""
	if not frappe.has_permission("Conversation", "read"):
		raise frappe.PermissionError(_("Only Message Center users can use the SMS composer."))
	text = text or ""
	try:
		info = count_segments(text)
	except SmsTooLong as error:
		return {
			"encoding": detect_encoding(text),
			"segments": None,
			"characters": len(text),
			"remaining_in_segment": 0,
			"non_gsm_characters": non_gsm_characters(text),
			"error": str(error),
		}
	return {
		"encoding": info.encoding,
		"segments": info.segments,
		"characters": info.characters,
		"remaining_in_segment": info.remaining_in_segment,
		"non_gsm_characters": info.non_gsm_characters,
		"error": None,
	}

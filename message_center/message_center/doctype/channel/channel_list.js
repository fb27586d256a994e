frappe.listview_settings["Channel"] = {
	add_fields: ["enabled", "sync_status", "kind", "last_success_at", "creation"],
	get_indicator(doc) {
		if (!doc.enabled) return [__("Disabled"), "gray", "enabled,=,0"];
		if (doc.sync_status === "Failed") return [__("Failing"), "red", "sync_status,=,Failed"];
		if (doc.kind === "Email" && sync_overdue(doc)) return [__("Not syncing"), "orange", "kind,=,Email"];
		return [__("Enabled"), "green", "enabled,=,1"];
	},
};

// As email_sync.OVERDUE_AFTER: three missed polls of the 5-minute sync.
const OVERDUE_AFTER_MINUTES = 15;

function sync_overdue(doc) {
	// both in the system time zone, as stored
	const since = doc.last_success_at || doc.creation;
	return since && frappe.datetime.get_minute_diff(frappe.datetime.system_datetime(), since) > OVERDUE_AFTER_MINUTES;
}

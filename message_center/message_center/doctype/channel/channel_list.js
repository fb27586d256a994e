frappe.listview_settings["Channel"] = {
	add_fields: ["enabled", "sync_status", "kind"],
	get_indicator(doc) {
		if (!doc.enabled) return [__("Disabled"), "gray", "enabled,=,0"];
		if (doc.sync_status === "Failed") return [__("Failing"), "red", "sync_status,=,Failed"];
		return [__("Enabled"), "green", "enabled,=,1"];
	},
};

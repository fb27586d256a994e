frappe.ui.form.on("Channel", {
	refresh(frm) {
		if (frm.is_new()) return;
		const indicator = {
			Idle: "green",
			Queued: "blue",
			Running: "blue",
			Failed: "red",
		}[frm.doc.sync_status];
		if (frm.doc.kind === "Email" && frm.doc.sync_status) {
			frm.dashboard.set_headline_alert(
				`<span class="indicator ${indicator || "gray"}">${__(frm.doc.sync_status)}</span>
				${frm.doc.last_error && frm.doc.sync_status === "Failed" ? frappe.utils.escape_html(frm.doc.last_error) : ""}`
			);
		}
	},
});

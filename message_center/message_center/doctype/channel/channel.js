frappe.ui.form.on("Channel", {
	setup(frm) {
		// The sync job pushes the channel's name after every batch; refetch the (permission-checked) doc.
		frappe.realtime.on("message_center_sync", (data) => {
			if (!data || data.channel !== frm.doc.name || frm.is_dirty()) return;
			clearTimeout(frm._mc_sync_reload);
			frm._mc_sync_reload = setTimeout(() => frm.reload_doc(), 500);
		});
	},

	refresh(frm) {
		if (frm.is_new()) return;
		if (frm.doc.kind === "Email") {
			show_mail_health(frm);
			if (frm.doc.enabled && frm.perm[0] && frm.perm[0].write) {
				frm.add_custom_button(__("Sync now"), () => sync_now(frm));
			}
		}
	},
});

function sync_now(frm) {
	frappe.call({
		method: "message_center.api.channel.sync_now",
		type: "POST",
		args: { channel: frm.doc.name },
		freeze: true,
		callback(r) {
			if (!r.message) return;
			frappe.show_alert({ message: r.message.message, indicator: r.message.queued ? "green" : "blue" });
			frm.reload_doc();
		},
	});
}

function show_mail_health(frm) {
	const doc = frm.doc;
	const colour = { Idle: "green", Queued: "blue", Running: "blue", Failed: "red" }[doc.sync_status] || "gray";
	const parts = [`<span class="indicator ${colour}">${__(doc.sync_status || "Never synced")}</span>`];
	parts.push(
		doc.last_success_at
			? __("Last successful sync {0}", [frappe.datetime.comment_when(doc.last_success_at)])
			: __("No successful sync yet")
	);
	if (doc.backlog) parts.push(__("{0} messages waiting", [doc.backlog]));
	if (doc.lag_seconds) parts.push(__("{0} behind the mailbox", [format_duration(doc.lag_seconds)]));
	parts.push(__("{0} imported", [doc.messages_imported || 0]));
	let html = parts.join(" · ");
	// set by the controller when three 5-minute polls went by without a successful sync
	const overdue = (doc.__onload || {}).sync_overdue;
	if (overdue) {
		const words = overdue.scheduler_inactive
			? __("The scheduler is off on this site, so no mail is being checked: turn it on with bench enable-scheduler.")
			: __(
					"Mail is checked every 5 minutes, but no sync has succeeded for a while: the scheduler or the background workers (long queue) may be stopped."
			  );
		html += `<div>${words}</div>`;
	}
	if (doc.sync_status === "Failed" && doc.last_error) {
		html += `<div class="text-danger small">${frappe.utils.escape_html(doc.last_error)}</div>`;
	}
	frm.dashboard.set_headline_alert(html, overdue ? "yellow" : doc.sync_status === "Failed" ? "red" : "blue");

	frappe.db.count("Channel Message", { filters: { channel: doc.name, needs_review: 1 } }).then((count) => {
		if (!count) return;
		frm.dashboard.add_indicator(__("{0} messages kept raw for review", [count]), "orange");
		frm.add_custom_button(__("Messages to review"), () =>
			frappe.set_route("List", "Channel Message", { channel: doc.name, needs_review: 1 })
		);
	});
}

function format_duration(seconds) {
	if (seconds < 120) return __("{0} s", [seconds]);
	if (seconds < 7200) return __("{0} min", [Math.round(seconds / 60)]);
	if (seconds < 172800) return __("{0} h", [Math.round(seconds / 3600)]);
	return __("{0} days", [Math.round(seconds / 86400)]);
}

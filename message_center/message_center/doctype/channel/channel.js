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
			if (frm.perm[0] && frm.perm[0].write) {
				frm.add_custom_button(__("Test connection"), () => test_connection(frm));
				if (frm.doc.enabled) frm.add_custom_button(__("Sync now"), () => sync_now(frm));
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

// Signs in with the saved settings and looks for each folder; the mailbox and the channel stay as they are.
async function test_connection(frm) {
	if (frm.is_dirty()) await frm.save();
	const r = await frappe.call({
		method: "message_center.api.channel.test_connection",
		type: "POST",
		args: { channel: frm.doc.name },
		freeze: true,
		freeze_message: __("Signing in to {0}…", [frm.doc.imap_host]),
	});
	const check = r.message;
	if (!check) return;
	const esc = frappe.utils.escape_html;
	const server = esc(`${frm.doc.imap_host}:${frm.doc.imap_port || ""}`.replace(/:$/, ""));
	const failed = {
		connect: __("Could not reach {0}: check the host and port.", [server]),
		tls: __("The secure connection to {0} failed: check SSL and the port.", [server]),
		timeout: __("{0} did not answer in time.", [server]),
		login: __("{0} refused the sign-in: check the username and password (or the OAuth authorisation).", [server]),
		disconnected: __("{0} closed the connection.", [server]),
		protocol: __("{0} answered something unexpected.", [server]),
	}[check.error_kind];
	const folders = (check.folders || [])
		.map((folder) =>
			folder.found
				? `<li>${esc(folder.folder)}: ${__("{0} messages", [format_number(folder.messages, null, 0)])}</li>`
				: `<li class="text-danger">${esc(folder.folder)}: ${__("not found")}</li>`
		)
		.join("");
	let html;
	if (failed) {
		html = `<p>${failed}</p><p class="text-muted small">${esc(check.error || "")}</p>`;
	} else {
		html = `<p>${__("Signed in to {0}.", [server])}</p><ul>${folders}</ul>`;
		if (!check.ok) {
			const names = (check.server_folders || []).map(esc).join(", ");
			html += `<p>${__("Folders on the server: {0}", [names || __("none listed")])}</p>`;
		}
		html += `<p class="text-muted small">${__("No message was read or changed on the server.")}</p>`;
	}
	frappe.msgprint({
		title: check.ok ? __("Connection works") : failed ? __("Connection failed") : __("Folder not found"),
		message: html,
		indicator: check.ok ? "green" : failed ? "red" : "orange",
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

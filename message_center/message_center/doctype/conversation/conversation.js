frappe.ui.form.on("Conversation", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(__("Open in Message Center"), () => {
			frappe.set_route("message-center", frm.doc.name);
		});
	},
});

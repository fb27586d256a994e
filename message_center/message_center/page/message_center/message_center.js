// Message Center: the shared inbox. /app/message-center shows everything of my teams,
// /app/message-center/mine ("My Messages") only what is claimed by or assigned to me.
frappe.pages["message-center"].on_page_load = function (wrapper) {
	frappe.ui.make_app_page({ parent: wrapper, title: __("Message Center"), single_column: true });
	wrapper.message_center_ready = new Promise((resolve) => {
		frappe.require(["message_center.bundle.js", "message_center.bundle.css"], () => {
			wrapper.message_center = new message_center.InboxPage(wrapper);
			resolve(wrapper.message_center);
		});
	});
};

frappe.pages["message-center"].on_page_show = function (wrapper) {
	wrapper.message_center_ready && wrapper.message_center_ready.then((page) => page.show());
};

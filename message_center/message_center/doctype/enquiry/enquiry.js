// Associate / Action / Process on the standard Enquiry form, through message_center.api.enquiry
// (the same permission-checked methods the Message Center page uses).

const API = "message_center.api.enquiry.";

function call_api(frm, method, args, done) {
	return frappe
		.call({ method: API + method, args: { enquiry: frm.doc.name, ...args }, freeze: true })
		.then((r) => {
			if (done) done(r.message);
			frm.reload_doc();
			return r.message;
		});
}

frappe.ui.form.on("Enquiry", {
	refresh(frm) {
		// A person can be picked on a new enquiry; afterwards only Associate moves it (and its messages).
		for (const field of ["contact", "lead", "customer"]) {
			frm.set_df_property(field, "read_only", frm.is_new() ? 0 : 1);
		}
		if (frm.is_new()) return;
		frappe.call({ method: API + "get", args: { enquiry: frm.doc.name } }).then((r) => {
			if (r.message) add_buttons(frm, r.message.actions || {});
		});
		if (frm.doc.conversation) {
			frm.add_custom_button(__("Open in Message Center"), () =>
				frappe.set_route("message-center", frm.doc.conversation)
			);
		}
	},
});

function add_buttons(frm, actions) {
	const allowed = (action) => actions[action] && actions[action].allowed;
	const associate = __("Associate");
	const action = __("Action");
	const process = __("Process");

	if (allowed("associate")) {
		frm.add_custom_button(__("Suggested People"), () => choose_suggestion(frm), associate);
		frm.add_custom_button(__("Existing Contact, Lead or Customer"), () => choose_existing(frm), associate);
		frm.add_custom_button(__("New Contact"), () => new_contact(frm), associate);
		frm.add_custom_button(
			__("New Lead"),
			() => call_api(frm, "create_person", { doctype: "Lead" }),
			associate
		);
	}

	if (frm.doc.conversation) {
		frm.add_custom_button(
			__("Reply"),
			() => frappe.set_route("message-center", frm.doc.conversation),
			action
		);
	}
	frm.add_custom_button(__("Create Task"), () => create_task(frm), action);
	frm.add_custom_button(__("Add to Marketing List"), () => add_to_marketing_list(frm), action);

	if (allowed("create_opportunity")) {
		frm.add_custom_button(
			__("Create Opportunity"),
			() =>
				call_api(frm, "create_opportunity", {}, (result) =>
					frappe.show_alert({
						message: __("Opportunity {0} created", [result.opportunity]),
						indicator: "green",
					})
				),
			process
		);
	}
	if (allowed("associate_opportunity")) {
		frm.add_custom_button(__("Associate Opportunity"), () => associate_opportunity(frm), process);
	}
	if (allowed("mark_dead")) {
		frm.add_custom_button(__("Mark as Dead"), () => mark_dead(frm), process);
	}
	if (allowed("no_action")) {
		frm.add_custom_button(__("No Action Required"), () => call_api(frm, "no_action", {}), process);
	}
	if (allowed("reopen")) {
		frm.add_custom_button(__("Reopen"), () => call_api(frm, "reopen", {}), process);
	}
}

function choose_suggestion(frm) {
	frappe.call({ method: API + "get_suggestions", args: { enquiry: frm.doc.name } }).then((r) => {
		const suggestions = r.message || [];
		if (!suggestions.length) {
			frappe.msgprint(__("Nobody in the database looks like this sender. Create a new Contact or Lead."));
			return;
		}
		const dialog = new frappe.ui.Dialog({
			title: __("Suggested People"),
			fields: [
				{
					fieldname: "choice",
					fieldtype: "Select",
					label: __("Person"),
					reqd: 1,
					options: suggestions.map((row, index) => ({
						value: String(index),
						label: `${__(row.doctype)}: ${row.display_name || row.name} (${row.reasons.join(", ")})`,
					})),
				},
			],
			primary_action_label: __("Associate"),
			primary_action({ choice }) {
				const row = suggestions[Number(choice)];
				dialog.hide();
				call_api(frm, "associate", { doctype: row.doctype, name: row.name });
			},
		});
		dialog.show();
	});
}

function choose_existing(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Associate"),
		fields: [
			{
				fieldname: "doctype",
				fieldtype: "Select",
				label: __("Type"),
				options: ["Contact", "Lead", "Customer"],
				default: "Contact",
				reqd: 1,
			},
			{ fieldname: "name", fieldtype: "Dynamic Link", options: "doctype", label: __("Record"), reqd: 1 },
		],
		primary_action_label: __("Associate"),
		primary_action(values) {
			dialog.hide();
			call_api(frm, "associate", values);
		},
	});
	dialog.show();
}

function new_contact(frm) {
	frappe.confirm(
		__("Also create the account (a Customer) for {0}?", [
			frappe.utils.escape_html(frm.doc.company_name || frm.doc.person_name || ""),
		]),
		() => call_api(frm, "create_person", { doctype: "Contact", with_customer: 1 }),
		() => call_api(frm, "create_person", { doctype: "Contact", with_customer: 0 })
	);
}

function create_task(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Create Task"),
		fields: [
			{ fieldname: "assign_to", fieldtype: "Link", options: "User", label: __("Assign To"), reqd: 1 },
			{ fieldname: "description", fieldtype: "Small Text", label: __("Task"), reqd: 1 },
			{ fieldname: "date", fieldtype: "Date", label: __("Due Date") },
		],
		primary_action_label: __("Create"),
		primary_action(values) {
			dialog.hide();
			call_api(frm, "create_task", values);
		},
	});
	dialog.show();
}

function add_to_marketing_list(frm) {
	frappe.call({ method: API + "email_groups" }).then((r) => {
		const groups = (r.message || []).map((row) => row.name);
		if (!groups.length) {
			frappe.msgprint(__("There are no marketing lists (Email Groups) yet."));
			return;
		}
		const dialog = new frappe.ui.Dialog({
			title: __("Add to Marketing List"),
			fields: [{ fieldname: "email_group", fieldtype: "Select", options: groups, label: __("Marketing List"), reqd: 1 }],
			primary_action_label: __("Add"),
			primary_action(values) {
				dialog.hide();
				call_api(frm, "add_to_marketing_list", values, (result) =>
					frappe.show_alert({
						message: result.created
							? __("{0} added to {1}", [result.email, result.email_group])
							: __("{0} is already on {1}", [result.email, result.email_group]),
						indicator: "green",
					})
				);
			},
		});
		dialog.show();
	});
}

function associate_opportunity(frm) {
	frappe.call({ method: API + "get_open_opportunities", args: { enquiry: frm.doc.name } }).then((r) => {
		const opportunities = r.message || [];
		if (!opportunities.length) {
			frappe.msgprint(__("This person has no open Opportunity. Create one instead."));
			return;
		}
		const dialog = new frappe.ui.Dialog({
			title: __("Associate Opportunity"),
			fields: [
				{
					fieldname: "opportunity",
					fieldtype: "Select",
					label: __("Opportunity"),
					reqd: 1,
					options: opportunities.map((row) => ({
						value: row.name,
						label: `${row.name}: ${row.title || ""} (${__(row.status)})`,
					})),
				},
			],
			primary_action_label: __("Associate"),
			primary_action(values) {
				dialog.hide();
				call_api(frm, "associate_opportunity", values);
			},
		});
		dialog.show();
	});
}

function mark_dead(frm) {
	frappe.call({ method: API + "dead_reasons" }).then((r) => {
		const { reasons, can_add } = r.message || { reasons: [], can_add: false };
		const fields = [
			{ fieldname: "reason", fieldtype: "Select", options: ["", ...reasons], label: __("Reason") },
		];
		if (can_add) {
			fields.push({ fieldname: "new_reason", fieldtype: "Data", label: __("Or a new reason") });
		}
		const dialog = new frappe.ui.Dialog({
			title: __("Mark as Dead"),
			fields,
			primary_action_label: __("Mark as Dead"),
			primary_action(values) {
				const reason = (values.new_reason || values.reason || "").trim();
				if (!reason) {
					frappe.msgprint(__("Choose why this enquiry is dead."));
					return;
				}
				dialog.hide();
				call_api(frm, "mark_dead", { reason });
			},
		});
		dialog.show();
	});
}

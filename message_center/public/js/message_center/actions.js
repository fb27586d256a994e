// Dialogs behind the header's actions: Assign, Transfer, Delete, and the enquiry's Associate, Action
// and Process (message_center.api.enquiry).
import { call, esc } from "./util";

function allowed(enquiry, action) {
	const answer = (enquiry.actions || {})[action];
	return !answer || answer.allowed !== false;
}

function refused_reason(enquiry, action) {
	const answer = (enquiry.actions || {})[action];
	return answer && answer.allowed === false ? answer.reason : "";
}

export function assign_dialog(view) {
	const agents = view.options.agents.filter((agent) => agent.user !== view.data.claimed_by);
	const dialog = new frappe.ui.Dialog({
		title: __("Assign {0}", [view.data.title]),
		fields: [
			{
				fieldname: "user",
				label: __("Agent"),
				fieldtype: "Select",
				reqd: 1,
				options: [""].concat(agents.map((agent) => ({ value: agent.user, label: agent.full_name }))),
			},
		],
		primary_action_label: __("Assign"),
		primary_action: async ({ user }) => {
			await call("conversation.assign", { conversation: view.name, user });
			dialog.hide();
			view.refresh();
		},
	});
	dialog.show();
}

export function transfer_dialog(view) {
	const teams = view.options.all_teams || view.options.teams;
	const dialog = new frappe.ui.Dialog({
		title: __("Transfer {0}", [view.data.title]),
		fields: [
			{ fieldname: "team", label: __("Team"), fieldtype: "Select", options: [""].concat(teams), default: view.data.team },
			{
				fieldname: "user",
				label: __("Agent"),
				fieldtype: "Link",
				options: "User",
				description: __("Leave empty for a cold transfer to the team's unassigned queue."),
				get_query: () => ({ filters: { enabled: 1, user_type: "System User" } }),
			},
			{
				fieldname: "note",
				label: __("Hand-over note"),
				fieldtype: "Small Text",
				description: __("Warm transfer: tell your colleague what it is about. It is kept in the history."),
			},
		],
		primary_action_label: __("Transfer"),
		primary_action: async (values) => {
			if (!values.team && !values.user) {
				frappe.msgprint(__("Choose a team or an agent to transfer to."));
				return;
			}
			await call("conversation.transfer", { conversation: view.name, ...values });
			dialog.hide();
			view.refresh();
		},
	});
	dialog.show();
}

export function delete_dialog(view) {
	frappe.confirm(
		__("Delete the conversation with {0}, all its messages and its enquiry? This cannot be undone.", [esc(view.data.title)]),
		async () => {
			await call("conversation.delete", { conversation: view.name });
			frappe.show_alert({ message: __("Conversation deleted."), indicator: "green" });
			view.page.close_tab(view.name);
			view.page.list.refresh();
			view.page.list.refresh_counts();
		}
	);
}

export async function associate_dialog(view) {
	const enquiry = view.details.enquiry;
	const suggestions = await call("enquiry.get_suggestions", { enquiry: enquiry.name });
	const options = suggestions.map((row) => ({
		value: `${row.doctype}::${row.name}`,
		label: `${row.display_name} (${__(row.doctype)}) — ${row.reasons.join(", ")}`,
	}));
	const dialog = new frappe.ui.Dialog({
		title: __("Associate {0}", [view.data.title]),
		fields: [
			{
				fieldname: "suggestion",
				label: __("Suggested"),
				fieldtype: "Select",
				options: [""].concat(options),
				description:
					options.length > 1
						? __("{0} existing people may be this person, best first.", [options.length])
						: options.length
						? __("One existing person may be this person.")
						: __("No existing Contact, Lead or Customer matches this person."),
			},
			{ fieldtype: "Section Break", label: __("Or pick one") },
			{ fieldname: "doctype", label: __("Type"), fieldtype: "Select", options: "Contact\nLead\nCustomer", default: "Contact" },
			{ fieldname: "name", label: __("Record"), fieldtype: "Dynamic Link", options: "doctype" },
			{ fieldtype: "Section Break", label: __("Or create") },
			{ fieldname: "with_customer", label: __("Also create a Customer for a new Contact"), fieldtype: "Check" },
			{ fieldname: "new_contact", label: __("New Contact"), fieldtype: "Button", click: () => create("Contact") },
			{ fieldname: "new_lead", label: __("New Lead"), fieldtype: "Button", click: () => create("Lead") },
		],
		primary_action_label: __("Associate"),
		primary_action: async (values) => {
			let [doctype, name] = (values.suggestion || "").split("::");
			if (!name) [doctype, name] = [values.doctype, values.name];
			if (!name) {
				frappe.msgprint(__("Choose a suggestion or a record."));
				return;
			}
			await call("enquiry.associate", { enquiry: enquiry.name, doctype, name });
			done();
		},
	});
	const done = () => {
		dialog.hide();
		view.refresh();
	};
	const create = async (doctype) => {
		const with_customer = dialog.get_value("with_customer") ? 1 : 0;
		await call("enquiry.create_person", { enquiry: enquiry.name, doctype, with_customer });
		frappe.show_alert({ message: __("{0} created and associated.", [__(doctype)]), indicator: "green" });
		done();
	};
	dialog.show();
}

export async function action_dialog(view) {
	const enquiry = view.details.enquiry;
	const groups = await call("enquiry.email_groups").catch(() => []);
	const dialog = new frappe.ui.Dialog({
		title: __("Action"),
		fields: [
			{
				fieldname: "action",
				label: __("Action"),
				fieldtype: "Select",
				reqd: 1,
				options: [
					{ value: "reply", label: __("Reply by email or text") },
					{ value: "task", label: __("Create Task") },
					{ value: "marketing", label: __("Add to Marketing List") },
				],
				default: "reply",
			},
			{ fieldname: "assign_to", label: __("Assign To"), fieldtype: "Link", options: "User", depends_on: "eval:doc.action=='task'", default: frappe.session.user },
			{ fieldname: "description", label: __("Task"), fieldtype: "Small Text", depends_on: "eval:doc.action=='task'" },
			{ fieldname: "date", label: __("Due Date"), fieldtype: "Date", depends_on: "eval:doc.action=='task'" },
			{
				fieldname: "email_group",
				label: __("Marketing List"),
				fieldtype: "Select",
				options: [""].concat(groups.map((group) => ({ value: group.name, label: group.title || group.name }))),
				depends_on: "eval:doc.action=='marketing'",
				description: groups.length ? "" : __("No Email Group exists yet."),
			},
		],
		primary_action_label: __("Go"),
		primary_action: async (values) => {
			if (values.action === "reply") {
				dialog.hide();
				view.composer.focus("message");
				return;
			}
			if (values.action === "task") {
				if (!values.assign_to || !values.description) return frappe.msgprint(__("Say who does what."));
				if (!allowed(enquiry, "create_task")) return frappe.msgprint(refused_reason(enquiry, "create_task"));
				await call("enquiry.create_task", { enquiry: enquiry.name, assign_to: values.assign_to, description: values.description, date: values.date || null });
				frappe.show_alert({ message: __("Task created."), indicator: "green" });
			} else {
				if (!values.email_group) return frappe.msgprint(__("Choose a marketing list."));
				if (!allowed(enquiry, "add_to_marketing_list")) return frappe.msgprint(refused_reason(enquiry, "add_to_marketing_list"));
				await call("enquiry.add_to_marketing_list", { enquiry: enquiry.name, email_group: values.email_group });
				frappe.show_alert({ message: __("Added to {0}.", [values.email_group]), indicator: "green" });
			}
			dialog.hide();
			view.refresh();
		},
	});
	dialog.show();
}

export async function process_dialog(view) {
	const enquiry = view.details.enquiry;
	const choices = [
		["create_opportunity", __("Create Opportunity")],
		["associate_opportunity", __("Associate Opportunity")],
		["mark_dead", __("Mark as Dead")],
		["no_action", __("No action required")],
		["reopen", __("Reopen")],
	].filter(([action]) => allowed(enquiry, action));
	if (!choices.length) {
		frappe.msgprint(refused_reason(enquiry, "create_opportunity") || __("Nothing can be done with this enquiry now."));
		return;
	}
	const [opportunities, reasons] = await Promise.all([
		allowed(enquiry, "associate_opportunity") ? call("enquiry.get_open_opportunities", { enquiry: enquiry.name }) : [],
		allowed(enquiry, "mark_dead") ? call("enquiry.dead_reasons") : { reasons: [] },
	]);
	const dialog = new frappe.ui.Dialog({
		title: __("Process"),
		fields: [
			{ fieldname: "action", label: __("Action"), fieldtype: "Select", reqd: 1, options: choices.map(([value, label]) => ({ value, label })), default: choices[0][0] },
			{
				fieldname: "opportunity",
				label: __("Opportunity"),
				fieldtype: "Select",
				options: [""].concat((opportunities || []).map((row) => ({ value: row.name, label: `${row.title || row.name} (${row.name})` }))),
				depends_on: "eval:doc.action=='associate_opportunity'",
			},
			{ fieldname: "reason", label: __("Dead Reason"), fieldtype: "Select", options: [""].concat(reasons.reasons || []), depends_on: "eval:doc.action=='mark_dead'" },
		],
		primary_action_label: __("Go"),
		primary_action: async (values) => {
			const args = { enquiry: enquiry.name };
			if (values.action === "associate_opportunity") {
				if (!values.opportunity) return frappe.msgprint(__("Choose the opportunity."));
				args.opportunity = values.opportunity;
			}
			if (values.action === "mark_dead") {
				if (!values.reason) return frappe.msgprint(__("Choose why it is dead."));
				args.reason = values.reason;
			}
			const result = await call(`enquiry.${values.action}`, args);
			if (result && result.opportunity && values.action === "create_opportunity") {
				frappe.show_alert({ message: __("Opportunity {0} created.", [result.opportunity]), indicator: "green" });
			}
			dialog.hide();
			view.refresh();
		},
	});
	dialog.show();
}

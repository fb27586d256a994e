// Consumer details: the enquiry's person fields and consumer details, saved through the enquiry API.
// "Potential Lead = Yes" reveals the lead questions.
import { call, esc } from "./util";

const EXTRA = "eval:doc.potential_lead=='Yes'";
const FIELDS = [
	{ fieldname: "person_name", label: __("Name"), fieldtype: "Data" },
	{ fieldname: "address", label: __("Address"), fieldtype: "Small Text" },
	{ fieldname: "email_id", label: __("Email Address"), fieldtype: "Data", options: "Email" },
	{ fieldname: "phone", label: __("Phone"), fieldtype: "Data" },
	{ fieldname: "company_name", label: __("Company"), fieldtype: "Data" },
	{ fieldname: "potential_lead", label: __("Potential Lead"), fieldtype: "Select", options: "\nYes\nNo" },
	{ fieldname: "existing_customer", label: __("Existing Customer"), fieldtype: "Select", options: "\nYes\nNo", depends_on: EXTRA },
	{ fieldname: "interested_in", label: __("Interested In"), fieldtype: "Select", options: "\nSales\nService", depends_on: EXTRA },
	{
		fieldname: "preferred_appointment_time",
		label: __("Preferred Appointment Time"),
		fieldtype: "Select",
		options: "\nMorning\nAfternoon\nEvening",
		depends_on: EXTRA,
	},
];
const EDITABLE = FIELDS.map((field) => field.fieldname);
const RECORDS = [
	["contact", "Contact"],
	["lead", "Lead"],
	["customer", "Customer"],
	["opportunity", "Opportunity"],
];

export class DetailsPanel {
	constructor({ parent, view }) {
		this.view = view;
		this.$wrapper = $(`<aside class="mc-details" aria-label="${__("Consumer details")}"></aside>`).appendTo(parent);
	}

	async load() {
		const data = this.view.data;
		let enquiry = null;
		if (data.enquiry) {
			try {
				enquiry = await call("enquiry.get", { enquiry: data.enquiry });
			} catch (error) {
				enquiry = null;
			}
		}
		// A refresh (realtime, an action) must not throw away what the agent is typing here.
		const keep = enquiry && this.enquiry && enquiry.name === this.enquiry.name && this.has_unsaved_changes();
		this.enquiry = enquiry;
		if (!keep) this.render();
	}

	has_unsaved_changes() {
		if (!this.form || !this.enquiry) return false;
		const values = this.form.get_values(true) || {};
		return EDITABLE.some((field) => (this.enquiry[field] || null) !== (values[field] || null));
	}

	render() {
		const data = this.view.data;
		this.$wrapper.empty();
		$(`<div class="mc-details-title">${__("Consumer Details")}</div>`).appendTo(this.$wrapper);
		if (!this.enquiry) {
			this.render_party(data);
			return;
		}
		const $form = $('<div class="mc-details-form"></div>').appendTo(this.$wrapper);
		this.form = new frappe.ui.FieldGroup({ fields: FIELDS, body: $form[0], no_submit_on_enter: true });
		this.form.make();
		this.form.set_values(Object.fromEntries(EDITABLE.map((field) => [field, this.enquiry[field] || ""])));
		this.form.refresh_dependency();
		const $save = $(`<button class="btn btn-xs btn-primary mc-details-save">${__("Save")}</button>`).appendTo(this.$wrapper);
		$save.on("click", () => this.save($save));
		this.$wrapper.append(this.records_html(this.enquiry, this.enquiry.titles || {}));
		this.$wrapper.append(
			`<div class="mc-details-meta">${__("Enquiry")}: <a href="/app/enquiry/${encodeURIComponent(this.enquiry.name)}">${esc(this.enquiry.name)}</a>
			· ${__(this.enquiry.status)}${this.enquiry.dead_reason ? ` (${esc(this.enquiry.dead_reason)})` : ""}</div>`
		);
	}

	render_party(data) {
		this.$wrapper.append(`
			<div class="mc-details-field"><div class="mc-details-label">${__("Name")}</div><div>${esc(data.party_name || data.title)}</div></div>
			<div class="mc-details-field"><div class="mc-details-label">${__(data.medium === "SMS" ? "Phone" : "Email or Phone")}</div>
				<div>${esc(data.party_address)}</div></div>
			${this.records_html(data, {})}
			<div class="mc-details-meta">${__("No enquiry is linked to this conversation.")}</div>`);
	}

	records_html(source, titles) {
		const links = RECORDS.filter(([field]) => source[field]).map(
			([field, doctype]) =>
				`<div class="mc-details-field"><div class="mc-details-label">${__(doctype)}</div>
				<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(source[field])}">${esc(titles[field] || source[field])}</a></div>`
		);
		return links.length ? `<div class="mc-details-records">${links.join("")}</div>` : "";
	}

	async save($button) {
		const values = this.form.get_values(true) || {};
		const details = {};
		for (const field of EDITABLE) {
			const value = values[field] || null;
			if ((this.enquiry[field] || null) !== value) details[field] = value;
		}
		if (!Object.keys(details).length) {
			frappe.show_alert({ message: __("Nothing changed."), indicator: "blue" });
			return;
		}
		$button.prop("disabled", true);
		try {
			this.enquiry = await call("enquiry.update_details", { enquiry: this.enquiry.name, details });
			frappe.show_alert({ message: __("Consumer details saved."), indicator: "green" });
			this.render();
			if ("person_name" in details) this.view.refresh();
		} finally {
			$button.prop("disabled", false);
		}
	}
}

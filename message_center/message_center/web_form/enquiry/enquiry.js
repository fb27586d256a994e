frappe.ready(function () {
	// UTM parameters of the page the visitor landed on travel with the enquiry (hidden fields).
	const params = new URLSearchParams(window.location.search);
	["utm_source", "utm_medium", "utm_campaign"].forEach((fieldname) => {
		if (params.get(fieldname) && frappe.web_form.fields_dict[fieldname]) {
			frappe.web_form.set_value(fieldname, params.get(fieldname));
		}
	});
});

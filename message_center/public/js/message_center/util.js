// Small helpers shared by the Message Center page.

export const esc = (value) => frappe.utils.escape_html(value == null ? "" : String(value));

export function call(method, args) {
	return frappe.xcall(`message_center.api.${method}`, args || {});
}

// Time for a list row: "14:05" today, "Mon" this week, "Nov 3" otherwise.
export function short_time(value) {
	if (!value) return "";
	const when = moment(frappe.datetime.convert_to_user_tz(value));
	const now = moment();
	if (when.isSame(now, "day")) return when.format("HH:mm");
	if (now.diff(when, "days") < 6) return when.format("ddd");
	if (when.isSame(now, "year")) return when.format("MMM D");
	return when.format("MMM D, YYYY");
}

export function full_time(value) {
	if (!value) return "";
	return moment(frappe.datetime.convert_to_user_tz(value)).format("ddd, MMM D YYYY, HH:mm");
}

export function initials(name) {
	return (name || "?")
		.replace(/[^\p{L}\p{N} ]/gu, " ")
		.trim()
		.split(/\s+/)
		.slice(0, 2)
		.map((part) => part[0])
		.join("")
		.toUpperCase() || "#";
}

// Inline SVGs: Frappe's sprite has no alarm clock or exclamation mark.
const SVG = (body, extra = "") =>
	`<svg class="mc-icon ${extra}" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor"
		stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;

export const icons = {
	alert: () => SVG('<circle cx="12" cy="12" r="10"/><line x1="12" y1="7" x2="12" y2="13"/><line x1="12" y1="17" x2="12.01" y2="17"/>'),
	alarm: () => SVG('<circle cx="12" cy="13" r="8"/><path d="M12 9v4l2 2"/><path d="M5 3 2 6"/><path d="m22 6-3-3"/>'),
	star: (filled) =>
		`<svg class="mc-icon mc-star-icon ${filled ? "filled" : ""}" viewBox="0 0 24 24" width="16" height="16"
			fill="${filled ? "currentColor" : "none"}" stroke="currentColor" stroke-width="2" stroke-linejoin="round" aria-hidden="true">
			<polygon points="12 2 15.1 8.3 22 9.3 17 14.1 18.2 21 12 17.8 5.8 21 7 14.1 2 9.3 8.9 8.3 12 2"/></svg>`,
	chat: () => SVG('<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>'),
	note: () => SVG('<path d="M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z"/><path d="M14 3v6h6"/><path d="M8 13h8M8 17h5"/>'),
	paperclip: () => SVG('<path d="m21.4 11.1-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5"/>'),
	bolt: () => SVG('<path d="M13 2 3 14h9l-1 8 10-12h-9z"/>'),
	close: () => SVG('<path d="M18 6 6 18M6 6l12 12"/>'),
	send: () => SVG('<path d="m22 2-7 20-4-9-9-4z"/><path d="M22 2 11 13"/>'),
};

export const MEDIUM_LABEL = { Email: "Email", SMS: "SMS", "Web Form": "Web", Phone: "Phone", Fax: "Fax", Manual: "Manual" };

export function debounce(fn, wait) {
	let timer = null;
	const debounced = (...args) => {
		clearTimeout(timer);
		timer = setTimeout(() => fn(...args), wait);
	};
	debounced.cancel = () => clearTimeout(timer);
	return debounced;
}

// Error text of a failed frappe.xcall, for inline messages (frappe also shows its own dialog).
export function error_text(error) {
	const messages = (frappe.last_response && frappe.last_response._server_messages) || null;
	if (messages) {
		try {
			return JSON.parse(messages)
				.map((message) => strip_tags(JSON.parse(message).message))
				.join(" ");
		} catch (e) {
			/* fall through */
		}
	}
	return (error && error.message) || __("Something went wrong.");
}

export const strip_tags = (html) => {
	const div = document.createElement("div");
	div.innerHTML = html || "";
	return div.textContent || "";
};

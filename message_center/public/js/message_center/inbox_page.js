// The Message Center page: list on the left, open conversations as tabs on the right, realtime,
// keyboard, and the unread count in the browser tab title.
import { ConversationView } from "./conversation_view";
import { ListPane } from "./list_pane";
import { call, debounce, esc, icons } from "./util";

const SHORTCUTS = [
	["j / k", __("Next / previous conversation")],
	["Enter", __("Open the selected conversation")],
	["c", __("Claim")],
	["r", __("Reply to the customer")],
	["n", __("Write a note")],
	["e", __("Close the conversation")],
	["/", __("Quick replies")],
	["s", __("Search")],
	["?", __("Show these shortcuts")],
];

export class InboxPage {
	constructor(wrapper) {
		this.wrapper = wrapper;
		this.page = wrapper.page;
		this.tabs = new Map();
		this.order = [];
		this.active = null;
		this.unread = 0;
		this.ready = this.setup();
	}

	async setup() {
		this.options = await call("inbox.options");
		this.make_layout();
		this.list = new ListPane({
			parent: this.$layout,
			options: this.options,
			on_open: (name) => this.open(name),
			on_counts: (counts) => this.set_unread(counts.unread || 0),
		});
		this.$conversations = $(`<section class="mc-conversation-pane">
			<div class="mc-tabs" role="tablist" aria-label="${__("Open conversations")}"></div>
			<div class="mc-tab-bodies"><div class="mc-placeholder">${__("Select a conversation on the left to read it here.")}
				<div class="mc-placeholder-hint">${__("Press ? for keyboard shortcuts")}</div></div></div>
		</section>`).appendTo(this.$layout);
		this.$tabs = this.$conversations.find(".mc-tabs");
		this.$bodies = this.$conversations.find(".mc-tab-bodies");
		this.$tabs.on("click", ".mc-tab", (event) => {
			if ($(event.target).closest(".mc-tab-close").length) return;
			this.activate($(event.currentTarget).data("name"));
		});
		this.$tabs.on("click", ".mc-tab-close", (event) => this.close_tab($(event.currentTarget).closest(".mc-tab").data("name")));
		this.setup_page_actions();
		this.setup_realtime();
		this.setup_keyboard();
		$(window).on("resize", debounce(() => this.fit(), 100));
	}

	make_layout() {
		this.page.main.addClass("mc-page-main");
		$(this.wrapper).addClass("mc-page");
		this.$layout = $('<div class="mc-inbox"></div>').appendTo(this.page.main);
	}

	// The inbox fills the window below the page head; each pane scrolls by itself.
	fit() {
		if (!this.$layout) return;
		const top = this.$layout[0].getBoundingClientRect().top + window.scrollY;
		this.$layout.css("height", `${Math.max(420, window.innerHeight - top - 12)}px`);
	}

	setup_page_actions() {
		this.page.set_secondary_action(__("Refresh"), () => this.refresh_all(), "refresh");
		if (frappe.model.can_create("Enquiry")) {
			this.page.set_primary_action(__("Create Enquiry"), () => this.create_enquiry(), "add");
		}
		this.page.add_menu_item(__("Keyboard shortcuts"), () => this.show_shortcuts());
		this.page.add_menu_item(__("Message Center Settings"), () => frappe.set_route("Form", "Message Center Settings"));
	}

	async show() {
		await this.ready;
		const mine = frappe.get_route()[1] === "mine";
		const title = mine ? __("My Messages") : __("Message Center");
		this.base_title = title;
		this.page.set_title(title);
		if (this.list.filters.mine_only !== (mine ? 1 : 0) || !this.shown) {
			this.shown = true;
			const view = mine && ["unassigned", "mine"].includes(this.list.filters.view) ? "open" : this.list.filters.view;
			this.list.set_filters({ mine_only: mine ? 1 : 0, view });
		} else {
			this.refresh_all();
		}
		this.fit();
		setTimeout(() => this.fit(), 300);
		this.set_unread(this.unread);
	}

	is_visible() {
		return frappe.get_route()[0] === "message-center" && !document.hidden;
	}

	refresh_all() {
		this.list.refresh({ keep_length: true });
		this.list.refresh_counts();
		for (const view of this.tabs.values()) view.refresh();
	}

	// -- tabs --------------------------------------------------------------------------------------

	async open(name) {
		if (!this.tabs.has(name)) {
			const view = new ConversationView({ page: this, name, parent: this.$bodies });
			this.tabs.set(name, view);
			this.order.push(name);
			this.render_tabs();
			this.activate(name);
			try {
				await view.load();
			} catch (error) {
				this.close_tab(name);
				throw error;
			}
			this.update_tab(name);
		} else {
			this.activate(name);
		}
		const view = this.tabs.get(name);
		if (view && view.data && view.data.unread) this.mark_read(name);
	}

	activate(name) {
		this.active = name;
		for (const [key, view] of this.tabs) view.$wrapper.toggleClass("active", key === name);
		this.$bodies.find(".mc-placeholder").toggle(!name);
		this.render_tabs();
		this.list.set_active(name);
		const view = this.tabs.get(name);
		if (view && view.data && view.data.unread) this.mark_read(name);
	}

	close_tab(name) {
		const view = this.tabs.get(name);
		if (!view) return;
		view.destroy();
		this.tabs.delete(name);
		const index = this.order.indexOf(name);
		this.order.splice(index, 1);
		if (this.active === name) this.activate(this.order[Math.min(index, this.order.length - 1)] || null);
		this.render_tabs();
	}

	update_tab(name) {
		this.render_tabs();
		const view = this.tabs.get(name);
		if (view && view.data) this.list.update_state({ conversation: name, ...view.data });
	}

	render_tabs() {
		this.$tabs.html(
			this.order
				.map((name) => {
					const view = this.tabs.get(name);
					const data = view.data || {};
					const active = name === this.active;
					return `<div class="mc-tab ${active ? "active" : ""} ${data.unread ? "unread" : ""}" data-name="${esc(name)}"
						role="tab" aria-selected="${active}" title="${esc(data.party_address || name)}">
						<span class="mc-tab-title">${esc(view.title)}</span>
						<button class="btn-reset mc-tab-close" aria-label="${__("Close tab")}">${icons.close()}</button>
					</div>`;
				})
				.join("")
		);
	}

	// -- marks -------------------------------------------------------------------------------------

	async mark_read(name) {
		const view = this.tabs.get(name);
		if (view && view.data) view.data.unread = false;
		const state = await call("user_state.mark_read", { conversation: name });
		this.apply_state(state);
	}

	async set_mark(name, method, args = {}) {
		const state = await call(`user_state.${method}`, { conversation: name, ...args });
		this.apply_state(state);
		this.list.refresh_counts();
		if (method === "archive") this.list.refresh({ keep_length: true });
	}

	apply_state(state) {
		const view = this.tabs.get(state.conversation);
		if (view && view.data) {
			Object.assign(view.data, { starred: state.starred, unread: state.unread, archived: state.archived });
			view.render_header();
		}
		this.list.update_state(state);
		this.render_tabs();
	}

	set_unread(count) {
		this.unread = count;
		if (!this.is_visible() && frappe.get_route()[0] !== "message-center") return;
		const cap = this.options.count_cap;
		const shown = count > cap ? `${cap}+` : count;
		document.title = `${count ? `(${shown}) ` : ""}${this.base_title || __("Message Center")}`;
	}

	// -- realtime ----------------------------------------------------------------------------------

	setup_realtime() {
		this.changed = new Set();
		const flush = debounce(() => this.apply_changes(), 150);
		frappe.realtime.on(this.options.realtime_event, (payload) => {
			if (!payload || !payload.conversation) return;
			this.changed.add(payload.conversation);
			flush();
		});
	}

	// Payloads carry ids only: everything is refetched through the permission-checked API.
	apply_changes() {
		const changed = [...this.changed];
		this.changed.clear();
		if (frappe.get_route()[0] !== "message-center") return;
		this.list.refresh({ keep_length: true });
		this.list.refresh_counts();
		for (const name of changed) {
			const view = this.tabs.get(name);
			if (view) view.refresh();
		}
	}

	// -- keyboard ----------------------------------------------------------------------------------

	setup_keyboard() {
		// Capture phase on window: runs before Frappe's own shortcuts ("?" opens its dialog otherwise).
		window.addEventListener(
			"keydown",
			(event) => {
				if (!this.handles(event)) return;
				const view = this.tabs.get(this.active);
				const handlers = {
					j: () => this.list.move(1),
					k: () => this.list.move(-1),
					Enter: () => this.list.open_selected(),
					c: () => view && view.data && view.data.status === "Open" && view.data.claimed_by !== frappe.session.user && view.claim(),
					r: () => view && view.composer.focus("message"),
					n: () => view && view.composer.focus("note"),
					e: () => view && view.data && view.data.status === "Open" && view.act("close"),
					"/": () => view && view.composer.open_quick_replies(),
					s: () => this.list.focus_search(),
					"?": () => this.show_shortcuts(),
				};
				const handler = handlers[event.key];
				if (!handler) return;
				event.preventDefault();
				event.stopPropagation();
				handler();
			},
			true
		);
	}

	handles(event) {
		if (event.ctrlKey || event.metaKey || event.altKey) return false;
		if (frappe.get_route()[0] !== "message-center" || !$(this.wrapper).is(":visible")) return false;
		if ($(".modal.show").length) return false;
		const target = event.target;
		return !$(target).is("input, select, textarea, [contenteditable=true], .ql-editor");
	}

	show_shortcuts() {
		if (this.shortcuts_dialog) return this.shortcuts_dialog.show();
		this.shortcuts_dialog = new frappe.ui.Dialog({
			title: __("Keyboard shortcuts"),
			fields: [
				{
					fieldtype: "HTML",
					options: `<table class="table table-bordered mc-shortcuts">${SHORTCUTS.map(
						([key, what]) => `<tr><td width="30%"><kbd>${esc(key)}</kbd></td><td>${esc(what)}</td></tr>`
					).join("")}</table><p class="text-muted small">${__("In the composer: Ctrl+Enter sends, Esc leaves it.")}</p>`,
				},
			],
		});
		this.shortcuts_dialog.show();
	}

	// -- create enquiry ----------------------------------------------------------------------------

	create_enquiry() {
		const manual = this.options.channels.filter((row) => row.kind === "Manual");
		const dialog = new frappe.ui.Dialog({
			title: __("Create Enquiry"),
			fields: [
				{ fieldname: "source", label: __("Source"), fieldtype: "Select", options: "Phone\nFax\nManual", default: "Phone", reqd: 1 },
				{ fieldname: "channel", label: __("Channel"), fieldtype: "Select", options: manual.map((row) => row.name), default: manual.length ? manual[0].name : "", reqd: 1 },
				{ fieldname: "person_name", label: __("Name"), fieldtype: "Data" },
				{ fieldname: "phone", label: __("Phone"), fieldtype: "Data" },
				{ fieldname: "email_id", label: __("Email"), fieldtype: "Data", options: "Email" },
				{ fieldname: "company_name", label: __("Company"), fieldtype: "Data" },
				{ fieldname: "message", label: __("Enquiry"), fieldtype: "Small Text", reqd: 1 },
			],
			primary_action_label: __("Create"),
			primary_action: async (values) => {
				const fields = Object.fromEntries(Object.entries(values).filter(([, value]) => value));
				const result = await call("enquiry.create", fields);
				dialog.hide();
				this.refresh_all();
				if (result.conversation) this.open(result.conversation);
			},
		});
		dialog.show();
	}
}

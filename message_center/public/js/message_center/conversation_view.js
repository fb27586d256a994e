// One open conversation (a tab): header with actions, the history (older pages on scroll-up),
// the composer and the consumer details panel.
import * as actions from "./actions";
import { Composer } from "./composer";
import { DetailsPanel } from "./details_panel";
import { call, esc, full_time, icons, MEDIUM_LABEL } from "./util";

// Email HTML renders in a sandboxed frame: no scripts, nothing loaded but images, links open outside.
const FRAME_SANDBOX = "allow-same-origin allow-popups allow-popups-to-escape-sandbox";
const FRAME_HEAD = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'">
	<base target="_blank"><style>body{margin:0;padding:2px;font:13px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,sans-serif;
	color:#1f272e;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:2px solid #d1d8dd;color:#687178}</style>`;

export class ConversationView {
	constructor({ page, name, parent }) {
		this.page = page;
		this.options = page.options;
		this.name = name;
		this.items = [];
		this.expanded = new Set(); // mails shown whole: they stay so when the history refreshes
		this.older = null;
		this.data = null;
		this.$wrapper = $(`<div class="mc-conversation" data-name="${esc(name)}" role="tabpanel">
			<header class="mc-conv-header"></header>
			<div class="mc-conv-body">
				<div class="mc-conv-main">
					<div class="mc-history" tabindex="-1" aria-label="${__("Conversation history")}">
						<div class="mc-history-older"></div><div class="mc-items"></div>
					</div>
				</div>
			</div>
		</div>`).appendTo(parent);
		this.$header = this.$wrapper.find(".mc-conv-header");
		this.$history = this.$wrapper.find(".mc-history");
		this.$items = this.$wrapper.find(".mc-items");
		this.composer = new Composer({ parent: this.$wrapper.find(".mc-conv-main"), view: this });
		this.details = new DetailsPanel({ parent: this.$wrapper.find(".mc-conv-body"), view: this });
		this.bind();
	}

	bind() {
		this.$header.on("click", "[data-action]", (event) => this.act($(event.currentTarget).data("action")));
		this.$items.on("click", ".mc-show-whole", (event) => this.show_whole(event.currentTarget));
		this.$history.on("scroll", () => {
			if (this.$history.scrollTop() < 80) this.load_older();
		});
	}

	get title() {
		return this.data ? this.data.title : this.name;
	}

	async load() {
		const [data, history] = await Promise.all([
			call("inbox.conversation", { conversation: this.name }),
			call("messages.history", { conversation: this.name }),
		]);
		this.data = data;
		this.items = history.items;
		this.older = history.older;
		this.render_header();
		this.render_items({ scroll: "bottom" });
		this.composer.refresh();
		this.details.load();
		return data;
	}

	// Realtime or after an action: the header, what is new in the history, the details.
	async refresh() {
		let data;
		try {
			[data] = await Promise.all([call("inbox.conversation", { conversation: this.name }), this.load_newest()]);
		} catch (error) {
			if (error && /not found|DoesNotExist/i.test(error.message || "")) return this.page.close_tab(this.name);
			throw error;
		}
		const enquiry_changed = this.data && data.enquiry !== this.data.enquiry;
		this.data = data;
		this.render_header();
		this.composer.refresh();
		this.page.update_tab(this.name);
		if (enquiry_changed || this.details.enquiry) this.details.load();
		if (this.page.active === this.name && data.unread && this.page.is_visible()) this.page.mark_read(this.name);
	}

	async load_newest() {
		const history = await call("messages.history", { conversation: this.name });
		const known = new Map(this.items.map((item) => [item.name, item]));
		const at_bottom = this.is_at_bottom();
		const newest = history.items;
		// Replace the newest page, keep older pages already loaded.
		const oldest_new = newest.length ? newest[0] : null;
		const kept = oldest_new ? this.items.filter((item) => this.before(item, oldest_new) && !newest.some((row) => row.name === item.name)) : this.items;
		this.items = kept.concat(newest);
		if (!kept.length) this.older = history.older;
		const added = newest.some((item) => !known.has(item.name));
		this.render_items({ scroll: added && at_bottom ? "bottom" : null });
	}

	before(a, b) {
		return a.at < b.at || (a.at === b.at && a.name < b.name);
	}

	async load_older() {
		if (!this.older || this.loading_older) return;
		this.loading_older = true;
		this.$wrapper.find(".mc-history-older").text(__("Loading earlier messages…"));
		try {
			const history = await call("messages.history", { conversation: this.name, before: this.older });
			const element = this.$history[0];
			const from_bottom = element.scrollHeight - element.scrollTop;
			this.items = history.items.concat(this.items);
			this.older = history.older;
			this.render_items();
			element.scrollTop = element.scrollHeight - from_bottom;
		} finally {
			this.loading_older = false;
		}
	}

	is_at_bottom() {
		const element = this.$history[0];
		return element.scrollHeight - element.scrollTop - element.clientHeight < 60;
	}

	render_header() {
		const data = this.data;
		const me = frappe.session.user;
		const open = data.status === "Open";
		const mine = data.claimed_by === me;
		const manager = this.options.is_manager;
		const can_claim = open && !mine && (!data.claimed_by || manager);
		const owns = mine || manager || !data.claimed_by;
		const button = (action, label, extra = "btn-default", title = "") =>
			`<button class="btn btn-xs ${extra}" data-action="${action}" ${title ? `title="${esc(title)}"` : ""}>${label}</button>`;
		const has_enquiry = Boolean(data.enquiry);
		const no_enquiry = __("No enquiry is linked to this conversation.");
		const enquiry_button = (action, label) =>
			`<button class="btn btn-xs btn-default" data-action="${action}" ${has_enquiry ? "" : `disabled title="${esc(no_enquiry)}"`}>${label}</button>`;
		const claimed = data.claimed_by
			? `<span class="mc-claimed">${__("Claimed by {0}", [`<b>${esc(data.claimed_by_name)}</b>`])}</span>`
			: open
			? `<span class="mc-claimed mc-unclaimed-label">${__("Unclaimed")}</span>`
			: "";
		this.$header.html(`
			<div class="mc-conv-headline">
				<div class="mc-conv-who">
					<div class="mc-conv-title">${esc(data.title)}</div>
					<div class="mc-conv-address">${esc(data.party_address)}${data.subject ? ` · ${esc(data.subject)}` : ""}</div>
				</div>
				<div class="mc-conv-marks">
					<button class="btn-reset mc-conv-star ${data.starred ? "starred" : ""}" data-action="star"
						title="${data.starred ? __("Unstar") : __("Star")}" aria-pressed="${data.starred}">${icons.star(data.starred)}</button>
				</div>
			</div>
			<div class="mc-conv-sub">
				<span class="mc-medium mc-medium-${esc((data.medium || "").replace(/\s+/g, "-").toLowerCase())}">${esc(MEDIUM_LABEL[data.medium] || data.medium)}</span>
				<span>${esc(data.channel)}</span>${data.campaign ? `<span class="mc-dot">·</span><span title="${__("Campaign")}">${esc(data.campaign)}</span>` : ""}
				<span class="mc-dot">·</span><span>${esc(data.team || "")}</span>
				${claimed ? `<span class="mc-dot">·</span>${claimed}` : ""}
				<span class="indicator-pill ${open ? "green" : "gray"} mc-status">${__(data.status)}</span>
				${data.opted_out ? `<span class="indicator-pill red">${__("Opted out")}</span>` : ""}
			</div>
			<div class="mc-conv-actions">
				${can_claim ? button("claim", __("Claim"), "btn-primary", __("Claim (c)")) : ""}
				${mine && open ? button("release", __("Unclaim")) : ""}
				${open && owns ? button("assign", __("Assign")) : ""}
				${open && owns ? button("transfer", __("Transfer")) : ""}
				${open && owns ? button("close", __("Close"), "btn-default", __("Close (e)")) : ""}
				${!open ? button("reopen", __("Reopen")) : ""}
				<span class="mc-action-gap"></span>
				${enquiry_button("associate", __("Associate"))}
				${enquiry_button("action", __("Action"))}
				${enquiry_button("process", __("Process"))}
				<div class="dropdown mc-more">
					<button class="btn btn-xs btn-default dropdown-toggle" data-toggle="dropdown" aria-label="${__("More actions")}">${__("More")}</button>
					<div class="dropdown-menu dropdown-menu-right">
						<a class="dropdown-item" data-action="unread">${__("Mark unread")}</a>
						<a class="dropdown-item" data-action="archive">${data.archived ? __("Move to inbox") : __("Archive")}</a>
						<a class="dropdown-item" href="/app/conversation/${encodeURIComponent(this.name)}">${__("Open form")}</a>
						${data.can_delete ? `<div class="dropdown-divider"></div><a class="dropdown-item text-danger" data-action="delete">${__("Delete")}</a>` : ""}
					</div>
				</div>
			</div>`);
	}

	async act(action) {
		const simple = { claim: "conversation.claim", release: "conversation.release", close: "conversation.close", reopen: "conversation.reopen" };
		if (simple[action]) {
			await call(simple[action], { conversation: this.name });
			return this.refresh();
		}
		if (action === "star") return this.page.set_mark(this.name, "star", { starred: this.data.starred ? 0 : 1 });
		if (action === "unread") {
			await this.page.set_mark(this.name, "mark_unread");
			return this.page.close_tab(this.name);
		}
		if (action === "archive") return this.page.set_mark(this.name, "archive", { archived: this.data.archived ? 0 : 1 });
		const dialogs = {
			assign: actions.assign_dialog,
			transfer: actions.transfer_dialog,
			delete: actions.delete_dialog,
			associate: actions.associate_dialog,
			action: actions.action_dialog,
			process: actions.process_dialog,
		};
		if (dialogs[action]) {
			if (["associate", "action", "process"].includes(action) && !this.details.enquiry) await this.details.load();
			return dialogs[action](this);
		}
	}

	claim() {
		return this.act("claim");
	}

	render_items({ scroll = null } = {}) {
		this.$wrapper.find(".mc-history-older").text(this.older ? __("Scroll up for earlier messages") : __("Beginning of the conversation"));
		if (!this.items.length) {
			this.$items.html(`<div class="mc-history-empty">${__("No messages yet.")}</div>`);
			return;
		}
		this.$items.html(this.items.map((item) => this.item_html(item)).join(""));
		this.$items.find("iframe.mc-email-frame:not([hidden])").each((_, frame) => this.fill_frame(frame));
		if (scroll === "bottom") this.scroll_to_bottom();
	}

	scroll_to_bottom() {
		const element = this.$history[0];
		element.scrollTop = element.scrollHeight;
		// Frames grow after they load; keep the newest message in view.
		setTimeout(() => (element.scrollTop = element.scrollHeight), 150);
	}

	item_html(item) {
		const who = item.direction === "note" ? __("Note by {0}", [esc(item.sender_name)]) : esc(item.sender_name || "");
		const status = item.status && item.direction === "out" ? this.status_html(item) : "";
		const attachments = (item.attachments || [])
			.map((file) => `<a class="mc-attachment" href="${esc(file.file_url)}" target="_blank" rel="noopener">${icons.paperclip()} ${esc(file.file_name)}</a>`)
			.join("");
		let body;
		if (item.direction === "note") {
			body = `<div class="mc-note-body">${item.html}</div>`;
		} else if (item.html != null) {
			// A reply shows what it says this time; the quoted history and signature are one click away.
			const collapsed = item.new_text && !this.expanded.has(item.name) ? this.new_part_html(item) : "";
			const cc = item.cc ? `<div class="mc-email-cc">${__("Cc")}: ${esc(item.cc)}</div>` : "";
			body = `${item.subject ? `<div class="mc-email-subject">${esc(item.subject)}</div>` : ""}${cc}${collapsed}
				<iframe class="mc-email-frame" sandbox="${FRAME_SANDBOX}" data-name="${esc(item.name)}" ${collapsed ? "hidden" : ""}
					title="${__("Email from {0}", [esc(item.sender_name)])}"></iframe>`;
		} else {
			body = `<div class="mc-text">${esc(item.text).replace(/\n/g, "<br>")}</div>`;
		}
		return `<div class="mc-item mc-item-${item.direction} ${item.html != null && item.direction !== "note" ? "mc-item-email" : ""}" data-name="${esc(item.name)}">
			<div class="mc-bubble">
				<div class="mc-item-head"><span><span class="mc-item-who">${who}</span>${this.machine_kind_html(item)}</span>
					<span class="mc-item-time" title="${esc(full_time(item.at))}">${esc(full_time(item.at))}</span></div>
				${body}
				${attachments ? `<div class="mc-item-attachments">${attachments}</div>` : ""}
				${status}
			</div>
		</div>`;
	}

	new_part_html(item) {
		const notes = (item.notes || []).map((note) => `<p class="mc-mail-note"><em>${esc(note)}</em></p>`).join("");
		return `<div class="mc-new-part">
			<div class="mc-text">${esc(item.new_text).replace(/\n/g, "<br>")}</div>${notes}
			<button type="button" class="btn btn-xs btn-link mc-show-whole" title="${__("Show the quoted history and signature too")}">${__("Show the whole message")}</button>
		</div>`;
	}

	show_whole(button) {
		const $item = $(button).closest(".mc-item");
		this.expanded.add($item.attr("data-name"));
		$item.find(".mc-new-part").remove();
		const frame = $item.find("iframe.mc-email-frame").removeAttr("hidden")[0];
		if (frame) this.fill_frame(frame);
	}

	machine_kind_html(item) {
		// Mail a machine sent is kept on the conversation but asks nothing of the team: say which it is.
		const kinds = {
			"Auto Reply": [__("Auto-reply"), "gray", __("An automatic reply (out of office, ticket receipt): it does not open an enquiry or make the conversation wait on you.")],
			Bounce: [__("Bounce"), "orange", __("A delivery failure report: a message sent to this person may not have arrived.")],
			List: [__("List mail"), "gray", __("Bulk or mailing-list mail: it does not open an enquiry or make the conversation wait on you.")],
		};
		const kind = item.direction === "in" && kinds[item.message_kind];
		if (!kind) return "";
		return ` <span class="indicator-pill ${kind[1]} mc-machine-kind" title="${esc(kind[2])}">${esc(kind[0])}</span>`;
	}

	status_html(item) {
		const bad = ["Failed", "Undelivered"].includes(item.status);
		const detail = bad && item.error ? `: ${esc(item.error)}` : "";
		return `<div class="mc-delivery ${bad ? "mc-delivery-bad" : ""}">${__(item.status)}${detail}</div>`;
	}

	fill_frame(frame) {
		const item = this.items.find((row) => row.name === frame.dataset.name);
		if (!item) return;
		frame.srcdoc = `<!doctype html><html><head>${FRAME_HEAD}</head><body>${item.html}</body></html>`;
		frame.addEventListener("load", () => {
			try {
				frame.style.height = `${Math.min(frame.contentDocument.documentElement.scrollHeight + 4, 1200)}px`;
			} catch (error) {
				frame.style.height = "320px";
			}
		});
	}

	destroy() {
		this.$wrapper.remove();
	}
}

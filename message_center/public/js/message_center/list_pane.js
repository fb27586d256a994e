// The left pane: search, view filters with counts, channel/assignee filters and the conversation rows.
import { call, debounce, esc, icons, MEDIUM_LABEL, short_time } from "./util";

const PAGE_LENGTH = 30;
// Views hidden in "My Messages": everything there is already mine.
const NOT_IN_MY_MESSAGES = new Set(["unassigned", "mine"]);

export class ListPane {
	constructor({ parent, options, on_open, on_counts }) {
		this.options = options;
		this.on_open = on_open;
		this.on_counts = on_counts;
		this.filters = { view: "open", mine_only: 0, channel: "", assignee: "", search: "" };
		this.rows = [];
		this.next_cursor = null;
		this.selected = null;
		this.active = null;
		this.loading = false;
		this.request_id = 0;
		this.make(parent);
	}

	make(parent) {
		this.$wrapper = $(`
			<aside class="mc-list-pane">
				<div class="mc-search">
					<input type="search" class="form-control mc-search-input" autocomplete="off"
						placeholder="${__("Search name, email, phone or message")}" aria-label="${__("Search conversations")}">
				</div>
				<div class="mc-views" role="tablist"></div>
				<div class="mc-filters">
					<select class="form-control input-xs mc-filter-channel" aria-label="${__("Channel")}"></select>
					<select class="form-control input-xs mc-filter-assignee" aria-label="${__("Assigned to")}"></select>
				</div>
				<div class="mc-rows" role="listbox" aria-label="${__("Conversations")}"></div>
			</aside>`).appendTo(parent);
		this.$views = this.$wrapper.find(".mc-views");
		this.$rows = this.$wrapper.find(".mc-rows");
		this.$search = this.$wrapper.find(".mc-search-input");
		this.render_filters();
		this.bind();
	}

	render_filters() {
		const channel_options = [`<option value="">${__("All channels")}</option>`]
			.concat(this.options.channels.map((row) => `<option value="${esc(row.name)}">${esc(row.name)}</option>`))
			.join("");
		this.$wrapper.find(".mc-filter-channel").html(channel_options);
		const agent_options = [`<option value="">${__("Anyone")}</option>`]
			.concat(this.options.agents.map((row) => `<option value="${esc(row.user)}">${esc(row.full_name)}</option>`))
			.join("");
		this.$wrapper.find(".mc-filter-assignee").html(agent_options);
		this.render_views({});
	}

	render_views(counts) {
		const cap = this.options.count_cap;
		this.$views.html(
			this.options.views
				.filter((view) => !(this.filters.mine_only && NOT_IN_MY_MESSAGES.has(view.view)))
				.map((view) => {
					const count = counts[view.view];
					const shown = count == null ? "" : count > cap ? `${cap}+` : count;
					const active = view.view === this.filters.view && !this.filters.search;
					return `<button class="mc-view ${active ? "active" : ""}" data-view="${view.view}" role="tab"
						aria-selected="${active}">${__(view.label)}<span class="mc-view-count">${shown}</span></button>`;
				})
				.join("")
		);
	}

	bind() {
		this.$views.on("click", ".mc-view", (event) => {
			this.$search.val("");
			this.set_filters({ view: $(event.currentTarget).data("view"), search: "" });
		});
		this.$wrapper.find(".mc-filter-channel").on("change", (event) => this.set_filters({ channel: event.target.value }));
		this.$wrapper.find(".mc-filter-assignee").on("change", (event) => this.set_filters({ assignee: event.target.value }));
		const search = debounce((text) => this.set_filters({ search: text.trim() }), 250);
		this.$search.on("input", (event) => search(event.target.value));
		this.$search.on("keydown", (event) => {
			if (event.key === "Escape") {
				this.$search.val("").blur();
				this.set_filters({ search: "" });
			} else if (event.key === "ArrowDown" || event.key === "Enter") {
				event.preventDefault();
				this.$search.blur();
				this.move(event.key === "Enter" ? 0 : 1, event.key === "Enter");
			}
		});
		this.$rows.on("click", ".mc-row", (event) => {
			if ($(event.target).closest(".mc-row-star").length) return;
			this.select($(event.currentTarget).data("name"), true);
		});
		this.$rows.on("click", ".mc-row-star", (event) => {
			const name = $(event.currentTarget).closest(".mc-row").data("name");
			const row = this.rows.find((item) => item.name === name);
			call("user_state.star", { conversation: name, starred: row && row.starred ? 0 : 1 }).then((state) => this.update_state(state));
		});
		this.$rows.on("scroll", () => {
			const element = this.$rows[0];
			if (element.scrollTop + element.clientHeight > element.scrollHeight - 200) this.load_more();
		});
	}

	set_filters(changes) {
		if (changes.mine_only) changes.assignee = "";
		Object.assign(this.filters, changes);
		// My Messages holds only my own conversations: filtering them by assignee makes no sense.
		this.$wrapper.find(".mc-filter-assignee").val(this.filters.assignee || "").toggle(!this.filters.mine_only);
		this.refresh();
		if (!("search" in changes) || changes.view) this.refresh_counts();
	}

	args() {
		const { view, mine_only, channel, assignee } = this.filters;
		return { view, mine_only, channel: channel || null, assignee: assignee || null };
	}

	fetch(cursor, page_length) {
		const args = { ...this.args(), cursor, page_length };
		if (this.filters.search) {
			delete args.view;
			return call("inbox.search", { ...args, text: this.filters.search });
		}
		return call("inbox.list", args);
	}

	// Reload from the top, keeping as many rows as were loaded (realtime refreshes keep the place).
	async refresh({ keep_length = false } = {}) {
		const request = ++this.request_id;
		const length = keep_length ? Math.min(Math.max(this.rows.length, PAGE_LENGTH), 100) : PAGE_LENGTH;
		if (!keep_length) this.$rows.addClass("mc-loading");
		try {
			const result = await this.fetch(null, length);
			if (request !== this.request_id) return;
			this.rows = result.rows;
			this.next_cursor = result.next_cursor;
			this.set_clock(result.server_time);
			this.render_rows();
			if (!keep_length) this.$rows.scrollTop(0);
		} finally {
			if (request === this.request_id) this.$rows.removeClass("mc-loading");
		}
		this.render_views(this.counts || {});
	}

	async load_more() {
		if (!this.next_cursor || this.loading) return;
		this.loading = true;
		const request = this.request_id;
		try {
			const result = await this.fetch(this.next_cursor, PAGE_LENGTH);
			if (request !== this.request_id) return;
			const known = new Set(this.rows.map((row) => row.name));
			this.rows = this.rows.concat(result.rows.filter((row) => !known.has(row.name)));
			this.next_cursor = result.next_cursor;
			this.render_rows();
		} finally {
			this.loading = false;
		}
	}

	async refresh_counts() {
		const { mine_only, channel, assignee } = this.args();
		const result = await call("inbox.counts", { mine_only, channel, assignee });
		this.counts = result.counts;
		this.render_views(this.counts);
		this.on_counts && this.on_counts(this.counts);
	}

	// Alerts switch on at fixed times: redraw the list when the next one is due.
	set_clock(server_time) {
		clearTimeout(this.alert_timer);
		const offset = moment(server_time).diff(moment());
		const due = this.rows
			.map((row) => row.alert_next_change_at)
			.filter(Boolean)
			.map((when) => moment(when).diff(moment()) - offset)
			.filter((ms) => ms > 0);
		if (due.length) {
			this.alert_timer = setTimeout(() => this.refresh({ keep_length: true }), Math.min(...due) + 500);
		}
	}

	row_html(row) {
		const alert = row.alert_unclaimed
			? `<span class="mc-alert mc-alert-unclaimed ${row.alert_unclaimed_overdue ? "mc-flash" : ""}"
				title="${row.alert_unclaimed_overdue ? __("Unclaimed for too long") : __("Not claimed yet")}">${icons.alert()}</span>`
			: "";
		const alarm = row.alert_waiting_overdue
			? `<span class="mc-alert mc-alert-waiting" title="${__("The customer has waited too long")}">${icons.alarm()}</span>`
			: "";
		// "Unclaimed" asks someone to take it: a closed conversation asks nothing
		const agent = row.claimed_by_name
			? esc(row.claimed_by_name)
			: row.status === "Closed"
			? ""
			: `<span class="mc-unclaimed-label">${__("Unclaimed")}</span>`;
		const classes = [
			"mc-row",
			row.unread ? "unread" : "",
			row.name === this.selected ? "selected" : "",
			row.name === this.active ? "active" : "",
			row.status === "Closed" ? "closed" : "",
		].join(" ");
		return `<div class="${classes}" data-name="${esc(row.name)}" role="option" aria-selected="${row.name === this.selected}">
			<div class="mc-row-alerts">${alert}${alarm}</div>
			<div class="mc-row-main">
				<div class="mc-row-top">
					<span class="mc-row-title" title="${esc(row.party_address)}">${esc(row.title)}</span>
					<span class="mc-row-time" title="${esc(row.last_message_at)}">${short_time(row.last_message_at)}</span>
				</div>
				<div class="mc-row-meta">
					<span class="mc-medium mc-medium-${esc((row.medium || "").replace(/\s+/g, "-").toLowerCase())}">${esc(MEDIUM_LABEL[row.medium] || row.medium)}</span>
					<span class="mc-row-channel">${esc(row.channel)}</span>
					<span class="mc-dot">·</span><span class="mc-row-team">${esc(row.team || "")}</span>
					${agent ? `<span class="mc-dot">·</span><span class="mc-row-agent">${agent}</span>` : ""}
					${row.status === "Closed" ? `<span class="mc-closed-label">${__("Closed")}</span>` : ""}
				</div>
				<div class="mc-row-preview">${row.unread ? '<span class="mc-unread-dot" title="' + __("Unread") + '"></span>' : ""}${esc(row.last_message_preview || row.subject || "")}</div>
			</div>
			<button class="btn-reset mc-row-star ${row.starred ? "starred" : ""}" title="${row.starred ? __("Unstar") : __("Star")}"
				aria-pressed="${row.starred ? "true" : "false"}">${icons.star(row.starred)}</button>
		</div>`;
	}

	render_rows() {
		if (!this.rows.length) {
			const what = this.filters.search ? __("No conversation matches “{0}”.", [esc(this.filters.search)]) : __("Nothing here.");
			this.$rows.html(`<div class="mc-list-empty">${what}</div>`);
			return;
		}
		this.$rows.html(this.rows.map((row) => this.row_html(row)).join("") + (this.next_cursor ? `<div class="mc-list-more">${__("Loading more…")}</div>` : ""));
	}

	update_state(state) {
		const row = this.rows.find((item) => item.name === state.conversation);
		if (!row) return;
		Object.assign(row, { starred: state.starred, unread: state.unread, archived: state.archived });
		this.$rows.find(`.mc-row[data-name="${CSS.escape(row.name)}"]`).replaceWith(this.row_html(row));
	}

	select(name, open = false) {
		this.selected = name;
		this.$rows.find(".mc-row.selected").removeClass("selected").attr("aria-selected", "false");
		const $row = this.$rows.find(`.mc-row[data-name="${CSS.escape(name)}"]`);
		$row.addClass("selected").attr("aria-selected", "true");
		if ($row.length) $row[0].scrollIntoView({ block: "nearest" });
		if (open) this.on_open(name);
	}

	set_active(name) {
		this.active = name;
		this.$rows.find(".mc-row.active").removeClass("active");
		if (name) this.$rows.find(`.mc-row[data-name="${CSS.escape(name)}"]`).addClass("active");
	}

	// j/k: move the selection; Enter opens it.
	move(step, open = false) {
		if (!this.rows.length) return;
		const index = this.rows.findIndex((row) => row.name === this.selected);
		const next = index === -1 ? 0 : Math.max(0, Math.min(this.rows.length - 1, index + step));
		this.select(this.rows[next].name, open);
		if (next >= this.rows.length - 3) this.load_more();
	}

	open_selected() {
		if (this.selected) this.on_open(this.selected);
	}

	focus_search() {
		this.$search.focus().select();
	}
}

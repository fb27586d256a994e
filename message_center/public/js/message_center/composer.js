// The composer: message or note (yellow), quick replies with "/", @mentions in notes, SMS segment
// counter, email copies (Cc, reply-all by default), the signature mail replies end with, and
// attachments, and the reason when sending is not allowed.
import { call, debounce, esc, icons } from "./util";

export class Composer {
	constructor({ parent, view }) {
		this.view = view;
		this.mode = "message";
		this.attachments = [];
		this.mentions = new Map(); // "@Full Name" -> user
		this.quick_replies = null;
		this.picker = null; // {kind: "reply"|"mention", start, items, index}
		this.cc_edited = false; // the agent changed the copies: the suggestion no longer replaces them
		this.make(parent);
	}

	make(parent) {
		this.$wrapper = $(`
			<div class="mc-composer" data-mode="message">
				<div class="mc-composer-blocked" hidden></div>
				<div class="mc-picker" role="listbox" hidden></div>
				<div class="mc-cc" hidden>
					<label class="mc-cc-label">${__("Cc")}</label>
					<input type="text" class="form-control mc-cc-input" autocomplete="off" spellcheck="false"
						aria-label="${__("Copy to (Cc)")}" placeholder="${__("Nobody in copy: add addresses, separated by commas")}">
				</div>
				<textarea class="form-control mc-composer-input" rows="3" aria-label="${__("Message")}"></textarea>
				<div class="mc-signature-preview" hidden title="${__("Added below your message. Change it in My Settings, Email Signature.")}"></div>
				<div class="mc-attachments"></div>
				<div class="mc-composer-bar">
					<div class="mc-mode-switch" role="group" aria-label="${__("Write a")}">
						<button class="btn btn-xs mc-mode" data-mode="message" title="${__("Message to the customer (r)")}">${icons.chat()} ${__("Message")}</button>
						<button class="btn btn-xs mc-mode" data-mode="note" title="${__("Internal note (n)")}">${icons.note()} ${__("Note")}</button>
					</div>
					<button class="btn btn-xs btn-default mc-quick-replies-button" title="${__("Quick replies (/)")}">${icons.bolt()} ${__("Quick replies")}</button>
					<button class="btn btn-xs btn-default mc-attach-button" title="${__("Attach a file")}" hidden>${icons.paperclip()} ${__("Attach")}</button>
					<span class="mc-segments" aria-live="polite"></span>
					<span class="mc-composer-hint">${__("Ctrl+Enter to send")}</span>
					<button class="btn btn-xs btn-primary mc-send">${__("Send")}</button>
				</div>
			</div>`).appendTo(parent);
		this.$input = this.$wrapper.find(".mc-composer-input");
		this.$picker = this.$wrapper.find(".mc-picker");
		this.$cc = this.$wrapper.find(".mc-cc-input");
		this.bind();
		this.set_mode("message");
	}

	get is_sms() {
		return this.view.data && this.view.data.medium === "SMS";
	}

	get is_email_reply() {
		const data = this.view.data || {};
		return data.medium !== "SMS" && (data.party_address || "").includes("@");
	}

	bind() {
		this.$wrapper.on("click", ".mc-mode", (event) => this.set_mode($(event.currentTarget).data("mode"), true));
		this.$wrapper.on("click", ".mc-send", () => this.send());
		this.$wrapper.on("click", ".mc-quick-replies-button", () => this.open_quick_replies(true));
		this.$wrapper.on("click", ".mc-attach-button", () => this.attach());
		this.$wrapper.on("click", ".mc-remove-attachment", (event) => {
			const name = $(event.currentTarget).data("name");
			this.attachments = this.attachments.filter((file) => file.name !== name);
			this.render_attachments();
		});
		this.$wrapper.on("click", ".mc-blocked-claim", () => this.view.claim());
		this.$cc.on("input", () => (this.cc_edited = true));
		this.$cc.on("keydown", (event) => {
			if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
				event.preventDefault();
				this.send();
			}
		});
		this.$picker.on("mousedown", ".mc-picker-item", (event) => {
			event.preventDefault();
			this.choose(Number($(event.currentTarget).data("index")));
		});
		this.$input.on("keydown", (event) => this.on_keydown(event));
		this.$input.on("input click", () => {
			this.update_picker();
			this.count_segments();
		});
		this.$input.on("blur", () => setTimeout(() => this.close_picker(), 150));
		this.count_segments = debounce(() => this.update_segments(), 250);
	}

	set_mode(mode, focus = false) {
		this.mode = mode;
		this.$wrapper.attr("data-mode", mode);
		this.$wrapper.find(".mc-mode").each((_, button) => {
			const active = $(button).data("mode") === mode;
			$(button).toggleClass("active", active).attr("aria-pressed", active ? "true" : "false");
		});
		this.$input.attr(
			"placeholder",
			mode === "note"
				? __("Internal note for your team — type @ to mention a colleague")
				: __("Write to the customer — type / for quick replies")
		);
		this.$input.attr("aria-label", mode === "note" ? __("Note") : __("Message"));
		this.$wrapper.find(".mc-send").text(mode === "note" ? __("Add note") : __("Send"));
		this.refresh();
		if (focus) this.$input.focus();
	}

	// Called whenever the conversation's summary changes (claim, close, opt-out...).
	refresh() {
		const summary = (this.view.data && this.view.data.summary) || {};
		const blocked = this.mode === "message" && summary.can_reply === false;
		const $blocked = this.$wrapper.find(".mc-composer-blocked");
		if (blocked) {
			const claim =
				summary.reply_blocked_code === "not_claimed"
					? ` <button class="btn btn-xs btn-primary mc-blocked-claim">${__("Claim")}</button>`
					: "";
			$blocked.html(`<span>${esc(summary.reply_blocked_reason)}</span>${claim}`).prop("hidden", false);
		} else {
			$blocked.prop("hidden", true).empty();
		}
		this.$wrapper.toggleClass("is-blocked", blocked);
		this.$wrapper.find(".mc-send").prop("disabled", blocked);
		const email_message = this.mode === "message" && this.is_email_reply;
		this.$wrapper.find(".mc-attach-button").prop("hidden", !email_message);
		this.$wrapper.find(".mc-cc").prop("hidden", !email_message);
		// Reply-all: who the latest mail also went to, until the agent edits the line.
		if (!this.cc_edited) this.$cc.val(((this.view.data && this.view.data.reply_cc) || []).join(", "));
		const signature = (this.view.data && this.view.data.reply_signature) || "";
		this.$wrapper
			.find(".mc-signature-preview")
			.html(signature ? `<span class="mc-signature-dash">--</span><br>${esc(signature).replace(/\n/g, "<br>")}` : "")
			.prop("hidden", !(email_message && signature));
		this.$wrapper.find(".mc-quick-replies-button").prop("hidden", this.mode !== "message");
		this.update_segments();
	}

	focus(mode) {
		if (mode && mode !== this.mode) this.set_mode(mode);
		this.$input.focus();
	}

	on_keydown(event) {
		if (this.picker) {
			if (event.key === "ArrowDown" || event.key === "ArrowUp") {
				event.preventDefault();
				const step = event.key === "ArrowDown" ? 1 : -1;
				this.picker.index = (this.picker.index + step + this.picker.items.length) % this.picker.items.length;
				this.render_picker();
				return;
			}
			if (event.key === "Enter" || event.key === "Tab") {
				if (this.picker.items.length) {
					event.preventDefault();
					this.choose(this.picker.index);
					return;
				}
			}
			if (event.key === "Escape") {
				event.preventDefault();
				event.stopPropagation();
				this.close_picker();
				return;
			}
		}
		if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
			event.preventDefault();
			this.send();
		} else if (event.key === "Escape") {
			this.$input.blur();
		}
	}

	// The token being typed at the caret: "/book" opens quick replies, "@ma" colleagues (notes only).
	current_token() {
		const element = this.$input[0];
		const before = element.value.slice(0, element.selectionStart);
		// Names have spaces, so a mention query may run over two of them ("@Agent T").
		const match = /(^|\s)(\/|@)([^\s/@]*)$/.exec(before) || /(^|\s)(@)([^\s/@]+(?: [^\s/@]*){1,2})$/.exec(before);
		if (!match) return null;
		const kind = match[2] === "/" ? "reply" : "mention";
		if (kind === "reply" && this.mode !== "message") return null;
		if (kind === "mention" && this.mode !== "note") return null;
		return { kind, query: match[3].toLowerCase(), start: before.length - match[3].length - 1, end: before.length };
	}

	async update_picker() {
		const token = this.current_token();
		if (!token) return this.close_picker();
		let items;
		if (token.kind === "reply") {
			const replies = await this.load_quick_replies();
			items = replies
				.filter((row) => !token.query || `${row.shortcut || ""} ${row.title}`.toLowerCase().includes(token.query))
				.map((row) => ({ value: row.name, label: row.title, hint: row.shortcut ? `/${row.shortcut}` : "", detail: row.preview }));
		} else {
			items = (this.view.options.agents || [])
				.filter((agent) => agent.user !== frappe.session.user)
				.filter((agent) => !token.query || `${agent.full_name} ${agent.user}`.toLowerCase().includes(token.query))
				.slice(0, 8)
				.map((agent) => ({ value: agent.user, label: agent.full_name, hint: agent.user }));
			// Past a space with nobody matching, the "@" was not a mention after all.
			if (!items.length && token.query.includes(" ")) return this.close_picker();
		}
		this.picker = { ...token, items, index: 0 };
		this.render_picker();
	}

	async open_quick_replies(from_button = false) {
		if (this.mode !== "message") this.set_mode("message");
		const element = this.$input[0];
		element.focus();
		if (!this.current_token()) {
			const position = element.selectionStart;
			const before = element.value.slice(0, position);
			const insert = (before && !/\s$/.test(before) ? " " : "") + "/";
			element.setRangeText(insert, position, element.selectionEnd, "end");
		}
		await this.update_picker();
		if (from_button && this.picker) this.render_picker();
	}

	render_picker() {
		if (!this.picker) return;
		const { items, index, kind } = this.picker;
		const empty = kind === "reply" ? __("No quick reply matches.") : __("No colleague matches.");
		this.$picker
			.html(
				items.length
					? items
							.map(
								(item, position) => `<div class="mc-picker-item ${position === index ? "active" : ""}" data-index="${position}"
									role="option" aria-selected="${position === index}">
									<div class="mc-picker-label">${esc(item.label)} <span class="mc-picker-hint">${esc(item.hint || "")}</span></div>
									${item.detail ? `<div class="mc-picker-detail">${esc(item.detail)}</div>` : ""}
								</div>`
							)
							.join("")
					: `<div class="mc-picker-empty">${empty}</div>`
			)
			.prop("hidden", false);
		const $active = this.$picker.find(".mc-picker-item.active");
		if ($active.length) $active[0].scrollIntoView({ block: "nearest" });
	}

	close_picker() {
		this.picker = null;
		this.$picker.prop("hidden", true).empty();
	}

	async choose(index) {
		const picker = this.picker;
		if (!picker || !picker.items[index]) return;
		const item = picker.items[index];
		this.close_picker();
		let text;
		if (picker.kind === "reply") {
			const rendered = await call("quick_replies.render", { conversation: this.view.name, quick_reply: item.value });
			text = rendered.text;
		} else {
			text = `@${item.label} `;
			this.mentions.set(`@${item.label}`, item.value);
		}
		const element = this.$input[0];
		// Replace the token as it is now: more may have been typed while the picker loaded.
		const token = this.current_token();
		const { start, end } = token && token.kind === picker.kind ? token : picker;
		element.setRangeText(text, start, end, "end");
		element.focus();
		this.update_segments();
	}

	async load_quick_replies() {
		if (!this.quick_replies) this.quick_replies = await call("quick_replies.list", { conversation: this.view.name });
		return this.quick_replies;
	}

	async update_segments() {
		const $segments = this.$wrapper.find(".mc-segments");
		const text = this.$input.val();
		if (!(this.is_sms && this.mode === "message") || !text) {
			$segments.empty().removeClass("text-danger");
			return;
		}
		const info = await call("sms.segment_info", { text });
		if (text !== this.$input.val()) return;
		if (info.error) {
			$segments.text(info.error).addClass("text-danger");
			return;
		}
		const unicode = info.encoding && info.encoding.toUpperCase().includes("UCS") ? ` · ${__("Unicode")}` : "";
		$segments
			.removeClass("text-danger")
			.text(`${__("{0} SMS", [info.segments])} · ${__("{0} left", [info.remaining_in_segment])}${unicode}`)
			.attr("title", info.non_gsm_characters && info.non_gsm_characters.length ? __("Not in the GSM alphabet: {0}", [info.non_gsm_characters.join(" ")]) : "");
	}

	attach() {
		new frappe.ui.FileUploader({
			doctype: "Conversation",
			docname: this.view.name,
			folder: "Home/Attachments",
			make_attachments_public: 0,
			allow_multiple: true,
			on_success: (file) => {
				this.attachments.push({ name: file.name, file_name: file.file_name });
				this.render_attachments();
			},
		});
	}

	render_attachments() {
		this.$wrapper.find(".mc-attachments").html(
			this.attachments
				.map(
					(file) => `<span class="mc-attachment-chip">${icons.paperclip()} ${esc(file.file_name)}
						<button class="btn-reset mc-remove-attachment" data-name="${esc(file.name)}" title="${__("Remove")}">${icons.close()}</button></span>`
				)
				.join("")
		);
	}

	// Plain text to HTML: the text escaped, line breaks kept, chosen @mentions as Frappe mention spans.
	to_html(text) {
		let html = esc(text).replace(/\n/g, "<br>");
		for (const [label, user] of this.mentions) {
			if (!text.includes(label)) continue;
			const span = `<span class="mention" data-id="${esc(user)}" data-value="${esc(label.slice(1))}" data-denotation-char="@">${esc(label)}</span>`;
			html = html.split(esc(label)).join(span);
		}
		return `<div>${html}</div>`;
	}

	async send() {
		const text = this.$input.val();
		if (!text.trim()) {
			frappe.show_alert({ message: this.mode === "note" ? __("Write the note first.") : __("Write a message first."), indicator: "orange" });
			return;
		}
		if (this.sending) return;
		this.sending = true;
		this.$wrapper.addClass("is-sending").find(".mc-send").prop("disabled", true);
		try {
			if (this.mode === "note") {
				await call("conversation.add_note", { conversation: this.view.name, content: this.to_html(text) });
			} else {
				const content = this.is_sms ? text : this.to_html(text);
				const result = await call("reply.send", {
					conversation: this.view.name,
					content,
					attachments: this.attachments.map((file) => file.name),
					cc: this.is_email_reply ? this.$cc.val() : "",
				});
				const outcome = result && result.message;
				if (outcome && outcome.error) {
					frappe.show_alert({ message: __("Not delivered: {0}", [outcome.error]), indicator: "red" }, 8);
				}
			}
			this.$input.val("");
			if (this.mode === "message") this.cc_edited = false;
			this.attachments = [];
			this.mentions.clear();
			this.render_attachments();
			this.update_segments();
			await this.view.refresh();
		} finally {
			this.sending = false;
			this.$wrapper.removeClass("is-sending");
			this.refresh();
		}
	}
}

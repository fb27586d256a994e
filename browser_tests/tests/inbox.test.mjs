// An agent works a conversation from the inbox to closing it, a colleague sees every step within
// 2 seconds, and an agent of another team sees nothing of it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { api, bench, conversation, FIXTURES, launch, mails, openInbox, row, screenshot, session, showView, within } from "./helpers.mjs";

const REALTIME_MS = 2000;
const { first, second, outside, enquiry, users } = FIXTURES;

async function enquiryOf(page, name) {
	const header = await api(page, "message_center.api.inbox.conversation", { conversation: name });
	return JSON.parse(header.body).message.enquiry;
}

describe("Message Center page", () => {
	let browser, agent, colleague, outsider;

	before(async () => {
		browser = await launch();
		[agent, colleague, outsider] = await Promise.all([
			session(browser, users.agent),
			session(browser, users.colleague),
			session(browser, users.outsider),
		]);
		await Promise.all([openInbox(agent), openInbox(colleague)]);
	});

	after(async () => {
		for (const page of [agent, colleague, outsider]) {
			if (page) assert.deepEqual(page.errors, [], "no JavaScript errors in the page");
		}
		await browser?.close();
	});

	it("lists the team's conversations with counts and filters them", async () => {
		await showView(agent, "unassigned");
		await row(agent, first).waitFor();
		await row(agent, second).waitFor();
		assert.equal(await row(agent, outside).count(), 0, "another team's conversation is not listed");
		assert.match(await agent.locator('.mc-view[data-view="unassigned"] .mc-view-count').innerText(), /^\d+\+?$/);
		assert.match(await row(agent, first).innerText(), /Bianca Browser[\s\S]*BT Website[\s\S]*BT Sales[\s\S]*Unclaimed[\s\S]*quote a new roof/);
		assert.equal(await row(agent, first).locator(".mc-alert-unclaimed").count(), 1, "unclaimed alert shown");
		assert.equal(await agent.title(), "(4) Message Center", "unread count in the browser tab title"); // with the enquiry and the mail fixtures

		await agent.fill(".mc-search-input", "Bianca Browser");
		await agent.waitForFunction((name) => {
			const rows = [...document.querySelectorAll(".mc-rows .mc-row")].map((element) => element.dataset.name);
			return rows.length && rows.every((item) => item === name);
		}, first);
		await screenshot(agent, "agent-search");
		await agent.fill(".mc-search-input", "");
		await showView(agent, "open");
		await row(agent, second).waitFor();
	});

	it("opens two conversations as tabs named after the person", async () => {
		await row(agent, second).click();
		await conversation(agent, second).locator(".mc-item").first().waitFor();
		await row(agent, first).click();
		await conversation(agent, first).locator(".mc-item").first().waitFor();
		const tabs = await agent.locator(".mc-tab .mc-tab-title").allInnerTexts();
		assert.deepEqual(tabs, ["Carl Second", "Bianca Browser"]);
		await agent.waitForFunction(() => document.title === "(2) Message Center", null, { timeout: 2000 });
		assert.equal(await agent.locator(".mc-tab.active .mc-tab-title").innerText(), "Bianca Browser");
		assert.match(await conversation(agent, first).locator(".mc-item-in").first().innerText(), /quote a new roof/);
		await screenshot(agent, "agent-two-tabs");
	});

	it("claims, and the colleague sees the claim within 2 seconds", async () => {
		await showView(colleague, "unassigned");
		await row(colleague, first).waitFor();
		await conversation(agent, first).locator('[data-action="claim"]').click();
		await conversation(agent, first).locator(".mc-claimed", { hasText: "Agent One" }).waitFor();
		const took = await within(
			colleague,
			REALTIME_MS,
			(name) => !document.querySelector(`.mc-rows .mc-row[data-name="${name}"]`),
			first
		);
		assert.ok(took <= REALTIME_MS, `claim reached the colleague in ${took} ms`);
		await showView(colleague, "open");
		await row(colleague, first).locator(".mc-row-agent", { hasText: "Agent One" }).waitFor();
		await screenshot(colleague, "colleague-sees-claim");
	});

	it("replies with a quick reply, delivered by email and seen by the colleague", async () => {
		const view = conversation(agent, first);
		const input = view.locator(".mc-composer-input");
		await input.click();
		await input.type("/btth");
		await view.locator(".mc-picker-item", { hasText: "BT Thanks" }).waitFor();
		await screenshot(agent, "agent-quick-reply-picker");
		await input.press("Enter");
		await agent.waitForFunction(
			(name) => document.querySelector(`.mc-conversation[data-name="${name}"] .mc-composer-input`).value.startsWith("Thanks Bianca, Agent here."),
			first
		);
		assert.equal(
			(await input.inputValue()).trim(),
			"Thanks Bianca, Agent here. We will call you today.",
			"the quick reply replaces all of what was typed to find it"
		);
		await view.locator(".mc-send").click();
		await view.locator(".mc-item-out", { hasText: "We will call you today" }).waitFor();
		assert.equal(await input.inputValue(), "", "composer cleared after sending");

		await colleague.locator(`.mc-rows .mc-row[data-name="${first}"] .mc-row-preview`, { hasText: "We will call you today" }).waitFor({ timeout: REALTIME_MS });
		await screenshot(agent, "agent-replied");

		bench("execute", "message_center.testing.desk_fixtures.flush_outgoing_mail");
		const sent = mails().filter((mail) => mail.includes("bianca.browser@example.com"));
		assert.equal(sent.length, 1, "one mail to the customer");
		assert.match(sent[0].replace(/=\r?\n/g, ""), /Thanks Bianca, Agent here/);
	});

	it("adds a yellow note mentioning a colleague", async () => {
		const view = conversation(agent, first);
		await view.locator('.mc-mode[data-mode="note"]').click();
		const input = view.locator(".mc-composer-input");
		await input.type("@Agent T");
		await view.locator(".mc-picker-item", { hasText: "Agent Two" }).waitFor();
		await input.press("Enter");
		await input.type("please call her back after 4pm");
		assert.equal(await view.locator(".mc-composer").getAttribute("data-mode"), "note");
		await view.locator(".mc-send").click();
		const note = view.locator(".mc-item-note", { hasText: "please call her back" });
		await note.waitFor();
		assert.match(await note.innerText(), /@Agent Two please call her back after 4pm/);
		const background = await note.locator(".mc-bubble").evaluate((element) => getComputedStyle(element).backgroundColor);
		const yellow = await agent.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--bg-yellow"));
		assert.ok(yellow.trim(), "the theme defines --bg-yellow");
		assert.notEqual(background, "rgba(0, 0, 0, 0)");
		await screenshot(agent, "agent-note");
	});

	it("closes with the keyboard, and the colleague's Open list drops it within 2 seconds", async () => {
		await row(colleague, first).waitFor();
		await conversation(agent, first).locator(".mc-history").click();
		await agent.keyboard.press("e");
		await conversation(agent, first).locator(".mc-status", { hasText: "Closed" }).waitFor();
		const took = await within(
			colleague,
			REALTIME_MS,
			(name) => !document.querySelector(`.mc-rows .mc-row[data-name="${name}"]`),
			first
		);
		assert.ok(took <= REALTIME_MS);
		const composer = conversation(agent, first).locator(".mc-composer");
		await composer.locator('.mc-mode[data-mode="message"]').click();
		assert.match(await composer.locator(".mc-composer-blocked").innerText(), /closed/i, "the composer says why it cannot send");
		await screenshot(agent, "agent-closed");
	});

	it("edits the consumer details of an enquiry; Potential Lead = Yes reveals the extra fields", async () => {
		await showView(agent, "open");
		await row(agent, enquiry).click();
		const details = conversation(agent, enquiry).locator(".mc-details");
		const company = details.locator('input[data-fieldname="company_name"]');
		await company.waitFor();
		assert.equal(await details.locator('input[data-fieldname="person_name"]').inputValue(), "Dora Details");
		const extra = details.locator('.frappe-control[data-fieldname="existing_customer"]');
		assert.equal(await extra.isVisible(), false, "extra fields hidden until Potential Lead = Yes");
		await details.locator('select[data-fieldname="potential_lead"]').selectOption("Yes");
		await extra.waitFor();
		await company.fill("Skylight Studio Ltd");
		await details.locator(".mc-details-save").click();
		await agent.locator(".alert-message", { hasText: "Consumer details saved" }).waitFor();
		await screenshot(agent, "agent-consumer-details");
		const saved = await api(agent, "message_center.api.enquiry.get", { enquiry: await enquiryOf(agent, enquiry) });
		assert.equal(saved.status, 200, saved.body);
		const values = JSON.parse(saved.body).message;
		assert.equal(values.company_name, "Skylight Studio Ltd");
		assert.equal(values.potential_lead, "Yes");
	});

	it("associates an unmatched enquiry with the person the dialog suggests", async () => {
		await row(agent, enquiry).click();
		const view = conversation(agent, enquiry);
		await view.locator("button", { hasText: "Associate" }).first().click();
		const dialog = agent.locator(".modal.show", { hasText: "Associate" });
		const suggested = dialog.locator('select[data-fieldname="suggestion"]');
		await suggested.waitFor();
		const offered = await suggested.locator("option").allTextContents();
		const dora = offered.find((label) => /Dora Details \(Contact\) — same name/.test(label));
		assert.ok(dora, `Dora is suggested by name: ${JSON.stringify(offered)}`);
		await suggested.selectOption({ label: dora });
		await screenshot(agent, "agent-associate");
		await dialog.locator(".btn-modal-primary").click();
		await dialog.waitFor({ state: "hidden" });
		const saved = await api(agent, "message_center.api.enquiry.get", { enquiry: await enquiryOf(agent, enquiry) });
		const values = JSON.parse(saved.body).message;
		assert.equal(values.titles.contact, "Dora Details", "the enquiry is associated with Dora's Contact");
		assert.equal(values.status, "Associated");
	});

	it("moves through the list with j/k and Enter and shows the shortcuts with ?", async () => {
		await agent.locator(".mc-rows").click({ position: { x: 5, y: 5 } }).catch(() => {});
		await agent.locator(".mc-search-input").focus();
		await agent.locator(".mc-search-input").blur();
		await agent.keyboard.press("j");
		const selected = await agent.locator(".mc-row.selected").getAttribute("data-name");
		assert.ok(selected);
		await agent.keyboard.press("Enter");
		await agent.locator(`.mc-tab.active[data-name="${selected}"]`).waitFor();
		await agent.keyboard.press("?");
		await agent.locator(".modal.show .mc-shortcuts").waitFor();
		await agent.waitForTimeout(400); // the dialog's fade-in
		await screenshot(agent, "agent-shortcuts");
		await agent.keyboard.press("Escape");
		await agent.locator(".modal .mc-shortcuts").waitFor({ state: "hidden" });
	});

	it("shows an agent of another team nothing of it", async () => {
		await openInbox(outsider);
		await row(outsider, outside).waitFor();
		for (const name of [first, second, enquiry]) assert.equal(await row(outsider, name).count(), 0);
		for (const view of ["closed", "unread", "unmatched"]) {
			await showView(outsider, view);
			await outsider.waitForTimeout(300);
			for (const name of [first, second, enquiry]) assert.equal(await row(outsider, name).count(), 0, view);
		}
		await outsider.fill(".mc-search-input", "Bianca");
		await outsider.waitForSelector(".mc-list-empty");
		const history = await api(outsider, "message_center.api.messages.history", { conversation: first });
		assert.equal(history.status, 403);
		assert.doesNotMatch(history.body, /quote a new roof/);
		const header = await api(outsider, "message_center.api.inbox.conversation", { conversation: first });
		assert.equal(header.status, 403);
		await screenshot(outsider, "outsider-sees-nothing");
	});

	it("shows only my conversations under My Messages, reached from the profile menu", async () => {
		await agent.locator(".navbar .dropdown-navbar-user [data-toggle=dropdown]").click();
		const menu = agent.locator(".navbar .dropdown-navbar-user .dropdown-menu");
		await menu.locator(".dropdown-item", { hasText: "Message Center" }).waitFor();
		await menu.locator(".dropdown-item", { hasText: "My Messages" }).click();
		await agent.waitForURL(/\/app\/message-center\/mine$/);
		await openInbox(agent, "message-center/mine");
		assert.equal(await agent.locator(".page-title .title-text").innerText(), "My Messages");
		assert.equal(await agent.locator('.mc-view[data-view="unassigned"]').count(), 0);
		assert.equal(await agent.locator(".mc-filter-assignee").isVisible(), false, "no assignee filter on my own list");
		await showView(agent, "closed");
		await row(agent, first).waitFor();
		await showView(agent, "open");
		await agent.waitForTimeout(300);
		assert.equal(await row(agent, second).count(), 0, "unclaimed conversation is not mine");
		await screenshot(agent, "agent-my-messages");
	});
});

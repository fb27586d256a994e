// An agent reading a mail thread sees what the customer wrote this time first, the quoted history
// one click away, and mail a machine sent marked as such and kept out of the team's queues; a reply
// keeps the people the customer copied.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { bench, conversation, FIXTURES, launch, mails, openInbox, row, screenshot, session, showView } from "./helpers.mjs";

const { mail, newsletter, users } = FIXTURES;

describe("A mail conversation", () => {
	let browser, agent;

	before(async () => {
		browser = await launch();
		agent = await session(browser, users.agent);
		await openInbox(agent);
	});

	after(async () => {
		assert.deepEqual(agent.errors, [], "no JavaScript errors in the page");
		await browser?.close();
	});

	it("shows a reply's new part and folds the quoted history", async () => {
		await showView(agent, "open");
		await row(agent, mail).click();
		const view = conversation(agent, mail);
		const reply = view.locator(".mc-item", { hasText: "Re: Skylights" });
		await reply.locator(".mc-new-part").waitFor();
		assert.equal((await reply.locator(".mc-new-part .mc-text").innerText()).trim(), "Friday works for us.");
		assert.equal(await reply.locator("iframe.mc-email-frame").isVisible(), false, "the whole mail waits behind the button");
		await screenshot(agent, "mail-folded");

		await reply.locator(".mc-show-whole").click();
		const frame = reply.locator("iframe.mc-email-frame");
		await frame.waitFor({ state: "visible" });
		await agent.waitForFunction(
			(name) => {
				const element = document.querySelector(`.mc-item[data-name="${name}"] iframe.mc-email-frame`);
				return element && element.contentDocument && /We can come on Friday/.test(element.contentDocument.body.innerText);
			},
			await reply.getAttribute("data-name")
		);
		assert.equal(await reply.locator(".mc-new-part").count(), 0);
		await screenshot(agent, "mail-whole");
	});

	it("marks list mail", async () => {
		const view = conversation(agent, mail);
		const newsletter = view.locator(".mc-item", { hasText: "Roofing weekly" });
		assert.equal((await newsletter.locator(".mc-machine-kind").innerText()).trim(), "List mail");
		assert.equal(await view.locator(".mc-item", { hasText: "Re: Skylights" }).locator(".mc-machine-kind").count(), 0);
	});

	it("replies to everyone the customer copied, and to whoever the agent adds, with the agent's signature", async () => {
		const view = conversation(agent, mail);
		const cc = view.locator(".mc-cc-input");
		assert.equal(await cc.inputValue(), "tom.mail@example.com", "her colleague, not our own inbox");
		await cc.fill("tom.mail@example.com, ana.mail@example.com");
		const signature = view.locator(".mc-signature-preview");
		assert.equal((await signature.innerText()).trim(), "--\nAgent One\nBT Roofing, sales desk", "the signature the mail will end with");
		await view.locator(".mc-composer-input").fill("Friday at 9 then, both of you.");
		await screenshot(agent, "mail-reply-cc");
		await view.locator(".mc-send").click();
		await row(agent, mail).locator(".mc-row-preview", { hasText: "Friday at 9 then" }).waitFor();
		const copied = view.locator(".mc-item-out .mc-email-cc");
		await copied.waitFor();
		assert.equal((await copied.innerText()).trim(), "Cc: tom.mail@example.com, ana.mail@example.com");
		assert.equal(
			(await view.locator(".mc-item-in", { hasText: "Re: Skylights" }).locator(".mc-email-cc").innerText()).trim(),
			"Cc: tom.mail@example.com",
			"the customer's mail shows whom she copied"
		);
		assert.equal(await cc.inputValue(), "tom.mail@example.com", "the next reply starts from the suggestion again");

		bench("execute", "message_center.testing.desk_fixtures.flush_outgoing_mail");
		const sent = mails().filter((text) => text.replace(/=\r?\n/g, "").includes("Friday at 9 then"));
		assert.equal(sent.length, 3, "one delivery to Mia and one to each copy");
		for (const text of sent) {
			assert.match(text.replace(/=\r?\n/g, ""), /Agent One<br>BT Roofing, sales desk/);
			assert.match(text, /^To: mia\.mail@example\.com\r?$/m);
			const copies = /^CC: (.*?)\r?$/im.exec(text);
			assert.ok(copies, "the mail shows its copies");
			assert.deepEqual(copies[1].split(", ").sort(), ["ana.mail@example.com", "tom.mail@example.com"]); // the queue keeps no order
		}
	});

	it("keeps list mail that started no thread closed, asking nobody to claim it", async () => {
		for (const view of ["open", "unassigned"]) {
			await showView(agent, view);
			assert.equal(await row(agent, newsletter).count(), 0, `not in ${view}`);
		}
		await showView(agent, "closed");
		const listed = row(agent, newsletter);
		await listed.waitFor();
		assert.match(await listed.innerText(), /Roofing News[\s\S]*Closed[\s\S]*Slate prices/);
		assert.equal(await listed.locator(".mc-unclaimed-label").count(), 0, "a closed row asks nobody to claim it");
		await listed.click();
		const view = conversation(agent, newsletter);
		await view.locator(".mc-status", { hasText: "Closed" }).waitFor();
		assert.equal(await view.locator(".mc-unclaimed-label").count(), 0, "nor does its header");
		assert.equal((await view.locator(".mc-item .mc-machine-kind").innerText()).trim(), "List mail");
		await screenshot(agent, "mail-list-closed");
	});
});

// An admin opening the channels sees at once that a mailbox has stopped syncing, and why it may have,
// and can test the mailbox's settings from the channel.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { BASE_URL, FIXTURES, launch, screenshot, session } from "./helpers.mjs";

const { manager, stalled_channel } = FIXTURES;

describe("Channel health", () => {
	let browser, admin;

	before(async () => {
		browser = await launch();
		admin = await session(browser, manager);
	});

	after(async () => {
		assert.deepEqual(admin.errors, [], "no script errors");
		await browser.close();
	});

	it("marks a mailbox with no successful sync for three polls in the list", async () => {
		await admin.goto(`${BASE_URL}/app/channel?kind=Email`);
		const listed = admin.locator(".list-row", { hasText: stalled_channel });
		await listed.waitFor({ timeout: 30000 });
		await listed.locator(".indicator-pill", { hasText: "Not syncing" }).first().waitFor();
		await screenshot(admin, "channels-not-syncing");
	});

	it("says on the channel what to check", async () => {
		await admin.goto(`${BASE_URL}/app/channel/${encodeURIComponent(stalled_channel)}`);
		const headline = admin.locator(".form-message.yellow");
		await headline.waitFor({ timeout: 30000 });
		const words = await headline.innerText();
		assert.match(words, /Last successful sync 1 hour ago/);
		// which of the two reasons depends on the site: test sites usually run with the scheduler off
		assert.match(words, /background workers \(long queue\) may be stopped|The scheduler is off on this site/);
		await screenshot(admin, "channel-not-syncing");
	});

	it("tests the mailbox and says what failed", async () => {
		// the fixture's mailbox is a loopback port nothing listens on
		await admin.locator("button", { hasText: "Test connection" }).click();
		const dialog = admin.locator(".modal.show", { hasText: "Connection failed" });
		await dialog.waitFor();
		assert.match(await dialog.innerText(), /Could not reach 127\.0\.0\.1:9: check the host and port\./);
		await screenshot(admin, "channel-test-connection");
	});
});

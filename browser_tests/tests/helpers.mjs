// Shared helpers: the browser, logging in through the real login form, screenshots, bench calls.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import { chromium } from "playwright-core";

export const BASE_URL = process.env.MC_BASE_URL;
export const FIXTURES = JSON.parse(readFileSync(process.env.MC_FIXTURES, "utf8"));
const ARTIFACTS = process.env.MC_ARTIFACTS;

if (!BASE_URL) throw new Error("Run through browser_tests/run.sh (MC_BASE_URL is not set).");

export function launch() {
	return chromium.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
}

// A fresh browser context per person: its own cookies, like a second browser.
export async function session(browser, user, { viewport = { width: 1500, height: 940 } } = {}) {
	const context = await browser.newContext({ viewport });
	const page = await context.newPage();
	page.errors = [];
	page.on("pageerror", (error) => page.errors.push(error.message));
	await page.goto(`${BASE_URL}/login`);
	await page.fill("#login_email", user);
	await page.fill("#login_password", FIXTURES.password);
	await Promise.all([page.waitForURL(/\/app/, { timeout: 30000 }), page.click(".btn-login")]);
	return page;
}

export async function openInbox(page, route = "message-center") {
	await page.goto(`${BASE_URL}/app/${route}`);
	await page.waitForSelector(".mc-inbox .mc-rows", { timeout: 30000 });
	await page.waitForSelector(".mc-rows .mc-row, .mc-rows .mc-list-empty", { timeout: 30000 });
	// Realtime must be connected before anyone acts, or a change could slip by unseen.
	await page.waitForFunction(() => frappe.realtime.socket && frappe.realtime.socket.connected, null, { timeout: 15000 });
}

// Clicks a view and waits until the list shows that view's rows (not the previous view's).
export async function showView(page, view) {
	await page.click(`.mc-view[data-view="${view}"]`);
	await page.waitForSelector(`.mc-view.active[data-view="${view}"]`);
	await page.waitForSelector(".mc-rows:not(.mc-loading)");
}

export const row = (page, name) => page.locator(`.mc-rows .mc-row[data-name="${name}"]`);
export const conversation = (page, name) => page.locator(`.mc-conversation[data-name="${name}"]`);

let shot = 0;
export async function screenshot(page, name) {
	shot += 1;
	const file = path.join(ARTIFACTS, `${String(shot).padStart(2, "0")}-${name}.png`);
	await page.screenshot({ path: file });
	return file;
}

// Waits for `condition` in the page for at most `ms` and returns how long it took.
export async function within(page, ms, condition, arg) {
	const start = Date.now();
	await page.waitForFunction(condition, arg, { timeout: ms, polling: 50 });
	return Date.now() - start;
}

export function bench(...args) {
	return execFileSync("bench", ["--site", process.env.MC_SITE, ...args], { cwd: process.env.MC_BENCH, encoding: "utf8" });
}

export function mails() {
	const directory = process.env.MC_MAIL_DIR;
	let files = [];
	try {
		files = readdirSync(directory).filter((file) => file.endsWith(".eml"));
	} catch (error) {
		return [];
	}
	return files.sort().map((file) => readFileSync(path.join(directory, file), "utf8"));
}

// What the API answers for `method` in this page's session (status and body).
export function api(page, method, args) {
	return page.evaluate(
		async ([method, args]) => {
			const response = await fetch(`/api/method/${method}`, {
				method: "POST",
				headers: { "Content-Type": "application/json", "X-Frappe-CSRF-Token": frappe.csrf_token },
				body: JSON.stringify(args),
			});
			return { status: response.status, body: await response.text() };
		},
		[method, args]
	);
}

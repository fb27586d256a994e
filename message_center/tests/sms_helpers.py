"""What the SMS bench tests share: a real HTTP server for the site, an SMS channel wired to the
loopback Twilio stand-in, and signed webhook requests.

LiveServer serves frappe.app.application on a loopback socket the way `bench serve` does (werkzeug,
threaded): every request runs in its own thread with its own database connection and commits like
production, so unique constraints and locks are exercised for real. Data the server must see has to
be committed first, and the test's own connection must commit (end its snapshot) before it reads
what the server wrote.
"""

from __future__ import annotations

import logging
import random
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

import frappe
from werkzeug.serving import make_server

from message_center.sms_outbound import CONF_BASE_URL, CONF_RETRY_BACKOFF
from message_center.testing.twilio_standin import TwilioStandin
from message_center.testing.twilio_webhooks import (
	SignedWebhook,
	build_inbound_sms_request,
	inbound_sms_params,
)
from message_center.tests.factories import make_channel

ACCOUNT_SID = "AC" + "5a" * 16
AUTH_TOKEN = "mc-test-auth-token-0123456789abcd"


def random_number() -> str:
	"""A fresh US mobile number in E.164, so repeated runs on one site never meet old data."""
	return f"+1415{random.randint(2, 9)}{random.randint(0, 999999):06d}"


def display_format(number: str) -> str:
	"""How people type it into a Contact: "(415) 555-0123"."""
	digits = number[-10:]
	return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def make_sms_channel(name: str, team: str, *, from_number: str = "+14155550100", rate: float = 50) -> str:
	make_channel(
		name,
		team,
		kind="SMS",
		twilio_account_sid=ACCOUNT_SID,
		twilio_auth_token=AUTH_TOKEN,
		sms_from_number=from_number,
		send_rate_per_second=rate,
	)
	return name


@dataclass
class Answer:
	status: int
	body: bytes
	content_type: str


class LiveServer:
	def __init__(self):
		import frappe.app

		self.site = frappe.local.site
		logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per request is noise here
		self._server = make_server("127.0.0.1", 0, frappe.app.application, threaded=True)
		self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

	def start(self) -> LiveServer:
		self._thread.start()
		return self

	def stop(self):
		self._server.shutdown()
		self._thread.join(timeout=5)
		self._server.server_close()

	@property
	def address(self) -> str:
		host, port = self._server.server_address[:2]
		return f"http://{host}:{port}"

	def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
		"""POST to this server the path and query of `url` (the public URL Twilio was given)."""
		parts = urlsplit(url)
		target = f"{self.address}{parts.path}" + (f"?{parts.query}" if parts.query else "")
		request = urllib.request.Request(
			target, data=body, headers={**headers, "X-Frappe-Site-Name": self.site}, method="POST"
		)
		try:
			with urllib.request.urlopen(request, timeout=30) as response:
				return Answer(response.status, response.read(), response.headers.get("Content-Type", ""))
		except urllib.error.HTTPError as error:
			return Answer(error.code, error.read(), error.headers.get("Content-Type", ""))

	def deliver(self, webhook: SignedWebhook, **header_changes) -> Answer:
		headers = {key: value for key, value in {**webhook.headers, **header_changes}.items() if value is not None}
		return self.post(webhook.url, webhook.body, headers)


def inbound(channel: str, from_number: str, body: str, **fields) -> SignedWebhook:
	"""A text to `channel`, signed by Twilio's RequestValidator for the channel's webhook URL."""
	webhook_url = frappe.db.get_value("Channel", channel, "webhook_url")
	return build_inbound_sms_request(
		webhook_url,
		AUTH_TOKEN,
		account_sid=ACCOUNT_SID,
		from_number=from_number,
		to_number="+14155550100",
		body=body,
		**fields,
	)


def inbound_params(from_number: str, body: str, **fields) -> dict:
	"""The same form as a dict, for calling sms_inbound.receive() directly."""
	return dict(
		inbound_sms_params(account_sid=ACCOUNT_SID, from_number=from_number, to_number="+14155550100", body=body, **fields)
	)


class StandinConfig:
	"""Point this process's Twilio client at a fresh stand-in (site config keys, never Channel fields)."""

	def __enter__(self) -> TwilioStandin:
		self.standin = TwilioStandin(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
		self.saved = {key: frappe.conf.get(key) for key in (CONF_BASE_URL, CONF_RETRY_BACKOFF)}
		frappe.conf[CONF_BASE_URL] = self.standin.base_url
		frappe.conf[CONF_RETRY_BACKOFF] = 0.01
		return self.standin

	def __exit__(self, *exc_info):
		for key, value in self.saved.items():
			if value is None:
				frappe.conf.pop(key, None)
			else:
				frappe.conf[key] = value
		self.standin.stop()


def rows_for(sid: str) -> list[dict]:
	return frappe.get_all(
		"Channel Message", filters={"external_id": sid}, fields=["name", "conversation", "communication", "status", "kind"]
	)


def count_messages(channel: str) -> tuple[int, int, int]:
	"""(Channel Messages, Communications, Conversations) of a channel: what a refused request must not change."""
	conversations = frappe.get_all("Conversation", filters={"channel": channel}, pluck="name")
	communications = (
		frappe.db.count("Communication", {"reference_doctype": "Conversation", "reference_name": ("in", conversations)})
		if conversations
		else 0
	)
	return frappe.db.count("Channel Message", {"channel": channel}), communications, len(conversations)


def file_accepted(channel: str) -> int:
	"""Do what the job after each webhook does, for every text the server accepted (the sweep)."""
	from message_center.sms_inbound import process_pending

	frappe.db.commit()
	filed = process_pending(limit=1000, older_than_seconds=0, channel=channel)
	frappe.db.commit()
	return filed


def in_own_connections(function, argument_lists: list[tuple]) -> list:
	"""Run function(*arguments) for each list at the same moment, each in a thread with its own
	database connection (as separate workers would); returns results or raised exceptions."""
	site = frappe.local.site
	start = threading.Barrier(len(argument_lists))
	results: list = [None] * len(argument_lists)

	def run(index, arguments):
		frappe.init(site=site)
		frappe.connect()
		try:
			start.wait()
			results[index] = function(*arguments)
			frappe.db.commit()
		except Exception as error:
			frappe.db.rollback()
			results[index] = error
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=run, args=(index, arguments)) for index, arguments in enumerate(argument_lists)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	return results

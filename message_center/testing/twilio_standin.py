"""A loopback stand-in for Twilio's REST API, Messages resource only, for the real SDK to talk to.

Speaks the 2010-04-01 JSON shapes (message resources, paged lists, Twilio's error object) with
HTTP Basic auth, validates like Twilio for the errors the app handles, and injects faults on
demand: throttling and server errors before anything is created, answers slower than the client's
timeout after the message was created, and opted-out recipients. Every create request is recorded
so tests can assert how many messages really went out. Status callbacks are delivered on demand,
in any order, signed with the account's auth token.

	with TwilioStandin() as twilio:
		client = twilio.client(timeout=0.5)  # a real twilio.rest.Client pointed here
		twilio.fail_next(1, http_status=429)  # or 500 / 503: answered before anything is created
		twilio.delay_next(2.0)  # created, but answered after the client gave up
		twilio.opt_out("+14155552671")  # 21610 from now on
		...
		twilio.create_requests  # every POST, with its params and answer
		twilio.messages  # what was really created
		twilio.deliver_status(sid, "delivered")  # signed POST to the message's StatusCallback
"""

import base64
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from typing import Any

from twilio.rest import Client

from message_center.core.sms_segments import MAX_CHARACTERS, count_segments
from message_center.core.twilio_client import make_client
from message_center.testing.twilio_standin_http import (
	Answer,
	error_body,
	generic_error,
	handler_for,
	list_page,
	messages_uri,
	not_found,
)
from message_center.testing.twilio_webhooks import (
	API_VERSION,
	Delivery,
	FormPairs,
	SignedWebhook,
	build_inbound_sms_request,
	new_auth_token,
	new_sid,
	post_webhook,
	signed_form_request,
	status_callback_params,
)

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class CreateRequest:
	"""One POST to the Messages resource, whatever the answer was."""

	account_sid: str
	params: FormPairs
	http_status: int
	sid: str | None  # set when this request created a message
	error_code: int | None
	received_at: float

	def param(self, key: str) -> str | None:
		return next((value for name, value in self.params if name == key), None)

	def params_named(self, key: str) -> list[str]:
		return [value for name, value in self.params if name == key]


@dataclass
class _Fault:
	http_status: int | None = None  # answer this status before creating anything
	delay_seconds: float = 0.0  # sleep before answering
	create_before_delay: bool = True  # the message exists even though the answer comes too late


class _Refusal(Exception):
	def __init__(self, http_status: int, code: int, message: str):
		super().__init__(message)
		self.http_status, self.code, self.message = http_status, code, message


class TwilioStandin:
	"""Start with `with TwilioStandin() as twilio:`; point the SDK at `twilio.base_url`."""

	def __init__(
		self,
		*,
		account_sid: str | None = None,
		auth_token: str | None = None,
		host: str = "127.0.0.1",
		port: int = 0,
	):
		self.account_sid = account_sid or new_sid("AC")
		self.auth_token = auth_token or new_auth_token()
		self._lock = threading.Lock()
		self._stopping = threading.Event()
		self._faults: list[_Fault] = []
		self._opted_out: set[str] = set()
		self._messages: dict[str, dict[str, Any]] = {}  # insertion order = creation order
		self._create_requests: list[CreateRequest] = []
		self._server = ThreadingHTTPServer((host, port), handler_for(self))
		self._server.daemon_threads = True
		self._thread: threading.Thread | None = None

	# --- lifecycle -------------------------------------------------------------------------

	@property
	def base_url(self) -> str:
		host, port = self._server.server_address[:2]
		return f"http://{host}:{port}"

	def start(self) -> "TwilioStandin":
		self._thread = threading.Thread(
			target=self._server.serve_forever,
			kwargs={"poll_interval": 0.05},  # so stop() returns promptly
			name="twilio-standin",
			daemon=True,
		)
		self._thread.start()
		return self

	def stop(self) -> None:
		self._stopping.set()  # wakes handlers sleeping in an injected delay
		if self._thread:  # shutdown() would wait forever for a loop that never started
			self._server.shutdown()
			self._thread.join(timeout=5)
			self._thread = None
		self._server.server_close()

	def __enter__(self) -> "TwilioStandin":
		return self.start()

	def __exit__(self, *exc_info: object) -> None:
		self.stop()

	def client(self, *, timeout: float = 5.0) -> Client:
		"""A real twilio.rest.Client pointed at this stand-in."""
		return make_client(self.account_sid, self.auth_token, base_url=self.base_url, timeout=timeout)

	# --- fault injection ---------------------------------------------------------------------

	def fail_next(self, count: int = 1, http_status: int = 503) -> None:
		"""The next `count` creates answer `http_status` (e.g. 429, 500, 503) and create nothing."""
		with self._lock:
			self._faults.extend(_Fault(http_status=http_status) for _ in range(count))

	def delay_next(self, seconds: float, count: int = 1, *, create: bool = True) -> None:
		"""The next `count` creates answer only after `seconds`. With create=True the message is
		created first, as when Twilio accepted it but the answer was lost to a client timeout."""
		with self._lock:
			self._faults.extend(
				_Fault(delay_seconds=seconds, create_before_delay=create) for _ in range(count)
			)

	def opt_out(self, number: str) -> None:
		"""Sending to `number` now fails with 21610, as after the recipient texted STOP."""
		with self._lock:
			self._opted_out.add(number)

	def opt_in(self, number: str) -> None:
		with self._lock:
			self._opted_out.discard(number)

	def reset(self) -> None:
		"""Forget faults, opt-outs, messages and recorded requests."""
		with self._lock:
			self._faults.clear()
			self._opted_out.clear()
			self._messages.clear()
			self._create_requests.clear()

	# --- inspection --------------------------------------------------------------------------

	@property
	def create_requests(self) -> list[CreateRequest]:
		"""Every POST to Messages.json so far, in arrival order, including refused ones."""
		with self._lock:
			return list(self._create_requests)

	@property
	def messages(self) -> list[dict[str, Any]]:
		"""Message resources actually created, oldest first, as the API would return them."""
		with self._lock:
			return [_public(message) for message in self._messages.values()]

	def message(self, sid: str) -> dict[str, Any]:
		with self._lock:
			return _public(self._messages[sid])

	# --- status callbacks --------------------------------------------------------------------

	def deliver_status(
		self,
		sid: str,
		status: str,
		*,
		error_code: int | str | None = None,
		url: str | None = None,
		extra: Mapping[str, str] | None = None,
		timeout: float = 5.0,
	) -> Delivery:
		"""POST a signed status callback for message `sid` to its StatusCallback (or `url`).

		Statuses are sent exactly as asked, in whatever order the test wants; the stored message
		takes the status too. Returns what the receiver answered.
		"""
		with self._lock:
			message = self._messages[sid]
			message["status"] = status
			message["date_updated"] = formatdate(usegmt=False)
			if error_code is not None:
				message["error_code"] = int(error_code)
			callback_url = url or message.get("_status_callback")
			snapshot = dict(message)
		if not callback_url:
			raise ValueError(f"Message {sid} has no StatusCallback and no url was given")
		params = status_callback_params(snapshot, status, error_code=error_code, extra=extra)
		return post_webhook(signed_form_request(callback_url, self.auth_token, params), timeout=timeout)

	def inbound_sms(
		self,
		url: str,
		*,
		from_number: str,
		to_number: str,
		body: str,
		media: Iterable[tuple[str, str]] = (),
		extra: Mapping[str, str] | None = None,
	) -> SignedWebhook:
		"""An incoming-SMS webhook for `url`, signed with this account's token (see post_webhook)."""
		return build_inbound_sms_request(
			url,
			self.auth_token,
			account_sid=self.account_sid,
			from_number=from_number,
			to_number=to_number,
			body=body,
			media=media,
			extra=extra,
		)

	def deliver_inbound_sms(self, url: str, *, timeout: float = 5.0, **fields: Any) -> Delivery:
		"""POST an incoming-SMS webhook to `url` as Twilio would when a text arrives."""
		return post_webhook(self.inbound_sms(url, **fields), timeout=timeout)

	# --- request handling (called from handler threads) ---------------------------------------

	def authenticated(self, authorization: str | None) -> bool:
		if not authorization or not authorization.startswith("Basic "):
			return False
		try:
			user, _, password = base64.b64decode(authorization[6:]).decode("utf-8").partition(":")
		except Exception:
			return False
		return user == self.account_sid and password == self.auth_token

	def _next_fault(self) -> _Fault | None:
		with self._lock:
			return self._faults.pop(0) if self._faults else None

	def handle_create(self, account_sid: str, params: FormPairs) -> Answer:
		fault = self._next_fault()
		if fault and fault.http_status:
			answer = generic_error(fault.http_status)
			self._record(account_sid, params, fault.http_status, None, answer[1]["code"])
			return answer
		if fault and fault.delay_seconds and not fault.create_before_delay:
			self._stopping.wait(fault.delay_seconds)
		try:
			message = self._create(account_sid, params)
		except _Refusal as refusal:
			self._record(account_sid, params, refusal.http_status, None, refusal.code)
			return refusal.http_status, error_body(refusal.http_status, refusal.code, refusal.message)
		self._record(account_sid, params, 201, message["sid"], None)
		if fault and fault.delay_seconds and fault.create_before_delay:
			self._stopping.wait(fault.delay_seconds)
		return 201, _public(message)

	def _record(
		self, account_sid: str, params: FormPairs, status: int, sid: str | None, code: int | None
	) -> None:
		with self._lock:
			self._create_requests.append(CreateRequest(account_sid, params, status, sid, code, time.time()))

	def _create(self, account_sid: str, params: FormPairs) -> dict[str, Any]:
		fields = dict(params)
		to = (fields.get("To") or "").strip()
		from_number = (fields.get("From") or "").strip()
		service_sid = (fields.get("MessagingServiceSid") or "").strip()
		body = fields.get("Body") or ""
		media_urls = [value for name, value in params if name == "MediaUrl" and value]
		if not to:
			raise _Refusal(400, 21604, "A 'To' phone number is required.")
		if not from_number and not service_sid:
			raise _Refusal(400, 21603, "A 'From' phone number is required.")
		if not body and not media_urls:
			raise _Refusal(400, 21602, "Message body is required.")
		if not _E164.match(to.removeprefix("whatsapp:")):
			raise _Refusal(400, 21211, f"Invalid 'To' Phone Number: {to}")
		if len(body) > MAX_CHARACTERS:
			raise _Refusal(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
		with self._lock:
			if to in self._opted_out:
				raise _Refusal(400, 21610, "Attempt to send to unsubscribed recipient")
			sid = new_sid("MM" if media_urls else "SM")
			now = formatdate(usegmt=False)
			uri = messages_uri(account_sid, sid)
			message = {
				"account_sid": account_sid,
				"api_version": API_VERSION,
				"body": body,
				"date_created": now,
				"date_sent": None,
				"date_updated": now,
				"direction": "outbound-api",
				"error_code": None,
				"error_message": None,
				"from": from_number or None,
				"messaging_service_sid": service_sid or None,
				# A Messaging Service picks the sender later, so Twilio reports 0 segments until then.
				"num_media": str(len(media_urls)),
				"num_segments": str(count_segments(body).segments if from_number else 0),
				"price": None,
				"price_unit": "USD",
				"sid": sid,
				"status": "queued" if from_number else "accepted",
				"subresource_uris": {"media": uri.replace(".json", "/Media.json")},
				"to": to,
				"uri": uri,
				"_status_callback": fields.get("StatusCallback") or None,
				"_media_urls": media_urls,
			}
			self._messages[sid] = message
			return dict(message)

	def handle_fetch(self, account_sid: str, sid: str) -> Answer:
		with self._lock:
			message = self._messages.get(sid)
		if not message or message["account_sid"] != account_sid:
			return not_found(messages_uri(account_sid, sid))
		return 200, _public(message)

	def handle_list(self, account_sid: str, filters: Mapping[str, str]) -> Answer:
		with self._lock:
			matching = [
				_public(message)
				for message in reversed(self._messages.values())  # Twilio lists newest first
				if message["account_sid"] == account_sid
				and filters.get("To", message["to"]) == message["to"]
				and filters.get("From", message["from"]) == message["from"]
			]
		return list_page(account_sid, matching, filters)


def _public(message: Mapping[str, Any]) -> dict[str, Any]:
	return {key: value for key, value in message.items() if not key.startswith("_")}

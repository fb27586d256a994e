"""Twilio-shaped webhook requests, signed like Twilio signs them, and a server that records them.

Signatures come from the SDK's own RequestValidator.compute_signature, independently of the app's
verification code, so a test that verifies them checks the app against Twilio's algorithm.
"""

import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

FormPairs = list[tuple[str, str]]


def new_sid(prefix: str) -> str:
	"""A Twilio-style SID: two-letter prefix ("SM", "AC", "MG", "MM") and 32 lower-case hex digits."""
	return prefix + secrets.token_hex(16)


def new_auth_token() -> str:
	return secrets.token_hex(16)


class SignedWebhook(NamedTuple):
	url: str
	headers: dict[str, str]
	body: bytes  # application/x-www-form-urlencoded


def sign(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
	"""X-Twilio-Signature for a form POST, computed by the Twilio SDK."""
	pairs = list(params)
	keys = [key for key, _ in pairs]
	if len(keys) != len(set(keys)):
		raise ValueError("Twilio never sends a webhook field twice; sign repeated keys in the test itself")
	return RequestValidator(auth_token).compute_signature(url, dict(pairs))


def signed_form_request(
	url: str, auth_token: str, params: Iterable[tuple[str, str]], *, idempotency_token: str | None = None
) -> SignedWebhook:
	pairs = [(str(key), str(value)) for key, value in params]
	headers = {
		"Content-Type": FORM_CONTENT_TYPE,
		"User-Agent": "TwilioProxy/1.1",
		SIGNATURE_HEADER: sign(auth_token, url, pairs),
		"I-Twilio-Idempotency-Token": idempotency_token or secrets.token_hex(16),
	}
	return SignedWebhook(url=url, headers=headers, body=urlencode(pairs).encode("utf-8"))


def inbound_sms_params(
	*,
	account_sid: str,
	from_number: str,
	to_number: str,
	body: str,
	message_sid: str | None = None,
	media: Iterable[tuple[str, str]] = (),
	messaging_service_sid: str | None = None,
	num_segments: int = 1,
	extra: Mapping[str, str] | None = None,
) -> FormPairs:
	"""The form fields Twilio POSTs for an incoming SMS/MMS; media is (url, content type) pairs."""
	media = list(media)
	sid = message_sid or new_sid("MM" if media else "SM")
	pairs: FormPairs = [
		("ToCountry", "US"),
		("ToState", ""),
		("SmsMessageSid", sid),
		("NumMedia", str(len(media))),
		("ToCity", ""),
		("FromZip", ""),
		("SmsSid", sid),
		("FromState", ""),
		("SmsStatus", "received"),
		("FromCity", ""),
		("Body", body),
		("FromCountry", ""),
		("To", to_number),
		("ToZip", ""),
		("NumSegments", str(num_segments)),
		("MessageSid", sid),
		("AccountSid", account_sid),
		("From", from_number),
		("ApiVersion", API_VERSION),
	]
	if messaging_service_sid:
		pairs.append(("MessagingServiceSid", messaging_service_sid))
	for index, (media_url, content_type) in enumerate(media):
		pairs.append((f"MediaContentType{index}", content_type))
		pairs.append((f"MediaUrl{index}", media_url))
	pairs.extend((extra or {}).items())
	return pairs


def build_inbound_sms_request(
	url: str,
	auth_token: str,
	*,
	account_sid: str,
	from_number: str,
	to_number: str,
	body: str,
	message_sid: str | None = None,
	media: Iterable[tuple[str, str]] = (),
	messaging_service_sid: str | None = None,
	extra: Mapping[str, str] | None = None,
) -> SignedWebhook:
	"""A signed inbound-SMS webhook POST, ready for requests/urllib/a WSGI test client."""
	params = inbound_sms_params(
		account_sid=account_sid,
		from_number=from_number,
		to_number=to_number,
		body=body,
		message_sid=message_sid,
		media=media,
		messaging_service_sid=messaging_service_sid,
		extra=extra,
	)
	return signed_form_request(url, auth_token, params)


def status_callback_params(
	message: Mapping[str, object],
	status: str,
	*,
	error_code: int | str | None = None,
	extra: Mapping[str, str] | None = None,
) -> FormPairs:
	"""Status callback fields for a message resource (Twilio's JSON shape) reaching `status`."""
	pairs: FormPairs = [
		("SmsSid", str(message["sid"])),
		("SmsStatus", status),
		("MessageStatus", status),
		("To", str(message.get("to") or "")),
		("MessageSid", str(message["sid"])),
		("AccountSid", str(message["account_sid"])),
		("From", str(message.get("from") or "")),
		("ApiVersion", API_VERSION),
	]
	if message.get("messaging_service_sid"):
		pairs.append(("MessagingServiceSid", str(message["messaging_service_sid"])))
	if error_code is not None:
		pairs.append(("ErrorCode", str(error_code)))
	pairs.extend((extra or {}).items())
	return pairs


@dataclass(frozen=True)
class Delivery:
	url: str
	params: FormPairs
	signature: str
	http_status: int | None  # None when the receiver could not be reached
	response_body: bytes = b""
	error: str | None = None


def post_webhook(webhook: SignedWebhook, *, timeout: float = 5.0) -> Delivery:
	"""POST a signed webhook the way Twilio would; never raises for HTTP or connection errors."""
	request = urllib.request.Request(webhook.url, data=webhook.body, headers=webhook.headers, method="POST")
	params = parse_qsl(webhook.body.decode("utf-8"), keep_blank_values=True)
	signature = webhook.headers[SIGNATURE_HEADER]
	try:
		with urllib.request.urlopen(request, timeout=timeout) as response:
			return Delivery(webhook.url, params, signature, response.status, response.read())
	except urllib.error.HTTPError as error:
		return Delivery(webhook.url, params, signature, error.code, error.read(), str(error))
	except (urllib.error.URLError, OSError) as error:
		return Delivery(webhook.url, params, signature, None, b"", str(error))


@dataclass(frozen=True)
class RecordedRequest:
	method: str
	path: str  # including the query string
	headers: dict[str, str]
	body: bytes
	params: FormPairs = field(default_factory=list)  # the form fields, repeated keys kept

	def param(self, key: str) -> str | None:
		return next((value for name, value in self.params if name == key), None)


class WebhookRecorder:
	"""Loopback HTTP server that records every request and answers `response_status` (default 200).

	Stands in for the app's webhook endpoint when testing what the Twilio stand-in sends.
	"""

	def __init__(self, *, response_status: int = 200, host: str = "127.0.0.1", port: int = 0):
		self.response_status = response_status
		self._requests: list[RecordedRequest] = []
		self._lock = threading.Lock()
		self._arrived = threading.Condition(self._lock)
		recorder = self

		class Handler(BaseHTTPRequestHandler):
			def do_POST(self) -> None:
				length = int(self.headers.get("Content-Length") or 0)
				body = self.rfile.read(length) if length else b""
				recorder._record(self, body)

			def do_GET(self) -> None:
				recorder._record(self, b"")

			def log_message(self, format: str, *args: object) -> None:
				pass

		self._server = ThreadingHTTPServer((host, port), Handler)
		self._server.daemon_threads = True
		self._thread: threading.Thread | None = None

	def _record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
		content_type = handler.headers.get("Content-Type") or ""
		params = (
			parse_qsl(body.decode("utf-8"), keep_blank_values=True)
			if content_type.startswith(FORM_CONTENT_TYPE)
			else []
		)
		recorded = RecordedRequest(handler.command, handler.path, dict(handler.headers.items()), body, params)
		with self._arrived:
			self._requests.append(recorded)
			self._arrived.notify_all()
		answer = b"<Response></Response>"  # empty TwiML: acknowledged, nothing to reply
		handler.send_response(self.response_status)
		handler.send_header("Content-Type", "text/xml")
		handler.send_header("Content-Length", str(len(answer)))
		handler.end_headers()
		handler.wfile.write(answer)

	@property
	def url(self) -> str:
		host, port = self._server.server_address[:2]
		return f"http://{host}:{port}"

	@property
	def requests(self) -> list[RecordedRequest]:
		with self._lock:
			return list(self._requests)

	def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
		"""Block until at least `count` requests arrived (or the timeout passes); returns them all."""
		with self._arrived:
			self._arrived.wait_for(lambda: len(self._requests) >= count, timeout=timeout)
			return list(self._requests)

	def start(self) -> "WebhookRecorder":
		self._thread = threading.Thread(
			target=self._server.serve_forever,
			kwargs={"poll_interval": 0.05},  # so stop() returns promptly
			name="webhook-recorder",
			daemon=True,
		)
		self._thread.start()
		return self

	def stop(self) -> None:
		if self._thread:  # shutdown() would wait forever for a loop that never started
			self._server.shutdown()
			self._thread.join(timeout=5)
			self._thread = None
		self._server.server_close()

	def __enter__(self) -> "WebhookRecorder":
		return self.start()

	def __exit__(self, *exc_info: object) -> None:
		self.stop()

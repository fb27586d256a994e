"""Sending one SMS through the Twilio SDK, with retries that can never send it twice.

A message is one Messages API call (Twilio splits long bodies itself). Only answers that prove
Twilio created nothing are retried: 429 (rate limited) and 5xx other than 504, plus connections
that were never established. A read timeout, a dropped connection or a 504 after the request went
out may mean Twilio accepted the message, so those fail with outcome_unknown=True instead of
being sent again; the shell should ask a person (or Twilio's message list) rather than resend.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from urllib3.exceptions import ConnectTimeoutError

from message_center.core.sms_status import QUEUED

FAILED = "failed"

ERROR_UNSUBSCRIBED_RECIPIENT = 21610  # the recipient texted STOP; Twilio blocks until START
RATE_LIMITED = 429
# A gateway timeout means the request reached Twilio's edge and the outcome behind it is unknown.
AMBIGUOUS_HTTP_STATUSES = frozenset({504})
MAX_BACKOFF_SECONDS = 30.0

# The SDK prefixes Twilio's own message with what it was doing; the composer only needs Twilio's part.
_SDK_MESSAGE_PREFIX = "Unable to create record: "


@dataclass(frozen=True)
class SendResult:
	status: str  # Twilio's status for an accepted message ("queued", "accepted", "scheduled"), else "failed"
	sid: str | None = None
	error_code: int | None = None  # Twilio's error code (e.g. 21610), or the HTTP status when it gave none
	error_message: str | None = None
	attempts: int = 0  # API calls made
	opted_out: bool = False  # Twilio refused because the recipient has opted out (21610)
	retryable: bool = False  # a later attempt (e.g. the next job run) may succeed and cannot duplicate
	outcome_unknown: bool = False  # the request may have reached Twilio; do not resend blindly
	http_status: int | None = None
	num_segments: int | None = None

	@property
	def ok(self) -> bool:
		return self.status != FAILED


def backoff_delay(attempt: int, backoff: float) -> float:
	"""Seconds to wait after failed attempt number `attempt` (1-based): backoff, 2x, 4x ... capped."""
	return min(backoff * (2 ** (attempt - 1)), MAX_BACKOFF_SECONDS)


def is_retryable_http_status(status: int) -> bool:
	return status == RATE_LIMITED or (500 <= status <= 599 and status not in AMBIGUOUS_HTTP_STATUSES)


def _never_left(error: Exception) -> bool:
	"""True when the connection was never established, so Twilio cannot have seen the request."""
	if isinstance(error, requests.exceptions.ConnectTimeout):
		return True
	if isinstance(error, requests.exceptions.ConnectionError) and error.args:
		# requests wraps urllib3's MaxRetryError; a refused or unresolvable connection is a
		# NewConnectionError, which urllib3 files under ConnectTimeoutError.
		reason = getattr(error.args[0], "reason", None)
		return isinstance(reason, ConnectTimeoutError)
	return False


def _twilio_error(error: TwilioException) -> tuple[int | None, int | None, str]:
	"""(http status, Twilio error code, Twilio's message) from either SDK exception shape."""
	if isinstance(error, TwilioServiceException):
		message = error.title + (f": {error.detail}" if error.detail else "")
		return error.status, error.code, message
	if isinstance(error, TwilioRestException):
		message = str(error.msg or "")
		if message.startswith(_SDK_MESSAGE_PREFIX):
			message = message[len(_SDK_MESSAGE_PREFIX) :]
		code = int(error.code) if str(error.code or "").isdigit() else None
		return error.status, code, message or f"HTTP {error.status}"
	return None, None, str(error) or error.__class__.__name__


def _attempts(count: int) -> str:
	return f"{count} attempt" if count == 1 else f"{count} attempts"


def _as_int(value: Any) -> int | None:
	try:
		return int(value)
	except (TypeError, ValueError):
		return None


def send_message(
	client: Any,
	*,
	to: str,
	body: str | None,
	from_number: str | None = None,
	messaging_service_sid: str | None = None,
	status_callback: str | None = None,
	media_urls: Sequence[str] = (),
	max_attempts: int = 3,
	backoff: float = 1.0,
	sleep: Callable[[float], None] = time.sleep,
) -> SendResult:
	"""Create one outbound message with `client` (a twilio.rest.Client); never raises for API errors.

	Give from_number, messaging_service_sid, or both (Twilio then sends from from_number and
	attributes it to the service). Retries up to max_attempts API calls in total, waiting
	backoff, 2*backoff, ... seconds between them via `sleep`.
	"""
	if not from_number and not messaging_service_sid:
		raise ValueError("An SMS needs a From number or a Messaging Service SID")
	if max_attempts < 1:
		raise ValueError("max_attempts must be at least 1")

	create_arguments: dict[str, Any] = {"to": to}
	if from_number:
		create_arguments["from_"] = from_number
	if messaging_service_sid:
		create_arguments["messaging_service_sid"] = messaging_service_sid
	if body:
		create_arguments["body"] = body
	if media_urls:
		create_arguments["media_url"] = list(media_urls)
	if status_callback:
		create_arguments["status_callback"] = status_callback

	attempt = 0
	while True:
		attempt += 1
		try:
			message = client.messages.create(**create_arguments)
		except TwilioException as error:
			http_status, code, message_text = _twilio_error(error)
			if http_status is not None and is_retryable_http_status(http_status):
				if attempt < max_attempts:
					sleep(backoff_delay(attempt, backoff))
					continue
				return SendResult(
					status=FAILED,
					error_code=code,
					error_message=(
						f"Twilio answered HTTP {http_status} ({message_text}); "
						f"gave up after {_attempts(attempt)}, nothing was sent"
					),
					attempts=attempt,
					retryable=True,
					http_status=http_status,
				)
			outcome_unknown = http_status in AMBIGUOUS_HTTP_STATUSES
			if outcome_unknown:
				message_text = (
					f"Twilio answered HTTP {http_status} ({message_text}); the message may have been "
					"sent, so it was not retried"
				)
			return SendResult(
				status=FAILED,
				error_code=code,
				error_message=message_text,
				attempts=attempt,
				opted_out=code == ERROR_UNSUBSCRIBED_RECIPIENT,
				outcome_unknown=outcome_unknown,
				http_status=http_status,
			)
		except (requests.exceptions.RequestException, OSError, ValueError) as error:
			# ValueError covers a 2xx answer that was not JSON (e.g. a proxy page): sent, maybe.
			if _never_left(error):
				if attempt < max_attempts:
					sleep(backoff_delay(attempt, backoff))
					continue
				return SendResult(
					status=FAILED,
					error_message=(
						f"Could not connect to Twilio after {_attempts(attempt)} "
						f"({error.__class__.__name__}); nothing was sent"
					),
					attempts=attempt,
					retryable=True,
				)
			return SendResult(
				status=FAILED,
				error_message=(
					f"No answer from Twilio ({error.__class__.__name__}) after the request was sent; "
					"the message may have been sent, so it was not retried"
				),
				attempts=attempt,
				outcome_unknown=True,
			)
		return SendResult(
			status=message.status or QUEUED,
			sid=message.sid,
			error_code=_as_int(message.error_code),
			error_message=message.error_message,
			attempts=attempt,
			num_segments=_as_int(message.num_segments),
		)


@dataclass(frozen=True)
class SendSlot:
	at: float  # when this message may go out (same clock as `now`)
	wait_seconds: float  # how long to wait from `now`; 0 when the slot is free


@dataclass(frozen=True)
class RatePacer:
	"""Spaces sends from one number at its rate limit (e.g. 1/s for a US long code, 100/s short code).

	Pure arithmetic: the shell keeps the last reserved slot per sender (in Redis, updated atomically)
	and stores SendSlot.at back as the new last slot before waiting.
	"""

	messages_per_second: float

	def __post_init__(self) -> None:
		if not self.messages_per_second or self.messages_per_second <= 0:
			raise ValueError("messages_per_second must be positive")

	@property
	def interval(self) -> float:
		return 1.0 / self.messages_per_second

	def next_slot(self, last_slot: float | None, now: float) -> float:
		"""Earliest send time at least one interval after the last reserved slot, never in the past."""
		if last_slot is None:
			return now
		return max(now, last_slot + self.interval)

	def reserve(self, last_slot: float | None, now: float) -> SendSlot:
		slot = self.next_slot(last_slot, now)
		return SendSlot(at=slot, wait_seconds=max(0.0, slot - now))

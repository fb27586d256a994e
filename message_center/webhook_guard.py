"""What every Twilio webhook goes through before anything is written.

- The channel comes from the query string and must be an enabled SMS channel.
- X-Twilio-Signature is checked with the twilio SDK's RequestValidator against the URL configured
  on the Channel (exactly what Twilio was given, whatever host the request reached us on) and the
  POSTed form only (frappe.form_dict also carries the query string and cmd).
- Abuse is rate-limited per minute with Redis counters (Settings.webhook_rate_limit): per sending
  number and channel for signed requests, and per client IP for requests that fail the signature,
  so a forger is shut out without ever throttling Twilio's own addresses.
"""

from __future__ import annotations

import hashlib
import time

import frappe
from werkzeug.wrappers import Response

from message_center.core.twilio_client import verify_signature

SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
RATE_WINDOW_SECONDS = 60
DEFAULT_RATE_LIMIT = 120


def twiml() -> Response:
	"""Empty TwiML: received, nothing to answer (replies go out through the API)."""
	return Response(EMPTY_TWIML, status=200, content_type="text/xml; charset=utf-8")


def refuse(status: int, text: str) -> Response:
	response = Response(text, status=status, content_type="text/plain; charset=utf-8")
	if status == 429:
		response.headers["Retry-After"] = str(RATE_WINDOW_SECONDS)
	return response


def request_channel():
	"""The enabled SMS Channel named by ?channel=, or None. From the document cache (saving a Channel
	clears it): Twilio's traffic costs no database read before the signature is checked."""
	name = frappe.request.args.get("channel")
	if not name or len(name) > 140:
		return None
	try:
		channel = frappe.get_cached_doc("Channel", name)
	except frappe.DoesNotExistError:
		frappe.clear_messages()
		return None
	return channel if channel.kind == "SMS" and channel.enabled else None


# (channel, modified) -> auth token, per process: decrypted once per worker and per change of the
# Channel, never put in the shared cache.
_auth_tokens: dict[tuple[str, str], str | None] = {}


def auth_token(channel) -> str | None:
	key = (channel.name, str(channel.modified))
	if key not in _auth_tokens:
		if len(_auth_tokens) > 100:
			_auth_tokens.clear()
		_auth_tokens[key] = channel.get_password("twilio_auth_token", raise_exception=False)
	return _auth_tokens[key]


def signature_valid(channel, url: str | None) -> bool:
	return verify_signature(auth_token(channel), url, frappe.request.form, frappe.get_request_header(SIGNATURE_HEADER))


def rate_limit() -> int:
	value = frappe.get_cached_doc("Message Center Settings").webhook_rate_limit
	return DEFAULT_RATE_LIMIT if value is None else int(value)


def _counter_key(scope: str, identity: str) -> str:
	window = int(time.time() // RATE_WINDOW_SECONDS)
	digest = hashlib.sha1(identity.encode()).hexdigest()
	return frappe.cache.make_key(f"message_center:webhook_rate:{scope}:{digest}:{window}")


def count(scope: str, identity: str) -> int:
	"""Add one request to this minute's counter and return the new count (atomic INCR)."""
	pipe = frappe.cache.pipeline(transaction=False)
	key = _counter_key(scope, identity)
	pipe.incr(key)
	pipe.expire(key, RATE_WINDOW_SECONDS * 2)
	return int(pipe.execute()[0])


def over_limit(scope: str, identity: str) -> bool:
	limit = rate_limit()
	return limit > 0 and count(scope, identity) > limit


def forger_blocked(ip: str) -> bool:
	limit = rate_limit()
	value = frappe.cache.get(_counter_key("unsigned", ip))
	return limit > 0 and int(value or 0) >= limit


def check_request(channel, url: str | None) -> Response | None:
	"""None when the request is Twilio's; otherwise the refusal to return (403/429), nothing written."""
	ip = frappe.local.request_ip or ""
	if forger_blocked(ip):
		return refuse(429, "Too many requests")
	if channel is None or not signature_valid(channel, url):
		count("unsigned", ip)
		return refuse(403, "Forbidden")
	return None

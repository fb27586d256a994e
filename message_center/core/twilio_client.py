"""A real twilio.rest.Client, optionally pointed at another base URL, and webhook signature checks.

Tests (and Twilio-compatible proxies) need the SDK to talk to something other than
https://api.twilio.com. The SDK builds absolute URLs on the fixed Twilio host and hands them to its
HTTP client, so the one clean seam is an HttpClient that rewrites the scheme and host of each
request; everything else (serialisation, auth, error parsing) stays the SDK's own.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

DEFAULT_TIMEOUT_SECONDS = 10.0

# api.twilio.com, and the edge/region variants (api.dublin.ie1.twilio.com) the SDK derives from
# TWILIO_EDGE / TWILIO_REGION in the environment.
_TWILIO_API_HOST = re.compile(r"^api(\.[a-z0-9-]+)*\.twilio\.com$", re.IGNORECASE)

ParamsLike = Mapping[str, Any] | Iterable[tuple[str, Any]] | None


class BaseUrlHttpClient(TwilioHttpClient):
	"""TwilioHttpClient that sends requests meant for api.twilio.com to `base_url` instead."""

	def __init__(self, base_url: str, **kwargs: Any):
		super().__init__(**kwargs)
		parts = urlsplit(base_url)
		if parts.scheme not in ("http", "https") or not parts.netloc:
			raise ValueError(f"Twilio base URL must be an absolute http(s) URL, got {base_url!r}")
		self.base_url = base_url.rstrip("/")

	def rewrite_url(self, url: str) -> str:
		parts = urlsplit(url)
		if not _TWILIO_API_HOST.match(parts.hostname or ""):
			return url
		base = urlsplit(self.base_url)
		return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, parts.fragment))

	def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
		return super().request(method, self.rewrite_url(url), *args, **kwargs)


def make_client(
	account_sid: str,
	auth_token: str,
	*,
	base_url: str | None = None,
	timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Client:
	"""A twilio.rest.Client with a request timeout (the SDK's default is to wait forever).

	base_url (e.g. "http://127.0.0.1:8123") replaces https://api.twilio.com for every API request.
	"""
	if not account_sid or not auth_token:
		raise ValueError("Twilio needs both an Account SID and an Auth Token")
	if base_url:
		http_client: TwilioHttpClient = BaseUrlHttpClient(base_url, timeout=timeout)
	else:
		http_client = TwilioHttpClient(timeout=timeout)
	return Client(account_sid, auth_token, http_client=http_client)


class _MultiParams(dict):
	"""Keys with every value they were posted with; RequestValidator reads repeated keys via getall()."""

	def __init__(self, pairs: Iterable[tuple[str, str]]):
		super().__init__()
		self._values: dict[str, list[str]] = {}
		for key, value in pairs:
			self._values.setdefault(key, []).append(value)
			self.setdefault(key, value)

	def getall(self, key: str) -> list[str]:
		return self._values[key]


def _as_text(value: Any) -> str:
	return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def param_pairs(params: ParamsLike) -> list[tuple[str, str]]:
	"""(key, value) pairs from a dict, a MultiDict-like object (getlist) or an iterable of pairs."""
	if params is None:
		return []
	if isinstance(params, Mapping):
		if hasattr(params, "getlist"):  # werkzeug / Django multi-value dicts: keep every value
			return [(_as_text(key), _as_text(value)) for key in params for value in params.getlist(key)]
		pairs = []
		for key, value in params.items():
			values = value if isinstance(value, list | tuple) else [value]
			pairs.extend((_as_text(key), _as_text(item)) for item in values)
		return pairs
	return [(_as_text(key), _as_text(value)) for key, value in params]


def verify_signature(auth_token: str, url: str, params: ParamsLike, signature: str | None) -> bool:
	"""True when `signature` (the X-Twilio-Signature header) is Twilio's signature of this request.

	`url` must be the exact public URL Twilio requested, query string included; `params` are the
	POSTed form fields only (not query arguments), every field Twilio sent, including ones this app
	does not know about. Never raises: anything malformed is simply not verified.
	"""
	if not auth_token or not url or not signature or not signature.strip():
		# An empty token would make every signature computable by anyone.
		return False
	try:
		validator = RequestValidator(auth_token)
		return bool(validator.validate(url, _MultiParams(param_pairs(params)), signature.strip()))
	except Exception:
		return False

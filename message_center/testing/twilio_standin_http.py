"""The HTTP side of the Twilio stand-in: routing, Basic auth, Twilio's JSON error and page shapes.

Kept apart from twilio_standin.py (the state and the fault injection) so each stays readable.
"""

import json
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from message_center.testing.twilio_webhooks import API_VERSION, FormPairs

MESSAGES_PATH = re.compile(
	rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$"
)
DEFAULT_PAGE_SIZE = 50

Answer = tuple[int, dict[str, Any]]


class MessagesBackend(Protocol):
	account_sid: str

	def authenticated(self, authorization: str | None) -> bool: ...

	def handle_create(self, account_sid: str, params: FormPairs) -> Answer: ...

	def handle_fetch(self, account_sid: str, sid: str) -> Answer: ...

	def handle_list(self, account_sid: str, filters: Mapping[str, str]) -> Answer: ...


def error_body(http_status: int, code: int, message: str) -> dict[str, Any]:
	"""Twilio's error JSON."""
	return {
		"code": code,
		"message": message,
		"more_info": f"https://www.twilio.com/docs/errors/{code}",
		"status": http_status,
	}


def generic_error(http_status: int) -> Answer:
	"""Twilio's error for a bare HTTP status: code 20000 + status (20429, 20503 ...) and its phrase."""
	try:
		phrase = HTTPStatus(http_status).phrase
	except ValueError:
		phrase = "Error"
	return http_status, error_body(http_status, 20000 + http_status, phrase)


def not_found(path: str) -> Answer:
	return 404, error_body(404, 20404, f"The requested resource {path} was not found")


def messages_uri(account_sid: str, sid: str | None = None) -> str:
	suffix = f"/{sid}" if sid else ""
	return f"/{API_VERSION}/Accounts/{account_sid}/Messages{suffix}.json"


def list_page(account_sid: str, matching: Sequence[dict[str, Any]], filters: Mapping[str, str]) -> Answer:
	"""One page of a Messages list, with the paging fields the SDK follows (next_page_uri)."""
	page_size = max(1, min(int(filters.get("PageSize") or DEFAULT_PAGE_SIZE), 1000))
	page = max(0, int(filters.get("Page") or 0))
	start = page * page_size
	rows = list(matching[start : start + page_size])
	kept = {key: value for key, value in filters.items() if key in ("To", "From")}

	def page_uri(number: int) -> str:
		return f"{messages_uri(account_sid)}?{urlencode({**kept, 'PageSize': page_size, 'Page': number})}"

	return 200, {
		"messages": rows,
		"start": start,
		"end": start + max(len(rows) - 1, 0),
		"page": page,
		"page_size": page_size,
		"uri": page_uri(page),
		"first_page_uri": page_uri(0),
		"previous_page_uri": page_uri(page - 1) if page > 0 else None,
		"next_page_uri": page_uri(page + 1) if start + page_size < len(matching) else None,
	}


def handler_for(backend: MessagesBackend) -> type[BaseHTTPRequestHandler]:
	class Handler(BaseHTTPRequestHandler):
		def _answer(self, status: int, payload: Mapping[str, Any]) -> None:
			data = json.dumps(payload).encode("utf-8")
			try:
				self.send_response(status)
				self.send_header("Content-Type", "application/json; charset=utf-8")
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)
			except (BrokenPipeError, ConnectionResetError):
				pass  # the client gave up waiting (an injected delay); that is the point

		def _dispatch(self, method: str) -> None:
			length = int(self.headers.get("Content-Length") or 0)
			body = self.rfile.read(length).decode("utf-8") if length else ""
			parts = urlsplit(self.path)
			route = MESSAGES_PATH.match(parts.path)
			if route is None:
				self._answer(*not_found(self.path))
				return
			if not backend.authenticated(self.headers.get("Authorization")):
				self._answer(401, error_body(401, 20003, "Authenticate"))
				return
			account_sid, sid = route["account"], route["sid"]
			if account_sid != backend.account_sid:
				self._answer(*not_found(self.path))
			elif method == "POST" and sid is None:
				self._answer(*backend.handle_create(account_sid, parse_qsl(body, keep_blank_values=True)))
			elif method == "GET" and sid is None:
				self._answer(*backend.handle_list(account_sid, dict(parse_qsl(parts.query))))
			elif method == "GET":
				self._answer(*backend.handle_fetch(account_sid, sid))
			else:
				self._answer(405, error_body(405, 20405, "Method not allowed"))

		def do_POST(self) -> None:
			self._dispatch("POST")

		def do_GET(self) -> None:
			self._dispatch("GET")

		def log_message(self, format: str, *args: object) -> None:
			pass  # keep test output clean

	return Handler

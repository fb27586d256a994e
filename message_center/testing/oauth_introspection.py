"""A loopback OAuth 2.0 token introspection endpoint (RFC 7662) for Dovecot's oauth2 passdb.

It knows only the tokens it was given: each maps to one username and answers
{"active": true, "username": ...}; any other token answers {"active": false}, as a real
authorisation server does for an expired or revoked one.

	with TokenIntrospection() as tokens, DovecotServer(oauth2_introspection_url=tokens.url) as server:
		server.add_user("alice", "secret")
		token = tokens.issue("alice")  # IMAPClient.oauth2_login("alice", token) now succeeds
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATH = "/introspect"


class TokenIntrospection:
	def __init__(self, host: str = "127.0.0.1") -> None:
		self.host = host
		self.port = 0
		self.requests = 0  # introspection calls answered, to see that Dovecot really asked
		self._users_by_token: dict[str, str] = {}
		self._lock = threading.Lock()
		self._server: ThreadingHTTPServer | None = None
		self._thread: threading.Thread | None = None

	def __enter__(self) -> TokenIntrospection:
		return self.start()

	def __exit__(self, *exc_info) -> None:
		self.stop()

	@property
	def url(self) -> str:
		return f"http://{self.host}:{self.port}{PATH}"

	def start(self) -> TokenIntrospection:
		self._server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
		self._server.daemon_threads = True
		self.port = self._server.server_address[1]
		self._thread = threading.Thread(
			target=self._server.serve_forever, name="mc-token-introspection", daemon=True
		)
		self._thread.start()
		return self

	def stop(self) -> None:
		server, self._server = self._server, None
		if server:
			server.shutdown()
			server.server_close()
		if self._thread:
			self._thread.join(timeout=5)
			self._thread = None

	def issue(self, username: str, token: str | None = None) -> str:
		"""A token that is active for `username` from now on."""
		token = token or secrets.token_urlsafe(32)
		with self._lock:
			self._users_by_token[token] = username
		return token

	def revoke(self, token: str) -> None:
		with self._lock:
			self._users_by_token.pop(token, None)

	def answer(self, token: str) -> dict:
		with self._lock:
			self.requests += 1
			username = self._users_by_token.get(token)
		return {"active": True, "username": username} if username else {"active": False}


def _handler_for(endpoint: TokenIntrospection) -> type[BaseHTTPRequestHandler]:
	class Handler(BaseHTTPRequestHandler):
		# Dovecot's introspection_mode post sends token=... as a form; get appends the token to the
		# URL and auth sends it as a Bearer header. Answer all three.
		def do_POST(self) -> None:
			length = int(self.headers.get("Content-Length") or 0)
			form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
			self._reply(form.get("token", [""])[0] or self._bearer())

		def do_GET(self) -> None:
			query = urlsplit(self.path).query
			self._reply(parse_qs(query).get("token", [""])[0] or self._bearer() or query)

		def _bearer(self) -> str:
			scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
			return token.strip() if scheme.lower() == "bearer" else ""

		def _reply(self, token: str) -> None:
			body = json.dumps(endpoint.answer(token)).encode()
			self.send_response(200)
			self.send_header("Content-Type", "application/json")
			self.send_header("Content-Length", str(len(body)))
			self.end_headers()
			self.wfile.write(body)

		def log_message(self, format, *args) -> None:  # keep test output quiet
			pass

	return Handler

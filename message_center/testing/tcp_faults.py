"""Network faults on loopback: a TCP proxy that cuts sessions, and a server that never greets.

with FaultyProxy(dovecot.host, dovecot.port) as proxy:
	proxy.cut_after_server_bytes(2000, after_client_sends=b"FETCH")
	... connect the client to proxy.host / proxy.port ...
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

_RECV_SIZE = 65536


def closed_port() -> int:
	"""A loopback port with nothing listening on it (connections are refused)."""
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


class _Listener:
	"""Accepts connections on a free loopback port in a daemon thread."""

	def __init__(self) -> None:
		self.host = "127.0.0.1"
		self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		self._server.bind((self.host, 0))
		self._server.listen(64)
		self.port: int = self._server.getsockname()[1]
		self._sockets: list[socket.socket] = []
		self._lock = threading.Lock()
		self._stopped = threading.Event()
		self._thread = threading.Thread(target=self._accept_loop, daemon=True)

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc_info) -> None:
		self.stop()

	def start(self):
		self._thread.start()
		return self

	def stop(self) -> None:
		self._stopped.set()
		_close(self._server)
		with self._lock:
			sockets, self._sockets = self._sockets, []
		for sock in sockets:
			_close(sock)
		self._thread.join(timeout=2)

	def _track(self, sock: socket.socket) -> None:
		with self._lock:
			self._sockets.append(sock)

	def _accept_loop(self) -> None:
		while not self._stopped.is_set():
			try:
				client, _address = self._server.accept()
			except OSError:
				return
			self._track(client)
			self._on_accept(client)

	def _on_accept(self, client: socket.socket) -> None:
		raise NotImplementedError


class SilentServer(_Listener):
	"""Accepts TCP connections and never says a word: a hung server (tests read timeouts)."""

	def __init__(self) -> None:
		super().__init__()
		self.accepted = 0

	def _on_accept(self, client: socket.socket) -> None:
		self.accepted += 1  # keep the socket open and silent until stop()


@dataclass
class _CutRule:
	after_bytes: int
	trigger: bytes | None
	once: bool
	stall: bool = False  # stop forwarding but keep the connection open (a hung server)


@dataclass
class _Session:
	rule: _CutRule | None
	triggered: bool = False
	server_bytes_since_trigger: int = 0
	client_tail: bytes = b""
	lock: threading.Lock = field(default_factory=threading.Lock)


class FaultyProxy(_Listener):
	"""Forwards loopback TCP to a target, records what clients send, and can cut or stall sessions.

	`cut_after_server_bytes(n, after_client_sends=b"FETCH")` makes the next session drop both
	sides after the server has sent n more bytes once the client sent that marker: exactly
	what a network failure in the middle of a large FETCH response looks like.
	"""

	def __init__(self, target_host: str, target_port: int) -> None:
		super().__init__()
		self.target = (target_host, target_port)
		self.connections = 0
		self.cuts = 0
		self._client_bytes = bytearray()
		self._rule: _CutRule | None = None

	def cut_after_server_bytes(
		self, after_bytes: int, *, after_client_sends: bytes | None = None, once: bool = True
	) -> None:
		self._rule = _CutRule(after_bytes, after_client_sends, once)

	def stall_after_server_bytes(
		self, after_bytes: int, *, after_client_sends: bytes | None = None, once: bool = True
	) -> None:
		"""Like cut_after_server_bytes, but the session hangs instead of dropping."""
		self._rule = _CutRule(after_bytes, after_client_sends, once, stall=True)

	def disarm(self) -> None:
		self._rule = None

	@property
	def client_bytes(self) -> bytes:
		"""Everything every client sent through the proxy so far."""
		with self._lock:
			return bytes(self._client_bytes)

	def clear_recording(self) -> None:
		with self._lock:
			self._client_bytes.clear()

	def _on_accept(self, client: socket.socket) -> None:
		self.connections += 1
		try:
			upstream = socket.create_connection(self.target, timeout=5)
			upstream.settimeout(None)
		except OSError:
			_close(client)
			return
		self._track(upstream)
		rule = self._rule
		if rule and rule.once:
			self._rule = None
		# without a marker, count the server's bytes from the greeting on
		session = _Session(rule, triggered=bool(rule and rule.trigger is None))
		threading.Thread(target=self._pump_client, args=(client, upstream, session), daemon=True).start()
		threading.Thread(target=self._pump_server, args=(upstream, client, session), daemon=True).start()

	def _pump_client(self, client: socket.socket, upstream: socket.socket, session: _Session) -> None:
		while chunk := _recv(client):
			with self._lock:
				self._client_bytes.extend(chunk)
			rule = session.rule
			if rule and not session.triggered:
				seen = session.client_tail + chunk
				if rule.trigger in seen:
					session.triggered = True  # before forwarding: the response cannot outrun it
				session.client_tail = seen[-len(rule.trigger) :]
			if not _send(upstream, chunk):
				break
		_close(client, upstream)

	def _pump_server(self, upstream: socket.socket, client: socket.socket, session: _Session) -> None:
		while chunk := _recv(upstream):
			rule = session.rule
			if rule and session.triggered:
				allowed = rule.after_bytes - session.server_bytes_since_trigger
				if len(chunk) >= allowed:
					_send(client, chunk[: max(allowed, 0)])
					self.cuts += 1
					if rule.stall:
						while _recv(upstream):  # swallow the rest; the client hears nothing more
							pass
					break
				session.server_bytes_since_trigger += len(chunk)
			if not _send(client, chunk):
				break
		_close(client, upstream)


def _recv(sock: socket.socket) -> bytes:
	try:
		return sock.recv(_RECV_SIZE)
	except OSError:
		return b""


def _send(sock: socket.socket, data: bytes) -> bool:
	try:
		sock.sendall(data)
		return True
	except OSError:
		return False


def _close(*sockets: socket.socket) -> None:
	for sock in sockets:
		try:
			sock.shutdown(socket.SHUT_RDWR)
		except OSError:
			pass
		try:
			sock.close()
		except OSError:
			pass

"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests of outgoing mail.

	with SmtpSink() as sink:
		... point an Email Account at sink.host / sink.port (no TLS, no authentication) ...
		(envelope,) = sink.wait_for(1)
		envelope.message["In-Reply-To"]

`refuse_recipients` makes it answer 550 to RCPT TO for those addresses (a hard bounce at send time).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class ReceivedMail:
	mail_from: str
	recipients: list[str]
	raw: bytes

	@property
	def message(self) -> EmailMessage:
		return message_from_bytes(self.raw, policy=policy.default)


@dataclass
class SmtpSink:
	host: str = "127.0.0.1"
	port: int = 0
	refuse_recipients: set[str] = field(default_factory=set)
	received: list[ReceivedMail] = field(default_factory=list)
	_controller: object = field(default=None, repr=False)
	_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

	def __enter__(self) -> SmtpSink:
		return self.start()

	def __exit__(self, *exc_info) -> None:
		self.stop()

	def start(self) -> SmtpSink:
		from aiosmtpd.controller import Controller

		self.port = self.port or _free_port()
		self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
		self._controller.start()
		return self

	def stop(self) -> None:
		if self._controller is not None:
			self._controller.stop()
			self._controller = None

	def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			with self._lock:
				if len(self.received) >= count:
					return list(self.received)
			time.sleep(0.02)
		raise AssertionError(f"expected {count} mails, the SMTP server received {len(self.received)}")

	def clear(self) -> None:
		with self._lock:
			self.received.clear()


class _Handler:
	def __init__(self, sink: SmtpSink):
		self.sink = sink

	async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
		if address.lower() in {refused.lower() for refused in self.sink.refuse_recipients}:
			return "550 5.1.1 mailbox unavailable"
		envelope.rcpt_tos.append(address)
		return "250 OK"

	async def handle_DATA(self, server, session, envelope):
		with self.sink._lock:
			self.sink.received.append(
				ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
			)
		return "250 Message accepted"


def _free_port() -> int:
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]

"""A private Dovecot IMAP server on loopback, for tests and benchmarks.

Everything lives in one temp dir (config, sockets, logs, Maildirs, passwd-file), the server
listens on a free high port on 127.0.0.1, and `stop()` kills the whole process group and
removes the dir. Works unprivileged (every Dovecot user is the current user) and as root
(Dovecot refuses root for login and mail processes, so the package's `dovenull`/`dovecot`
users are used instead).

	with DovecotServer() as server:
		server.add_user("alice", "secret")
		server.append("alice", "INBOX", b"Subject: hi\\r\\n\\r\\nbody\\r\\n", flags=["\\\\Seen"])
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import ssl as ssl_lib
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

from message_center.testing.dovecot_config import (  # noqa: F401 (DovecotUnavailable, find_dovecot: the module's API)
	ConfigSettings,
	DovecotUnavailable,
	ProcessUsers,
	find_dovecot,
	free_port,
	process_users,
	render_config,
)

MULTIAPPEND_CHUNK = 500  # messages per MULTIAPPEND command when seeding
START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SeedMessage:
	"""One message to append: raw RFC 5322 bytes, IMAP flags and an optional INTERNALDATE."""

	raw: bytes
	flags: tuple[str, ...] = ()
	internaldate: datetime | None = None


@dataclass
class DovecotServer:
	"""A throwaway Dovecot 2.3 instance. Use as a context manager or call start()/stop()."""

	with_ssl: bool = False  # also listen for implicit TLS on `ssl_port` with a self-signed cert
	rawlog: bool = False  # record every session's client/server bytes (see `client_lines`)
	extra_config: str = ""  # appended to dovecot.conf, e.g. "imap_fetch_failure = no-after"
	# also accept XOAUTH2/OAUTHBEARER logins, checked against this RFC 7662 endpoint (see
	# testing.oauth_introspection); passwords keep working for PLAIN and LOGIN
	oauth2_introspection_url: str = ""
	host: str = "127.0.0.1"
	port: int = 0
	ssl_port: int | None = None
	cert_path: Path | None = None
	root: Path | None = None
	_process: subprocess.Popen | None = field(default=None, repr=False)
	_users: ProcessUsers | None = field(default=None, repr=False)
	_password_by_user: dict[str, str] = field(default_factory=dict, repr=False)

	# ---- lifecycle -------------------------------------------------------------------------

	def __enter__(self) -> DovecotServer:
		return self.start()

	def __exit__(self, *exc_info) -> None:
		self.stop()

	def start(self) -> DovecotServer:
		binary = find_dovecot()
		if not binary:
			raise DovecotUnavailable("dovecot is not installed (apt-get install dovecot-imapd)")
		self._users = process_users()
		self.root = Path(tempfile.mkdtemp(prefix="mc-dovecot-"))
		os.chmod(self.root, 0o755)  # the login/auth users must traverse it when we are root
		for sub in ("run", "state", "mail"):
			(self.root / sub).mkdir()
		os.chown(self.root / "mail", self._users.mail_uid, self._users.mail_gid)
		self._passwd_dir.mkdir()
		if self.with_ssl:
			self._make_certificate()
		atexit.register(self.stop)
		last_error = ""
		for _attempt in range(3):  # a free port can be taken between probing and binding
			self.port = free_port()
			self.ssl_port = free_port() if self.with_ssl else None
			self._config_path.write_text(self._config())
			self._process = subprocess.Popen(
				[binary, "-F", "-c", str(self._config_path)],
				stdin=subprocess.DEVNULL,
				stdout=subprocess.DEVNULL,
				stderr=open(self.root / "stderr.log", "wb"),
				start_new_session=True,  # own process group, so stop() can kill the whole tree
			)
			if self._wait_until_listening():
				return self
			last_error = self.log_text()
			self._kill_process_group()
		self.stop()
		raise RuntimeError(f"dovecot did not start:\n{last_error}")

	def stop(self) -> None:
		self._kill_process_group()
		if self.root:
			shutil.rmtree(self.root, ignore_errors=True)
			self.root = None
		atexit.unregister(self.stop)

	def _wait_until_listening(self) -> bool:
		deadline = time.monotonic() + START_TIMEOUT_S
		ports = [self.port] + ([self.ssl_port] if self.ssl_port else [])
		while time.monotonic() < deadline:
			if self._process.poll() is not None:
				return False
			try:
				for port in ports:
					socket.create_connection((self.host, port), timeout=0.2).close()
				return True
			except OSError:
				time.sleep(0.005)
		return False

	def _kill_process_group(self) -> None:
		process, self._process = self._process, None
		if not process:
			return
		# A clean SIGTERM shutdown takes ~1 s (the log process lingers) and the state is thrown
		# away anyway, so kill the whole group at once.
		try:
			os.killpg(process.pid, signal.SIGKILL)
		except (ProcessLookupError, PermissionError):
			process.kill()
		process.wait()

	# ---- configuration ---------------------------------------------------------------------

	@property
	def _config_path(self) -> Path:
		return self.root / "dovecot.conf"

	@property
	def _passwd_dir(self) -> Path:
		return self.root / "passwd"

	def _config(self) -> str:
		return render_config(
			ConfigSettings(
				root=self.root,
				host=self.host,
				port=self.port,
				users=self._users,
				passwd_dir=self._passwd_dir,
				ssl_port=self.ssl_port,
				cert_path=self.cert_path if self.with_ssl else None,
				rawlog=self.rawlog,
				extra_config=self.extra_config,
				oauth2_introspection_url=self.oauth2_introspection_url,
			)
		)

	def _make_certificate(self) -> None:
		self.cert_path = self.root / "cert.pem"
		subprocess.run(
			[
				"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
				"-nodes", "-keyout", str(self.root / "key.pem"), "-out", str(self.cert_path),
				"-subj", "/CN=localhost", "-days", "2",
				"-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
			],
			check=True,
			capture_output=True,
		)  # fmt: skip

	def ssl_context(self) -> ssl_lib.SSLContext:
		"""A client context that trusts this server's self-signed certificate."""
		return ssl_lib.create_default_context(cafile=str(self.cert_path))

	def log_text(self) -> str:
		parts = [self.root / "stderr.log", self.root / "dovecot.log"] if self.root else []
		return "".join(path.read_text(errors="replace") for path in parts if path.exists())

	# ---- users and mailboxes ---------------------------------------------------------------

	def add_user(self, name: str, password: str) -> None:
		if not re.fullmatch(r"[A-Za-z0-9._-]+(@[A-Za-z0-9.-]+)?", name):  # or an address, like OAuth users
			raise ValueError(f"keep test user names simple: {name!r}")
		passwd_file = self._passwd_dir / name
		passwd_file.write_text(f"{name}:{{PLAIN}}{password}\n")
		passwd_file.chmod(0o644)
		self._password_by_user[name] = password
		home = self.root / "mail" / name
		(home / "rawlog").mkdir(parents=True, exist_ok=True)  # Dovecot only logs into an existing dir
		for path in (home, home / "rawlog"):
			os.chown(path, self._users.mail_uid, self._users.mail_gid)

	@contextmanager
	def client(self, user: str) -> Iterator[IMAPClient]:
		"""A logged-in IMAPClient for setting up and inspecting mailboxes in tests."""
		imap = IMAPClient(self.host, self.port, ssl=False, timeout=10)
		try:
			imap.login(user, self._password_by_user[user])
			yield imap
		finally:
			try:
				imap.logout()
			except Exception:
				imap.shutdown()

	def create_folder(self, user: str, folder: str) -> None:
		with self.client(user) as imap:
			if not imap.folder_exists(folder):
				imap.create_folder(folder)

	def append(
		self,
		user: str,
		folder: str,
		raw: bytes,
		flags: Iterable[str] = (),
		internaldate: datetime | None = None,
	) -> int:
		"""APPEND one message and return the UID the server gave it."""
		return self.append_many(user, folder, [SeedMessage(raw, tuple(flags), internaldate)])[0]

	def append_many(self, user: str, folder: str, messages: Iterable[SeedMessage | bytes]) -> list[int]:
		"""Seed many messages quickly with MULTIAPPEND; returns their UIDs in order."""
		seeds = [m if isinstance(m, SeedMessage) else SeedMessage(m) for m in messages]
		uids: list[int] = []
		with self.client(user) as imap:
			for start in range(0, len(seeds), MULTIAPPEND_CHUNK):
				items = []
				for seed in seeds[start : start + MULTIAPPEND_CHUNK]:
					item: dict = {"msg": seed.raw, "flags": list(seed.flags)}
					if seed.internaldate:
						item["date"] = seed.internaldate
					items.append(item)
				response = imap.multiappend(folder, items)
				uids.extend(_appenduid_uids(response))
		return uids

	def expunge(self, user: str, folder: str, uids: Iterable[int]) -> None:
		with self.client(user) as imap:
			imap.select_folder(folder)
			imap.delete_messages(list(uids))
			imap.uid_expunge(list(uids))

	def flags(self, user: str, folder: str) -> dict[int, frozenset[str]]:
		"""The flags as the server stores them now (\\Recent left out: it is per session)."""
		with self.client(user) as imap:
			imap.select_folder(folder, readonly=True)
			fetched = imap.fetch("1:*", ["FLAGS"]) if imap.search(["ALL"]) else {}
		return {
			uid: frozenset(flag.decode() for flag in data[b"FLAGS"] if flag != b"\\Recent")
			for uid, data in fetched.items()
		}

	def uids(self, user: str, folder: str) -> list[int]:
		with self.client(user) as imap:
			imap.select_folder(folder, readonly=True)
			return sorted(imap.search(["ALL"]))

	def status(self, user: str, folder: str) -> dict[str, int]:
		with self.client(user) as imap:
			status = imap.folder_status(folder, ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "HIGHESTMODSEQ"])
		return {key.decode(): value for key, value in status.items()}

	def reset_uidvalidity(self, user: str, folder: str) -> int:
		"""Make the server forget its UIDs for `folder`, like a server migration or index rebuild.

		The messages (with their flags and keywords) stay; the folder gets a new UIDVALIDITY and
		its messages are renumbered from UID 1. Returns the new UIDVALIDITY. Do not keep a
		session open on the folder meanwhile.
		"""
		old = self.status(user, folder)["UIDVALIDITY"]
		maildir = Path(self._doveadm("mailbox", "path", "-u", user, folder).strip())
		for index_file in [maildir / "dovecot-uidlist", *maildir.glob("dovecot.index*")]:
			index_file.unlink(missing_ok=True)
		for list_index in (self.root / "mail" / user / "Maildir").glob("dovecot.list.index*"):
			list_index.unlink()  # it caches UIDVALIDITY too
		new = self.status(user, folder)["UIDVALIDITY"]
		if new == old:  # Dovecot keeps a per-user counter, but never trust it blindly
			new = old + 1
			self._doveadm("mailbox", "update", "-u", user, "--uid-validity", str(new), folder)
		return new

	def make_unreadable(self, user: str, folder: str, uid: int) -> None:
		"""Break one stored message so that the server fails to FETCH it (a corrupt mail file)."""
		maildir = Path(self._doveadm("mailbox", "path", "-u", user, folder).strip())
		uidlist = (maildir / "dovecot-uidlist").read_text().splitlines()[1:]
		basename = next(line.split(" :", 1)[1] for line in uidlist if line.split(" ", 1)[0] == str(uid))
		(message_file,) = [*maildir.glob(f"cur/{basename}*"), *maildir.glob(f"new/{basename}*")]
		message_file.chmod(0)

	def _doveadm(self, *args: str) -> str:
		doveadm = shutil.which("doveadm") or str(Path(find_dovecot()).with_name("doveadm"))
		done = subprocess.run(
			[doveadm, "-c", str(self._config_path), *args], check=True, capture_output=True, text=True
		)
		return done.stdout

	# ---- raw protocol log ------------------------------------------------------------------

	def client_lines(self, user: str) -> list[str]:
		"""Every line clients sent for `user` (needs rawlog=True): `tag COMMAND args`."""
		rawlog_dir = self.root / "mail" / user / "rawlog"
		lines: list[str] = []
		for path in sorted(rawlog_dir.glob("*.in")) if rawlog_dir.exists() else []:
			text = path.read_bytes().decode("utf-8", "replace")
			lines.extend(_RAWLOG_TIMESTAMP.sub("", line) for line in text.splitlines())
		return lines

	def clear_rawlog(self, user: str) -> None:
		rawlog_dir = self.root / "mail" / user / "rawlog"
		for path in rawlog_dir.glob("*") if rawlog_dir.exists() else []:
			path.unlink()


_RAWLOG_TIMESTAMP = re.compile(r"^\d+\.\d+ ")
_APPENDUID = re.compile(rb"APPENDUID \d+ ([\d:,]+)")


def _appenduid_uids(response: bytes) -> list[int]:
	match = _APPENDUID.search(response if isinstance(response, bytes) else str(response).encode())
	if not match:
		raise RuntimeError(f"server did not report APPENDUID: {response!r}")
	uids: list[int] = []
	for part in match.group(1).split(b","):
		first, _, last = part.partition(b":")
		low, high = sorted((int(first), int(last or first)))
		uids.extend(range(low, high + 1))
	return uids

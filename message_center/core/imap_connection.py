"""Opening, closing and diagnosing an IMAP session for sync_mailbox (imapclient underneath), and
checking a mailbox's settings before the first sync (check_mailbox)."""

from __future__ import annotations

import imaplib
import socket
import ssl
from dataclasses import dataclass, field
from enum import Enum

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

MAX_LISTED_FOLDERS = 100  # enough to spot the right name; some servers list thousands


@dataclass(frozen=True)
class ImapConfig:
	host: str
	username: str
	password: str = field(repr=False)
	port: int = 993
	ssl: bool = True  # implicit TLS (port 993); see starttls for port 143
	starttls: bool = False
	ssl_verify: bool = True  # False only for self-hosted servers with self-signed certificates
	folders: tuple[str, ...] = ("INBOX",)
	connect_timeout: float = 15.0  # TCP connect, TLS handshake and the server greeting
	read_timeout: float = 60.0  # any later wait for the server
	# OAuth 2.0 bearer token: when set, sign in with XOAUTH2 (Microsoft 365, Google) instead of the password
	access_token: str | None = field(default=None, repr=False)


class SyncErrorKind(str, Enum):
	CONNECT = "connect"  # refused, unreachable, DNS, TCP connect timeout
	TLS = "tls"  # handshake or certificate failure
	TIMEOUT = "timeout"  # connected, but the server stopped answering (or never greeted)
	LOGIN = "login"  # credentials rejected
	DISCONNECTED = "disconnected"  # the connection dropped mid-session
	PROTOCOL = "protocol"  # the server answered NO/BAD or something unparsable
	FOLDER = "folder"  # the folder cannot be opened (missing, no permission)
	STORE = "store"  # the store or save_cursor callback raised


def open_session(config: ImapConfig) -> IMAPClient:
	"""Connected and logged in; raises what classify_error understands."""
	context = None
	if config.ssl or config.starttls:
		context = ssl.create_default_context()
		if not config.ssl_verify:
			context.check_hostname = False
			context.verify_mode = ssl.CERT_NONE
	client = IMAPClient(
		config.host,
		config.port,
		ssl=config.ssl,
		ssl_context=context,
		timeout=SocketTimeout(connect=config.connect_timeout, read=config.read_timeout),
	)
	client.normalise_times = False  # keep the server's UTC offset: we convert to UTC ourselves
	try:
		if config.starttls and not config.ssl:
			client.starttls(context)
		if config.access_token:
			_oauth2_login(client, config)
		else:
			client.login(config.username, config.password)
	except BaseException:
		close_session(client, polite=False)
		raise
	return client


def _oauth2_login(client: IMAPClient, config: ImapConfig) -> None:
	if not client.has_capability("AUTH=XOAUTH2"):
		raise LoginError(f"{config.host} does not offer OAuth (XOAUTH2) sign-in: use a password")
	try:
		client.oauth2_login(config.username, config.access_token)
	except LoginError as exc:  # the server only says "failed": name the likely causes
		raise LoginError(
			f"the server rejected the OAuth access token for {config.username} "
			f"(expired, revoked, issued for another user or without IMAP access): {exc}"
		) from exc


def close_session(client: IMAPClient | None, *, polite: bool) -> None:
	# LOGOUT on a hung or dead connection would wait another read_timeout for nothing
	if client is None:
		return
	try:
		if polite:
			client.logout()
			return
	except Exception:
		pass
	try:
		client.shutdown()
	except Exception:
		pass


def classify_error(exc: BaseException) -> tuple[SyncErrorKind, str]:
	"""Map an exception from imapclient/socket/ssl to an error kind and a readable message."""
	message = f"{type(exc).__name__}: {exc}"
	if isinstance(exc, LoginError):
		return SyncErrorKind.LOGIN, message
	if isinstance(exc, ssl.SSLError | ssl.CertificateError):
		return SyncErrorKind.TLS, message
	if isinstance(exc, TimeoutError | socket.timeout):
		if _raised_in(exc, "create_connection"):
			return SyncErrorKind.CONNECT, message
		return SyncErrorKind.TIMEOUT, message
	if isinstance(exc, imaplib.IMAP4.abort):
		return SyncErrorKind.DISCONNECTED, message
	if isinstance(exc, ConnectionRefusedError | socket.gaierror) or _raised_in(exc, "create_connection"):
		return SyncErrorKind.CONNECT, message
	if isinstance(exc, OSError):  # reset, broken pipe, EOF mid-session
		return SyncErrorKind.DISCONNECTED, message
	return SyncErrorKind.PROTOCOL, message


def _raised_in(exc: BaseException, function_name: str) -> bool:
	# imapclient connects and reads the greeting in one constructor call with one timeout;
	# only the traceback tells a TCP connect timeout from a server that never greets.
	frame = exc.__traceback__
	while frame:
		if frame.tb_frame.f_code.co_name == function_name:
			return True
		frame = frame.tb_next
	return False


@dataclass(frozen=True)
class FolderCheck:
	folder: str
	found: bool
	messages: int | None = None  # how many the folder holds now
	error: str | None = None  # what the server said when it could not be read


@dataclass(frozen=True)
class MailboxCheck:
	"""What "Test connection" tells an admin: can we sign in, and is every folder to watch there."""

	ok: bool  # signed in, and every folder found
	error_kind: SyncErrorKind | None = None
	error: str | None = None
	folders: tuple[FolderCheck, ...] = ()
	server_folders: tuple[str, ...] = ()  # what the server has, to spot a misspelt name


def check_mailbox(config: ImapConfig) -> MailboxCheck:
	"""Sign in and ask each folder's STATUS (which neither selects it nor changes a flag)."""
	client = None
	try:
		client = open_session(config)
		listed = tuple(str(name) for _flags, _delimiter, name in client.list_folders()[:MAX_LISTED_FOLDERS])
		folders = tuple(_check_folder(client, folder) for folder in config.folders)
	except Exception as exc:
		close_session(client, polite=False)
		kind, message = classify_error(exc)
		return MailboxCheck(False, kind, message)
	close_session(client, polite=True)
	missing = [check.folder for check in folders if not check.found]
	return MailboxCheck(
		ok=not missing,
		error_kind=SyncErrorKind.FOLDER if missing else None,
		error=f"not found: {', '.join(missing)}" if missing else None,
		folders=folders,
		server_folders=listed,
	)


def _check_folder(client: IMAPClient, folder: str) -> FolderCheck:
	try:
		status = client.folder_status(folder, [b"MESSAGES"])
	except imaplib.IMAP4.abort:
		raise  # the connection is gone: not a folder problem
	except IMAPClientError as exc:  # NO: no such folder, or no right to read it
		return FolderCheck(folder, False, error=str(exc))
	return FolderCheck(folder, True, messages=int(status.get(b"MESSAGES", 0)))

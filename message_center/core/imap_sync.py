"""Exactly-once import of new mail from IMAP folders, read-only.

One call syncs one mailbox (a channel): for each folder it hands every new message to
`store` (oldest first, at most `batch_limit` per call) and persists the folder's cursor with
`save_cursor` only past messages whose store call returned. The server is never changed:
folders are opened with EXAMINE and bodies fetched with BODY.PEEK[], so \\Seen stays as it was.
Failures (network, timeouts, login, a raising store) end the call cleanly with `error` set and
the cursor at the last handled message; the next call resumes there.
See imap_cursor.py for what "new" means (first-sync window, backfill, UIDVALIDITY rescans).

Contract for the caller's callbacks:
- store(message) -> StoreOutcome must be idempotent per channel (dedupe on
  mail_identity.message_identity(message.raw): Message-ID key + content hash; a tombstone on
  the key means SKIPPED) and commit before it returns: a message can be handed over again
  (after a crash before its cursor was saved, or a rescan) and must then come back DUPLICATE.
  A message it cannot parse is stored raw and flagged (POISON_STORED), never raised. Raise
  only when storing is impossible (database down): the call stops before that message.
- save_cursor(cursor) persists `cursor.to_dict()` under `cursor.folder` and commits. It is
  called after every FETCH chunk, on a first sync or rescan, and before returning; the cursor
  it gets never passes a message whose store did not return. Load with FolderCursor.from_dict.
- Chain another call at once while `result.more_pending` and no connection-level error.
"""

from __future__ import annotations

import imaplib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum

from imapclient import IMAPClient

from message_center.core.imap_connection import (
	ImapConfig,
	SyncErrorKind,
	classify_error,
	close_session,
	open_session,
)
from message_center.core.imap_cursor import (
	FolderCursor,
	MailboxStatus,
	advance,
	caught_up,
	fetch_chunks,
	plan_folder,
	record_refusal,
	uid_set,
)

__all__ = [
	"FetchedMessage",
	"FolderCursor",
	"FolderSyncResult",
	"ImapConfig",
	"StoreOutcome",
	"SyncErrorKind",
	"SyncResult",
	"sync_mailbox",
]

FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE", b"RFC822.SIZE", b"FLAGS"]
SIZE_FETCH_CHUNK = 1000  # UIDs per RFC822.SIZE pre-fetch (tiny responses)


@dataclass(frozen=True)
class FetchedMessage:
	folder: str
	uidvalidity: int
	uid: int
	raw: bytes
	internaldate: datetime | None  # timezone-aware, UTC
	size: int
	flags: tuple[str, ...] = ()  # for information only: never written back


class StoreOutcome(str, Enum):
	STORED = "stored"  # a new record was created
	DUPLICATE = "duplicate"  # already imported (same identity): nothing done
	SKIPPED = "skipped"  # deliberately not imported (deleted/tombstoned, blocked sender)
	POISON_STORED = "poison_stored"  # could not be parsed; raw bytes kept for a human


@dataclass
class FolderSyncResult:
	folder: str
	cursor: FolderCursor | None  # the cursor as last saved (or as given, if unchanged)
	fetched: int = 0  # bodies received
	stored: int = 0
	duplicates: int = 0
	skipped: int = 0
	poison: int = 0
	vanished: int = 0  # expunged between SEARCH and FETCH
	unfetchable_uids: list[int] = field(default_factory=list)  # server refused the body: passed over
	remaining: int = 0  # known messages left for later calls (estimate)
	noop: bool = False  # nothing new: no SELECT, no SEARCH, no FETCH
	rescan_reason: str | None = None  # set when UIDVALIDITY changed (or UIDs went backwards)
	error: str | None = None
	error_kind: SyncErrorKind | None = None

	@property
	def more_pending(self) -> bool:
		return self.remaining > 0


@dataclass
class SyncResult:
	folders: dict[str, FolderSyncResult]
	error: str | None = None  # the first error; every folder result carries its own
	error_kind: SyncErrorKind | None = None
	duration_s: float = 0.0

	@property
	def ok(self) -> bool:
		return self.error is None

	@property
	def more_pending(self) -> bool:
		"""More new mail is waiting: the shell should chain another call right away."""
		return any(result.more_pending for result in self.folders.values())

	@property
	def remaining(self) -> int:
		return sum(result.remaining for result in self.folders.values())

	@property
	def noop(self) -> bool:
		return self.ok and all(result.noop for result in self.folders.values())

	@property
	def cursors(self) -> dict[str, FolderCursor]:
		return {name: result.cursor for name, result in self.folders.items() if result.cursor}

	def _total(self, name: str) -> int:
		return sum(getattr(result, name) for result in self.folders.values())

	fetched = property(lambda self: self._total("fetched"))
	stored = property(lambda self: self._total("stored"))
	duplicates = property(lambda self: self._total("duplicates"))
	skipped = property(lambda self: self._total("skipped"))
	poison = property(lambda self: self._total("poison"))
	vanished = property(lambda self: self._total("vanished"))


StoreCallback = Callable[[FetchedMessage], StoreOutcome]
SaveCursorCallback = Callable[[FolderCursor], None]


class _SyncAborted(Exception):
	"""Stops the whole call; the folder result already carries the error."""


class _CallbackFailed(Exception):
	pass


class _FolderError(Exception):
	pass


def sync_mailbox(
	config: ImapConfig,
	cursors: Mapping[str, FolderCursor],
	*,
	store: StoreCallback,
	save_cursor: SaveCursorCallback,
	first_sync_since: date,
	batch_limit: int = 500,
	fetch_chunk: int = 100,
	fetch_chunk_bytes: int = 16 * 1024 * 1024,
) -> SyncResult:
	"""Import new mail from every folder in `config.folders`. Never raises for server or store
	failures: they end up in the result (see the module docstring)."""
	started = time.perf_counter()
	results = {name: FolderSyncResult(name, cursors.get(name)) for name in config.folders}
	outcome = SyncResult(results)
	client = None
	healthy = False
	try:
		client = open_session(config)
		budget = batch_limit
		for name in config.folders:
			folder_sync = _FolderSync(
				client, results[name], store, save_cursor, fetch_chunk, fetch_chunk_bytes
			)
			budget -= folder_sync.run(budget, first_sync_since)
		healthy = True
	except _SyncAborted:
		pass
	except Exception as exc:  # the connection or login failed before any folder
		kind, message = classify_error(exc)
		outcome.error, outcome.error_kind = message, kind
	finally:
		close_session(client, polite=healthy)
	for result in results.values():
		if result.error and not outcome.error:
			outcome.error, outcome.error_kind = f"{result.folder}: {result.error}", result.error_kind
	outcome.duration_s = time.perf_counter() - started
	return outcome


class _FolderSync:
	"""Syncs one folder on an open connection; keeps `result` current at every step."""

	def __init__(self, client, result, store, save_cursor, fetch_chunk, fetch_chunk_bytes) -> None:
		self.client: IMAPClient = client
		self.result: FolderSyncResult = result
		self.store: StoreCallback = store
		self.save_cursor: SaveCursorCallback = save_cursor
		self.fetch_chunk = max(1, fetch_chunk)
		self.fetch_chunk_bytes = fetch_chunk_bytes
		self.cursor: FolderCursor | None = result.cursor  # advanced per message

	def run(self, budget: int, first_sync_since: date) -> int:
		"""Returns how many messages of the call's budget it used."""
		try:
			return self._run(budget, first_sync_since)
		except _CallbackFailed as exc:
			self._fail(SyncErrorKind.STORE, str(exc))
			raise _SyncAborted from exc
		except _FolderError as exc:
			self._fail(SyncErrorKind.FOLDER, str(exc))
			return 0  # the connection is fine: go on with the next folder
		except Exception as exc:
			kind, message = classify_error(exc)
			self._fail(kind, message)
			if kind is SyncErrorKind.PROTOCOL:
				return 0  # the server said NO/BAD to a command, but the session lives
			raise _SyncAborted from exc

	def _run(self, budget: int, first_sync_since: date) -> int:
		folder = self.result.folder
		status = self._status(folder)
		plan = plan_folder(self.cursor, status, folder, first_sync_since)
		if plan.noop:
			self.result.noop = True
			return 0
		if budget <= 0:  # this call's budget is spent: just say there is more
			self.result.remaining = max(status.uidnext - 1 - (self.cursor.last_uid if self.cursor else 0), 1)
			return 0
		try:
			selected = self.client.select_folder(folder, readonly=True)  # EXAMINE: flags untouched
		except imaplib.IMAP4.abort:
			raise
		except imaplib.IMAP4.error as exc:
			raise _FolderError(f"cannot open folder: {exc}") from exc
		status = MailboxStatus(
			uidvalidity=int(selected[b"UIDVALIDITY"]),
			uidnext=int(selected.get(b"UIDNEXT") or status.uidnext),
			highest_modseq=_int_or_none(selected.get(b"HIGHESTMODSEQ")),
			messages=_int_or_none(selected.get(b"EXISTS")),
		)
		plan = plan_folder(self.cursor, status, folder, first_sync_since)  # EXAMINE is authoritative
		self.result.rescan_reason = plan.rescan_reason
		if plan.cursor != self.cursor:  # first sync or rescan: persist the decision first
			self.cursor = plan.cursor
			self._save()
		candidates: list[int] = []
		for query in plan.queries:
			candidates.extend(query.keep(self.client.search(query.criteria())))
		candidates = sorted(set(candidates))
		batch = candidates[:budget]
		self.result.remaining = len(candidates) - len(batch)
		sizes = self._sizes(batch)
		chunks = fetch_chunks(
			batch, sizes, self.fetch_chunk, self.fetch_chunk_bytes, self.cursor.refused_to_uid
		)
		for chunk in chunks:
			self._import_chunk(status.uidvalidity, chunk)
			self._save()
		if not self.result.remaining:
			self.cursor = caught_up(self.cursor, status)
			self._save()
		return len(batch)

	def _status(self, folder: str) -> MailboxStatus:
		items = [b"UIDNEXT", b"UIDVALIDITY", b"MESSAGES"]
		if self.client.has_capability("CONDSTORE"):
			items.append(b"HIGHESTMODSEQ")
		try:
			status = self.client.folder_status(folder, items)
		except imaplib.IMAP4.abort:
			raise
		except imaplib.IMAP4.error as exc:
			raise _FolderError(f"cannot open folder: {exc}") from exc
		return MailboxStatus(
			uidvalidity=int(status[b"UIDVALIDITY"]),
			uidnext=int(status[b"UIDNEXT"]),
			highest_modseq=_int_or_none(status.get(b"HIGHESTMODSEQ")),
			messages=_int_or_none(status.get(b"MESSAGES")),
		)

	def _sizes(self, uids: list[int]) -> dict[int, int]:
		sizes: dict[int, int] = {}
		for start in range(0, len(uids), SIZE_FETCH_CHUNK):
			response = self.client.fetch(uid_set(uids[start : start + SIZE_FETCH_CHUNK]), [b"RFC822.SIZE"])
			sizes.update({uid: int(data.get(b"RFC822.SIZE") or 0) for uid, data in response.items()})
		return sizes

	def _import_chunk(self, uidvalidity: int, chunk: list[int]) -> None:
		try:
			response = self.client.fetch(uid_set(chunk), FETCH_ITEMS)
		except imaplib.IMAP4.error as exc:
			if not _server_refused(exc):
				raise
			session_alive = not isinstance(exc, imaplib.IMAP4.abort)
			if session_alive and len(chunk) > 1:  # find the message it refuses
				for uid in chunk:
					self._import_chunk(uidvalidity, [uid])
				return
			self.cursor, pass_over = record_refusal(self.cursor, chunk)
			if not pass_over:
				raise  # stop here; the next call retries (the noted refusal is saved on the way out)
			self.result.unfetchable_uids.append(chunk[0])  # never stuck on one broken message
			self.cursor = advance(self.cursor, chunk[0], None)
			if not session_alive:
				raise
			return
		for uid in chunk:
			data = response.get(uid) or {}
			raw = data.get(b"BODY[]")
			if raw is None:  # expunged since the SEARCH: nothing left to import
				self.result.vanished += 1
				self.cursor = advance(self.cursor, uid, None)
				continue
			self.result.fetched += 1
			message = FetchedMessage(
				folder=self.result.folder,
				uidvalidity=uidvalidity,
				uid=uid,
				raw=bytes(raw),
				internaldate=_utc(data.get(b"INTERNALDATE")),
				size=int(data.get(b"RFC822.SIZE") or len(raw)),
				flags=tuple(_text(flag) for flag in data.get(b"FLAGS") or ()),
			)
			self._count(self._store(message))
			self.cursor = advance(self.cursor, uid, message.internaldate)

	def _store(self, message: FetchedMessage) -> StoreOutcome:
		try:
			return StoreOutcome(self.store(message))
		except Exception as exc:
			self._save()  # keep everything before this message
			raise _CallbackFailed(f"store failed at UID {message.uid}: {exc!r}") from exc

	def _count(self, outcome: StoreOutcome) -> None:
		if outcome is StoreOutcome.STORED:
			self.result.stored += 1
		elif outcome is StoreOutcome.DUPLICATE:
			self.result.duplicates += 1
		elif outcome is StoreOutcome.SKIPPED:
			self.result.skipped += 1
		else:
			self.result.poison += 1

	def _save(self) -> None:
		if self.cursor is None or self.cursor == self.result.cursor:
			return
		try:
			self.save_cursor(self.cursor)
		except Exception as exc:
			raise _CallbackFailed(f"save_cursor failed: {exc!r}") from exc
		self.result.cursor = self.cursor

	def _fail(self, kind: SyncErrorKind, message: str) -> None:
		self.result.error, self.result.error_kind = message, kind
		if kind is not SyncErrorKind.STORE:
			try:
				self._save()  # whatever was stored before the failure stays stored
			except _CallbackFailed:
				pass


def _server_refused(exc: imaplib.IMAP4.error) -> bool:
	"""NO/BAD to a FETCH, or a BYE instead of the answer: the server, not the network, said no.

	imaplib words network failures as "socket error"; any other abort carries the server's BYE.
	"""
	return not isinstance(exc, imaplib.IMAP4.abort) or "socket error" not in str(exc)


def _utc(value: object) -> datetime | None:
	if not isinstance(value, datetime):
		return None
	if value.tzinfo is None:
		return value.replace(tzinfo=timezone.utc)
	return value.astimezone(timezone.utc)


def _text(value: bytes | str) -> str:
	return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _int_or_none(value: object) -> int | None:
	if value is None:
		return None
	if isinstance(value, list | tuple):
		value = value[0] if value else None
	return None if value is None else int(value)

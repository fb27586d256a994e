"""Pure cursor logic for exactly-once IMAP import: what to fetch next, and how the cursor moves.

A folder's cursor says which UIDs have been handed to the store callback (and returned):
all UIDs <= `last_uid` under `uidvalidity`. Among the UIDs that already existed when the folder
was first (re)scanned (<= `window_top_uid`), only mail with INTERNALDATE on/after
`window_since` is imported; every UID above that is imported whatever its date, so mail that
arrived while we were offline is backfilled.

No I/O here: imap_sync.py asks the server and feeds the answers in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

# SEARCH SINCE compares dates in the server's time zone, so rescans start a bit earlier.
RESCAN_MARGIN = timedelta(days=2)
# A message the server refuses to deliver this many calls in a row is passed over (reported),
# so one broken message cannot block its folder forever, nor a passing hiccup lose it.
MAX_REFUSALS = 3


@dataclass(frozen=True)
class FolderCursor:
	folder: str
	uidvalidity: int | None = None  # None: never synced
	last_uid: int = 0  # every UID <= this was stored, deduplicated, skipped or had vanished
	highest_modseq: int | None = None  # HIGHESTMODSEQ when last caught up (informational)
	window_since: date | None = None  # first-sync window start for UIDs <= window_top_uid
	window_top_uid: int = 0  # highest UID that existed when this UIDVALIDITY was first scanned
	last_internaldate: datetime | None = None  # INTERNALDATE of the message at last_uid
	# the server refused to FETCH refused_from_uid..refused_to_uid: fetch those one by one;
	# `refusals` counts consecutive refusals of a single message (from == to)
	refused_from_uid: int = 0
	refused_to_uid: int = 0
	refusals: int = 0

	@property
	def window_done(self) -> bool:
		return self.last_uid >= self.window_top_uid

	def to_dict(self) -> dict[str, Any]:
		"""JSON-friendly form for the shell to persist."""
		return {
			"folder": self.folder,
			"uidvalidity": self.uidvalidity,
			"last_uid": self.last_uid,
			"highest_modseq": self.highest_modseq,
			"window_since": self.window_since.isoformat() if self.window_since else None,
			"window_top_uid": self.window_top_uid,
			"last_internaldate": self.last_internaldate.isoformat() if self.last_internaldate else None,
			"refused_from_uid": self.refused_from_uid,
			"refused_to_uid": self.refused_to_uid,
			"refusals": self.refusals,
		}

	@classmethod
	def from_dict(cls, data: Mapping[str, Any]) -> FolderCursor:
		since = data.get("window_since")
		internaldate = data.get("last_internaldate")
		return cls(
			folder=data["folder"],
			uidvalidity=_int_or_none(data.get("uidvalidity")),
			last_uid=int(data.get("last_uid") or 0),
			highest_modseq=_int_or_none(data.get("highest_modseq")),
			window_since=date.fromisoformat(since) if since else None,
			window_top_uid=int(data.get("window_top_uid") or 0),
			last_internaldate=datetime.fromisoformat(internaldate) if internaldate else None,
			refused_from_uid=int(data.get("refused_from_uid") or 0),
			refused_to_uid=int(data.get("refused_to_uid") or 0),
			refusals=int(data.get("refusals") or 0),
		)


@dataclass(frozen=True)
class MailboxStatus:
	"""What STATUS/EXAMINE told us about a folder."""

	uidvalidity: int
	uidnext: int
	highest_modseq: int | None = None
	messages: int | None = None


@dataclass(frozen=True)
class UidQuery:
	"""UID SEARCH UID first:last [SINCE since]. Always a closed range: never `n:*`."""

	first_uid: int
	last_uid: int
	since: date | None = None

	def criteria(self) -> list:
		criteria: list = ["UID", f"{self.first_uid}:{self.last_uid}"]
		if self.since:
			criteria += ["SINCE", self.since]
		return criteria

	def keep(self, uids: Iterable[int]) -> list[int]:
		# servers answer some ranges with messages outside them; trust only what is inside
		return [uid for uid in uids if self.first_uid <= uid <= self.last_uid]


@dataclass(frozen=True)
class FolderPlan:
	cursor: FolderCursor  # the cursor to continue from (new if first sync or rescan)
	queries: tuple[UidQuery, ...]
	noop: bool = False
	rescan_reason: str | None = None


def is_noop(cursor: FolderCursor | None, status: MailboxStatus) -> bool:
	"""Nothing new: same UIDVALIDITY and no UID was assigned past the cursor.

	HIGHESTMODSEQ is deliberately not compared: a flag change elsewhere cannot bring new mail,
	and we never import flags.
	"""
	return bool(
		cursor
		and cursor.uidvalidity == status.uidvalidity
		and cursor.window_done
		and status.uidnext == cursor.last_uid + 1
	)


def plan_folder(
	cursor: FolderCursor | None, status: MailboxStatus, folder: str, first_sync_since: date
) -> FolderPlan:
	if is_noop(cursor, status):
		return FolderPlan(cursor, (), noop=True)
	rescan_reason = None
	if cursor is None or cursor.uidvalidity is None:
		cursor = fresh_cursor(folder, status, first_sync_since)
	elif cursor.uidvalidity != status.uidvalidity:
		rescan_reason = f"UIDVALIDITY changed from {cursor.uidvalidity} to {status.uidvalidity}"
		cursor = rescan_cursor(cursor, status, first_sync_since)
	elif status.uidnext <= cursor.last_uid:
		# same UIDVALIDITY but UIDs went backwards (restored server): new mail could hide below
		rescan_reason = f"UIDNEXT {status.uidnext} fell below the cursor's last UID {cursor.last_uid}"
		cursor = rescan_cursor(cursor, status, first_sync_since)
	return FolderPlan(cursor, pending_queries(cursor, status), rescan_reason=rescan_reason)


def fresh_cursor(folder: str, status: MailboxStatus, since: date) -> FolderCursor:
	return FolderCursor(
		folder=folder,
		uidvalidity=status.uidvalidity,
		window_since=since,
		window_top_uid=status.uidnext - 1,
	)


def rescan_since(cursor: FolderCursor, first_sync_since: date) -> date:
	"""Where a rescan must start so that nothing the old cursor had not covered is lost.

	Mail older than the message we stored last was imported already (the store callback
	dedupes whatever we see twice); mail arriving after it has later dates. So: the
	first-sync window, extended back to just before the last stored message if the folder
	was offline for longer, and to the old window if that was never finished.
	"""
	candidates = [first_sync_since]
	if cursor.last_internaldate:
		candidates.append(cursor.last_internaldate.date() - RESCAN_MARGIN)
	if cursor.window_since and not cursor.window_done:
		candidates.append(cursor.window_since)
	return min(candidates)


def rescan_cursor(cursor: FolderCursor, status: MailboxStatus, first_sync_since: date) -> FolderCursor:
	rescan = fresh_cursor(cursor.folder, status, rescan_since(cursor, first_sync_since))
	# keep the last date so that a second reset before anything is stored rescans as far back
	return replace(rescan, last_internaldate=cursor.last_internaldate)


def pending_queries(cursor: FolderCursor, status: MailboxStatus) -> tuple[UidQuery, ...]:
	top = status.uidnext - 1
	queries = []
	window_end = min(cursor.window_top_uid, top)
	if cursor.last_uid < window_end:
		queries.append(UidQuery(cursor.last_uid + 1, window_end, cursor.window_since))
	first_new = max(cursor.last_uid, cursor.window_top_uid) + 1
	if first_new <= top:  # "UID 5:3" means 3:5 in IMAP: never send a reversed range
		queries.append(UidQuery(first_new, top))
	return tuple(queries)


def advance(cursor: FolderCursor, uid: int, internaldate: datetime | None) -> FolderCursor:
	"""The message at `uid` is handled (its store call returned, or it vanished)."""
	if uid <= cursor.last_uid:
		return cursor
	moved = replace(cursor, last_uid=uid, last_internaldate=internaldate or cursor.last_internaldate)
	if cursor.refused_to_uid and uid >= cursor.refused_to_uid:  # past the suspect range
		moved = replace(moved, refused_from_uid=0, refused_to_uid=0, refusals=0)
	return moved


def record_refusal(cursor: FolderCursor, uids: Sequence[int]) -> tuple[FolderCursor, bool]:
	"""The server refused to FETCH `uids` (NO, or BYE instead of an answer).

	Returns the cursor with the refusal noted, and whether to pass over the (single) message
	now: only after MAX_REFUSALS refusals in a row of that very message.
	"""
	first, last = uids[0], uids[-1]
	if first != last:  # some message in there: the next call fetches them one by one
		return replace(cursor, refused_from_uid=first, refused_to_uid=last, refusals=0), False
	again = cursor.refused_from_uid == first == cursor.refused_to_uid
	refusals = cursor.refusals + 1 if again else 1
	if refusals >= MAX_REFUSALS:
		return replace(cursor, refused_from_uid=0, refused_to_uid=0, refusals=0), True
	return replace(cursor, refused_from_uid=first, refused_to_uid=first, refusals=refusals), False


def caught_up(cursor: FolderCursor, status: MailboxStatus) -> FolderCursor:
	"""Every UID the queries could return was handled: jump to the top, so the next poll is a no-op
	even if the newest messages were expunged or fell outside the window."""
	return replace(
		cursor,
		last_uid=max(cursor.last_uid, status.uidnext - 1),
		highest_modseq=status.highest_modseq,
	)


def uid_set(uids: Iterable[int]) -> str:
	"""Compact IMAP sequence set: [1, 2, 3, 7] -> "1:3,7"."""
	parts: list[str] = []
	ordered = sorted(set(uids))
	start = previous = None
	for uid in ordered:
		if previous is not None and uid == previous + 1:
			previous = uid
			continue
		if start is not None:
			parts.append(f"{start}:{previous}" if previous != start else str(start))
		start = previous = uid
	if start is not None:
		parts.append(f"{start}:{previous}" if previous != start else str(start))
	return ",".join(parts)


def fetch_chunks(
	uids: Sequence[int], sizes: Mapping[int, int], max_count: int, max_bytes: int, singles_until_uid: int = 0
) -> list[list[int]]:
	"""Split UIDs (kept in order) into FETCH chunks of at most max_count messages and about max_bytes.

	A single message larger than max_bytes gets a chunk of its own, and so does every UID up to
	`singles_until_uid` (a range the server refused before).
	"""
	chunks: list[list[int]] = []
	current: list[int] = []
	current_bytes = 0
	for uid in uids:
		size = sizes.get(uid, 0)
		alone = uid <= singles_until_uid or (current and current[-1] <= singles_until_uid)
		if current and (alone or len(current) >= max_count or current_bytes + size > max_bytes):
			chunks.append(current)
			current, current_bytes = [], 0
		current.append(uid)
		current_bytes += size
	if current:
		chunks.append(current)
	return chunks


def _int_or_none(value: Any) -> int | None:
	return None if value in (None, "") else int(value)

"""An in-memory, idempotent stand-in for the Frappe shell's store/save_cursor callbacks.

It follows the same contract as the real shell: dedupe per channel on message_identity
(Message-ID key + content hash), tombstones are skipped, and cursors are saved as given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from message_center.core.imap_sync import (
	FetchedMessage,
	FolderCursor,
	ImapConfig,
	StoreOutcome,
	SyncResult,
	sync_mailbox,
)
from message_center.core.mail_identity import MessageIdentity, message_identity


@dataclass
class MemorySink:
	records: dict[MessageIdentity, FetchedMessage] = field(default_factory=dict)
	cursors: dict[str, FolderCursor] = field(default_factory=dict)
	tombstoned_keys: set[str] = field(default_factory=set)  # message_id_key of deleted records
	store_calls: list[tuple[str, int]] = field(default_factory=list)  # (folder, uid) per call
	cursor_saves: int = 0
	fail_when: Callable[[FetchedMessage], bool] | None = None  # raise instead of storing
	poison_when: Callable[[FetchedMessage], bool] | None = None  # "parser fails": store raw, flag it

	def store(self, message: FetchedMessage) -> StoreOutcome:
		self.store_calls.append((message.folder, message.uid))
		if self.fail_when and self.fail_when(message):
			raise RuntimeError(f"simulated database failure at UID {message.uid}")
		identity = message_identity(message.raw)
		if identity.message_id_key in self.tombstoned_keys:
			return StoreOutcome.SKIPPED
		if identity in self.records:
			return StoreOutcome.DUPLICATE
		self.records[identity] = message
		if self.poison_when and self.poison_when(message):
			return StoreOutcome.POISON_STORED
		return StoreOutcome.STORED

	def save_cursor(self, cursor: FolderCursor) -> None:
		self.cursors[cursor.folder] = cursor
		self.cursor_saves += 1

	def tombstone(self, message_id_key: str) -> None:
		"""The user deleted this record: it must never be imported again."""
		self.tombstoned_keys.add(message_id_key)
		self.records = {key: msg for key, msg in self.records.items() if key.message_id_key != message_id_key}

	def sync(self, config: ImapConfig, *, first_sync_since: date, **options) -> SyncResult:
		return sync_mailbox(
			config,
			dict(self.cursors),
			store=self.store,
			save_cursor=self.save_cursor,
			first_sync_since=first_sync_since,
			**options,
		)

	def sync_until_done(
		self, config: ImapConfig, *, first_sync_since: date, max_calls: int = 100, **options
	) -> list[SyncResult]:
		"""Chain calls like the shell does while `more_pending` is set."""
		results = []
		for _ in range(max_calls):
			results.append(self.sync(config, first_sync_since=first_sync_since, **options))
			if not results[-1].more_pending or results[-1].error:
				return results
		raise AssertionError(f"still more pending after {max_calls} calls")

	def message_ids(self) -> list[str]:
		return sorted(identity.message_id_key for identity in self.records)

"""Mail sync jobs. Every 5 minutes (and on "Sync now") one deduplicated job per enabled Email channel
runs on the long queue and imports new mail with core.imap_sync; the store callback is
email_ingest.ChannelIngest.

- One job per channel at a time: the job ids are deduplicated, and a Redis lock keeps two runs of
  one channel from ever overlapping (a run that finds the lock taken ends at once).
- A backlog is imported in batches (Settings: at most 500 a job); while more is pending the job
  enqueues its continuation. The two job ids alternate, because a running job's own id still counts
  as enqueued and a job cannot re-enqueue itself.
- The cursor of each folder is saved in Channel.sync_cursor (JSON: folder -> FolderCursor.to_dict())
  and committed every time the core asks; each message was committed by the store callback before.
- The Channel's health (status, last success, lag, backlog, imported count, last error) is what an
  admin sees first on the Channel form; progress is pushed to the open form after every batch.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import frappe
from frappe.utils import get_datetime, now_datetime
from frappe.utils.background_jobs import is_job_enqueued
from frappe.utils.scheduler import is_scheduler_inactive

from message_center import realtime, settings
from message_center.core.imap_sync import FolderCursor, StoreOutcome, SyncErrorKind, SyncResult, sync_mailbox
from message_center.email_config import ImapTokenUnavailable, first_sync_since, imap_config, to_system_time
from message_center.email_ingest import ChannelIngest

JOB_METHOD = "message_center.email_sync.sync_channel"
LOCK_SECONDS = 10 * 60  # renewed at every saved cursor, so only a dead run's lock ever expires
PROGRESS_EVENT = "message_center_sync"
IMPORTED = (StoreOutcome.STORED, StoreOutcome.POISON_STORED)
# Three missed polls of the */5 cron (hooks.py): a healthy channel, even one working through a
# backlog, records a success at least every batch.
OVERDUE_AFTER = timedelta(minutes=15)


def enqueue_all():
	"""Scheduler (cron */5): one sync job per enabled Email channel."""
	for channel in frappe.get_all("Channel", filters={"kind": "Email", "enabled": 1}, pluck="name"):
		enqueue_sync(channel)


def enqueue_sync(channel: str) -> bool:
	"""Queue a sync of `channel` unless one is queued or running already. Returns whether it queued one."""
	first, continued = _job_ids(channel)
	if is_job_enqueued(continued):
		return False
	job = frappe.enqueue(JOB_METHOD, queue="long", job_id=first, deduplicate=True, channel=channel)
	if job is None:
		return False
	_set_health(channel, {"sync_status": "Queued"}, only_if_not_running=True)
	return True


def _job_ids(channel: str) -> tuple[str, str]:
	base = f"message_center:email_sync:{channel}"
	return base, f"{base}:continued"


def _chain(channel: str, continued: bool) -> None:
	target = _job_ids(channel)[0 if continued else 1]
	frappe.enqueue(
		JOB_METHOD, queue="long", job_id=target, deduplicate=True, channel=channel, continued=not continued
	)


def sync_channel(channel: str, continued: bool = False) -> dict:
	"""The job: one run over the channel's folders, then chain while more mail is waiting."""
	lock = frappe.cache.lock(
		frappe.cache.make_key(f"message_center:email_sync_lock:{channel}"), timeout=LOCK_SECONDS
	)
	if not lock.acquire(blocking=False):
		return {"channel": channel, "ran": False, "locked": True}  # another run of this channel is under way
	user = frappe.session.user
	frappe.set_user("Administrator")  # importing mail is the system's work, whoever asked for it
	try:
		result = run_sync(channel, renew_lock=lock.reacquire)
	finally:
		frappe.set_user(user)
		try:
			lock.release()
		except Exception:  # expired meanwhile: nothing to release
			pass
	if result is not None and result.ok and result.more_pending:
		_chain(channel, continued)
	return summarise(channel, result)


def run_sync(channel_name: str, renew_lock=None) -> SyncResult | None:
	"""Sync one channel now, in this process (the job, the tests and the benchmark call this)."""
	channel = frappe.get_doc("Channel", channel_name)
	if channel.kind != "Email" or not channel.enabled:
		_set_health(channel.name, {"sync_status": "Idle" if channel.kind == "Email" else None})
		return None
	_set_health(channel.name, {"sync_status": "Running"})
	ingest = ChannelIngest(channel)
	progress = _Progress(channel.name, _load_state(channel), renew_lock)
	try:
		config = imap_config(channel)
		with realtime.audience_cached():
			result = sync_mailbox(
				config,
				progress.cursors(),
				store=progress.counting(ingest.store),
				save_cursor=progress.save_cursor,
				first_sync_since=first_sync_since(),
				batch_limit=settings.sync_batch_size(),
			)
	except ImapTokenUnavailable as error:  # no OAuth token to sign in with: ends like a rejected login
		result = SyncResult({}, str(error), SyncErrorKind.LOGIN)
	except Exception as error:  # sync_mailbox reports server and store failures itself: this is a bug
		frappe.db.rollback()
		frappe.log_error(
			"Message Center: mail sync failed", reference_doctype="Channel", reference_name=channel.name
		)
		_record_failure(channel.name, f"{type(error).__name__}: {error}", progress)
		return None
	_record_result(channel, result, progress)
	return result


def summarise(channel: str, result: SyncResult | None) -> dict:
	if result is None:
		return {"channel": channel, "ran": False}
	return {
		"channel": channel,
		"ran": True,
		"ok": result.ok,
		"error": result.error,
		"stored": result.stored,
		"duplicates": result.duplicates,
		"skipped": result.skipped,
		"poison": result.poison,
		"remaining": result.remaining,
		"noop": result.noop,
		"seconds": round(result.duration_s, 3),
	}


class _Progress:
	"""The save_cursor callback: persists the cursors, the imported count and the lock, then commits."""

	def __init__(self, channel: str, state: dict, renew_lock=None):
		self.channel = channel
		self.state = state
		self.renew_lock = renew_lock
		self.unsaved_imports = 0
		self.imported = 0

	def cursors(self) -> dict[str, FolderCursor]:
		found = {}
		for folder, data in self.state.items():
			try:
				found[folder] = FolderCursor.from_dict(data)
			except (KeyError, TypeError, ValueError):  # unreadable: a rescan of that folder dedupes
				continue
		return found

	def counting(self, store):
		def counted(message):
			outcome = store(message)
			if outcome in IMPORTED:
				self.unsaved_imports += 1
				self.imported += 1
			return outcome

		return counted

	def save_cursor(self, cursor: FolderCursor) -> None:
		self.state[cursor.folder] = cursor.to_dict()
		frappe.db.set_value(
			"Channel",
			self.channel,
			"sync_cursor",
			json.dumps(self.state, sort_keys=True),
			update_modified=False,
		)
		self.flush_count()
		frappe.publish_realtime(
			PROGRESS_EVENT,
			{"channel": self.channel},
			doctype="Channel",
			docname=self.channel,
			after_commit=True,
		)
		frappe.db.commit()
		if self.renew_lock:
			self.renew_lock()

	def flush_count(self) -> None:
		if self.unsaved_imports:
			frappe.db.sql(
				"update `tabChannel` set messages_imported = ifnull(messages_imported, 0) + %s where name=%s",
				(self.unsaved_imports, self.channel),
			)
			self.unsaved_imports = 0


def sync_overdue(channel) -> dict | None:
	"""For an enabled mail channel that has gone three polls without a successful sync: since when,
	and whether the scheduler is off. A failing mailbox is left out: its own error says more. A
	channel left Queued or Running this long means no worker is taking the long queue."""
	if channel.kind != "Email" or not channel.enabled or channel.sync_status == "Failed":
		return None
	since = get_datetime(channel.last_success_at or channel.creation)
	if now_datetime() - since < OVERDUE_AFTER:
		return None
	return {"since": since, "scheduler_inactive": is_scheduler_inactive(verbose=False)}


def _load_state(channel) -> dict:
	try:
		state = json.loads(channel.sync_cursor or "{}")
	except ValueError:
		return {}
	return state if isinstance(state, dict) else {}


def _record_result(channel, result: SyncResult, progress: _Progress) -> None:
	now = now_datetime()
	values = {"backlog": result.remaining}
	if result.ok:
		values["last_success_at"] = now
		values["sync_status"] = "Queued" if result.more_pending else "Idle"
	else:
		values.update(sync_status="Failed", last_error=_error_text(result), last_error_at=now)
	values["lag_seconds"] = lag_seconds(result, values.get("last_success_at") or channel.last_success_at, now)
	progress.flush_count()
	_set_health(channel.name, values)
	frappe.publish_realtime(
		PROGRESS_EVENT, {"channel": channel.name}, doctype="Channel", docname=channel.name, after_commit=True
	)
	frappe.db.commit()


def _record_failure(channel: str, error: str, progress: _Progress) -> None:
	progress.flush_count()
	_set_health(
		channel, {"sync_status": "Failed", "last_error": error[:2000], "last_error_at": now_datetime()}
	)
	frappe.db.commit()


def _error_text(result: SyncResult) -> str:
	kind = result.error_kind.value if result.error_kind else "error"
	return f"{kind}: {result.error}"[:2000]


def lag_seconds(result: SyncResult, last_success_at, now: datetime) -> int | None:
	"""0 when every message on the server is imported; otherwise how old the newest imported mail of a
	folder that is behind is (or, without one, how long ago we were last in step with the server)."""
	if result.ok and not result.more_pending:
		return 0
	behind = [
		folder.cursor.last_internaldate
		for folder in result.folders.values()
		if (folder.more_pending or folder.error) and folder.cursor and folder.cursor.last_internaldate
	]
	if behind:
		return max(0, int((now - to_system_time(min(behind))).total_seconds()))
	if last_success_at:
		return max(0, int((now - get_datetime(last_success_at)).total_seconds()))
	return None


def _set_health(channel: str, values: dict, only_if_not_running: bool = False) -> None:
	values = {key: value for key, value in values.items() if value is not None}
	if not values:
		return
	if only_if_not_running and frappe.db.get_value("Channel", channel, "sync_status") == "Running":
		return
	frappe.db.set_value("Channel", channel, values, update_modified=False)
	frappe.db.commit()

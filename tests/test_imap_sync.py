"""sync_mailbox against a real Dovecot: exactly-once, read-only, resumable."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest

from message_center.core.imap_sync import FolderCursor, ImapConfig, StoreOutcome, SyncErrorKind, sync_mailbox
from message_center.core.mail_identity import message_identity
from message_center.testing.dovecot import DovecotServer, find_dovecot
from message_center.testing.memory_sink import MemorySink
from message_center.testing.sample_mail import make_message
from message_center.testing.tcp_faults import FaultyProxy, SilentServer, closed_port


def stored_numbers(sink: MemorySink) -> list[str]:
	return sorted(key.message_id_key for key in sink.records)


def expected_ids(tag: str, numbers) -> list[str]:
	return sorted(f"<{tag}-{number}@example.org>" for number in numbers)


# ---- what gets imported ----------------------------------------------------------------------


def test_first_sync_imports_only_the_window_then_everything_new(mailbox, window_start):
	mailbox.seed(4, tag="old", days_ago=45)
	mailbox.seed(3, tag="recent", days_ago=2)
	sink = MemorySink()

	first = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert first.ok and first.stored == 3 and not first.more_pending
	assert stored_numbers(sink) == expected_ids("recent", range(1, 4))
	# afterwards every new UID counts, even with an old INTERNALDATE (mail moved in from elsewhere)
	mailbox.seed(1, tag="moved-in", days_ago=400)
	second = sink.sync(mailbox.config(), first_sync_since=window_start)
	assert second.stored == 1 and "<moved-in-1@example.org>" in stored_numbers(sink)


def test_incremental_sync_fetches_only_new_messages(mailbox, window_start):
	first_uids = mailbox.seed(5)
	sink = MemorySink()
	sink.sync(mailbox.config(), first_sync_since=window_start)
	new_uids = mailbox.seed(3, start=6)
	sink.store_calls.clear()

	result = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert result.stored == 3 and result.duplicates == 0
	assert sink.store_calls == [("INBOX", uid) for uid in new_uids]
	assert sink.cursors["INBOX"].last_uid == new_uids[-1] > first_uids[-1]


def test_server_flags_are_never_changed(mailbox, window_start):
	mailbox.seed(2)
	mailbox.seed(1, start=3, flags=("\\Seen",))
	mailbox.seed(1, start=4, flags=("\\Flagged", "$Label1"))
	mailbox.seed(1, start=5, flags=("\\Answered", "\\Seen", "Urgent"))
	before = mailbox.server.flags(mailbox.user, "INBOX")
	mailbox.clear_commands()

	result = MemorySink().sync(mailbox.config(), first_sync_since=window_start)

	assert result.stored == 5
	assert mailbox.server.flags(mailbox.user, "INBOX") == before
	assert not any("\\Seen" in flags for flags in list(before.values())[:2])
	commands = " ".join(mailbox.commands())
	assert "EXAMINE" in commands and "SELECT" not in commands
	assert "BODY.PEEK[]" in commands and "BODY[]" not in commands.replace("BODY.PEEK[]", "")
	assert not re.search(r" (UID )?(STORE|EXPUNGE|COPY|MOVE) ", commands)


def test_message_already_read_elsewhere_is_imported(mailbox, window_start):
	(uid,) = mailbox.seed(1, flags=("\\Seen",))
	sink = MemorySink()

	result = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert result.stored == 1
	(message,) = sink.records.values()
	assert message.uid == uid and "\\Seen" in message.flags


def test_batches_are_limited_oldest_first_and_chain_until_done(mailbox, window_start):
	uids = mailbox.seed(25)
	sink = MemorySink()

	results = sink.sync_until_done(
		mailbox.config(), first_sync_since=window_start, batch_limit=10, fetch_chunk=4
	)

	assert [r.stored for r in results] == [10, 10, 5]
	assert [r.more_pending for r in results] == [True, True, False]
	assert [r.remaining for r in results] == [15, 5, 0]
	assert [uid for _folder, uid in sink.store_calls] == uids  # each once, oldest first
	assert stored_numbers(sink) == expected_ids("m", range(1, 26))
	assert sink.sync(mailbox.config(), first_sync_since=window_start).noop


def test_offline_backfill_imports_everything_that_arrived_meanwhile(mailbox, window_start):
	mailbox.seed(3)
	sink = MemorySink()
	sink.sync(mailbox.config(), first_sync_since=window_start)
	mailbox.seed(300, tag="offline", days_ago=10)  # days of mail while the site was down
	mailbox.seed(2, tag="ancient", days_ago=120)  # outside the window, but new to the folder

	results = sink.sync_until_done(mailbox.config(), first_sync_since=window_start, batch_limit=100)

	assert sum(r.stored for r in results) == 302 and sum(r.duplicates for r in results) == 0
	assert len(sink.records) == 305


def test_multiple_folders_per_channel(mailbox, window_start):
	mailbox.create_folder("Enquiries")
	mailbox.seed(2, tag="inbox")
	mailbox.seed(3, tag="enq", folder="Enquiries")
	mailbox.seed(1, tag="inbox", start=1, folder="Enquiries")  # the same mail filed in both folders
	sink = MemorySink()

	result = sink.sync(
		mailbox.config(folders=("INBOX", "Enquiries", "Missing")), first_sync_since=window_start
	)

	assert result.folders["INBOX"].stored == 2
	assert result.folders["Enquiries"].stored == 3 and result.folders["Enquiries"].duplicates == 1
	assert result.folders["Missing"].error_kind is SyncErrorKind.FOLDER
	assert result.error_kind is SyncErrorKind.FOLDER and "Missing" in result.error
	assert set(sink.cursors) == {"INBOX", "Enquiries"}


def test_two_channels_on_the_same_mailbox_each_get_one_record(mailbox, window_start):
	mailbox.seed(4)
	sales, support = MemorySink(), MemorySink()

	sales.sync(mailbox.config(), first_sync_since=window_start)
	mailbox.seed(2, start=5)
	support.sync(mailbox.config(), first_sync_since=window_start)
	sales.sync(mailbox.config(), first_sync_since=window_start)

	assert stored_numbers(sales) == stored_numbers(support) == expected_ids("m", range(1, 7))
	assert len(sales.store_calls) == len(support.store_calls) == 6


# ---- failures --------------------------------------------------------------------------------


def test_connection_cut_mid_fetch_resumes_without_loss_or_duplicates(mailbox, window_start):
	mailbox.seed(30, body_lines=60)
	middle_of_second_chunk = sum(len(make_message(n, body_lines=60)) for n in range(1, 16))
	sink = MemorySink()
	with FaultyProxy(mailbox.server.host, mailbox.server.port) as proxy:
		config = mailbox.config(host=proxy.host, port=proxy.port)
		proxy.cut_after_server_bytes(middle_of_second_chunk, after_client_sends=b"BODY.PEEK[]")

		broken = sink.sync(config, first_sync_since=window_start, fetch_chunk=10)

		assert proxy.cuts == 1
		assert broken.error_kind is SyncErrorKind.DISCONNECTED and broken.stored == 10
		assert sink.cursors["INBOX"].last_uid == 10  # the partly received chunk is not passed
		resumed = sink.sync(config, first_sync_since=window_start, fetch_chunk=10)

	assert resumed.ok and resumed.stored == 20 and resumed.duplicates == 0
	assert stored_numbers(sink) == expected_ids("m", range(1, 31))


def test_server_hanging_mid_fetch_times_out_once_and_resumes(mailbox, window_start):
	mailbox.seed(30, body_lines=60)
	middle_of_second_chunk = sum(len(make_message(n, body_lines=60)) for n in range(1, 16))
	sink = MemorySink()
	with FaultyProxy(mailbox.server.host, mailbox.server.port) as proxy:
		config = mailbox.config(host=proxy.host, port=proxy.port, read_timeout=0.5)
		proxy.stall_after_server_bytes(middle_of_second_chunk, after_client_sends=b"BODY.PEEK[]")

		hung = sink.sync(config, first_sync_since=window_start, fetch_chunk=10)

		assert hung.error_kind is SyncErrorKind.TIMEOUT and hung.stored == 10
		assert hung.duration_s < 1.2  # one read timeout, not a second one waiting for LOGOUT
		resumed = sink.sync(config, first_sync_since=window_start, fetch_chunk=10)

	assert resumed.ok and resumed.stored == 20 and resumed.duplicates == 0


def test_server_that_never_greets_times_out_quickly(mailbox, window_start):
	cursor = FolderCursor("INBOX", uidvalidity=7, last_uid=3)
	with SilentServer() as silent:
		started = time.monotonic()
		result = sync_mailbox(
			mailbox.config(host=silent.host, port=silent.port, connect_timeout=0.5, read_timeout=0.5),
			{"INBOX": cursor},
			store=MemorySink().store,
			save_cursor=MemorySink().save_cursor,
			first_sync_since=window_start,
		)
	assert time.monotonic() - started < 2
	assert result.error_kind is SyncErrorKind.TIMEOUT and not result.ok
	assert result.cursors == {"INBOX": cursor} and result.fetched == 0


def test_connection_refused_is_a_connect_error(mailbox, window_start):
	result = MemorySink().sync(mailbox.config(port=closed_port()), first_sync_since=window_start)
	assert result.error_kind is SyncErrorKind.CONNECT


def test_wrong_password_is_a_login_error(mailbox, window_start):
	mailbox.seed(1)
	started = time.monotonic()
	result = MemorySink().sync(mailbox.config(password="wrong"), first_sync_since=window_start)
	assert result.error_kind is SyncErrorKind.LOGIN and result.fetched == 0
	assert time.monotonic() - started < 2


def test_tls_listener_and_certificate_check(dovecot, mailbox, window_start):
	if not dovecot.ssl_port:
		pytest.skip("openssl is not installed: no TLS listener")
	mailbox.seed(2)
	tls = mailbox.config(port=dovecot.ssl_port, ssl=True)

	assert (
		MemorySink().sync(tls, first_sync_since=window_start).error_kind is SyncErrorKind.TLS
	)  # self-signed
	assert (
		MemorySink()
		.sync(
			mailbox.config(port=dovecot.ssl_port, ssl=True, ssl_verify=False), first_sync_since=window_start
		)
		.stored
		== 2
	)


def test_store_failure_keeps_the_cursor_before_the_failed_message(mailbox, window_start):
	uids = mailbox.seed(12)
	sink = MemorySink(fail_when=lambda message: message.uid == uids[6])

	failed = sink.sync(mailbox.config(), first_sync_since=window_start, fetch_chunk=5)

	assert failed.error_kind is SyncErrorKind.STORE and f"UID {uids[6]}" in failed.error
	assert failed.stored == 6 and sink.cursors["INBOX"].last_uid == uids[5]
	sink.fail_when = None
	resumed = sink.sync(mailbox.config(), first_sync_since=window_start, fetch_chunk=5)
	assert resumed.ok and resumed.stored == 6 and resumed.duplicates == 0
	assert stored_numbers(sink) == expected_ids("m", range(1, 13))


def test_lost_cursor_write_only_causes_deduplicated_refetch(mailbox, window_start):
	"""The store commits each message; if the cursor write is lost, the refetch is a duplicate."""
	mailbox.seed(5)
	sink = MemorySink()
	saved: list[FolderCursor] = []

	def failing_save(cursor: FolderCursor) -> None:
		if cursor.last_uid:
			raise RuntimeError("database went away")
		saved.append(cursor)

	failed = sync_mailbox(
		mailbox.config(), {}, store=sink.store, save_cursor=failing_save, first_sync_since=window_start
	)
	assert failed.error_kind is SyncErrorKind.STORE and failed.stored == 5
	sink.cursors["INBOX"] = saved[-1]  # only the first-sync cursor (last_uid 0) was persisted

	again = sink.sync(mailbox.config(), first_sync_since=window_start)
	assert again.ok and again.stored == 0 and again.duplicates == 5 and len(sink.records) == 5


def test_tombstoned_message_is_skipped_and_passed(mailbox, window_start):
	uids = mailbox.seed(3)
	sink = MemorySink()
	sink.tombstone("<m-2@example.org>")  # deleted by a user in an earlier life of this channel

	result = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert (result.stored, result.skipped) == (2, 1)
	assert sink.cursors["INBOX"].last_uid == uids[-1]
	assert "<m-2@example.org>" not in stored_numbers(sink)
	assert sink.sync(mailbox.config(), first_sync_since=window_start).noop


def test_poison_message_is_counted_and_passed(mailbox, window_start):
	uids = mailbox.seed(3)
	sink = MemorySink(poison_when=lambda message: message.uid == uids[1])
	result = sink.sync(mailbox.config(), first_sync_since=window_start)
	assert (result.stored, result.poison) == (2, 1) and sink.cursors["INBOX"].last_uid == uids[-1]


def test_message_expunged_between_search_and_fetch_is_skipped(mailbox, window_start):
	uids = mailbox.seed(4)
	sink = MemorySink()
	plain_store = sink.store

	def store_then_expunge_the_next(message):
		if message.uid == uids[0]:
			mailbox.server.expunge(mailbox.user, "INBOX", [uids[1]])  # another client deletes it
		return plain_store(message)

	result = sync_mailbox(
		mailbox.config(), {}, store=store_then_expunge_the_next, save_cursor=sink.save_cursor,
		first_sync_since=window_start, fetch_chunk=1,
	)  # fmt: skip

	assert result.ok and result.stored == 3 and result.vanished == 1
	assert sink.cursors["INBOX"].last_uid == uids[-1]


# ---- UIDVALIDITY -----------------------------------------------------------------------------


def test_uidvalidity_reset_rescans_without_duplicates_or_loss(mailbox, window_start):
	mailbox.seed(10)
	sink = MemorySink()
	sink.sync(mailbox.config(), first_sync_since=window_start)
	old_cursor = sink.cursors["INBOX"]
	mailbox.seed(3, start=11)  # arrives, then the server loses its UIDs before we poll
	new_validity = mailbox.server.reset_uidvalidity(mailbox.user, "INBOX")

	result = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert new_validity != old_cursor.uidvalidity
	assert result.ok and "UIDVALIDITY changed" in result.folders["INBOX"].rescan_reason
	assert (result.stored, result.duplicates) == (3, 10)
	assert stored_numbers(sink) == expected_ids("m", range(1, 14))
	assert sink.cursors["INBOX"].uidvalidity == new_validity
	assert sink.sync(mailbox.config(), first_sync_since=window_start).noop


def test_uidvalidity_reset_after_long_downtime_rescans_past_the_window(mailbox):
	mailbox.seed(2, tag="synced", days_ago=6)
	sink = MemorySink()
	sink.sync(mailbox.config(), first_sync_since=date.today() - timedelta(days=30))
	mailbox.seed(2, tag="unsynced", days_ago=4)  # arrived while we were down
	mailbox.server.reset_uidvalidity(mailbox.user, "INBOX")

	# by now the configured window only reaches back one day
	result = sink.sync(mailbox.config(), first_sync_since=date.today() - timedelta(days=1))

	assert result.stored == 2 and result.duplicates == 2
	assert expected_ids("unsynced", (1, 2))[0] in stored_numbers(sink)


def test_tombstone_survives_a_uidvalidity_reset(mailbox, window_start):
	mailbox.seed(3)
	sink = MemorySink()
	sink.sync(mailbox.config(), first_sync_since=window_start)
	sink.tombstone("<m-1@example.org>")
	mailbox.server.reset_uidvalidity(mailbox.user, "INBOX")

	result = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert (result.stored, result.duplicates, result.skipped) == (0, 2, 1)


# ---- protocol hygiene and speed ----------------------------------------------------------------


def test_noop_poll_makes_no_select_search_or_fetch(mailbox, window_start):
	mailbox.seed(3)
	sink = MemorySink()
	sink.sync(mailbox.config(), first_sync_since=window_start)
	mailbox.clear_commands()
	saves = sink.cursor_saves

	result = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert result.noop and result.fetched == 0 and sink.cursor_saves == saves
	verbs = [line.split()[1] for line in mailbox.commands()]
	assert verbs == ["STATUS", "LOGOUT"]
	assert result.duration_s < 0.5  # typically a few ms on loopback


def test_never_asks_for_uid_zero_or_open_ranges(mailbox, window_start):
	mailbox.seed(7)
	sink = MemorySink()
	mailbox.clear_commands()
	sink.sync_until_done(mailbox.config(), first_sync_since=window_start, batch_limit=3)
	mailbox.seed(2, start=8)
	mailbox.server.reset_uidvalidity(mailbox.user, "INBOX")
	sink.sync_until_done(mailbox.config(), first_sync_since=window_start, batch_limit=3)
	sink.sync(mailbox.config(), first_sync_since=window_start)

	uid_commands = [line for line in mailbox.commands() if " UID " in line]
	assert uid_commands and len(sink.records) == 9
	for line in uid_commands:
		assert "*" not in line, line
		assert not re.search(r"(?<![\d])0(:|,| |$)", line.split(" UID ", 1)[1].split(" (")[0]), line


def test_message_without_message_id_is_deduplicated_by_content(mailbox, window_start):
	mailbox.seed(2, message_id=False)
	sink = MemorySink()
	sink.sync(mailbox.config(), first_sync_since=window_start)
	mailbox.server.reset_uidvalidity(mailbox.user, "INBOX")

	result = sink.sync(mailbox.config(), first_sync_since=window_start)

	assert result.duplicates == 2 and len(sink.records) == 2
	assert all(key.message_id_key.startswith("sha256:") for key in sink.records)


def test_store_receives_complete_raw_bytes(mailbox, window_start):
	raw = make_message(1, body_lines=2000)
	mailbox.server.append(mailbox.user, "INBOX", raw)
	seen = []
	result = sync_mailbox(
		mailbox.config(), {}, store=lambda m: seen.append(m) or StoreOutcome.STORED,
		save_cursor=lambda cursor: None, first_sync_since=window_start,
	)  # fmt: skip
	assert result.stored == 1
	assert seen[0].raw == raw and seen[0].size == len(raw)
	assert message_identity(seen[0].raw).message_id_key == "<m-1@example.org>"
	assert seen[0].internaldate.tzinfo is not None


# ---- messages the server refuses to deliver ----------------------------------------------------


@pytest.fixture
def answers_no_to_broken_mail():
	"""A Dovecot that answers NO (not BYE, its default) when it cannot read a message."""
	if not find_dovecot():
		pytest.skip("dovecot is not installed")
	with DovecotServer(extra_config="imap_fetch_failure = no-after") as server:
		server.add_user("alice", "secret")
		yield server


def test_message_refused_with_no_is_retried_then_passed_over(answers_no_to_broken_mail, window_start):
	server = answers_no_to_broken_mail
	uids = server.append_many("alice", "INBOX", [make_message(n) for n in range(1, 6)])
	server.make_unreadable("alice", "INBOX", uids[2])
	config = ImapConfig(host=server.host, port=server.port, ssl=False, username="alice", password="secret")
	sink = MemorySink()

	runs = [sink.sync(config, first_sync_since=window_start) for _ in range(3)]

	# run 1 narrows the refused chunk down message by message; Dovecot hangs up when asked for
	# the same broken message twice in one session, so that run ends disconnected
	assert [r.error_kind for r in runs] == [SyncErrorKind.DISCONNECTED, SyncErrorKind.PROTOCOL, None]
	assert [r.stored for r in runs] == [2, 0, 2]
	assert runs[2].folders["INBOX"].unfetchable_uids == [uids[2]]
	assert stored_numbers(sink) == expected_ids("m", (1, 2, 4, 5))
	assert sink.cursors["INBOX"].refusals == 0 and sink.sync(config, first_sync_since=window_start).noop


def test_message_that_makes_the_server_hang_up_does_not_block_the_folder(mailbox, window_start):
	uids = mailbox.seed(5)
	mailbox.server.make_unreadable(mailbox.user, "INBOX", uids[2])  # Dovecot answers with BYE
	sink = MemorySink()

	runs = [sink.sync(mailbox.config(), first_sync_since=window_start) for _ in range(5)]

	assert [r.error_kind for r in runs[:4]] == [SyncErrorKind.DISCONNECTED] * 4
	assert runs[4].ok and runs[3].folders["INBOX"].unfetchable_uids == [uids[2]]
	assert [r.stored for r in runs] == [0, 2, 0, 0, 2]
	assert stored_numbers(sink) == expected_ids("m", (1, 2, 4, 5))

"""The pure cursor rules of imap_cursor (no server needed)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from message_center.core.imap_cursor import (
	FolderCursor,
	MailboxStatus,
	UidQuery,
	advance,
	caught_up,
	fetch_chunks,
	is_noop,
	pending_queries,
	plan_folder,
	record_refusal,
	rescan_since,
	uid_set,
)

WINDOW = date(2024, 5, 1)


def status(uidnext: int, uidvalidity: int = 9) -> MailboxStatus:
	return MailboxStatus(uidvalidity=uidvalidity, uidnext=uidnext, highest_modseq=40)


def test_first_sync_searches_the_window_up_to_the_current_top():
	plan = plan_folder(None, status(101), "INBOX", WINDOW)
	assert plan.cursor == FolderCursor("INBOX", uidvalidity=9, window_since=WINDOW, window_top_uid=100)
	assert plan.queries == (UidQuery(1, 100, WINDOW),)


def test_empty_folder_first_sync_has_nothing_to_search():
	plan = plan_folder(None, status(1), "INBOX", WINDOW)
	assert plan.queries == () and not plan.noop


def test_unfinished_window_continues_then_new_uids_come_without_a_date_filter():
	cursor = FolderCursor("INBOX", uidvalidity=9, last_uid=40, window_since=WINDOW, window_top_uid=100)
	assert pending_queries(cursor, status(131)) == (UidQuery(41, 100, WINDOW), UidQuery(101, 130))


def test_incremental_search_starts_after_the_cursor():
	cursor = FolderCursor("INBOX", uidvalidity=9, last_uid=130, window_since=WINDOW, window_top_uid=100)
	assert plan_folder(cursor, status(140), "INBOX", WINDOW).queries == (UidQuery(131, 139),)


def test_noop_only_when_nothing_was_assigned_past_the_cursor():
	cursor = FolderCursor("INBOX", uidvalidity=9, last_uid=130, window_top_uid=100)
	assert is_noop(cursor, status(131))
	assert not is_noop(cursor, status(132))
	assert not is_noop(cursor, status(131, uidvalidity=10))
	assert not is_noop(None, status(1))
	assert plan_folder(cursor, status(131), "INBOX", WINDOW).noop


def test_uidvalidity_change_rescans_from_before_the_last_stored_message():
	last = datetime(2024, 3, 10, 8, 0, tzinfo=timezone.utc)
	cursor = FolderCursor(
		"INBOX",
		uidvalidity=9,
		last_uid=500,
		window_since=date(2024, 1, 1),
		window_top_uid=100,
		last_internaldate=last,
	)
	plan = plan_folder(cursor, status(80, uidvalidity=10), "INBOX", WINDOW)
	assert "UIDVALIDITY" in plan.rescan_reason
	assert plan.cursor.uidvalidity == 10 and plan.cursor.last_uid == 0
	assert plan.cursor.window_since == date(2024, 3, 8)  # older than the window: offline for long
	assert plan.queries == (UidQuery(1, 79, date(2024, 3, 8)),)


def test_rescan_uses_the_window_when_the_last_message_is_recent():
	cursor = FolderCursor(
		"INBOX", uidvalidity=9, last_uid=5, last_internaldate=datetime(2024, 6, 1, tzinfo=timezone.utc)
	)
	assert rescan_since(cursor, WINDOW) == WINDOW


def test_rescan_finishes_an_unfinished_old_window():
	cursor = FolderCursor(
		"INBOX", uidvalidity=9, last_uid=5, window_since=date(2024, 2, 1), window_top_uid=50
	)
	assert rescan_since(cursor, WINDOW) == date(2024, 2, 1)


def test_uids_going_backwards_without_uidvalidity_change_trigger_a_rescan():
	cursor = FolderCursor("INBOX", uidvalidity=9, last_uid=130)
	plan = plan_folder(cursor, status(20), "INBOX", WINDOW)
	assert "UIDNEXT" in plan.rescan_reason and plan.queries == (UidQuery(1, 19, WINDOW),)


def test_advance_never_moves_back_and_caught_up_jumps_to_the_top():
	cursor = FolderCursor("INBOX", uidvalidity=9, last_uid=10)
	assert advance(cursor, 7, None) is cursor
	moved = advance(cursor, 12, None)
	assert moved.last_uid == 12
	done = caught_up(moved, status(20))
	assert (done.last_uid, done.highest_modseq) == (19, 40) and is_noop(done, status(20))


def test_query_keeps_only_uids_inside_its_range():
	# "UID SEARCH UID 51:*" answers with the last message even when it is below 51
	assert UidQuery(51, 60).keep([50, 51, 60, 61]) == [51, 60]
	assert UidQuery(3, 9, WINDOW).criteria() == ["UID", "3:9", "SINCE", WINDOW]


def test_uid_set_compacts_runs():
	assert uid_set([7, 1, 2, 3, 9, 10]) == "1:3,7,9:10"
	assert uid_set([5]) == "5"


@given(st.sets(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=200))
def test_uid_set_round_trips(uids):
	expanded = set()
	for part in uid_set(uids).split(","):
		low, _, high = part.partition(":")
		expanded.update(range(int(low), int(high or low) + 1))
	assert expanded == uids


@given(
	st.lists(st.integers(min_value=1, max_value=5_000), min_size=0, max_size=60),
	st.integers(min_value=1, max_value=10),
	st.integers(min_value=1, max_value=20_000),
)
def test_fetch_chunks_keep_order_and_respect_limits(sizes, max_count, max_bytes):
	uids = list(range(1, len(sizes) + 1))
	by_uid = dict(zip(uids, sizes, strict=True))
	chunks = fetch_chunks(uids, by_uid, max_count, max_bytes)
	assert [uid for chunk in chunks for uid in chunk] == uids
	for chunk in chunks:
		assert len(chunk) <= max_count
		assert len(chunk) == 1 or sum(by_uid[uid] for uid in chunk) <= max_bytes


def test_refused_range_is_fetched_singly_and_a_single_is_passed_over_on_the_third_refusal():
	cursor = FolderCursor("INBOX", uidvalidity=9, last_uid=10)
	cursor, pass_over = record_refusal(cursor, [11, 12, 13, 14])
	assert (cursor.refused_from_uid, cursor.refused_to_uid, pass_over) == (11, 14, False)
	assert fetch_chunks([11, 12, 13, 14, 15, 16], {}, 10, 10**6, cursor.refused_to_uid) == [
		[11],
		[12],
		[13],
		[14],
		[15, 16],
	]
	cursor = advance(cursor, 12, None)
	for expected_refusals in (1, 2):
		cursor, pass_over = record_refusal(cursor, [13])
		assert (cursor.refusals, pass_over) == (expected_refusals, False)
	cursor, pass_over = record_refusal(cursor, [13])
	assert pass_over and cursor.refusals == 0 and cursor.refused_to_uid == 0


def test_moving_past_the_refused_range_forgets_it():
	cursor, _ = record_refusal(FolderCursor("INBOX", uidvalidity=9, last_uid=10), [11])
	assert advance(cursor, 11, None).refusals == 0
	cursor, _ = record_refusal(cursor, [12])  # a different message starts a new count
	assert cursor.refusals == 1 and cursor.refused_from_uid == 12


def test_cursor_round_trips_through_a_json_friendly_dict():
	cursor = FolderCursor(
		"Enquiries", uidvalidity=3, last_uid=77, highest_modseq=1234, window_since=WINDOW, window_top_uid=50,
		last_internaldate=datetime(2024, 5, 2, 9, 30, tzinfo=timezone.utc),
		refused_from_uid=78, refused_to_uid=80, refusals=0,
	)  # fmt: skip
	assert FolderCursor.from_dict(cursor.to_dict()) == cursor
	assert FolderCursor.from_dict({"folder": "INBOX"}) == FolderCursor("INBOX")

from datetime import datetime, timedelta, timezone

from message_center.core.alerts import AlertThresholds, compute_alerts, overdue_cutoffs

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
FIVE = AlertThresholds(unclaimed_minutes=5, waiting_minutes=5)


def alerts(unclaimed_minutes_ago=None, waiting_minutes_ago=None, is_open=True, thresholds=FIVE):
	return compute_alerts(
		is_open=is_open,
		unclaimed_since=NOW - timedelta(minutes=unclaimed_minutes_ago) if unclaimed_minutes_ago is not None else None,
		waiting_since=NOW - timedelta(minutes=waiting_minutes_ago) if waiting_minutes_ago is not None else None,
		now=NOW,
		thresholds=thresholds,
	)


def test_fresh_unclaimed_shows_exclamation_without_flashing():
	result = alerts(unclaimed_minutes_ago=2, waiting_minutes_ago=2)
	assert result.unclaimed and not result.unclaimed_overdue and not result.waiting_overdue
	assert result.next_change_at == NOW + timedelta(minutes=3)
	assert result.needs_attention


def test_unclaimed_past_threshold_flashes_exactly_at_the_threshold():
	assert alerts(unclaimed_minutes_ago=5).unclaimed_overdue
	assert not alerts(unclaimed_minutes_ago=4.99).unclaimed_overdue


def test_claimed_customer_waiting_too_long_shows_alarm_clock():
	result = alerts(waiting_minutes_ago=6)
	assert not result.unclaimed and result.waiting_overdue and result.needs_attention
	assert result.next_change_at is None


def test_closed_conversations_raise_no_alerts():
	result = alerts(unclaimed_minutes_ago=60, waiting_minutes_ago=60, is_open=False)
	assert not (result.unclaimed or result.unclaimed_overdue or result.waiting_overdue)


def test_thresholds_come_from_settings():
	relaxed = AlertThresholds(unclaimed_minutes=30, waiting_minutes=10)
	assert not alerts(unclaimed_minutes_ago=20, thresholds=relaxed).unclaimed_overdue
	assert alerts(waiting_minutes_ago=11, thresholds=relaxed).waiting_overdue


def test_cutoffs_match_the_row_computation():
	unclaimed_cutoff, waiting_cutoff = overdue_cutoffs(NOW, AlertThresholds(7, 9))
	assert unclaimed_cutoff == NOW - timedelta(minutes=7)
	assert waiting_cutoff == NOW - timedelta(minutes=9)

"""Alert clocks for the inbox: unclaimed conversations and customers left waiting.

Three visible states, as agents know them from texting inboxes: an exclamation mark while a
conversation is unclaimed, flashing once it has been unclaimed longer than the threshold, and an
alarm clock when the customer has waited longer than the waiting threshold for our answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class AlertThresholds:
	unclaimed_minutes: int = 5
	waiting_minutes: int = 5


@dataclass(frozen=True)
class Alerts:
	unclaimed: bool  # exclamation mark
	unclaimed_overdue: bool  # the exclamation mark flashes
	waiting_overdue: bool  # alarm clock
	next_change_at: datetime | None  # when an alert will next switch on, so the page can schedule a redraw

	@property
	def needs_attention(self) -> bool:
		return self.unclaimed or self.waiting_overdue


def compute_alerts(
	*,
	is_open: bool,
	unclaimed_since: datetime | None,
	waiting_since: datetime | None,
	now: datetime,
	thresholds: AlertThresholds,
) -> Alerts:
	if not is_open:
		return Alerts(False, False, False, None)
	unclaimed_due = unclaimed_since + timedelta(minutes=thresholds.unclaimed_minutes) if unclaimed_since else None
	waiting_due = waiting_since + timedelta(minutes=thresholds.waiting_minutes) if waiting_since else None
	upcoming = [due for due in (unclaimed_due, waiting_due) if due is not None and due > now]
	return Alerts(
		unclaimed=unclaimed_since is not None,
		unclaimed_overdue=unclaimed_due is not None and unclaimed_due <= now,
		waiting_overdue=waiting_due is not None and waiting_due <= now,
		next_change_at=min(upcoming) if upcoming else None,
	)


def overdue_cutoffs(now: datetime, thresholds: AlertThresholds) -> tuple[datetime, datetime]:
	"""The (unclaimed, waiting) timestamps before which a conversation is overdue: lets the list
	query filter and count alerts in SQL instead of computing them row by row."""
	return (
		now - timedelta(minutes=thresholds.unclaimed_minutes),
		now - timedelta(minutes=thresholds.waiting_minutes),
	)

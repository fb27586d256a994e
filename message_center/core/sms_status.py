"""Delivery status of an outbound SMS, which only ever moves forward.

Twilio's status callbacks arrive concurrently and out of order ("sent" after "delivered" is
common), and may be retried. Each callback is folded in with advance_status(), so the stored
status is the furthest point the message is known to have reached, whatever the arrival order.
"""

SCHEDULED = "scheduled"
ACCEPTED = "accepted"
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
DELIVERED = "delivered"
UNDELIVERED = "undelivered"
FAILED = "failed"
PARTIALLY_DELIVERED = "partially_delivered"
CANCELED = "canceled"
READ = "read"

# Progress through Twilio's lifecycle: scheduled -> accepted -> queued -> sending -> sent -> an
# outcome. "read" (WhatsApp and RCS read receipts) can only follow "delivered".
_RANK = {
	SCHEDULED: 0,
	ACCEPTED: 1,
	QUEUED: 2,
	SENDING: 3,
	SENT: 4,
	DELIVERED: 5,
	UNDELIVERED: 5,
	FAILED: 5,
	PARTIALLY_DELIVERED: 5,
	CANCELED: 5,
	READ: 6,
}

OUTBOUND_STATUSES = frozenset(_RANK)
TERMINAL_STATUSES = frozenset({DELIVERED, UNDELIVERED, FAILED, PARTIALLY_DELIVERED, CANCELED, READ})
FAILURE_STATUSES = frozenset({UNDELIVERED, FAILED, CANCELED})


def normalise_status(status: str | None) -> str | None:
	"""Lower-case known status, or None for anything Twilio's outbound lifecycle does not define."""
	value = (status or "").strip().lower()
	return value if value in _RANK else None


def is_terminal(status: str | None) -> bool:
	return normalise_status(status) in TERMINAL_STATUSES


def advance_status(current: str | None, incoming: str | None) -> str:
	"""The status to store after a callback reports `incoming` for a message now at `current`.

	Moves forward only: a late "sent" never overwrites "delivered", a final outcome is never
	replaced (except delivered -> read), and unknown statuses are ignored. An unknown or empty
	`current` is replaced by any known `incoming`. Known statuses come back lower-cased.
	"""
	known_current = normalise_status(current)
	known_incoming = normalise_status(incoming)
	if known_current is None:
		return known_incoming or (current or "")
	if known_incoming is None:
		return known_current
	if known_current == DELIVERED and known_incoming == READ:
		return READ
	if known_current in TERMINAL_STATUSES or _RANK[known_incoming] <= _RANK[known_current]:
		return known_current
	return known_incoming

"""Typed access to Message Center Settings with the defaults the doctype declares."""

from __future__ import annotations

import frappe

from message_center.core.alerts import AlertThresholds


def _settings():
	return frappe.get_cached_doc("Message Center Settings")


def alert_thresholds() -> AlertThresholds:
	settings = _settings()
	return AlertThresholds(
		unclaimed_minutes=settings.unclaimed_alert_minutes if settings.unclaimed_alert_minutes is not None else 5,
		waiting_minutes=settings.waiting_alert_minutes if settings.waiting_alert_minutes is not None else 5,
	)


def public_base_url() -> str:
	return (_settings().public_base_url or "").rstrip("/")


def default_phone_region() -> str:
	return _settings().default_phone_region or "US"


def first_sync_days() -> int:
	value = _settings().first_sync_days
	return 30 if value is None else value


def sync_batch_size() -> int:
	return min(_settings().sync_batch_size or 500, 500)


def attachment_size_limit_bytes() -> int:
	return int((_settings().attachment_size_limit_mb or 10) * 1024 * 1024)


def subject_thread_days() -> int:
	return _settings().subject_thread_days or 14

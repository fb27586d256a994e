"""What mail sync, ingestion and replies share: the IMAP connection of a channel, our own addresses,
the reply-token secret and time conversions between mail (aware UTC) and the database (naive, in the
system time zone)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import get_system_timezone

from message_center import settings
from message_center.core.imap_sync import ImapConfig
from message_center.core.mail_intake import IntakeSettings

_SECRET_PURPOSE = b"message-center/reply-token/v1"


def reply_token_secret() -> str:
	"""The HMAC key of our reply tokens, derived from the site's encryption key: nothing to configure,
	nothing stored in plain config, and different on every site."""
	cached = getattr(frappe.local, "message_center_reply_secret", None)
	if cached:
		return cached
	from frappe.utils.password import get_encryption_key

	secret = hmac.new(get_encryption_key().encode(), _SECRET_PURPOSE, hashlib.sha256).hexdigest()
	frappe.local.message_center_reply_secret = secret
	return secret


def imap_config(channel) -> ImapConfig:
	"""The channel's mailbox. Timeouts can be tightened per site (mc_imap_connect_timeout /
	mc_imap_read_timeout in site config), e.g. for tests against a server that never answers."""
	return ImapConfig(
		host=(channel.imap_host or "").strip(),
		port=int(channel.imap_port or (993 if channel.imap_ssl else 143)),
		ssl=bool(channel.imap_ssl),
		username=(channel.imap_username or "").strip(),
		password=channel.get_password("imap_password", raise_exception=False) or "",
		folders=tuple(channel.folders()) or ("INBOX",),
		connect_timeout=float(frappe.conf.get("mc_imap_connect_timeout") or 15),
		read_timeout=float(frappe.conf.get("mc_imap_read_timeout") or 60),
	)


def own_addresses() -> frozenset[str]:
	"""Every address we send from or receive on: the Email channels' inboxes and the outgoing accounts
	channels reply through. Mail from them is ours, never a customer's."""
	addresses = set(
		frappe.get_all(
			"Channel", filters={"kind": "Email", "email_address": ("is", "set")}, pluck="email_address"
		)
	)
	accounts = frappe.get_all(
		"Channel", filters={"email_account": ("is", "set")}, pluck="email_account", distinct=True
	)
	if accounts:
		addresses.update(
			frappe.get_all("Email Account", filters={"name": ("in", accounts)}, pluck="email_id")
		)
	return frozenset(address.strip().lower() for address in addresses if address)


def intake_settings() -> IntakeSettings:
	return IntakeSettings(
		own_addresses=own_addresses(),
		secret=reply_token_secret(),
		thread_window=timedelta(days=settings.subject_thread_days()),
		max_attachment_bytes=settings.attachment_size_limit_bytes(),
	)


def first_sync_since():
	return (datetime.now(timezone.utc) - timedelta(days=settings.first_sync_days())).date()


def to_system_time(moment: datetime | None) -> datetime | None:
	"""An aware datetime as the naive system-time-zone datetime Frappe stores."""
	if moment is None:
		return None
	if moment.tzinfo is None:
		moment = moment.replace(tzinfo=timezone.utc)
	return moment.astimezone(ZoneInfo(get_system_timezone())).replace(tzinfo=None)


def from_system_time(moment: datetime) -> datetime:
	"""A naive datetime from the database as an aware one."""
	return moment.replace(tzinfo=ZoneInfo(get_system_timezone())) if moment.tzinfo is None else moment

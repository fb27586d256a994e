"""What mail sync, ingestion and replies share: the IMAP connection of a channel, our own addresses,
the reply-token secret and time conversions between mail (aware UTC) and the database (naive, in the
system time zone)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import frappe
from frappe import _
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


OAUTH = "OAuth"  # Channel.imap_auth: sign in with the outgoing Email Account's access token


class ImapTokenUnavailable(Exception):
	"""An OAuth channel has no access token to sign in with (its Email Account is not authorised)."""


def imap_config(channel) -> ImapConfig:
	"""The channel's mailbox. Timeouts can be tightened per site (mc_imap_connect_timeout /
	mc_imap_read_timeout in site config), e.g. for tests against a server that never answers.
	With OAuth sign-in the access token is fetched now, at every run: raises ImapTokenUnavailable."""
	username = (channel.imap_username or "").strip()
	password, token = "", None
	if channel.imap_auth == OAUTH:
		account = _email_account(channel.email_account)
		if account is None or account.auth_method != OAUTH:
			raise ImapTokenUnavailable(_oauth_setup_problem())
		token = oauth_access_token(account)
		username = username or (account.login_id or account.email_id or "").strip()
	else:
		password = channel.get_password("imap_password", raise_exception=False) or ""
	return ImapConfig(
		host=(channel.imap_host or "").strip(),
		port=int(channel.imap_port or (993 if channel.imap_ssl else 143)),
		ssl=bool(channel.imap_ssl),
		username=username,
		password=password,
		access_token=token,
		folders=tuple(channel.folders()) or ("INBOX",),
		connect_timeout=float(frappe.conf.get("mc_imap_connect_timeout") or 15),
		read_timeout=float(frappe.conf.get("mc_imap_read_timeout") or 60),
	)


def oauth_setup_error(channel) -> str | None:
	"""Why the channel cannot sign in with OAuth (None when it can): the token comes from its
	Outgoing Email Account, which must use OAuth itself."""
	account = channel.email_account
	if account and frappe.db.get_value("Email Account", account, "auth_method") == OAUTH:
		return None
	return _oauth_setup_problem()


def _email_account(name: str | None):
	try:
		return frappe.get_doc("Email Account", name) if name else None
	except frappe.DoesNotExistError:  # deleted since the channel was saved
		frappe.clear_last_message()
		return None


def _oauth_setup_problem() -> str:
	return _(
		"OAuth sign-in uses the access token of the channel's Outgoing Email Account: pick an "
		"Email Account whose Method is OAuth, or sign in with a password."
	)


def oauth_access_token(account) -> str:
	"""The account's access token. Frappe's Connected App refreshes an expired one on the way (and
	logs a failed refresh itself), so this is asked at every run, never cached."""
	try:
		cache = account.get_oauth_token()
	except Exception as error:  # the provider could not be reached or refused the app
		raise ImapTokenUnavailable(
			_("Email Account {0} could not get an OAuth access token: {1}").format(account.name, error)
		) from error
	token = cache.get_password("access_token", raise_exception=False) if cache else None
	if not token:
		raise ImapTokenUnavailable(
			_(
				"Email Account {0} has no OAuth access token yet (or it expired and could not be "
				"refreshed): open it and click Authorize API Access."
			).format(account.name)
		)
	return token


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

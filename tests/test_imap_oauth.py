"""XOAUTH2 sign-in against a real Dovecot whose oauth2 passdb asks a loopback token introspection
endpoint: a valid token imports mail, a bad one is a LOGIN error that imports nothing, and passwords
keep working on the same server."""

from __future__ import annotations

import time

from message_center.core.imap_sync import SyncErrorKind
from message_center.testing.memory_sink import MemorySink


def logins(mailbox, method: str, at_least: int = 0) -> int:
	"""Successful logins of the mailbox's user with `method` (seeding the mailbox uses PLAIN); waits
	a moment for `at_least` of them, as Dovecot's log process writes the line a little later."""
	deadline = time.monotonic() + 2
	while True:
		count = mailbox.server.log_text().count(f"Login: user=<{mailbox.user}>, method={method},")
		if count >= at_least or time.monotonic() > deadline:
			return count
		time.sleep(0.01)


def test_a_valid_token_signs_in_with_xoauth2_and_imports_mail(
	oauth_mailbox, token_introspection, window_start
):
	mailbox = oauth_mailbox
	mailbox.seed(3)
	asked_before = token_introspection.requests
	config = mailbox.config(password="", access_token=token_introspection.issue(mailbox.user))
	sink = MemorySink()

	result = sink.sync(config, first_sync_since=window_start)

	assert result.ok and result.stored == 3
	assert logins(mailbox, "XOAUTH2", at_least=1) == 1
	assert token_introspection.requests > asked_before  # Dovecot really checked the token
	assert sink.sync(config, first_sync_since=window_start).noop


def test_a_rejected_token_is_a_login_error_and_imports_nothing(
	oauth_mailbox, token_introspection, window_start
):
	mailbox = oauth_mailbox
	mailbox.seed(2)
	revoked = token_introspection.issue(mailbox.user)
	token_introspection.revoke(revoked)
	someone_elses = token_introspection.issue("someone-else")
	sink = MemorySink()

	for token in ("not-a-token", revoked, someone_elses):
		result = sink.sync(mailbox.config(password="", access_token=token), first_sync_since=window_start)

		assert result.error_kind is SyncErrorKind.LOGIN and not result.ok
		assert "rejected the OAuth access token" in result.error and mailbox.user in result.error
		assert result.fetched == 0 and result.cursors == {}
	assert sink.records == {} and logins(mailbox, "XOAUTH2") == 0


def test_passwords_still_work_on_the_oauth_server(oauth_mailbox, window_start):
	oauth_mailbox.seed(2)
	password_logins = logins(oauth_mailbox, "PLAIN")

	result = MemorySink().sync(oauth_mailbox.config(), first_sync_since=window_start)

	assert result.ok and result.stored == 2
	assert logins(oauth_mailbox, "PLAIN", at_least=password_logins + 1) > password_logins


def test_a_token_for_a_server_without_xoauth2_is_a_login_error(mailbox, window_start):
	mailbox.seed(1)

	result = MemorySink().sync(mailbox.config(access_token="token"), first_sync_since=window_start)

	assert result.error_kind is SyncErrorKind.LOGIN and "does not offer OAuth" in result.error
	assert result.fetched == 0


def test_the_token_stays_out_of_the_config_repr(oauth_mailbox):
	config = oauth_mailbox.config(access_token="secret-token-value")
	assert "secret-token-value" not in repr(config) and oauth_mailbox.password not in repr(config)

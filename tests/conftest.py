"""Shared fixtures for the plain-pytest core suite."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from message_center.core.imap_sync import ImapConfig
from message_center.testing.dovecot import DovecotServer, SeedMessage, find_dovecot
from message_center.testing.oauth_introspection import TokenIntrospection
from message_center.testing.sample_mail import make_message

_user_numbers = itertools.count(1)


def _require_dovecot() -> None:
	if not find_dovecot():
		message = "dovecot is not installed (apt-get install dovecot-imapd); .ci/run installs it"
		if os.environ.get("MC_REQUIRE_SERVERS"):
			pytest.fail(message)  # under .ci/run a skipped server test must never count as passing
		pytest.skip(message)


@pytest.fixture(scope="session")
def dovecot():
	"""One real Dovecot for the whole session; every test gets its own user (see `mailbox`)."""
	_require_dovecot()
	with DovecotServer(rawlog=True, with_ssl=shutil.which("openssl") is not None) as server:
		yield server


@pytest.fixture(scope="session")
def token_introspection():
	"""The authorisation server `oauth_dovecot` asks whether an access token is valid."""
	with TokenIntrospection() as tokens:
		yield tokens


@pytest.fixture(scope="session")
def oauth_dovecot(token_introspection):
	"""A Dovecot that takes OAuth access tokens (XOAUTH2) as well as passwords."""
	_require_dovecot()
	with DovecotServer(rawlog=True, oauth2_introspection_url=token_introspection.url) as server:
		yield server


@dataclass
class Mailbox:
	"""A fresh Dovecot user for one test, with helpers to seed and inspect it."""

	server: DovecotServer
	user: str
	password: str

	def config(self, **overrides) -> ImapConfig:
		settings = dict(
			host=self.server.host,
			port=self.server.port,
			ssl=False,
			username=self.user,
			password=self.password,
		)
		settings.update(overrides)
		return ImapConfig(**settings)

	def seed(
		self,
		count: int,
		*,
		folder: str = "INBOX",
		tag: str = "m",
		start: int = 1,
		days_ago: float = 1,
		flags: tuple[str, ...] = (),
		**message_options,
	) -> list[int]:
		arrived = datetime.now(timezone.utc) - timedelta(days=days_ago)
		seeds = [
			SeedMessage(
				make_message(number, tag=tag, **message_options), flags, arrived + timedelta(seconds=number)
			)
			for number in range(start, start + count)
		]
		return self.server.append_many(self.user, folder, seeds)

	def create_folder(self, folder: str) -> None:
		self.server.create_folder(self.user, folder)

	def commands(self) -> list[str]:
		"""IMAP commands our clients sent (literal message data left out)."""
		command = re.compile(r"^[A-Za-z0-9.]+ [A-Z]")
		return [line for line in self.server.client_lines(self.user) if command.match(line) and " " in line]

	def clear_commands(self) -> None:
		self.server.clear_rawlog(self.user)


def _new_mailbox(server: DovecotServer) -> Mailbox:
	user = f"user{next(_user_numbers)}"
	server.add_user(user, f"pw-{user}")
	return Mailbox(server, user, f"pw-{user}")


@pytest.fixture
def mailbox(dovecot) -> Mailbox:
	return _new_mailbox(dovecot)


@pytest.fixture
def oauth_mailbox(oauth_dovecot) -> Mailbox:
	return _new_mailbox(oauth_dovecot)


@pytest.fixture
def window_start() -> date:
	"""The first-sync window most tests use: the last 30 days."""
	return date.today() - timedelta(days=30)

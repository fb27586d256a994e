"""IMAP sign-in with OAuth: an Email Channel borrows the access token of its outgoing Email Account
(Frappe's Connected App and Token Cache) and signs in to a real Dovecot with XOAUTH2; Dovecot asks a
loopback token introspection endpoint whether the token is valid."""

import frappe

from message_center.testing.oauth_introspection import TokenIntrospection
from message_center.tests.factories import make_agent, make_team, make_user
from message_center.tests.mail_lab import (
	DovecotTestCase,
	Mailbox,
	channel_messages,
	mail,
	make_email_account,
	make_email_channel,
	suffix,
	sync,
)

AGENT = "mc.oauth.agent@example.com"
TOKEN_HOLDER = "mc.oauth.mailbox@example.com"  # the Email Account's Connected User


class EmailOAuthSignIn(DovecotTestCase):
	address_prefix = "enquiries"

	@classmethod
	def setUpClass(cls):
		cls.tokens = TokenIntrospection().start()
		cls.addClassCleanup(cls.tokens.stop)
		cls.dovecot_options = {"oauth2_introspection_url": cls.tokens.url}
		super().setUpClass()
		make_agent(AGENT)
		make_user(TOKEN_HOLDER)
		cls.team = make_team("MC Test Mail OAuth", [AGENT])
		frappe.db.commit()

	def setUp(self):
		super().setUp()
		self.box = Mailbox(self.dovecot, user=self.address)  # signs in as the account's address
		self.app = frappe.get_doc(
			{
				"doctype": "Connected App",
				"provider_name": f"MC Test Mail Provider {self.key}",
				"client_id": f"mc-test-{self.key}",
				# never called: every token here is unexpired, so Frappe does not refresh it
				"authorization_uri": "http://127.0.0.1:9/authorize",
				"token_uri": "http://127.0.0.1:9/token",
			}
		).insert(ignore_permissions=True)
		self.account = make_email_account(
			self.address,
			smtp_port=25,
			auth_method="OAuth",
			connected_app=self.app.name,
			connected_user=TOKEN_HOLDER,
		)
		frappe.db.commit()

	def authorise(self, token: str) -> None:
		"""What Frappe's OAuth callback leaves behind: the connected user's Token Cache."""
		name = f"{self.app.name}-{TOKEN_HOLDER}"
		cache = frappe.get_doc("Token Cache", name) if frappe.db.exists("Token Cache", name) else None
		cache = cache or frappe.new_doc("Token Cache")
		cache.update(
			{"connected_app": self.app.name, "user": TOKEN_HOLDER, "token_type": "Bearer", "expires_in": 3600}
		)
		cache.access_token = token
		cache.save(ignore_permissions=True)
		frappe.db.commit()

	def oauth_channel(self) -> str:
		return make_email_channel(
			self.team,
			self.box,
			self.address,
			email_account=self.account,
			imap_auth="OAuth",
			imap_username="",  # defaults to the Email Account's address
			imap_password=None,
		)

	def deliver(self, *numbers: int) -> None:
		self.box.deliver(
			*(
				mail(to=self.address, subject=f"Enquiry {n}", message_id=f"<o{n}-{self.key}@example.org>")
				for n in numbers
			)
		)

	def imported(self, channel: str) -> list[str]:
		return sorted(row.external_id for row in channel_messages(channel))

	def health(self, channel: str):
		return frappe.db.get_value(
			"Channel", channel, ["sync_status", "last_error", "last_error_at", "last_success_at"], as_dict=True
		)

	def xoauth2_logins(self) -> int:
		return self.dovecot.log_text().count(f"Login: user=<{self.address}>, method=XOAUTH2,")

	def test_the_email_accounts_token_signs_in_and_imports_mail_at_every_run(self):
		self.authorise(self.tokens.issue(self.address))
		channel = self.oauth_channel()
		self.deliver(1, 2)

		result = sync(channel)

		self.assertTrue(result.ok, result.error)
		self.assertEqual(result.stored, 2)
		self.assertEqual(self.imported(channel), sorted(f"<o{n}-{self.key}@example.org>" for n in (1, 2)))
		self.assertEqual(self.health(channel).sync_status, "Idle")
		# a refreshed token replaces the old one, which the server no longer takes: read at each run
		old = frappe.get_doc("Token Cache", f"{self.app.name}-{TOKEN_HOLDER}").get_password("access_token")
		self.tokens.revoke(old)
		self.authorise(self.tokens.issue(self.address))
		self.deliver(3)

		again = sync(channel)

		self.assertTrue(again.ok, again.error)
		self.assertEqual(again.stored, 1)
		self.assertGreaterEqual(self.xoauth2_logins(), 1)

	def test_without_a_token_the_run_ends_with_the_reason_on_the_channel(self):
		channel = self.oauth_channel()
		self.deliver(1)

		result = sync(channel)

		self.assertEqual(result.error_kind.value, "login")
		self.assertEqual((result.stored, result.fetched), (0, 0))
		health = self.health(channel)
		self.assertEqual(health.sync_status, "Failed")
		self.assertTrue(health.last_error.startswith("login:"), health.last_error)
		self.assertIn("no OAuth access token", health.last_error)
		self.assertIn(self.account, health.last_error)
		self.assertTrue(health.last_error_at)
		self.assertFalse(health.last_success_at)
		self.assertEqual(self.imported(channel), [])

		self.authorise(self.tokens.issue(self.address))  # the admin authorises the Email Account

		self.assertEqual(sync(channel).stored, 1)
		self.assertEqual(self.health(channel).sync_status, "Idle")

	def test_a_token_the_server_rejects_is_a_login_failure(self):
		self.authorise("expired-or-revoked")
		channel = self.oauth_channel()
		self.deliver(1)

		result = sync(channel)

		self.assertEqual(result.error_kind.value, "login")
		self.assertEqual(result.stored, 0)
		last_error = self.health(channel).last_error
		self.assertTrue(last_error.startswith("login:") and "rejected the OAuth access token" in last_error)

	def test_oauth_needs_an_outgoing_email_account_that_uses_oauth(self):
		password_account = make_email_account(f"basic-{suffix()}@acme.example", smtp_port=25)
		for account in (password_account, None):
			with self.subTest(account=account), self.assertRaises(frappe.ValidationError) as refused:
				make_email_channel(
					self.team, self.box, self.address, email_account=account, imap_auth="OAuth"
				)
			self.assertIn("Email Account whose Method is OAuth", str(refused.exception))

		self.assertTrue(frappe.db.exists("Channel", self.oauth_channel()))

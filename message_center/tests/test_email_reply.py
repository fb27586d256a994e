"""Replies from the desk through the channel's Email Account to a real local SMTP server: threading
headers, attachments, the customer's answer threading back, failures kept visible, team isolation."""

import frappe

from message_center.api import inbox
from message_center.api import reply as reply_api
from message_center.api.messages import history
from message_center.core.mail_threading import make_reply_token, read_reply_token
from message_center.email_config import reply_token_secret
from message_center.testing.smtp_sink import SmtpSink
from message_center.testing.tcp_faults import closed_port
from message_center.tests.factories import make_agent, make_contact, make_team, timeline
from message_center.tests.mail_lab import (
	DovecotTestCase,
	channel_messages,
	communications,
	conversations,
	mail,
	make_email_account,
	make_email_channel,
	sync,
)

AGENT = "mc.reply.agent@example.com"
OTHER_AGENT = "mc.reply.other@example.com"


def send_queued(communication: str) -> str:
	"""Let the Email Queue send this reply now (the scheduler's flush does the same), really over SMTP."""
	queue = frappe.get_last_doc("Email Queue", filters={"communication": communication})
	flags = (frappe.flags.testing_email, frappe.flags.mute_emails)
	frappe.flags.testing_email, frappe.flags.mute_emails = True, False
	try:
		frappe.get_doc("Email Queue", queue.name).send()
	except Exception:
		pass  # as frappe.email.queue.flush: the queue row records the failure and retries later
	finally:
		frappe.flags.testing_email, frappe.flags.mute_emails = flags
	return frappe.db.get_value("Email Queue", queue.name, "status")


class EmailReply(DovecotTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.smtp = SmtpSink().start()
		make_agent(AGENT)
		make_agent(OTHER_AGENT)
		cls.team = make_team("MC Test Reply Team", [AGENT])
		cls.other_team = make_team("MC Test Reply Other Team", [OTHER_AGENT])
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.smtp.stop()
		super().tearDownClass()

	def setUp(self):
		super().setUp()
		self.account = make_email_account(self.address, self.smtp.port)
		self.channel = make_email_channel(self.team, self.box, self.address, email_account=self.account)
		self.customer = f"jane.{self.key}@customer.example"
		self.contact = make_contact("Jane", email=self.customer, last_name=f"Customer{self.key}")
		self.first_id = f"<first-{self.key}@customer.example>"
		self.box.deliver(
			mail(
				sender=f"Jane <{self.customer}>",
				to=self.address,
				subject="Quote for 40 widgets",
				message_id=self.first_id,
			)
		)
		sync(self.channel)
		(conversation,) = conversations(self.channel)
		self.conversation = conversation.name
		self.smtp.clear()

	def tearDown(self):
		frappe.set_user("Administrator")

	def reply_as(self, user: str, content: str, attachments=None, cc=None) -> dict:
		frappe.set_user(user)
		try:
			return reply_api.send(self.conversation, content, attachments=attachments, cc=cc)["message"]
		finally:
			frappe.set_user("Administrator")

	def test_a_reply_reaches_the_customer_threaded_with_its_attachment_and_shows_on_the_timelines(self):
		frappe.set_user(AGENT)
		upload = frappe.get_doc(
			{"doctype": "File", "file_name": "quote.pdf", "content": b"%PDF-1.4 quote", "is_private": 1}
		).insert()
		frappe.set_user("Administrator")

		result = self.reply_as(AGENT, "<p>40 widgets cost 400 EUR.</p>", attachments=[upload.name])

		self.assertEqual((result["status"], result["error"]), ("Queued", None))
		self.assertEqual(send_queued(result["communication"]), "Sent")
		(sent,) = self.smtp.wait_for(1)
		message = sent.message
		self.assertEqual(sent.recipients, [self.customer])
		self.assertEqual(message["In-Reply-To"], self.first_id)
		self.assertIn(self.first_id, message["References"].split())
		self.assertEqual(message["Subject"], "Re: Quote for 40 widgets")
		self.assertIn(self.address, message["From"])
		message_id = message["Message-Id"]
		self.assertTrue(message_id.endswith("@acme.example>"))
		token = message_id.strip("<>").split("@")[0].split(".")[0]
		self.assertEqual(read_reply_token(token, reply_token_secret()), self.conversation)
		(attachment,) = [part for part in message.iter_attachments()]
		self.assertEqual(
			(attachment.get_filename(), attachment.get_content()), ("quote.pdf", b"%PDF-1.4 quote")
		)
		self.assertIn("400 EUR", message.get_body(("html",)).get_content())
		(row,) = channel_messages(self.channel, direction="Outbound")
		self.assertEqual(
			(row.status, row.external_id, row.communication), ("Sent", message_id, result["communication"])
		)
		communication = frappe.get_doc("Communication", result["communication"])
		self.assertEqual((communication.sent_or_received, communication.delivery_status), ("Sent", "Sent"))
		self.assertIn(communication.name, timeline("Contact", self.contact))
		self.assertTrue(
			frappe.db.exists(
				"File",
				{
					"attached_to_doctype": "Communication",
					"attached_to_name": communication.name,
					"file_name": "quote.pdf",
				},
			)
		)
		conversation = frappe.get_doc("Conversation", self.conversation)
		self.assertEqual((conversation.claimed_by, conversation.waiting_since), (AGENT, None))

	def test_a_reply_keeps_the_customers_colleagues_in_copy_but_not_our_own_inboxes(self):
		colleague = f"bob.{self.key}@customer.example"
		our_other_inbox = f"sales-{self.key}@acme.example"
		make_email_channel(self.team, self.box, our_other_inbox)
		self.box.deliver(
			mail(
				sender=f"Jane <{self.customer}>",
				to=f"{self.address}, Bob <{colleague}>",
				subject="Re: Quote for 40 widgets",
				message_id=f"<cc-{self.key}@customer.example>",
				headers={"In-Reply-To": self.first_id, "Cc": our_other_inbox},
			)
		)
		sync(self.channel)
		frappe.set_user(AGENT)
		suggested = inbox.conversation(self.conversation)["reply_cc"]
		frappe.set_user("Administrator")
		self.assertEqual(suggested, [colleague])

		# as typed on the Cc line: the customer and a repeat are dropped, a trailing comma is fine
		typed = f"{', '.join(suggested)}; {self.customer}, {colleague.upper()}, "
		result = self.reply_as(AGENT, "Both of you: 400 EUR.", cc=typed)

		self.assertEqual(send_queued(result["communication"]), "Sent")
		delivered = self.smtp.wait_for(2)
		self.assertEqual(sorted(address for sent in delivered for address in sent.recipients), sorted([self.customer, colleague]))
		for sent in delivered:
			self.assertEqual(sent.message["To"], self.customer)
			self.assertEqual(sent.message["Cc"], colleague)
		self.assertEqual(frappe.db.get_value("Communication", result["communication"], "cc"), colleague)
		frappe.set_user(AGENT)
		shown = [(item["direction"], item["cc"]) for item in history(self.conversation)["items"] if item["cc"]]
		frappe.set_user("Administrator")
		self.assertEqual(shown, [("in", our_other_inbox), ("out", colleague)])  # the history shows who was copied

	def test_a_reply_ends_with_the_agents_signature_or_else_the_accounts(self):
		frappe.db.set_value("User", AGENT, "email_signature", "Agent Reply\nAcme Sales, +49 30 1234")
		self.addCleanup(frappe.db.set_value, "User", AGENT, "email_signature", None)
		frappe.set_user(AGENT)
		self.assertEqual(inbox.conversation(self.conversation)["reply_signature"], "Agent Reply\nAcme Sales, +49 30 1234")

		result = self.reply_as(AGENT, "<div>40 widgets cost 400 EUR.</div>")

		self.assertEqual(send_queued(result["communication"]), "Sent")
		(sent,) = self.smtp.wait_for(1)
		html = sent.message.get_body(("html",)).get_content()
		self.assertRegex(html, r"400 EUR\.</div>\s*<br><div class=\"signature\">Agent Reply<br>Acme Sales, \+49 30 1234</div>")
		content = frappe.db.get_value("Communication", result["communication"], "content")
		self.assertIn("Agent Reply<br>Acme Sales", content)  # the history shows what was sent

		# Without a signature of their own, the reply account's, when it adds one; never twice.
		frappe.db.set_value("User", AGENT, "email_signature", None)
		frappe.db.set_value("Email Account", self.account, {"add_signature": 1, "signature": "<p>The Acme team</p>"})
		frappe.clear_document_cache("Email Account", self.account)
		second = self.reply_as(AGENT, "Anything else?")
		third = self.reply_as(AGENT, "Bye for now.\nThe Acme team")
		for reply, expected in ((second, "Anything else?<br><div class=\"signature\"><p>The Acme team</p></div>"), (third, "Bye for now.\nThe Acme team")):
			self.assertEqual(frappe.db.get_value("Communication", reply["communication"], "content"), expected)

	def test_a_bad_copy_address_or_too_many_copies_are_refused_before_anything_is_recorded(self):
		before = len(communications(self.conversation))
		with self.assertRaises(frappe.InvalidEmailAddressError):
			self.reply_as(AGENT, "Hello", cc=["bob.customer.example"])
		with self.assertRaises(frappe.ValidationError):  # too many to copy: refused, not cut short
			self.reply_as(AGENT, "Hello", cc=[f"person{number}@customer.example" for number in range(21)])
		self.assertEqual(len(communications(self.conversation)), before)
		self.assertEqual(channel_messages(self.channel, direction="Outbound"), [])

	def test_the_customers_answer_threads_back_by_our_message_id_or_our_token(self):
		result = self.reply_as(AGENT, "When do you need them?")
		send_queued(result["communication"])
		(sent,) = self.smtp.wait_for(1)
		ours = sent.message["Message-Id"]
		stray = f"<{make_reply_token(self.conversation, reply_token_secret())}.0123456789ab@acme.example>"
		self.box.deliver(
			mail(
				sender=self.customer,
				to=self.address,
				subject="Re: Quote",
				message_id=f"<a1-{self.key}@c>",
				headers={"In-Reply-To": ours},
			),
			# a client that kept only an older reference of ours, which we never stored: the token threads it
			mail(
				sender="colleague@customer.example",
				to=self.address,
				subject="Fwd: something",
				message_id=f"<a2-{self.key}@c>",
				headers={"References": stray},
			),
		)

		result = sync(self.channel)

		self.assertEqual(result.stored, 2)
		self.assertEqual(len(conversations(self.channel)), 1)
		self.assertEqual(len(communications(self.conversation)), 4)
		self.assertEqual(frappe.db.count("Enquiry", {"channel": self.channel}), 1)

	def test_a_refused_recipient_leaves_the_reply_failed_with_the_reason(self):
		self.smtp.refuse_recipients.add(self.customer)
		try:
			result = self.reply_as(AGENT, "Hello again")
			statuses = [send_queued(result["communication"]) for _attempt in range(5)]
		finally:
			self.smtp.refuse_recipients.clear()

		self.assertEqual(statuses[0], "Not Sent")  # Frappe retries a few times first
		self.assertEqual(statuses[-1], "Error")
		(row,) = channel_messages(self.channel, direction="Outbound")
		self.assertEqual(row.status, "Failed")
		self.assertIn("550", row.error_message)
		self.assertGreaterEqual(row.attempts, 1)
		self.assertEqual(
			frappe.db.get_value("Communication", result["communication"], "delivery_status"), "Error"
		)
		self.assertEqual(self.smtp.received, [])

	def test_an_unreachable_mail_server_is_reported_while_retrying(self):
		frappe.db.set_value("Email Account", self.account, "smtp_port", str(closed_port()))
		frappe.clear_document_cache("Email Account", self.account)
		result = self.reply_as(AGENT, "Hello")

		self.assertEqual(send_queued(result["communication"]), "Not Sent")

		(row,) = channel_messages(self.channel, direction="Outbound")
		self.assertEqual(row.status, "Queued")
		self.assertIn("will retry", row.error_message)
		self.assertIn("Connection refused", row.error_message)

	def test_another_teams_agent_can_neither_see_nor_answer(self):
		(inbound,) = communications(self.conversation)
		frappe.set_user(OTHER_AGENT)
		self.assertNotIn(
			self.conversation, frappe.get_list("Conversation", pluck="name", limit_page_length=0)
		)
		self.assertFalse(frappe.has_permission("Communication", "read", doc=inbound.name))
		with self.assertRaises(frappe.PermissionError):
			reply_api.send(self.conversation, "Not mine to answer")
		from frappe.desk.form.load import get_communications

		with self.assertRaises(frappe.PermissionError):
			get_communications("Conversation", self.conversation)
		frappe.set_user("Administrator")
		self.assertEqual(channel_messages(self.channel, direction="Outbound"), [])

	def test_a_reply_cannot_attach_a_file_its_author_may_not_read(self):
		frappe.set_user(OTHER_AGENT)
		foreign = frappe.get_doc(
			{"doctype": "File", "file_name": "theirs.pdf", "content": b"confidential", "is_private": 1}
		).insert()
		frappe.set_user("Administrator")

		with self.assertRaises(frappe.PermissionError):
			self.reply_as(AGENT, "Here is their file", attachments=[foreign.name])

		self.assertEqual(channel_messages(self.channel, direction="Outbound"), [])
		self.assertEqual(len(communications(self.conversation)), 1)  # nothing was recorded

"""A conversation's history for the desk, and the notes and quick replies the composer works with."""

from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime

from message_center import messages
from message_center.api import conversation as conversation_api
from message_center.api import messages as messages_api
from message_center.api import quick_replies
from message_center.message_center.doctype.conversation.conversation import actor_for
from message_center.tests.factories import (
	make_agent,
	make_channel,
	make_contact,
	make_conversation,
	make_team,
)

AGENT = "mc.history.agent@example.com"
COLLEAGUE = "mc.history.colleague@example.com"
OUTSIDER = "mc.history.outsider@example.com"


class ConversationHistory(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		make_agent(AGENT)
		make_agent(COLLEAGUE)
		make_agent(OUTSIDER)
		frappe.db.set_value("User", COLLEAGUE, "first_name", "Colin")
		cls.team = make_team("MC Test History", [AGENT, COLLEAGUE])
		cls.outside_team = make_team("MC Test History Elsewhere", [OUTSIDER])
		cls.channel = make_channel("MC Test History Phone", cls.team)
		cls.sms_channel = make_channel(
			"MC Test History SMS", cls.team, kind="SMS", twilio_account_sid="AC" + "1" * 32, twilio_auth_token="x", sms_from_number="+14155550001"
		)
		cls.contact = make_contact("Hanna", email="hanna.history@example.com", last_name="Hill")

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_messages_and_notes_in_order_with_older_pages(self):
		conversation = make_conversation(self.channel, "hanna.history@example.com", party_name="Hanna Hill", links={"contact": self.contact})
		start = now_datetime() - timedelta(hours=2)
		for index in range(7):
			conversation, _ = messages.record_inbound(conversation, content=f"Customer message {index}", at=start + timedelta(minutes=2 * index))
		frappe.set_user(AGENT)
		conversation_api.claim(conversation.name)
		conversation_api.add_note(conversation.name, "Checked the calendar")
		frappe.set_user("Administrator")
		conversation.reload()
		messages.record_outbound(conversation, content="We can come on Friday", actor=actor_for(AGENT))

		frappe.set_user(AGENT)
		newest = messages_api.history(conversation.name, limit=4)
		self.assertEqual([item["kind"] for item in newest["items"]], ["message", "message", "note", "message"])
		self.assertEqual(newest["items"][-1]["text"], "We can come on Friday")
		self.assertEqual(newest["items"][-1]["direction"], "out")
		self.assertEqual(newest["items"][-2]["direction"], "note")
		self.assertEqual(newest["items"][-2]["sender"], AGENT)
		self.assertIn("Checked the calendar", newest["items"][-2]["text"])
		self.assertEqual(newest["items"][0]["direction"], "in")
		self.assertEqual(newest["items"][0]["sender_name"], "Hanna Hill")
		self.assertTrue(newest["older"])

		seen = [item["name"] for item in newest["items"]]
		cursor = newest["older"]
		while cursor:
			page = messages_api.history(conversation.name, before=cursor, limit=4)
			seen = [item["name"] for item in page["items"]] + seen
			cursor = page["older"]
		texts = [frappe.db.get_value("Communication", name, "content") for name in seen[:7]]
		self.assertEqual(texts, [f"Customer message {index}" for index in range(7)])
		self.assertEqual(len(seen), len(set(seen)), "no item twice")
		self.assertEqual(len(seen), 9)

	def test_a_reply_sent_from_the_team_address_is_shown_as_the_agents(self):
		conversation = make_conversation(self.channel, "hanna.history@example.com", party_name="Hanna Hill")
		conversation, _ = messages.record_inbound(conversation, content="Any news?")
		frappe.set_user(AGENT)
		conversation_api.claim(conversation.name)
		conversation = frappe.get_doc("Conversation", conversation.name)
		messages.record_outbound(conversation, content="On its way", actor=actor_for(AGENT), sender="team@example.com")
		reply = messages_api.history(conversation.name)["items"][-1]
		self.assertEqual((reply["direction"], reply["sender"]), ("out", "team@example.com"))
		self.assertEqual(reply["sender_name"], frappe.utils.get_fullname(AGENT))
		self.assertNotEqual(reply["sender_name"], "team@example.com")

	def test_email_html_is_sanitised_and_attachments_listed(self):
		email_channel = make_channel("MC Test History Mail", self.team, kind="Manual")
		conversation = make_conversation(email_channel, "mallory@example.com", medium="Email")
		conversation, communication = messages.record_inbound(
			conversation,
			content='<p onclick="steal()">Quote please<script>alert(1)</script></p><img src="/api/method/logout"><a href="javascript:x()">x</a>',
		)
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": "roof.txt",
				"content": b"roof plan",
				"attached_to_doctype": "Communication",
				"attached_to_name": communication.name,
				"is_private": 1,
			}
		).insert(ignore_permissions=True)
		frappe.set_user(AGENT)
		item = messages_api.history(conversation.name)["items"][-1]
		self.assertIn("Quote please", item["html"])
		for unsafe in ("<script", "onclick", "javascript:", "/api/method/logout"):
			self.assertNotIn(unsafe, item["html"])
		self.assertEqual([attachment["file_name"] for attachment in item["attachments"]], ["roof.txt"])

	def test_sms_delivery_status_comes_from_the_channel_message(self):
		conversation = make_conversation(self.sms_channel, "+14155558811")
		messages.record_inbound(conversation, content="Hi")
		conversation.reload()
		frappe.set_user(AGENT)
		conversation_api.claim(conversation.name)
		frappe.set_user("Administrator")
		conversation.reload()
		identity = messages.MessageIdentity(channel=self.sms_channel, key=f"test-out-{frappe.generate_hash(length=8)}")
		_, communication, row = messages.record_outbound(conversation, content="On my way", actor=actor_for(AGENT), identity=identity)
		frappe.db.set_value("Channel Message", row, {"status": "Undelivered", "error_code": "30003", "error_message": "Unreachable handset"})
		frappe.set_user(AGENT)
		item = next(item for item in messages_api.history(conversation.name)["items"] if item["name"] == communication.name)
		self.assertEqual(item["status"], "Undelivered")
		self.assertEqual(item["error"], "Unreachable handset")

	def test_another_team_gets_nothing(self):
		conversation = make_conversation(self.channel, "+14155558822")
		messages.record_inbound(conversation, content="Private matter")
		frappe.set_user(OUTSIDER)
		with self.assertRaises(frappe.PermissionError):
			messages_api.history(conversation.name)

	def test_a_mention_in_a_note_notifies_the_colleague(self):
		conversation = make_conversation(self.channel, "+14155558833")
		mention = f'<span class="mention" data-id="{COLLEAGUE}" data-value="Colin">@Colin</span>'
		before = frappe.db.count("Notification Log", {"for_user": COLLEAGUE, "type": "Mention"})
		frappe.set_user(AGENT)
		conversation_api.add_note(conversation.name, f"<p>{mention} can you take this one?</p>")
		frappe.set_user("Administrator")
		logs = frappe.get_all(
			"Notification Log",
			filters={"for_user": COLLEAGUE, "type": "Mention", "document_name": conversation.name},
			fields=["document_type", "from_user"],
		)
		self.assertEqual(frappe.db.count("Notification Log", {"for_user": COLLEAGUE, "type": "Mention"}), before + 1)
		self.assertEqual(logs[0].document_type, "Conversation")
		self.assertEqual(logs[0].from_user, AGENT)
		frappe.set_user(AGENT)
		note = messages_api.history(conversation.name)["items"][-1]
		self.assertIn("@Colin", note["text"])


class QuickReplies(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		make_agent(AGENT)
		make_agent(OUTSIDER)
		frappe.db.set_value("User", AGENT, {"first_name": "Avery", "last_name": "Agent"})
		frappe.local.fullnames = {}  # get_fullname() memoises per request
		cls.team = make_team("MC Test Replies", [AGENT])
		cls.outside_team = make_team("MC Test Replies Elsewhere", [OUTSIDER])
		cls.channel = make_channel("MC Test Replies Phone", cls.team)
		cls.other_channel = make_channel("MC Test Replies Other", cls.team)
		cls.sms_channel = make_channel(
			"MC Test Replies SMS", cls.team, kind="SMS", twilio_account_sid="AC" + "2" * 32, twilio_auth_token="x", sms_from_number="+14155550002"
		)
		cls.contact = make_contact("Rosa", email="rosa.replies@example.com", last_name="Reyes")

		def reply(title, **values):
			name = frappe.db.get_value("Quick Reply", {"title": title})
			if name:
				frappe.delete_doc("Quick Reply", name, force=True)
			return frappe.get_doc({"doctype": "Quick Reply", "title": title, "medium": "Any", "scope": "Global", **values}).insert().name

		cls.global_reply = reply("MC Test QR thanks", shortcut="thanks", body="Thanks {{ first_name }}, {{ agent_first_name }} from {{ company }} here.")
		cls.team_reply = reply("MC Test QR team", scope="Team", team=cls.team, body="Team hello")
		cls.channel_reply = reply("MC Test QR channel", scope="Channel", channel=cls.channel, body="Channel hello")
		cls.other_channel_reply = reply("MC Test QR other channel", scope="Channel", channel=cls.other_channel, body="Other")
		cls.outside_reply = reply("MC Test QR outside", scope="Team", team=cls.outside_team, body="Not yours")
		cls.sms_reply = reply("MC Test QR sms only", medium="SMS", body="Reply STOP to opt out")
		cls.email_reply = reply("MC Test QR email only", medium="Email", body="Dear {{ full_name }}")

	def tearDown(self):
		frappe.set_user("Administrator")

	def titles(self, conversation) -> set[str]:
		frappe.set_user(AGENT)
		return {row["title"] for row in quick_replies.list(conversation.name) if row["title"].startswith("MC Test QR")}

	def test_global_team_and_channel_replies_for_the_medium(self):
		email = make_conversation(self.channel, "rosa.replies@example.com", links={"contact": self.contact})
		self.assertEqual(
			self.titles(email), {"MC Test QR thanks", "MC Test QR team", "MC Test QR channel", "MC Test QR email only"}
		)
		sms = make_conversation(self.sms_channel, "+14155558844")
		self.assertEqual(self.titles(sms), {"MC Test QR thanks", "MC Test QR team", "MC Test QR sms only"})

	def test_render_fills_in_the_person_agent_and_company(self):
		conversation = make_conversation(self.channel, "rosa.replies@example.com", links={"contact": self.contact})
		frappe.set_user(AGENT)
		rendered = quick_replies.render(conversation.name, self.global_reply)
		company = frappe.defaults.get_global_default("company") or ""
		self.assertEqual(rendered["text"], f"Thanks Rosa, Avery from {company} here.")
		self.assertEqual(quick_replies.render(conversation.name, self.email_reply)["text"], "Dear Rosa Reyes")

	def test_unknown_person_renders_without_a_name(self):
		conversation = make_conversation(self.channel, "+14155558855")
		frappe.set_user(AGENT)
		self.assertTrue(quick_replies.render(conversation.name, self.global_reply)["text"].startswith("Thanks , Avery"))

	def test_replies_of_another_team_or_channel_cannot_be_rendered(self):
		conversation = make_conversation(self.channel, "+14155558866")
		frappe.set_user(AGENT)
		for name in (self.outside_reply, self.other_channel_reply):
			with self.assertRaises(frappe.PermissionError):
				quick_replies.render(conversation.name, name)
		frappe.set_user(OUTSIDER)
		with self.assertRaises(frappe.PermissionError):
			quick_replies.list(conversation.name)

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import messages
from message_center.api import conversation as api
from message_center.message_center.doctype.conversation.conversation import ConversationRuleError, actor_for
from message_center.tests.factories import (
	make_agent,
	make_channel,
	make_contact,
	make_conversation,
	make_manager,
	make_team,
	timeline,
)

AGENT = "mc.flow.agent@example.com"
OTHER = "mc.flow.other@example.com"
MANAGER = "mc.flow.manager@example.com"


class ConversationFlow(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_agent(AGENT)
		make_agent(OTHER)
		make_manager(MANAGER)
		cls.team = make_team("MC Test Flow", [AGENT, OTHER])
		cls.other_team = make_team("MC Test Flow Service", [OTHER])
		cls.channel = make_channel("MC Test Flow Phone", cls.team)
		cls.contact = make_contact("Maria", email="maria.flow@example.com", phone="+14155550199")

	def tearDown(self):
		frappe.set_user("Administrator")

	def new_conversation(self, **values):
		return make_conversation(self.channel, "maria.flow@example.com", party_name="Maria", links={"contact": self.contact}, **values)

	def test_inbound_is_a_communication_on_the_conversation_and_the_contact_timeline(self):
		conversation = self.new_conversation()
		conversation, communication = messages.record_inbound(conversation, content="Do you service Oakland?")
		self.assertEqual(communication.reference_doctype, "Conversation")
		self.assertEqual(communication.reference_name, conversation.name)
		self.assertEqual(communication.sent_or_received, "Received")
		self.assertIn(("Contact", self.contact), {(link.link_doctype, link.link_name) for link in communication.timeline_links})
		conversation.reload()
		self.assertEqual(conversation.message_count, 1)
		self.assertTrue(conversation.waiting_since)
		self.assertEqual(conversation.last_message_preview, "Do you service Oakland?")
		# The form timeline's own API returns it for the Contact.
		self.assertIn(communication.name, timeline("Contact", self.contact))

	def test_a_message_arriving_writes_no_version_and_an_agents_change_does(self):
		conversation = self.new_conversation()
		messages.record_inbound(conversation, content="First")

		def versions():
			return frappe.db.count("Version", {"ref_doctype": "Conversation", "docname": conversation.name})

		in_test, frappe.flags.in_test = frappe.flags.in_test, False  # tests skip Versions everywhere
		try:
			messages.record_inbound(conversation, content="Second")
			messages.record_automatic(conversation, content="I am out of the office")
			self.assertEqual(versions(), 0)
			conversation.apply_event("claim", actor=actor_for("Administrator"))
			conversation.save_via_rules()
			self.assertEqual(versions(), 1)
		finally:
			frappe.flags.in_test = in_test

	def test_claim_reply_close_through_the_api(self):
		conversation = self.new_conversation()
		messages.record_inbound(conversation, content="Hello")
		frappe.set_user(AGENT)
		summary = api.claim(conversation.name)
		self.assertEqual(summary["claimed_by"], AGENT)
		self.assertTrue(summary["can_reply"])
		frappe.set_user(OTHER)
		summary = api.get(conversation.name)
		self.assertFalse(summary["can_reply"])
		self.assertEqual(summary["reply_blocked_code"], "claimed_by_other")
		with self.assertRaises(ConversationRuleError):
			api.close(conversation.name)
		frappe.set_user(AGENT)
		self.assertEqual(api.close(conversation.name)["status"], "Closed")
		with self.assertRaises(ConversationRuleError) as raised:
			api.claim(conversation.name)
		self.assertEqual(raised.exception.code, "closed")

	def test_sms_reply_needs_a_claim(self):
		sms_channel = make_channel(
			"MC Test Flow SMS", self.team, kind="SMS", twilio_account_sid="AC" + "0" * 32, twilio_auth_token="secret", sms_from_number="+14155550000"
		)
		conversation = make_conversation(sms_channel, "+14155550199", links={"contact": self.contact})
		messages.record_inbound(conversation, content="Hi")
		with self.assertRaises(ConversationRuleError) as raised:
			messages.record_outbound(conversation, content="Hello!", actor=actor_for(AGENT))
		self.assertEqual(raised.exception.code, "not_claimed")
		self.assertEqual(
			frappe.db.count("Communication", {"reference_name": conversation.name, "sent_or_received": "Sent"}), 0
		)

	def test_inbound_after_close_starts_a_new_conversation(self):
		conversation = self.new_conversation()
		messages.record_inbound(conversation, content="First")
		frappe.set_user(AGENT)
		api.close(conversation.name)
		frappe.set_user("Administrator")
		conversation.reload()
		new_conversation, _ = messages.record_inbound(conversation, content="Me again")
		self.assertNotEqual(new_conversation.name, conversation.name)
		self.assertEqual(new_conversation.status, "Open")
		self.assertEqual(new_conversation.contact, self.contact)
		self.assertEqual(frappe.db.get_value("Conversation", conversation.name, "message_count"), 1)
		stored = frappe.get_doc("Conversation", new_conversation.name)
		self.assertEqual((stored.message_count, stored.last_message_preview), (1, "Me again"))
		self.assertTrue(stored.waiting_since and stored.last_inbound_at)

	def test_a_conversation_opened_by_a_message_is_written_once_in_that_message_state(self):
		at = frappe.utils.now_datetime().replace(microsecond=0)
		conversation = messages.start_conversation(self.channel, "opener@example.com", party_name="Opal", at=at, opening_message="<p>Hello there</p>")
		conversation, communication = messages.record_inbound(conversation, content="<p>Hello there</p>", at=at)
		stored = frappe.get_doc("Conversation", conversation.name)
		self.assertEqual((stored.status, stored.message_count), ("Open", 1))
		self.assertEqual((stored.waiting_since, stored.last_inbound_at, stored.last_message_at), (at, at, at))
		self.assertEqual(stored.last_message_preview, "Hello there")
		self.assertEqual(stored.modified, stored.creation)  # inserted, never saved again for its first message
		self.assertEqual(communication.reference_name, conversation.name)
		# The next message is counted the usual way.
		messages.record_inbound(conversation, content="And another thing", at=at)
		self.assertEqual(frappe.db.get_value("Conversation", conversation.name, "message_count"), 2)

	def test_duplicate_identity_writes_nothing(self):
		conversation = self.new_conversation()
		identity = messages.MessageIdentity(self.channel, "test:duplicate:" + conversation.name, external_id="X1")
		messages.record_inbound(conversation, content="Once", identity=identity)
		before = frappe.db.count("Communication", {"reference_name": conversation.name})
		with self.assertRaises(messages.DuplicateMessage):
			messages.record_inbound(conversation, content="Once", identity=identity)
		self.assertEqual(frappe.db.count("Communication", {"reference_name": conversation.name}), before)

	def test_transfer_to_a_team_and_to_an_agent(self):
		conversation = self.new_conversation()
		frappe.set_user(AGENT)
		api.claim(conversation.name)
		summary = api.transfer(conversation.name, team=self.other_team)
		self.assertEqual(summary["team"], self.other_team)
		self.assertIsNone(summary["claimed_by"])
		frappe.set_user(OTHER)
		summary = api.transfer(conversation.name, user=OTHER, note="I'll take it")
		self.assertEqual(summary["claimed_by"], OTHER)
		notes = frappe.get_all("Comment", filters={"reference_name": conversation.name, "comment_type": "Comment"}, pluck="content")
		self.assertIn("I'll take it", notes)

	def test_assign_requires_a_team_member(self):
		conversation = self.new_conversation()
		frappe.set_user(MANAGER)
		with self.assertRaises(frappe.ValidationError):
			api.assign(conversation.name, "Administrator@example.com")
		self.assertEqual(api.assign(conversation.name, AGENT)["claimed_by"], AGENT)

	def test_no_send_path_is_explained(self):
		conversation = make_conversation(self.channel, "+14155550100")
		frappe.set_user(AGENT)
		summary = api.claim(conversation.name)
		self.assertFalse(summary["can_reply"])
		self.assertEqual(summary["reply_blocked_code"], "no_send_path")

	def test_opted_out_contact_blocks_sending(self):
		conversation = self.new_conversation()
		messages.record_inbound(conversation, content="STOP")
		conversation.apply_event("opt_out")
		conversation.save_via_rules()
		frappe.set_user(MANAGER)
		summary = api.get(conversation.name)
		self.assertFalse(summary["can_reply"])
		self.assertEqual(summary["reply_blocked_code"], "opted_out")

	def test_delete_leaves_a_tombstone(self):
		conversation = self.new_conversation()
		identity = messages.MessageIdentity(self.channel, "test:tombstone:" + conversation.name)
		_, communication = messages.record_inbound(conversation, content="Delete me", identity=identity)
		frappe.delete_doc("Conversation", conversation.name)
		self.assertFalse(frappe.db.exists("Communication", communication.name))
		self.assertTrue(frappe.db.get_value("Channel Message", {"dedupe_key": identity.dedupe_key}, "tombstone"))
		again = make_conversation(self.channel, "maria.flow@example.com")
		with self.assertRaises(messages.DuplicateMessage):
			messages.record_inbound(again, content="Delete me", identity=identity)

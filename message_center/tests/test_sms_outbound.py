"""Texting from the desk through the real twilio SDK against the loopback stand-in: who may text,
what reaches Twilio, retries that never send twice, Twilio's errors, pacing per number."""

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import sms_inbound
from message_center.api import conversation as conversation_api
from message_center.api import reply as reply_api
from message_center.message_center.doctype.conversation.conversation import ConversationRuleError
from message_center.tests.factories import make_agent, make_manager, make_team
from message_center.tests.sms_helpers import StandinConfig, inbound_params, make_sms_channel, random_number

AGENT = "mc.sms.out.agent@example.com"
COLLEAGUE = "mc.sms.out.colleague@example.com"
OUTSIDER = "mc.sms.out.outsider@example.com"
MANAGER = "mc.sms.out.manager@example.com"


class SmsReplies(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		for user in (AGENT, COLLEAGUE, OUTSIDER):
			make_agent(user)
		make_manager(MANAGER)
		cls.team = make_team("MC Test SMS Out", [AGENT, COLLEAGUE])
		make_team("MC Test SMS Out Elsewhere", [OUTSIDER])
		cls.channel = make_sms_channel("MC Test SMS Out", cls.team, from_number="+14155550120")
		cls.paced_channel = make_sms_channel("MC Test SMS Out Paced", cls.team, from_number="+14155550121", rate=2)
		frappe.db.commit()

	def setUp(self):
		self.twilio = self.enterContext(StandinConfig())

	def tearDown(self):
		frappe.set_user("Administrator")

	def conversation(self, channel=None, body="Hello, can you help?"):
		number = random_number()
		result = sms_inbound.receive(frappe.get_doc("Channel", channel or self.channel), inbound_params(number, body))
		return result.conversation, number

	def send(self, user, conversation, content="Happy to help!"):
		frappe.set_user(user)
		try:
			return reply_api.send(conversation, content)
		finally:
			frappe.set_user("Administrator")

	def claim(self, user, conversation):
		frappe.set_user(user)
		conversation_api.claim(conversation)
		frappe.set_user("Administrator")

	def outgoing(self, conversation):
		return frappe.get_all(
			"Channel Message",
			filters={"conversation": conversation, "direction": "Outbound"},
			fields=["name", "status", "external_id", "attempts", "error_code", "error_message", "segments", "encoding", "communication"],
		)

	def test_the_claimer_texts_and_twilio_gets_one_api_call(self):
		conversation, number = self.conversation()
		self.claim(AGENT, conversation)
		result = self.send(AGENT, conversation, "See you at 10 € — bring the {receipt}")

		[request] = self.twilio.create_requests
		self.assertEqual(request.http_status, 201)
		self.assertEqual((request.param("To"), request.param("From")), (number, "+14155550120"))
		self.assertEqual(request.param("Body"), "See you at 10 € — bring the {receipt}")
		[row] = self.outgoing(conversation)
		self.assertTrue(request.param("StatusCallback").endswith(f"&message={row.name}"))
		self.assertEqual(result["message"]["status"], "Queued")
		self.assertIsNone(result["message"]["error"])
		self.assertEqual((row.status, row.external_id, row.attempts), ("Queued", request.sid, 1))
		self.assertEqual((row.encoding, row.segments), ("UCS-2", 1))  # the em dash is not GSM-7
		communication = frappe.get_doc("Communication", row.communication)
		self.assertEqual((communication.sent_or_received, communication.sender), ("Sent", AGENT))
		self.assertEqual(communication.communication_medium, "SMS")
		self.assertEqual(frappe.db.get_value("Conversation", conversation, "waiting_since"), None)

	def test_claim_before_reply_and_other_teams_are_refused_before_any_api_call(self):
		conversation, _ = self.conversation()
		with self.assertRaises(ConversationRuleError) as refused:
			self.send(AGENT, conversation)
		self.assertEqual(refused.exception.code, "not_claimed")
		self.claim(AGENT, conversation)
		with self.assertRaises(ConversationRuleError) as refused:
			self.send(COLLEAGUE, conversation)
		self.assertEqual(refused.exception.code, "claimed_by_other")
		with self.assertRaises(frappe.PermissionError):
			self.send(OUTSIDER, conversation)
		self.assertEqual(self.twilio.create_requests, [])
		self.assertEqual(self.outgoing(conversation), [])
		# A manager may step in.
		self.assertEqual(self.send(MANAGER, conversation)["message"]["status"], "Queued")
		self.assertEqual(len(self.twilio.create_requests), 1)

	def test_throttling_is_retried_and_sends_once(self):
		conversation, _ = self.conversation()
		self.claim(AGENT, conversation)
		self.twilio.fail_next(2, http_status=429)
		result = self.send(AGENT, conversation)
		self.assertEqual([request.http_status for request in self.twilio.create_requests], [429, 429, 201])
		self.assertEqual(len(self.twilio.messages), 1)
		[row] = self.outgoing(conversation)
		self.assertEqual((row.status, row.attempts), ("Queued", 3))
		self.assertEqual(result["message"]["status"], "Queued")

	def test_server_errors_give_up_and_stay_visible_as_failed(self):
		conversation, _ = self.conversation()
		self.claim(AGENT, conversation)
		self.twilio.fail_next(3, http_status=500)
		result = self.send(AGENT, conversation)
		self.assertEqual([request.http_status for request in self.twilio.create_requests], [500, 500, 500])
		self.assertEqual(self.twilio.messages, [])
		[row] = self.outgoing(conversation)
		self.assertEqual((row.status, row.attempts), ("Failed", 3))
		self.assertIn("HTTP 500", row.error_message)
		self.assertIn("nothing was sent", row.error_message)
		self.assertEqual(result["message"]["status"], "Failed")
		self.assertEqual(result["message"]["error"], row.error_message)
		# The message stays in the history, marked as not delivered.
		self.assertEqual(frappe.db.get_value("Communication", row.communication, "delivery_status"), "Error")

	def test_unsubscribed_recipient_is_opted_out_and_never_tried_again(self):
		conversation, number = self.conversation()
		self.claim(AGENT, conversation)
		self.twilio.opt_out(number)
		result = self.send(AGENT, conversation)
		[row] = self.outgoing(conversation)
		self.assertEqual((row.status, row.error_code), ("Failed", "21610"))
		self.assertIn("opted out", result["message"]["error"])
		self.assertEqual(frappe.db.get_value("SMS Opt Out", number, ["opted_out", "source"]), (1, "Twilio 21610"))
		self.assertEqual(frappe.db.get_value("Conversation", conversation, ["status", "opted_out"]), ("Closed", 1))
		calls = len(self.twilio.create_requests)
		frappe.set_user(MANAGER)
		conversation_api.reopen(conversation)
		with self.assertRaises(ConversationRuleError) as refused:
			reply_api.send(conversation, "Are you still there?")
		self.assertEqual(refused.exception.code, "opted_out")
		self.assertEqual(len(self.twilio.create_requests), calls)

	def test_too_long_a_text_is_refused_clearly_and_nothing_is_recorded(self):
		conversation, _ = self.conversation()
		self.claim(AGENT, conversation)
		with self.assertRaises(frappe.ValidationError) as refused:
			self.send(AGENT, conversation, "x" * 1601)
		self.assertIn("1,601", str(refused.exception))
		self.assertEqual(self.outgoing(conversation), [])
		self.assertEqual(frappe.db.count("Communication", {"reference_name": conversation, "sent_or_received": "Sent"}), 0)
		self.assertEqual(self.twilio.create_requests, [])

	def test_attachments_and_copies_are_refused_before_anything_is_recorded(self):
		conversation, _ = self.conversation()
		self.claim(AGENT, conversation)
		frappe.set_user(AGENT)
		with self.assertRaises(frappe.ValidationError):
			reply_api.send(conversation, "See attached", attachments=["some-file"])
		with self.assertRaises(frappe.ValidationError):
			reply_api.send(conversation, "Copying my colleague", cc="bob@customer.example")
		frappe.set_user("Administrator")
		self.assertEqual(self.outgoing(conversation), [])
		self.assertEqual(self.twilio.create_requests, [])

	def test_texts_from_one_number_keep_to_its_rate(self):
		conversations = [self.conversation(self.paced_channel)[0] for _ in range(3)]
		for conversation in conversations:
			self.claim(AGENT, conversation)
		for conversation in conversations:
			self.send(AGENT, conversation)
		times = [request.received_at for request in self.twilio.create_requests]
		self.assertEqual(len(times), 3)
		gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
		# 2 messages per second: never closer than half a second (a little clock slack).
		self.assertTrue(all(gap >= 0.45 for gap in gaps), gaps)

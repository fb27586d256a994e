"""STOP is honoured without exception: opt-out, refused sends (no API call), opt-in, HELP; the
composer's segment counter; who is matched to an incoming number."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import sms_inbound, sms_optout, sms_outbound
from message_center.api import conversation as conversation_api
from message_center.api import reply as reply_api
from message_center.api import sms as sms_api
from message_center.message_center.doctype.conversation.conversation import ConversationRuleError, actor_for
from message_center.tests.factories import make_agent, make_manager, make_team, make_user, timeline
from message_center.tests.sms_helpers import (
	LiveServer,
	StandinConfig,
	display_format,
	file_accepted,
	inbound,
	inbound_params,
	make_sms_channel,
	random_number,
)

AGENT = "mc.sms.optout.agent@example.com"
MANAGER = "mc.sms.optout.manager@example.com"
HELP_TEXT = "Acme Plumbing: reply STOP to opt out. Call 415-555-0100 for help."


def _set_help_reply(text):
	settings = frappe.get_doc("Message Center Settings")
	settings.help_reply = text
	settings.save(ignore_permissions=True)


class OptOut(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_agent(AGENT)
		make_manager(MANAGER)
		cls.team = make_team("MC Test SMS Opt Out", [AGENT])
		cls.channel = make_sms_channel("MC Test SMS Opt Out", cls.team, from_number="+14155550130")
		cls.second_channel = make_sms_channel("MC Test SMS Opt Out Two", cls.team, from_number="+14155550131")
		frappe.db.commit()

	def setUp(self):
		self.twilio = self.enterContext(StandinConfig())

	def tearDown(self):
		frappe.set_user("Administrator")

	def receive(self, number, body, channel=None):
		return sms_inbound.receive(frappe.get_doc("Channel", channel or self.channel), inbound_params(number, body))

	def contact_with(self, number):
		contact = frappe.get_doc({"doctype": "Contact", "first_name": "Olive", "last_name": "Optout"})
		contact.add_phone(display_format(number), is_primary_mobile_no=1)
		return contact.insert(ignore_permissions=True).name

	def claimed(self, conversation):
		frappe.set_user(AGENT)
		conversation_api.claim(conversation)
		frappe.set_user("Administrator")

	def test_stop_opts_out_closes_and_every_later_send_is_refused_before_any_api_call(self):
		number = random_number()
		contact = self.contact_with(number)
		conversation = self.receive(number, "Hi, I need a quote").conversation
		other = self.receive(number, "Hello again", channel=self.second_channel).conversation
		self.claimed(conversation)

		result = self.receive(number, "  Stop! ")
		self.assertEqual(result.keyword, "opt_out")
		self.assertEqual(result.conversation, conversation)
		self.assertEqual(frappe.db.get_value("Channel Message", result.channel_message, "kind"), "Opt Out")
		self.assertEqual(frappe.db.get_value("Contact", contact, "mc_sms_opt_out"), 1)
		self.assertTrue(frappe.db.get_value("Contact", contact, "mc_sms_opt_out_at"))
		self.assertEqual(frappe.db.get_value("SMS Opt Out", number, ["opted_out", "keyword"]), (1, "STOP"))
		for name in (conversation, other):  # every open conversation with this person
			self.assertEqual(frappe.db.get_value("Conversation", name, ["status", "opted_out"]), ("Closed", 1))

		frappe.set_user(MANAGER)
		conversation_api.reopen(conversation)
		summary = conversation_api.get(conversation)
		self.assertFalse(summary["can_reply"])
		self.assertEqual(summary["reply_blocked_code"], "opted_out")
		with self.assertRaises(ConversationRuleError) as refused:
			reply_api.send(conversation, "Sorry to see you go")
		self.assertEqual(refused.exception.code, "opted_out")
		# The send path refuses on its own too, with the message the desk shows.
		with self.assertRaises(ConversationRuleError) as refused:
			sms_outbound.send_reply(frappe.get_doc("Conversation", conversation), "One last thing", actor_for(MANAGER), [])
		self.assertIn("opted out", str(refused.exception))
		self.assertEqual(self.twilio.create_requests, [])
		self.assertEqual(frappe.db.count("Channel Message", {"conversation": conversation, "direction": "Outbound"}), 0)

	def test_an_opted_out_person_is_still_answered_by_email_but_not_by_text(self):
		from message_center import messages

		number = random_number()
		contact = self.contact_with(number)
		self.receive(number, "STOP")
		by_text = messages.start_conversation(self.channel, number, links={"contact": contact})
		by_mail = messages.start_conversation(
			self.channel, "olive@optout.example", medium="Email", links={"contact": contact}
		)
		self.assertEqual((by_text.opted_out, by_mail.opted_out), (1, 0))

	def test_a_sentence_with_stop_in_it_is_just_a_message(self):
		number = random_number()
		result = self.receive(number, "please stop texting me")
		self.assertEqual(result.keyword, "none")
		self.assertFalse(sms_optout.is_opted_out(number))
		self.assertEqual(frappe.db.get_value("Conversation", result.conversation, ["status", "opted_out"]), ("Open", 0))

	def test_an_unknown_number_is_opted_out_by_number(self):
		number = random_number()
		first = self.receive(number, "UNSUBSCRIBE").conversation
		self.assertEqual(frappe.db.get_value("SMS Opt Out", number, ["opted_out", "contact"]), (1, None))
		self.assertEqual(frappe.db.get_value("Conversation", first, "status"), "Closed")
		# Writing again starts a new conversation that is born opted out: it can be read, not answered.
		later = self.receive(number, "what are your hours?").conversation
		self.assertNotEqual(later, first)
		self.assertEqual(frappe.db.get_value("Conversation", later, ["status", "opted_out"]), ("Open", 1))
		self.claimed(later)
		with self.assertRaises(ConversationRuleError):
			sms_outbound.send_reply(frappe.get_doc("Conversation", later), "We open at 9", actor_for(AGENT), [])
		self.assertEqual(self.twilio.create_requests, [])

	def test_start_opts_back_in_and_texting_works_again(self):
		number = random_number()
		contact = self.contact_with(number)
		stopped = self.receive(number, "STOP").conversation
		result = self.receive(number, "start")
		self.assertEqual(result.keyword, "opt_in")
		self.assertNotEqual(result.conversation, stopped)  # the stopped one was closed
		self.assertEqual(frappe.db.get_value("Contact", contact, "mc_sms_opt_out"), 0)
		self.assertEqual(frappe.db.get_value("SMS Opt Out", number, "opted_out"), 0)
		self.assertEqual(frappe.db.get_value("Conversation", stopped, "opted_out"), 0)
		self.assertEqual(frappe.db.get_value("Conversation", result.conversation, ["status", "opted_out"]), ("Open", 0))
		self.claimed(result.conversation)
		frappe.set_user(AGENT)
		sent = reply_api.send(result.conversation, "Welcome back!")
		self.assertEqual(sent["message"]["status"], "Queued")
		[request] = self.twilio.create_requests
		self.assertEqual(request.param("To"), number)

	def test_help_gets_the_help_reply_from_the_system_and_changes_nothing(self):
		_set_help_reply(HELP_TEXT)
		self.addCleanup(_set_help_reply, None)
		number = random_number()
		result = self.receive(number, "help?")
		self.assertEqual(result.keyword, "help")
		self.assertTrue(result.help_reply)
		[request] = self.twilio.create_requests
		self.assertEqual((request.param("To"), request.param("Body")), (number, HELP_TEXT))
		row = frappe.db.get_value("Channel Message", result.help_reply, ["kind", "status", "external_id"], as_dict=True)
		self.assertEqual((row.kind, row.external_id), ("Auto Reply", request.sid))
		self.assertIn(row.status, ("Sending", "Queued"))
		conversation = frappe.get_doc("Conversation", result.conversation)
		self.assertEqual((conversation.status, conversation.opted_out, conversation.claimed_by), ("Open", 0, None))
		self.assertFalse(sms_optout.is_opted_out(number))
		# The automatic answer is shown in the history but is no agent's.
		sender = frappe.db.get_value("Communication", {"reference_name": conversation.name, "sent_or_received": "Sent"}, "sender")
		self.assertIsNone(sender)
		# A repeated job run never sends it twice.
		sms_outbound.deliver_queued(result.help_reply, HELP_TEXT)
		self.assertEqual(len(self.twilio.create_requests), 1)

	def test_help_without_a_configured_reply_sends_nothing(self):
		_set_help_reply(None)
		result = self.receive(random_number(), "INFO")
		self.assertEqual(result.keyword, "help")
		self.assertIsNone(result.help_reply)
		self.assertEqual(self.twilio.create_requests, [])

	def test_stop_over_http_end_to_end(self):
		server = LiveServer().start()
		self.addCleanup(server.stop)
		number = random_number()
		frappe.db.commit()
		self.assertEqual(server.deliver(inbound(self.channel, number, "Hello")).status, 200)
		self.assertEqual(server.deliver(inbound(self.channel, number, "QUIT")).status, 200)
		file_accepted(self.channel)  # what the jobs queued by the webhook do
		self.assertTrue(sms_optout.is_opted_out(number))
		self.assertEqual(
			frappe.db.get_value("Conversation", {"channel": self.channel, "party_address": number}, ["status", "opted_out"]),
			("Closed", 1),
		)


class Matching(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.team = make_team("MC Test SMS Matching", [])
		cls.channel = make_sms_channel("MC Test SMS Matching", cls.team, from_number="+14155550140")
		frappe.db.commit()

	def receive(self, number, body="Hello"):
		result = sms_inbound.receive(frappe.get_doc("Channel", self.channel), inbound_params(number, body))
		return frappe.get_doc("Conversation", result.conversation)

	def test_a_lead_with_the_number_is_linked(self):
		auto_contact = frappe.db.get_single_value("CRM Settings", "auto_creation_of_contact")
		frappe.db.set_single_value("CRM Settings", "auto_creation_of_contact", 0)
		self.addCleanup(frappe.db.set_single_value, "CRM Settings", "auto_creation_of_contact", auto_contact)
		number = random_number()
		lead = frappe.get_doc({"doctype": "Lead", "first_name": "Lena", "last_name": "Lead", "mobile_no": display_format(number)})
		lead.insert(ignore_permissions=True)
		conversation = self.receive(number)
		self.assertEqual((conversation.lead, conversation.contact, conversation.unmatched), (lead.name, None, 0))
		self.assertEqual(conversation.party_name, lead.lead_name)

	def test_a_leads_own_contact_is_the_same_person(self):
		frappe.db.set_single_value("CRM Settings", "auto_creation_of_contact", 1)
		number = random_number()
		lead = frappe.get_doc({"doctype": "Lead", "first_name": "Cora", "phone": number}).insert(ignore_permissions=True)
		contact = frappe.db.get_value("Dynamic Link", {"parenttype": "Contact", "link_doctype": "Lead", "link_name": lead.name}, "parent")
		self.assertTrue(contact)  # ERPNext made one
		conversation = self.receive(number)
		self.assertEqual((conversation.contact, conversation.lead, conversation.unmatched), (contact, lead.name, 0))
		communication = frappe.get_all("Communication", filters={"reference_name": conversation.name}, pluck="name")[0]
		self.assertIn(communication, timeline("Lead", lead.name))
		self.assertIn(communication, timeline("Contact", contact))

	def test_an_unknown_number_is_unmatched(self):
		conversation = self.receive(random_number())
		self.assertEqual((conversation.contact, conversation.lead, conversation.unmatched), (None, None, 1))
		self.assertEqual(json.loads(conversation.match_suggestions), [])

	def test_two_contacts_with_the_number_are_suggestions_not_a_guess(self):
		number = random_number()
		names = []
		for first_name in ("Ann", "Bob"):
			contact = frappe.get_doc({"doctype": "Contact", "first_name": first_name})
			contact.add_phone(display_format(number), is_primary_mobile_no=1)
			names.append(contact.insert(ignore_permissions=True).name)
		# Same last seven digits, another area code: found by the prefilter, rejected by same_number.
		decoy = frappe.get_doc({"doctype": "Contact", "first_name": "Decoy"})
		decoy.add_phone("+1 212 " + number[-7:-4] + " " + number[-4:], is_primary_mobile_no=1)
		decoy.insert(ignore_permissions=True)
		conversation = self.receive(number)
		self.assertEqual((conversation.contact, conversation.unmatched), (None, 1))
		suggestions = json.loads(conversation.match_suggestions)
		self.assertEqual(sorted(row["name"] for row in suggestions), sorted(names))
		self.assertTrue(all(row["same_phone"] for row in suggestions))

	def test_numbers_are_normalised_to_e164(self):
		number = random_number()
		params = inbound_params(display_format(number), "local format")  # no country code: default region US
		result = sms_inbound.receive(frappe.get_doc("Channel", self.channel), params)
		self.assertEqual(frappe.db.get_value("Conversation", result.conversation, "party_address"), number)

	def test_a_malformed_request_is_refused_and_writes_nothing(self):
		params = inbound_params(random_number(), "Hello")
		params["MessageSid"] = params["SmsSid"] = params["SmsMessageSid"] = "not-a-sid"
		before = frappe.db.count("Channel Message", {"channel": self.channel})
		with self.assertRaises(sms_inbound.InvalidWebhook):
			sms_inbound.receive(frappe.get_doc("Channel", self.channel), params)
		self.assertEqual(frappe.db.count("Channel Message", {"channel": self.channel}), before)


class SegmentInfo(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_counts_for_the_composer(self):
		make_agent(AGENT)
		frappe.set_user(AGENT)
		self.assertEqual(
			sms_api.segment_info("a" * 161),
			{"encoding": "GSM-7", "segments": 2, "characters": 161, "remaining_in_segment": 145, "non_gsm_characters": [], "error": None},
		)
		emoji = sms_api.segment_info("Thanks 🙂")
		self.assertEqual((emoji["encoding"], emoji["segments"], emoji["non_gsm_characters"]), ("UCS-2", 1, ["🙂"]))
		too_long = sms_api.segment_info("x" * 1601)
		self.assertIsNone(too_long["segments"])
		self.assertIn("at most 1,600 characters", too_long["error"])

	def test_needs_a_message_center_user(self):
		make_user("mc.sms.nobody@example.com")  # a desk user without Message Center roles
		for user in ("Guest", "mc.sms.nobody@example.com"):
			frappe.set_user(user)
			with self.assertRaises(frappe.PermissionError, msg=user):
				sms_api.segment_info("hello")

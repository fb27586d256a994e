"""Agents of team A get nothing of team B's: through get_list, get_doc, REST and every whitelisted method."""

import inspect
import json

import frappe
from frappe.tests.test_api import FrappeAPITestCase

from message_center import messages
from message_center.tests.factories import (
	api_token,
	make_agent,
	make_channel,
	make_conversation,
	make_manager,
	make_team,
)

AGENT_A = "mc.agent.a@example.com"
AGENT_B = "mc.agent.b@example.com"
MANAGER = "mc.manager@example.com"


def whitelisted_api_methods():
	"""Every whitelisted function of message_center.api.*, found by walking the package."""
	import pkgutil

	import message_center.api as api_package

	found = {}
	for module_info in pkgutil.iter_modules(api_package.__path__):
		module = frappe.get_module(f"message_center.api.{module_info.name}")
		for name, function in inspect.getmembers(module, inspect.isfunction):
			if function in frappe.whitelisted and function.__module__ == module.__name__:
				found[f"{module.__name__}.{name}"] = function
	return found


class TeamIsolation(FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		make_agent(AGENT_A)
		make_agent(AGENT_B)
		make_manager(MANAGER)
		cls.team_a = make_team("MC Test Team A", [AGENT_A])
		cls.team_b = make_team("MC Test Team B", [AGENT_B])
		cls.channel_a = make_channel("MC Test Phone A", cls.team_a)
		cls.channel_b = make_channel("MC Test Phone B", cls.team_b)
		cls.conversation_a = make_conversation(cls.channel_a, "+14155550101", party_name="Alice A")
		cls.conversation_b = make_conversation(cls.channel_b, "+14155550102", party_name="Bob B")
		messages.record_inbound(cls.conversation_b, content="Secret of team B")
		cls.message_b = frappe.get_all(
			"Communication", filters={"reference_doctype": "Conversation", "reference_name": cls.conversation_b.name}, pluck="name"
		)[0]
		cls.enquiry_a = frappe.get_doc({"doctype": "Enquiry", "source": "Phone", "channel": cls.channel_a, "person_name": "Alice A"}).insert()
		cls.enquiry_b = frappe.get_doc({"doctype": "Enquiry", "source": "Phone", "channel": cls.channel_b, "person_name": "Bob B"}).insert()
		cls.reply_b = frappe.get_doc(
			{"doctype": "Quick Reply", "title": "MC Test B only", "scope": "Team", "team": cls.team_b, "body": "Hi {{ first_name }}"}
		).insert()
		cls.reply_global = frappe.get_doc({"doctype": "Quick Reply", "title": "MC Test global", "scope": "Global", "body": "Thanks!"}).insert()
		frappe.db.commit()
		cls.headers_a = api_token(AGENT_A)
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_get_list_shows_only_my_teams(self):
		frappe.set_user(AGENT_A)
		names = set(frappe.get_list("Conversation", pluck="name", limit_page_length=0))
		self.assertIn(self.conversation_a.name, names)
		self.assertNotIn(self.conversation_b.name, names)
		enquiries = set(frappe.get_list("Enquiry", pluck="name", limit_page_length=0))
		self.assertIn(self.enquiry_a.name, enquiries)
		self.assertNotIn(self.enquiry_b.name, enquiries)
		channels = set(frappe.get_list("Channel", pluck="name", limit_page_length=0))
		self.assertIn(self.channel_a, channels)
		self.assertNotIn(self.channel_b, channels)
		replies = set(frappe.get_list("Quick Reply", pluck="name", limit_page_length=0))
		self.assertIn(self.reply_global.name, replies)
		self.assertNotIn(self.reply_b.name, replies)

	def test_managers_see_every_team(self):
		frappe.set_user(MANAGER)
		names = set(frappe.get_list("Conversation", pluck="name", limit_page_length=0))
		self.assertTrue({self.conversation_a.name, self.conversation_b.name} <= names)

	def test_get_doc_of_another_team_is_refused(self):
		frappe.set_user(AGENT_A)
		for doctype, name in (
			("Conversation", self.conversation_b.name),
			("Enquiry", self.enquiry_b.name),
			("Channel", self.channel_b),
			("Quick Reply", self.reply_b.name),
			("Communication", self.message_b),
		):
			self.assertFalse(frappe.has_permission(doctype, "read", doc=name), doctype)
			with self.assertRaises(frappe.PermissionError, msg=doctype):
				frappe.get_doc(doctype, name).check_permission("read")
		frappe.get_doc("Conversation", self.conversation_a.name).check_permission("write")

	def test_agent_cannot_create_for_another_team(self):
		frappe.set_user(AGENT_A)
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc({"doctype": "Enquiry", "source": "Phone", "team": self.team_b, "person_name": "X"}).insert()

	def test_rest_resource_api(self):
		response = self.get(self.resource("Conversation"), {"limit_page_length": 0}, headers=self.headers_a)
		self.assertEqual(response.status_code, 200)
		names = {row["name"] for row in response.json["data"]}
		self.assertIn(self.conversation_a.name, names)
		self.assertNotIn(self.conversation_b.name, names)
		for doctype, name in (
			("Conversation", self.conversation_b.name),
			("Enquiry", self.enquiry_b.name),
			("Communication", self.message_b),
		):
			response = self.get(self.resource(doctype, name), headers=self.headers_a)
			self.assertEqual(response.status_code, 403, doctype)
			self.assertNotIn("Secret of team B", response.get_data(as_text=True))
		response = self.put(self.resource("Conversation", self.conversation_b.name), {"party_name": "x"}, headers=self.headers_a)
		self.assertEqual(response.status_code, 403)

	def test_rest_cannot_bypass_the_state_machine(self):
		response = self.put(
			self.resource("Conversation", self.conversation_a.name), {"status": "Closed", "claimed_by": AGENT_A}, headers=self.headers_a
		)
		self.assertEqual(response.status_code, 403)
		self.assertEqual(frappe.db.get_value("Conversation", self.conversation_a.name, "status"), "Open")

	def test_rest_method_of_another_team_is_refused(self):
		response = self.post(
			self.method("message_center.api.conversation.claim"), {"conversation": self.conversation_b.name}, headers=self.headers_a
		)
		self.assertEqual(response.status_code, 403)
		self.assertIsNone(frappe.db.get_value("Conversation", self.conversation_b.name, "claimed_by"))

	def test_every_whitelisted_method_refuses_another_teams_records(self):
		targets = {
			"conversation": self.conversation_b.name,
			"enquiry": self.enquiry_b.name,
			"channel": self.channel_b,
		}
		fillers = {"user": AGENT_A, "team": self.team_a, "content": "hello", "note": "x"}
		methods = whitelisted_api_methods()
		self.assertTrue(methods)
		unchecked = []
		for dotted, function in methods.items():
			parameters = inspect.signature(function).parameters
			target = next((name for name in parameters if name in targets), None)
			if target is None:
				unchecked.append(dotted)
				continue
			kwargs = {target: targets[target]}
			for name, parameter in parameters.items():
				if name not in kwargs and parameter.default is inspect.Parameter.empty:
					kwargs[name] = fillers.get(name, "x")
			frappe.set_user(AGENT_A)
			with self.assertRaises(frappe.PermissionError, msg=dotted):
				function(**kwargs)
			frappe.set_user("Administrator")
		# Methods that take no record must be listed (and tested) explicitly: keeps this test honest.
		self.assertEqual(sorted(unchecked), sorted(LIST_METHODS_TESTED_ELSEWHERE), json.dumps(unchecked))
		self.assertIsNone(frappe.db.get_value("Conversation", self.conversation_b.name, "claimed_by"))
		self.assertEqual(frappe.db.get_value("Conversation", self.conversation_b.name, "status"), "Open")


# Whitelisted methods that take no single record; each has its own isolation test.
LIST_METHODS_TESTED_ELSEWHERE: list[str] = [
	# test_inbox.InboxViews.test_options_list_my_channels_and_colleagues (list, counts and search
	# take a channel filter, checked above; their team scope: test_inbox and test_inbox_search)
	"message_center.api.inbox.options",
	# test_sms_optout.SegmentInfo.test_needs_a_message_center_user
	"message_center.api.sms.segment_info",
	# test_sms_webhooks.TwilioWebhooks: unsigned, forged, tampered or other-channel requests get 403
	"message_center.api.twilio.incoming",
	"message_center.api.twilio.status",
	# test_enquiry_actions.EnquiryActions.test_reference_lists_need_a_message_center_user
	"message_center.api.enquiry.dead_reasons",
	"message_center.api.enquiry.email_groups",
	# test_people.SuggestedPeople: another team's senders are neither listed nor changeable
	"message_center.api.people.add_as_contact",
	"message_center.api.people.add_as_lead",
	"message_center.api.people.add_to_existing",
	"message_center.api.people.ignore",
	"message_center.api.people.suggested",
	# test_web_form.WebFormEndpoint: no secret / wrong secret / foreign origin get 403, floods 429
	"message_center.api.web_form.submit",
]

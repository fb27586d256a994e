"""Patches that change what existing sites hold, run against conversations made the old way."""

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import messages
from message_center.core import conversation_rules as rules
from message_center.message_center.doctype.conversation.conversation import actor_for
from message_center.patches.v0_1 import close_machine_mail_conversations
from message_center.tests.factories import make_agent, make_channel, make_team
from message_center.tests.mail_lab import suffix

AGENT = "mc.patch.agent@example.com"


class CloseMachineMailConversations(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_agent(AGENT)
		cls.team = make_team("MC Test Patch Team", [AGENT])
		cls.channel = make_channel(
			"MC Test Patch Mail",
			cls.team,
			"Email",
			email_address="info-patch@acme.example",
			imap_host="127.0.0.1",
			imap_port=1,
			imap_ssl=0,
			imap_username="info",
			imap_password="unused",
			imap_folders="INBOX",
		)

	def opened_the_old_way(self, subject: str, *kinds: str):
		"""A conversation as mail sync made it before machine mail started closed: opened, not by a
		customer, with each message's Channel Message of the given kind."""
		key = suffix()
		conversation = messages.start_conversation(
			self.channel, f"sender-{key}@example.net", subject=subject, party_name=subject, medium="Email"
		)
		for number, kind in enumerate(kinds):
			identity = messages.MessageIdentity(self.channel, f"test:patch:{key}:{number}")
			if kind == "Normal":
				messages.record_inbound(
					conversation, content="A person wrote", identity=identity, channel_message={"kind": kind}
				)
			else:
				messages.record_automatic(
					conversation, content=f"{kind} mail", identity=identity, channel_message={"kind": kind}
				)
		self.assertEqual(frappe.db.get_value("Conversation", conversation.name, "status"), "Open")
		return conversation

	def status(self, conversation) -> str:
		return frappe.db.get_value("Conversation", conversation.name, "status")

	def test_conversations_only_machines_wrote_to_are_closed_and_the_rest_left_alone(self):
		newsletter = self.opened_the_old_way("Newsletter", "List", "List")
		out_of_office = self.opened_the_old_way("Out of office", "Auto Reply")
		bounce = self.opened_the_old_way("Undelivered", "Bounce")
		then_a_person = self.opened_the_old_way("Auto reply, then a person", "Auto Reply", "Normal")
		noted = self.opened_the_old_way("Noted list mail", "List")
		messages.add_note(noted, "Keep an eye on this one", actor_for(AGENT))
		noted.save_via_rules()
		claimed = self.opened_the_old_way("Claimed list mail", "List")
		claimed.apply_event(rules.Action.CLAIM, actor=actor_for(AGENT))
		claimed.save_via_rules()
		customer = self.opened_the_old_way("A question", "Normal")

		close_machine_mail_conversations.execute()

		for kept, messages_on_it in ((newsletter, 2), (out_of_office, 1), (bounce, 1)):
			stored = frappe.get_doc("Conversation", kept.name)
			self.assertEqual(
				(stored.status, stored.unclaimed_since, stored.waiting_since), ("Closed", None, None)
			)
			self.assertEqual(frappe.db.count("Communication", {"reference_name": kept.name}), messages_on_it)
		for untouched in (then_a_person, noted, claimed, customer):
			self.assertEqual(self.status(untouched), "Open", untouched.subject)

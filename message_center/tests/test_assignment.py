"""Assign To (Frappe's ToDo) and Conversation.claimed_by stay equal in both directions; delete."""

import frappe
from frappe.desk.form import assign_to

from message_center import messages
from message_center.api import conversation as api
from message_center.tests.enquiry_fixtures import (
	AGENT,
	COLLEAGUE,
	MANAGER,
	MANUAL_CHANNEL,
	OTHER_TEAM,
	OUTSIDER,
	EnquiryTestCase,
	communications_of,
	manual_enquiry,
	open_todos,
	unique_email,
)
from message_center.tests.factories import make_conversation

WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def todos(conversation: str) -> dict[str, str]:
	rows = frappe.get_all("ToDo", filters={"reference_type": "Conversation", "reference_name": conversation}, fields=["allocated_to", "status"])
	return {row.allocated_to: row.status for row in rows}


def claimed_by(conversation: str) -> str | None:
	return frappe.db.get_value("Conversation", conversation, "claimed_by")


class AssignmentFollowsClaims(EnquiryTestCase):
	def setUp(self):
		super().setUp()
		self.conversation = make_conversation(MANUAL_CHANNEL, unique_email(), party_name="Ada Assign").name

	def refused(self, call, code: str | None = None):
		"""Run `call` expecting a refusal, undoing its writes as a failed request would."""
		frappe.db.savepoint("refused")
		try:
			with self.assertRaises(frappe.ValidationError) as raised:
				call()
		finally:
			frappe.db.rollback(save_point="refused")
		if code:
			self.assertEqual(getattr(raised.exception, "code", None), code)
		return raised.exception

	def test_claim_release_assign_transfer_move_the_todo(self):
		frappe.set_user(AGENT)
		api.claim(self.conversation)
		self.assertEqual(open_todos("Conversation", self.conversation), [AGENT])
		api.release(self.conversation)
		self.assertEqual(open_todos("Conversation", self.conversation), [])
		frappe.set_user(MANAGER)
		api.assign(self.conversation, COLLEAGUE)
		self.assertEqual(open_todos("Conversation", self.conversation), [COLLEAGUE])
		self.assertTrue(frappe.db.exists("Notification Log", {"for_user": COLLEAGUE, "document_name": self.conversation, "type": "Assignment"}))
		api.assign(self.conversation, AGENT)
		self.assertEqual(open_todos("Conversation", self.conversation), [AGENT])
		self.assertEqual(frappe.db.get_value("Conversation", self.conversation, "_assign"), f'["{AGENT}"]')
		api.transfer(self.conversation, team=OTHER_TEAM)
		self.assertEqual(open_todos("Conversation", self.conversation), [])

	def test_closing_completes_the_task_and_reopening_restores_it(self):
		frappe.set_user(AGENT)
		api.claim(self.conversation)
		api.close(self.conversation)
		self.assertEqual(todos(self.conversation), {AGENT: "Closed"})
		self.assertEqual(claimed_by(self.conversation), AGENT)
		api.reopen(self.conversation)
		self.assertEqual(todos(self.conversation), {AGENT: "Open"})

	def test_a_reply_that_takes_ownership_assigns_too(self):
		conversation = frappe.get_doc("Conversation", self.conversation)
		from message_center.message_center.doctype.conversation.conversation import actor_for

		messages.record_outbound(conversation, content="Hello", actor=actor_for(AGENT))
		self.assertEqual(open_todos("Conversation", self.conversation), [AGENT])

	def test_assign_to_in_the_sidebar_claims_for_the_assignee(self):
		frappe.set_user(MANAGER)
		assign_to.add({"assign_to": [AGENT], "doctype": "Conversation", "name": self.conversation})
		self.assertEqual(claimed_by(self.conversation), AGENT)
		assign_to.add({"assign_to": [COLLEAGUE], "doctype": "Conversation", "name": self.conversation})
		self.assertEqual(claimed_by(self.conversation), COLLEAGUE)
		self.assertEqual(todos(self.conversation), {AGENT: "Cancelled", COLLEAGUE: "Open"})
		# The conversation's own copy in memory is not stale: the next message saves fine.
		conversation = frappe.get_doc("Conversation", self.conversation)
		messages.record_inbound(conversation, content="Still there?")
		self.assertEqual(claimed_by(self.conversation), COLLEAGUE)

	def test_assign_to_follows_the_rules(self):
		frappe.set_user(AGENT)
		api.claim(self.conversation)
		frappe.set_user(COLLEAGUE)
		self.refused(lambda: assign_to.add({"assign_to": [COLLEAGUE], "doctype": "Conversation", "name": self.conversation}), "claimed_by_other")
		self.refused(lambda: assign_to.remove("Conversation", self.conversation, AGENT), "claimed_by_other")
		self.assertEqual(claimed_by(self.conversation), AGENT)
		self.assertEqual(todos(self.conversation), {AGENT: "Open"})
		frappe.set_user(MANAGER)
		error = self.refused(lambda: assign_to.add({"assign_to": [OUTSIDER], "doctype": "Conversation", "name": self.conversation}))
		self.assertIn("not a member", str(error))
		self.assertEqual(claimed_by(self.conversation), AGENT)

	def test_removing_or_completing_the_assignment_releases_the_claim(self):
		frappe.set_user(AGENT)
		api.claim(self.conversation)
		assign_to.remove("Conversation", self.conversation, AGENT)
		self.assertIsNone(claimed_by(self.conversation))
		api.claim(self.conversation)
		assign_to.close("Conversation", self.conversation, AGENT)
		self.assertIsNone(claimed_by(self.conversation))
		self.assertEqual(frappe.db.get_value("Conversation", self.conversation, "status"), "Open")

	def test_assignment_rules_round_robin_new_conversations(self):
		rule = frappe.get_doc(
			{
				"doctype": "Assignment Rule",
				"name": "MC Test Round Robin",
				"document_type": "Conversation",
				"priority": 1,
				"description": "New conversation {{ party_address }}",
				"assign_condition": 'status == "Open"',
				"rule": "Round Robin",
				"users": [{"user": AGENT}, {"user": COLLEAGUE}],
				"assignment_days": [{"day": day} for day in WEEK],
			}
		).insert(ignore_permissions=True)
		try:
			assigned = []
			for _ in range(2):
				enquiry, conversation = manual_enquiry(user=MANAGER)
				self.assertIn(conversation.claimed_by, (AGENT, COLLEAGUE))
				self.assertEqual(open_todos("Conversation", conversation.name), [conversation.claimed_by])
				self.assertEqual(len(communications_of(conversation.name)), 1)  # intake went on after the rule
				assigned.append(conversation.claimed_by)
			self.assertEqual(set(assigned), {AGENT, COLLEAGUE})
		finally:
			frappe.delete_doc("Assignment Rule", rule.name, force=True)

	def test_delete_removes_conversation_messages_enquiry_and_assignment_but_keeps_the_tombstone(self):
		enquiry, conversation = manual_enquiry()
		identity = messages.MessageIdentity(MANUAL_CHANNEL, "test:delete:" + conversation.name)
		conversation.reload()
		_, extra = messages.record_inbound(conversation, content="Second message", identity=identity)
		mine = communications_of(conversation.name)
		self.assertEqual(len(mine), 2)
		for user in (AGENT, OUTSIDER):
			frappe.set_user(user)
			with self.assertRaises(frappe.PermissionError):
				api.delete(conversation.name)
		self.assertTrue(frappe.db.exists("Conversation", conversation.name))
		frappe.set_user(MANAGER)
		self.assertEqual(api.delete(conversation.name), {"deleted": conversation.name})
		frappe.set_user("Administrator")
		self.assertFalse(frappe.db.exists("Conversation", conversation.name))
		self.assertFalse(frappe.db.exists("Enquiry", enquiry.name))
		self.assertFalse([name for name in mine if frappe.db.exists("Communication", name)])
		self.assertFalse(frappe.db.exists("ToDo", {"reference_type": "Conversation", "reference_name": conversation.name}))
		self.assertTrue(frappe.db.get_value("Channel Message", {"dedupe_key": identity.dedupe_key}, "tombstone"))
		with self.assertRaises(frappe.DoesNotExistError):
			api.delete(conversation.name)

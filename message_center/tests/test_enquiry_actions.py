"""Action: Create Task, Add to Marketing List, Reply (routing through api/reply.py)."""

import frappe
from frappe.desk.form.load import get_docinfo

from message_center import messages
from message_center.api import enquiry as api
from message_center.api.reply import reply_blocked_reason, send_path_for
from message_center.enquiries import EnquiryActionError, InvalidEnquiry
from message_center.message_center.doctype.conversation.conversation import actor_for
from message_center.tests.enquiry_fixtures import (
	AGENT,
	COLLEAGUE,
	OUTSIDER,
	EnquiryTestCase,
	manual_enquiry,
	unique,
	unique_email,
	unique_phone,
)
from message_center.tests.factories import make_contact, make_user, timeline


def timeline_extras(doctype: str, name: str) -> list[dict]:
	"""What the form's timeline shows besides messages (additional_timeline_content)."""
	frappe.response.pop("docinfo", None)
	get_docinfo(frappe.get_doc(doctype, name))
	return frappe.response["docinfo"]["additional_timeline_content"]


class EnquiryActions(EnquiryTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.email_group = unique("MC Test Newsletter ")
		frappe.get_doc({"doctype": "Email Group", "title": cls.email_group}).insert(ignore_permissions=True)

	def associated_enquiry(self, **contact_values):
		email = unique_email()
		contact = make_contact("Tara", email=email)
		if contact_values:
			frappe.db.set_value("Contact", contact, contact_values)
		enquiry, conversation = manual_enquiry(email_id=email)
		self.assertEqual(enquiry.contact, contact)
		return enquiry, conversation, contact

	def test_create_task_assigns_a_todo_on_the_enquiry_shown_on_the_contacts_timeline(self):
		enquiry, _, contact = self.associated_enquiry()
		frappe.set_user(AGENT)
		result = api.create_task(enquiry.name, COLLEAGUE, "Call back <about> pricing", "2030-01-15")
		todo = frappe.get_doc("ToDo", result["todo"])
		self.assertEqual((todo.allocated_to, todo.reference_type, todo.reference_name, todo.assigned_by), (COLLEAGUE, "Enquiry", enquiry.name, AGENT))
		self.assertEqual(str(todo.date), "2030-01-15")
		self.assertIn("Call back &lt;about&gt; pricing", todo.description)
		self.assertEqual([row["name"] for row in api.get(enquiry.name)["tasks"]], [todo.name])
		self.assertTrue(frappe.db.exists("Notification Log", {"for_user": COLLEAGUE, "document_name": enquiry.name}))
		# Twice: still one task.
		self.assertEqual(api.create_task(enquiry.name, COLLEAGUE, "Call back <about> pricing", "2030-01-15"), {"todo": todo.name, "created": False})
		frappe.set_user("Administrator")
		extras = timeline_extras("Contact", contact)
		self.assertEqual([row["todo"] for row in extras if row.get("todo")], [todo.name])
		self.assertIn("Call back &lt;about&gt; pricing", extras[0]["content"])
		# The account's timeline shows it too.
		customer = frappe.get_doc({"doctype": "Customer", "customer_name": unique("MC Test Account "), "customer_type": "Company"})
		customer.insert(ignore_permissions=True)
		frappe.db.set_value("Enquiry", enquiry.name, "customer", customer.name)
		self.assertEqual([row["todo"] for row in timeline_extras("Customer", customer.name) if row.get("todo")], [todo.name])
		# An agent of another team opening the Contact does not see this team's tasks.
		frappe.set_user(OUTSIDER)
		self.assertFalse([row for row in timeline_extras("Contact", contact) if row.get("todo")])

	def test_create_task_needs_a_user_and_a_description(self):
		enquiry, _ = manual_enquiry()
		frappe.set_user(AGENT)
		with self.assertRaises(EnquiryActionError):
			api.create_task(enquiry.name, "", "Do it")
		with self.assertRaises(InvalidEnquiry):
			api.create_task(enquiry.name, "nobody@nowhere.example", "Do it")
		with self.assertRaises(InvalidEnquiry):
			api.create_task(enquiry.name, COLLEAGUE, "  ")
		self.assertFalse(frappe.db.exists("ToDo", {"reference_type": "Enquiry", "reference_name": enquiry.name}))

	def test_add_to_marketing_list_adds_the_persons_email_once(self):
		enquiry, _, contact = self.associated_enquiry()
		frappe.set_user(AGENT)
		result = api.add_to_marketing_list(enquiry.name, self.email_group)
		email = frappe.db.get_value("Contact", contact, "email_id")
		self.assertEqual((result["email"], result["created"]), (email, True))
		self.assertEqual(frappe.db.get_value("Email Group Member", result["member"], ["email_group", "email"]), (self.email_group, email))
		again = api.add_to_marketing_list(enquiry.name, self.email_group)
		self.assertEqual((again["member"], again["created"]), (result["member"], False))
		self.assertEqual(frappe.db.count("Email Group Member", {"email_group": self.email_group, "email": email}), 1)

	def test_marketing_list_refuses_without_email_or_after_unsubscribing(self):
		enquiry, _ = manual_enquiry(email_id=None, phone=unique_phone())
		frappe.set_user(AGENT)
		with self.assertRaises(EnquiryActionError) as raised:
			api.add_to_marketing_list(enquiry.name, self.email_group)
		self.assertEqual(raised.exception.code, "no_email")
		self.assertIn("no email address", str(raised.exception))

		unsubscribed, _, _ = self.associated_enquiry(unsubscribed=1)
		frappe.set_user(AGENT)
		with self.assertRaises(EnquiryActionError) as raised:
			api.add_to_marketing_list(unsubscribed.name, self.email_group)
		self.assertEqual(raised.exception.code, "unsubscribed")

		frappe.set_user("Administrator")
		globally, _, contact = self.associated_enquiry()
		email = frappe.db.get_value("Contact", contact, "email_id")
		frappe.get_doc({"doctype": "Email Unsubscribe", "email": email, "global_unsubscribe": 1}).insert(ignore_permissions=True)
		frappe.set_user(AGENT)
		with self.assertRaises(EnquiryActionError) as raised:
			api.add_to_marketing_list(globally.name, self.email_group)
		self.assertEqual(raised.exception.code, "unsubscribed")
		with self.assertRaises(frappe.DoesNotExistError):
			api.add_to_marketing_list(globally.name, "No Such List " + unique())
		self.assertFalse(frappe.db.exists("Email Group Member", {"email": email}))

	def test_replies_go_through_the_conversations_send_path_and_onto_the_contacts_timeline(self):
		enquiry, conversation, contact = self.associated_enquiry()
		self.assertEqual(send_path_for(conversation), "email")
		self.assertIsNone(reply_blocked_reason(conversation, actor_for(AGENT)))  # the creator claimed it
		self.assertEqual(reply_blocked_reason(conversation, actor_for(COLLEAGUE))[0], "claimed_by_other")
		_, reply, _ = messages.record_outbound(conversation, content="Yes, we deliver to Oakland.", actor=actor_for(AGENT))
		self.assertIn(reply.name, timeline("Contact", contact))
		phone_only, _ = manual_enquiry(email_id=None, phone=unique_phone())
		phone_conversation = frappe.get_doc("Conversation", phone_only.conversation)
		self.assertEqual(reply_blocked_reason(phone_conversation, actor_for(AGENT))[0], "no_send_path")

	def test_reference_lists_need_a_message_center_user(self):
		bystander = make_user("mc.enq.bystander@example.com", "Sales User")
		frappe.set_user(AGENT)
		self.assertIn(self.email_group, [row["name"] for row in api.email_groups()])
		self.assertIn("Spam", api.dead_reasons()["reasons"])
		frappe.set_user(bystander)
		for call in (api.email_groups, api.dead_reasons):
			with self.assertRaises(frappe.PermissionError):
				call()
		frappe.set_user("Guest")
		with self.assertRaises(frappe.PermissionError):
			api.email_groups()

	def test_an_agent_of_another_team_cannot_act(self):
		enquiry, _, _ = self.associated_enquiry()
		frappe.set_user(OUTSIDER)
		for call in (
			lambda: api.create_task(enquiry.name, OUTSIDER, "Steal it"),
			lambda: api.add_to_marketing_list(enquiry.name, self.email_group),
			lambda: api.update_details(enquiry.name, {"person_name": "Mallory"}),
		):
			with self.assertRaises(frappe.PermissionError):
				call()
		self.assertFalse(frappe.db.exists("ToDo", {"reference_type": "Enquiry", "reference_name": enquiry.name}))
		self.assertFalse(frappe.db.exists("Email Group Member", {"email_group": self.email_group, "email": enquiry.email_id}))

"""Suggested people: unmatched senders, Add as Lead / Add as Contact / Add to existing / Ignore."""

import frappe

from message_center import messages
from message_center.api import people as api
from message_center.tests.enquiry_fixtures import (
	AGENT,
	MANUAL_CHANNEL,
	OTHER_CHANNEL,
	OUTSIDER,
	EnquiryTestCase,
	manual_enquiry,
	on_timeline,
	unique_email,
	unique_phone,
)
from message_center.tests.factories import make_contact, make_conversation


def listed(user: str) -> dict:
	"""Every suggested person `user` sees, by address (paging through all pages)."""
	previous = frappe.session.user
	frappe.set_user(user)
	try:
		people, start = {}, 0
		while True:
			page = api.suggested(start=start, page_length=100)
			people.update({row["address"]: row for row in page["people"]})
			if not page["has_more"]:
				return people
			start += 100
	finally:
		frappe.set_user(previous)


class SuggestedPeople(EnquiryTestCase):
	def sender(self, address: str, channel: str = MANUAL_CHANNEL, name: str = "Sandy Sender", times: int = 1) -> list[str]:
		names = []
		for number in range(times):
			conversation = make_conversation(channel, address, party_name=name)
			messages.record_inbound(conversation, content=f"Message {number} from {name}")
			names.append(conversation.name)
		return names

	def test_unmatched_senders_are_listed_once_per_address_for_their_team_only(self):
		email, phone, theirs = unique_email("sandy"), unique_phone(), unique_email("other")
		self.sender(email, times=2)
		self.sender(phone, name="Phil Phone")
		self.sender(theirs, channel=OTHER_CHANNEL)
		known = unique_email("known")
		make_contact("Known", email=known)
		manual_enquiry(email_id=known)  # auto-linked: not a suggestion
		mine = listed(AGENT)
		self.assertEqual(mine[email]["conversations"], 2)
		self.assertEqual((mine[email]["kind"], mine[email]["party_name"], mine[email]["medium"]), ("email", "Sandy Sender", "Phone"))
		self.assertEqual(mine[phone]["kind"], "phone")
		self.assertNotIn(theirs, mine)
		self.assertNotIn(known, mine)
		self.assertIn(theirs, listed(OUTSIDER))
		self.assertNotIn(email, listed(OUTSIDER))

	def test_add_as_lead_in_bulk_links_every_conversation_and_enquiry(self):
		email, phone = unique_email("lana"), unique_phone()
		email_conversations = self.sender(email, name="Lana Lead", times=2)
		enquiry, enquiry_conversation = manual_enquiry(email_id=phone.replace("+", "") + "@x.example")
		phone_conversations = self.sender(phone, name="Paul Phone")
		frappe.set_user(AGENT)
		created = api.add_as_lead([email, phone])
		by_address = {row["address"]: row for row in created}
		lead = frappe.get_doc("Lead", by_address[email]["name"])
		self.assertEqual((lead.lead_name, lead.email_id), ("Lana Lead", email))
		self.assertEqual(frappe.db.get_value("Lead", by_address[phone]["name"], ["lead_name", "mobile_no"]), ("Paul Phone", phone))
		frappe.set_user("Administrator")
		for conversation in email_conversations:
			self.assertEqual(frappe.db.get_value("Conversation", conversation, "lead"), lead.name)
			self.assertTrue(on_timeline("Lead", lead.name, conversation))
		self.assertTrue(on_timeline("Lead", by_address[phone]["name"], phone_conversations[0]))
		self.assertNotIn(email, listed(AGENT))
		# An enquiry's conversation: the enquiry is associated too.
		frappe.set_user(AGENT)
		(row,) = api.add_as_contact([enquiry.email_id])
		enquiry.reload()
		self.assertEqual((enquiry.status, enquiry.contact), ("Associated", row["name"]))
		frappe.set_user("Administrator")
		self.assertTrue(on_timeline("Contact", row["name"], enquiry_conversation.name))

	def test_add_as_contact_and_add_to_existing(self):
		email, phone = unique_email("cora"), unique_phone()
		(conversation,) = self.sender(email, name="Cora Contact")
		(phone_conversation,) = self.sender(phone)
		frappe.set_user(AGENT)
		(row,) = api.add_as_contact(email)
		contact = frappe.get_doc("Contact", row["name"])
		self.assertEqual((contact.first_name, contact.last_name, contact.email_id), ("Cora", "Contact", email))
		result = api.add_to_existing(phone, "Contact", contact.name)
		self.assertEqual(result["name"], contact.name)
		contact.reload()
		self.assertIn(phone, [row.phone for row in contact.phone_nos])
		frappe.set_user("Administrator")
		self.assertTrue(on_timeline("Contact", contact.name, conversation))
		self.assertTrue(on_timeline("Contact", contact.name, phone_conversation))

	def test_add_to_existing_refuses_a_deleted_contact(self):
		email = unique_email()
		(conversation,) = self.sender(email)
		gone = make_contact("Gone", email=unique_email())
		frappe.delete_doc("Contact", gone)
		frappe.set_user(AGENT)
		with self.assertRaises(frappe.DoesNotExistError):
			api.add_to_existing(email, "Contact", gone)
		self.assertIsNone(frappe.db.get_value("Conversation", conversation, "contact"))

	def test_ignore_is_remembered_and_idempotent(self):
		email = unique_email("ivan")
		self.sender(email)
		frappe.set_user(AGENT)
		self.assertEqual(api.ignore([email])["ignored"], [email])
		self.assertEqual(api.ignore(f'["{email}"]')["ignored"], [email])
		self.assertEqual(frappe.db.count("Ignored Sender", {"address": email}), 1)
		self.assertNotIn(email, listed(AGENT))
		self.sender(email)  # writes again: still ignored
		self.assertNotIn(email, listed(AGENT))

	def test_another_teams_senders_cannot_be_changed_and_bulk_is_all_or_nothing(self):
		mine, theirs = unique_email("mine"), unique_email("theirs")
		self.sender(mine)
		self.sender(theirs, channel=OTHER_CHANNEL)
		existing = make_contact("Existing", email=unique_email())
		frappe.set_user(AGENT)
		for call in (
			lambda: api.add_as_lead([mine, theirs]),
			lambda: api.add_as_contact([theirs]),
			lambda: api.add_to_existing(theirs, "Contact", existing),
			lambda: api.ignore([theirs]),
		):
			with self.assertRaises(frappe.PermissionError):
				call()
		self.assertFalse(frappe.db.exists("Lead", {"email_id": ("in", [mine, theirs])}))
		self.assertFalse(frappe.db.exists("Ignored Sender", {"address": theirs}))
		self.assertIn(mine, listed(AGENT))
		with self.assertRaises(frappe.ValidationError):
			api.add_as_lead([])

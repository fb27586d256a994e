"""Associate: suggestions with reasons, linking to a Contact/Lead/Customer or creating one, timelines."""

import frappe

from message_center import messages
from message_center.api import enquiry as api
from message_center.enquiries import EnquiryActionError
from message_center.tests.enquiry_fixtures import (
	AGENT,
	OUTSIDER,
	EnquiryTestCase,
	communications_of,
	manual_enquiry,
	on_timeline,
	unique,
	unique_email,
	unique_phone,
)
from message_center.tests.factories import make_contact, timeline


def make_customer(name: str) -> str:
	return frappe.get_doc({"doctype": "Customer", "customer_name": name, "customer_type": "Company"}).insert(ignore_permissions=True).name


def make_lead(name: str, **values) -> str:
	return frappe.get_doc({"doctype": "Lead", "lead_name": name, **values}).insert(ignore_permissions=True).name


class Associate(EnquiryTestCase):
	def test_suggestions_rank_email_then_phone_then_name_and_company_with_reasons(self):
		first, last, company = unique("Olga"), unique("Orlova"), unique("Quokka Tiles ")
		email, phone = unique_email("olga"), unique_phone()
		by_email = make_contact(first, email=email, last_name=last)
		by_phone = make_lead(unique("Someone "), mobile_no=f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}")
		by_company = make_customer(company)
		unrelated = make_contact("Unrelated", email=unique_email("zed"))
		enquiry, _ = manual_enquiry(email_id=email, phone=phone, person_name=f"{first} {last}", company_name=company)
		frappe.set_user(AGENT)
		suggestions = api.get_suggestions(enquiry.name)
		# The Lead comes as the Contact ERPNext made for it (one person, offered once).
		lead_contact = frappe.db.get_value("Dynamic Link", {"parenttype": "Contact", "link_doctype": "Lead", "link_name": by_phone}, "parent")
		expected = [("Contact", by_email), ("Contact", lead_contact), ("Customer", by_company)]
		ranked = [(row["doctype"], row["name"]) for row in suggestions]
		self.assertEqual([item for item in ranked if item in expected], expected)
		self.assertEqual(ranked[:2], expected[:2])
		self.assertNotIn(("Lead", by_phone), ranked)
		self.assertNotIn(("Contact", unrelated), ranked)
		reasons = {(row["doctype"], row["name"]): row["reasons"] for row in suggestions}
		self.assertEqual(reasons[expected[0]][0], "same email")
		self.assertIn("same name", reasons[expected[0]])
		self.assertEqual(reasons[expected[1]], ["same phone"])
		self.assertIn("same company", reasons[expected[2]])
		self.assertTrue(all(row["reasons"] for row in suggestions))

	def test_associate_links_every_message_to_the_contact_and_its_customer(self):
		customer = make_customer(unique("Wallaby Ltd "))
		contact = frappe.get_doc({"doctype": "Contact", "first_name": "Wanda", "links": [{"link_doctype": "Customer", "link_name": customer}]})
		contact.insert(ignore_permissions=True)
		enquiry, conversation = manual_enquiry()
		frappe.set_user(AGENT)
		summary = api.associate(enquiry.name, "Contact", contact.name)
		self.assertEqual((summary["status"], summary["contact"], summary["customer"], summary["changed"]), ("Associated", contact.name, customer, True))
		self.assertEqual(summary["titles"]["contact"], "Wanda")
		conversation.reload()
		self.assertEqual((conversation.contact, conversation.customer), (contact.name, customer))
		# Later messages follow the association too.
		messages.record_inbound(conversation, content="One more thing")
		frappe.set_user("Administrator")
		mine = communications_of(conversation.name)
		self.assertEqual(len(mine), 2)
		self.assertTrue(mine <= timeline("Contact", contact.name))
		self.assertTrue(mine <= timeline("Customer", customer))
		frappe.set_user(AGENT)
		self.assertFalse(api.associate(enquiry.name, "Contact", contact.name)["changed"])  # idempotent

	def test_reassociating_moves_the_messages_to_the_new_person(self):
		first = make_contact("First", email=unique_email())
		second = make_lead(unique("Second "))
		enquiry, conversation = manual_enquiry()
		frappe.set_user(AGENT)
		api.associate(enquiry.name, "Contact", first)
		api.associate(enquiry.name, "Lead", second)
		frappe.set_user("Administrator")
		mine = communications_of(conversation.name)
		self.assertTrue(mine <= timeline("Lead", second))
		self.assertFalse(mine & timeline("Contact", first))
		lead_contact = frappe.db.get_value("Dynamic Link", {"parenttype": "Contact", "link_doctype": "Lead", "link_name": second}, "parent")
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, ["contact", "lead"]), (lead_contact, second))

	def test_associating_a_deleted_contact_is_refused_and_changes_nothing(self):
		gone = make_contact("Gone", email=unique_email())
		frappe.delete_doc("Contact", gone)
		enquiry, _ = manual_enquiry()
		frappe.set_user(AGENT)
		with self.assertRaises(frappe.DoesNotExistError) as raised:
			api.associate(enquiry.name, "Contact", gone)
		self.assertIn("was it deleted", str(raised.exception))
		with self.assertRaises(frappe.ValidationError):
			api.associate(enquiry.name, "User", "Administrator")
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, ["status", "contact"]), ("New", None))

	def test_an_agent_of_another_team_can_neither_see_nor_associate(self):
		contact = make_contact("Hidden", email=unique_email())
		enquiry, _ = manual_enquiry()
		frappe.set_user(OUTSIDER)
		for call in (
			lambda: api.get(enquiry.name),
			lambda: api.get_suggestions(enquiry.name),
			lambda: api.associate(enquiry.name, "Contact", contact),
			lambda: api.create_person(enquiry.name, "Lead"),
		):
			with self.assertRaises(frappe.PermissionError):
				call()
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, "status"), "New")

	def test_new_contact_with_its_account_from_the_known_fields(self):
		email = unique_email("nina")
		company = unique("Numbat Corp ")
		phone = unique_phone()
		enquiry, conversation = manual_enquiry(email_id=email, phone=phone, person_name="Nina Numbat", company_name=company)
		frappe.set_user(AGENT)
		created = api.create_person(enquiry.name, "Contact", with_customer=1)
		contact = frappe.get_doc("Contact", created["name"])
		self.assertEqual((contact.first_name, contact.last_name, contact.email_id, contact.mobile_no), ("Nina", "Numbat", email, phone))
		customer = created["customer"]
		self.assertEqual(frappe.db.get_value("Customer", customer, ["customer_name", "customer_primary_contact"]), (company, contact.name))
		self.assertEqual(created["enquiry"]["status"], "Associated")
		frappe.set_user("Administrator")
		self.assertTrue(on_timeline("Contact", contact.name, conversation.name))
		self.assertTrue(on_timeline("Customer", customer, conversation.name))
		# Again: the same records, nothing new.
		frappe.set_user(AGENT)
		again = api.create_person(enquiry.name, "Contact", with_customer=1)
		self.assertEqual((again["name"], again["customer"]), (contact.name, customer))
		self.assertEqual(frappe.db.count("Contact Email", {"email_id": email}), 1)

	def test_new_lead_carries_the_source_campaign_and_utm(self):
		from message_center.enquiries import intake

		email = unique_email("lee")
		enquiry = intake(
			"MC Test Enquiry Website",
			{"email_id": email, "person_name": "Lee Lead", "message": "hi", "utm_source": "bing", "utm_medium": "cpc", "utm_campaign": "fall"},
			source="Web Form",
		)
		frappe.set_user(AGENT)
		created = api.create_person(enquiry.name, "Lead")
		lead = frappe.get_doc("Lead", created["name"])
		self.assertEqual((lead.lead_name, lead.email_id, lead.source), ("Lee Lead", email, "Web Form"))
		self.assertEqual((lead.mc_source_enquiry, lead.mc_source_conversation), (enquiry.name, frappe.db.get_value("Enquiry", enquiry.name, "conversation")))
		self.assertEqual((lead.mc_utm_source, lead.mc_utm_medium, lead.mc_utm_campaign), ("bing", "cpc", "fall"))
		summary = created["enquiry"]
		self.assertEqual((summary["lead"], summary["status"]), (lead.name, "Associated"))
		self.assertTrue(summary["contact"])  # ERPNext gives the Lead its own Contact, linked to it
		frappe.set_user("Administrator")
		self.assertTrue(on_timeline("Lead", lead.name, lead.mc_source_conversation))

	def test_creating_a_contact_that_exists_points_to_it(self):
		email = unique_email()
		existing = make_contact("Existing", email=email)
		enquiry, _ = manual_enquiry(email_id=unique_email())
		frappe.db.set_value("Enquiry", enquiry.name, "email_id", email)
		frappe.set_user(AGENT)
		with self.assertRaises(EnquiryActionError) as raised:
			api.create_person(enquiry.name, "Contact")
		self.assertEqual(raised.exception.code, "exists")
		self.assertIn(existing, str(raised.exception))

	def test_a_processed_enquiry_is_not_reassociated_until_reopened(self):
		contact = make_contact("Pro", email=unique_email())
		enquiry, _ = manual_enquiry()
		frappe.set_user(AGENT)
		api.mark_dead(enquiry.name, "Spam")
		with self.assertRaises(EnquiryActionError) as raised:
			api.associate(enquiry.name, "Contact", contact)
		self.assertEqual(raised.exception.code, "processed")
		api.reopen(enquiry.name)
		self.assertEqual(api.associate(enquiry.name, "Contact", contact)["status"], "Associated")

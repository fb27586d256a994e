"""Process: Create Opportunity, Associate Opportunity, Mark as Dead, No Action, reopen; transitions enforced."""

import frappe
from frappe.desk.form.load import get_comments

from message_center import messages
from message_center.api import enquiry as api
from message_center.enquiries import EnquiryActionError
from message_center.tests.enquiry_fixtures import (
	AGENT,
	MANAGER,
	OUTSIDER,
	EnquiryTestCase,
	manual_enquiry,
	on_timeline,
	unique,
	unique_email,
)
from message_center.tests.factories import make_contact, timeline


def make_opportunity(party_doctype: str, party: str, status: str = "Open") -> str:
	opportunity = frappe.get_doc(
		{"doctype": "Opportunity", "opportunity_from": party_doctype, "party_name": party, "company": frappe.db.get_default("company")}
	).insert(ignore_permissions=True)
	if status != "Open":
		frappe.db.set_value("Opportunity", opportunity.name, "status", status)
	return opportunity.name


class Process(EnquiryTestCase):
	def enquiry_with_lead(self, **fields):
		from message_center.enquiries import intake

		fields = {"email_id": unique_email(), "person_name": "Opal Opportunity", "message": "We need 12 desks\nby June", **fields}
		enquiry = intake("MC Test Enquiry Website", fields, source="Web Form")
		frappe.set_user(AGENT)
		api.create_person(enquiry.name, "Lead")
		frappe.set_user("Administrator")
		enquiry.reload()
		return enquiry

	def test_create_opportunity_is_prefilled_and_on_the_opportunity_timeline(self):
		campaign = frappe.get_doc({"doctype": "Campaign", "campaign_name": unique("MC Desks ")}).insert(ignore_permissions=True).name
		enquiry = self.enquiry_with_lead(utm_source="newsletter", utm_medium="email", utm_campaign="desks")
		frappe.db.set_value("Enquiry", enquiry.name, "campaign", campaign)
		conversation = frappe.get_doc("Conversation", enquiry.conversation)
		frappe.set_user(AGENT)
		result = api.create_opportunity(enquiry.name)
		self.assertTrue(result["created"])
		self.assertEqual(result["enquiry"]["status"], "Opportunity")
		opportunity = frappe.get_doc("Opportunity", result["opportunity"])
		self.assertEqual((opportunity.opportunity_from, opportunity.party_name), ("Lead", enquiry.lead))
		self.assertEqual((opportunity.source, opportunity.campaign, opportunity.contact_person), ("Web Form", campaign, enquiry.contact))
		self.assertEqual((opportunity.mc_source_enquiry, opportunity.mc_source_conversation), (enquiry.name, conversation.name))
		self.assertEqual((opportunity.mc_utm_source, opportunity.mc_utm_medium, opportunity.mc_utm_campaign), ("newsletter", "email", "desks"))
		self.assertIn("We need 12 desks<br>by June", opportunity.notes[0].note)
		frappe.set_user("Administrator")
		self.assertTrue(on_timeline("Opportunity", opportunity.name, conversation.name))
		# Messages arriving later land there too, and on the Lead's timeline.
		conversation.reload()
		_, later = messages.record_inbound(conversation, content="Also chairs")
		self.assertIn(later.name, timeline("Opportunity", opportunity.name))
		self.assertIn(later.name, timeline("Lead", enquiry.lead))

	def test_create_opportunity_for_an_account_takes_the_customer_as_party(self):
		enquiry, conversation = manual_enquiry(person_name="Cora Account", company_name=unique("Cora Desks "), message="Ten more desks")
		frappe.set_user(AGENT)
		created = api.create_person(enquiry.name, "Contact", with_customer=1)
		result = api.create_opportunity(enquiry.name)
		opportunity = frappe.get_doc("Opportunity", result["opportunity"])
		self.assertEqual((opportunity.opportunity_from, opportunity.party_name), ("Customer", created["customer"]))
		self.assertEqual((opportunity.contact_person, opportunity.source), (created["name"], "Manual"))
		self.assertEqual(opportunity.opportunity_owner, AGENT)  # the agent who took the call owns the conversation
		frappe.set_user("Administrator")
		for doctype, name in (("Opportunity", opportunity.name), ("Customer", created["customer"]), ("Contact", created["name"])):
			self.assertTrue(on_timeline(doctype, name, conversation.name), doctype)

	def test_processing_twice_returns_the_first_result_and_other_processing_needs_reopen(self):
		enquiry = self.enquiry_with_lead()
		frappe.set_user(AGENT)
		first = api.create_opportunity(enquiry.name)
		second = api.create_opportunity(enquiry.name)
		self.assertEqual(second["opportunity"], first["opportunity"])
		self.assertFalse(second["created"])
		self.assertEqual(frappe.db.count("Opportunity", {"mc_source_enquiry": enquiry.name}), 1)
		for call in (lambda: api.mark_dead(enquiry.name, "Spam"), lambda: api.no_action(enquiry.name)):
			with self.assertRaises(EnquiryActionError) as raised:
				call()
			self.assertEqual(raised.exception.code, "processed")
			self.assertIn(first["opportunity"], str(raised.exception))
		summary = api.reopen(enquiry.name)
		self.assertEqual((summary["status"], summary["opportunity"]), ("Associated", None))
		self.assertFalse(summary["actions"]["reopen"]["allowed"])
		self.assertEqual(api.mark_dead(enquiry.name, "Spam")["status"], "Dead")

	def test_create_opportunity_needs_a_lead_or_customer(self):
		enquiry, _ = manual_enquiry()
		frappe.set_user(AGENT)
		with self.assertRaises(EnquiryActionError) as raised:
			api.create_opportunity(enquiry.name)
		self.assertEqual(raised.exception.code, "not_associated")
		api.associate(enquiry.name, "Contact", make_contact("Solo", email=unique_email()))
		with self.assertRaises(EnquiryActionError) as raised:
			api.create_opportunity(enquiry.name)
		self.assertEqual(raised.exception.code, "no_party")
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, "status"), "Associated")

	def test_associate_opportunity_takes_an_open_one_of_the_same_party(self):
		enquiry = self.enquiry_with_lead()
		other = self.enquiry_with_lead()
		mine = make_opportunity("Lead", enquiry.lead)
		lost = make_opportunity("Lead", enquiry.lead, status="Lost")
		theirs = make_opportunity("Lead", other.lead)
		frappe.set_user(AGENT)
		listed = [row["name"] for row in api.get_open_opportunities(enquiry.name)]
		self.assertIn(mine, listed)
		self.assertNotIn(lost, listed)
		self.assertNotIn(theirs, listed)
		for opportunity, code in ((theirs, "other_party"), (lost, "opportunity_closed")):
			with self.assertRaises(EnquiryActionError) as raised:
				api.associate_opportunity(enquiry.name, opportunity)
			self.assertEqual(raised.exception.code, code)
		with self.assertRaises(frappe.DoesNotExistError):
			api.associate_opportunity(enquiry.name, "CRM-OPP-NOPE")
		summary = api.associate_opportunity(enquiry.name, mine)
		self.assertEqual((summary["status"], summary["opportunity"], summary["changed"]), ("Opportunity", mine, True))
		self.assertFalse(api.associate_opportunity(enquiry.name, mine)["changed"])
		frappe.set_user("Administrator")
		self.assertTrue(on_timeline("Opportunity", mine, enquiry.conversation))

	def test_mark_dead_with_a_reason_that_only_managers_can_add(self):
		enquiry, _ = manual_enquiry()
		frappe.set_user(AGENT)
		self.assertFalse(api.dead_reasons()["can_add"])
		self.assertIn("Spam", api.dead_reasons()["reasons"])
		new_reason = unique("Moved abroad ")
		with self.assertRaises(EnquiryActionError) as raised:
			api.mark_dead(enquiry.name, new_reason)
		self.assertEqual(raised.exception.code, "unknown_reason")
		with self.assertRaises(EnquiryActionError):
			api.mark_dead(enquiry.name, " ")
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, "status"), "New")
		frappe.set_user(MANAGER)
		self.assertTrue(api.dead_reasons()["can_add"])
		summary = api.mark_dead(enquiry.name, new_reason)
		self.assertEqual((summary["status"], summary["dead_reason"]), ("Dead", new_reason))
		self.assertTrue(frappe.db.exists("Opportunity Lost Reason", new_reason))
		self.assertFalse(api.mark_dead(enquiry.name, new_reason)["changed"])

	def test_no_action_is_stored_against_the_contact(self):
		contact = make_contact("Nora", email=unique_email())
		enquiry, conversation = manual_enquiry()
		frappe.set_user(AGENT)
		with self.assertRaises(EnquiryActionError) as raised:
			api.no_action(enquiry.name)
		self.assertEqual(raised.exception.code, "not_associated")
		api.associate(enquiry.name, "Contact", contact)
		summary = api.no_action(enquiry.name)
		self.assertEqual((summary["status"], summary["changed"]), ("No Action", True))
		self.assertFalse(api.no_action(enquiry.name)["changed"])
		frappe.set_user("Administrator")
		self.assertTrue(on_timeline("Contact", contact, conversation.name))
		notes = [row.content for row in get_comments("Contact", contact, "Info")]
		self.assertTrue(any(enquiry.name in note and "no action required" in note for note in notes), notes)

	def test_status_cannot_be_edited_around_the_actions(self):
		enquiry, _ = manual_enquiry()
		frappe.set_user(AGENT)
		doc = frappe.get_doc("Enquiry", enquiry.name)
		doc.status = "Opportunity"
		with self.assertRaises(frappe.PermissionError):
			doc.save()
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, "status"), "New")

	def test_an_agent_of_another_team_cannot_process(self):
		enquiry = self.enquiry_with_lead()
		frappe.set_user(OUTSIDER)
		for call in (
			lambda: api.create_opportunity(enquiry.name),
			lambda: api.mark_dead(enquiry.name, "Spam"),
			lambda: api.no_action(enquiry.name),
			lambda: api.get_open_opportunities(enquiry.name),
			lambda: api.reopen(enquiry.name),
		):
			with self.assertRaises(frappe.PermissionError):
				call()
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, "status"), "Associated")
		self.assertFalse(frappe.db.exists("Opportunity", {"mc_source_enquiry": enquiry.name}))

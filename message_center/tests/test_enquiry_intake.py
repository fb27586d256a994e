"""Intake: Create Enquiry by hand and the website's own /enquiry Web Form give the same records."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.website.doctype.web_form.web_form import accept

from message_center.api import enquiry as api
from message_center.api.web_form import rate_limit_key, visitor
from message_center.enquiries import InvalidEnquiry
from message_center.tests.enquiry_fixtures import (
	AGENT,
	COLLEAGUE,
	MANUAL_CHANNEL,
	OTHER_CHANNEL,
	OUTSIDER,
	TEAM,
	WEB_CHANNEL,
	EnquiryTestCase,
	communications_of,
	manual_enquiry,
	on_timeline,
	open_todos,
	set_up_teams,
	unique,
	unique_email,
	unique_phone,
)
from message_center.tests.factories import make_channel, make_contact


class ManualIntake(EnquiryTestCase):
	def test_create_enquiry_makes_the_enquiry_its_conversation_and_first_message(self):
		email = unique_email()
		enquiry, conversation = manual_enquiry(
			person_name="Pat <b>Phone</b>", email_id=email.upper(), phone="(415) 555-0123", source="Phone", message="Call me <script>x</script>\nplease"
		)
		self.assertEqual((enquiry.source, enquiry.status, enquiry.team, enquiry.channel), ("Phone", "New", TEAM, MANUAL_CHANNEL))
		self.assertEqual(enquiry.email_id, email)
		self.assertEqual(enquiry.phone, "+14155550123")
		self.assertEqual(enquiry.conversation, conversation.name)
		self.assertEqual((conversation.enquiry, conversation.medium, conversation.team), (enquiry.name, "Phone", TEAM))
		self.assertEqual(conversation.party_address, email)
		# The agent who took the call owns it, in the rules and in Frappe's assignment.
		self.assertEqual(conversation.claimed_by, AGENT)
		self.assertEqual(open_todos("Conversation", conversation.name), [AGENT])
		(message,) = communications_of(conversation.name)
		content = frappe.db.get_value("Communication", message, "content")
		self.assertIn("Call me &lt;script&gt;x&lt;/script&gt;<br>please", content)
		self.assertNotIn("<script>", content)
		self.assertEqual(frappe.db.get_value("Communication", message, "sent_or_received"), "Received")

	def test_guarded_fields_are_refused_and_nothing_is_stored(self):
		email = unique_email()
		for sneaky in ({"status": "Opportunity"}, {"owner": "Administrator"}, {"contact": "x"}, {"team": "x"}, {"claimed_by": COLLEAGUE}):
			with self.assertRaises(frappe.ValidationError, msg=sneaky):
				manual_enquiry(email_id=email, **sneaky)
		self.assertFalse(frappe.db.exists("Enquiry", {"email_id": email}))
		self.assertFalse(frappe.db.exists("Conversation", {"party_address": email}))

	def test_bad_input_gets_a_clear_error(self):
		cases = (
			({"email_id": None, "phone": None}, "email address or a phone number"),
			({"email_id": "not-an-email"}, "not a valid email address"),
			({"message": "  "}, "message"),
			({"phone": "12", "email_id": None}, "not a phone number"),
			({"potential_lead": "Maybe"}, "Potential Lead must be one of"),
			({"source": "Email"}, "arrive by themselves"),
			({"person_name": "x" * 500}, "too long"),
		)
		for fields, message in cases:
			with self.assertRaises(frappe.ValidationError, msg=fields) as raised:
				manual_enquiry(**fields)
			self.assertIn(message, str(raised.exception), fields)

	def test_an_agent_cannot_create_on_another_teams_channel(self):
		email = unique_email()
		with self.assertRaises(frappe.PermissionError):
			manual_enquiry(user=AGENT, channel=OTHER_CHANNEL, email_id=email)
		self.assertFalse(frappe.db.exists("Enquiry", {"email_id": email}))

	def test_an_exact_email_match_is_associated_at_once(self):
		email = unique_email()
		contact = make_contact("Known", email=email)
		enquiry, conversation = manual_enquiry(email_id=email)
		self.assertEqual((enquiry.status, enquiry.contact), ("Associated", contact))
		self.assertEqual(conversation.contact, contact)
		self.assertTrue(on_timeline("Contact", contact, conversation.name))

	def test_channel_default_assignee_and_campaign_assignee(self):
		channel = make_channel(unique("MC Test Assigned "), TEAM, default_assignee=COLLEAGUE)
		_, conversation = manual_enquiry(user=AGENT, channel=channel, source="Fax")
		self.assertEqual(conversation.claimed_by, COLLEAGUE)
		self.assertEqual(open_todos("Conversation", conversation.name), [COLLEAGUE])
		self.assertEqual(conversation.medium, "Fax")
		campaign = frappe.get_doc({"doctype": "Campaign", "campaign_name": unique("MC Spring "), "mc_default_assignee": AGENT}).insert()
		frappe.db.set_value("Channel", channel, "campaign", campaign.name)
		frappe.clear_document_cache("Channel", channel)
		enquiry, conversation = manual_enquiry(user=COLLEAGUE, channel=channel)
		self.assertEqual(conversation.claimed_by, AGENT)
		self.assertEqual(enquiry.campaign, campaign.name)

	def test_a_default_assignee_outside_the_team_is_skipped(self):
		channel = make_channel(unique("MC Test Misassigned "), TEAM, default_assignee=OUTSIDER)
		from message_center.enquiries import intake

		enquiry = intake(channel, {"email_id": unique_email(), "message": "hi"}, source="Manual")
		conversation = frappe.get_doc("Conversation", frappe.db.get_value("Enquiry", enquiry.name, "conversation"))
		self.assertIsNone(conversation.claimed_by)
		self.assertEqual(open_todos("Conversation", conversation.name), [])
		self.assertTrue(frappe.db.exists("Error Log", {"method": "Message Center: default assignee skipped"}))

	def test_update_details_edits_the_person_but_never_status_or_links(self):
		enquiry, conversation = manual_enquiry()
		frappe.set_user(AGENT)
		summary = api.update_details(enquiry.name, json.dumps({"person_name": "Erin Renamed", "potential_lead": "Yes", "interested_in": "Service"}))
		self.assertEqual((summary["person_name"], summary["interested_in"]), ("Erin Renamed", "Service"))
		self.assertEqual(frappe.db.get_value("Conversation", conversation.name, "party_name"), "Erin Renamed")
		for field in ("status", "contact", "opportunity", "team"):
			with self.assertRaises(frappe.ValidationError):
				api.update_details(enquiry.name, {field: "x"})
		with self.assertRaises(InvalidEnquiry):
			api.update_details(enquiry.name, {"email_id": "broken"})
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, "status"), "New")


	def test_the_desks_new_enquiry_form_goes_through_the_same_intake(self):
		"""An agent saving the standard New Enquiry form gets what Create Enquiry gives: checked fields,
		the conversation they own, and a person they picked associated through the service."""
		contact = make_contact("Dana", email=unique_email())
		phone = unique_phone()
		frappe.set_user(AGENT)
		doc = frappe.get_doc(
			{
				"doctype": "Enquiry",
				"source": "Phone",
				"channel": MANUAL_CHANNEL,
				"person_name": "Dana Desk",
				"phone": f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}",
				"message": "Rang about prices",
				"status": "Dead",
				"dead_reason": "Spam",
				"contact": contact,
			}
		).insert()
		enquiry = frappe.get_doc("Enquiry", doc.name)
		self.assertEqual((enquiry.phone, enquiry.status, enquiry.dead_reason, enquiry.contact), (phone, "Associated", None, contact))
		conversation = frappe.get_doc("Conversation", enquiry.conversation)
		self.assertEqual((conversation.medium, conversation.claimed_by, conversation.contact), ("Phone", AGENT, contact))
		self.assertEqual(open_todos("Conversation", conversation.name), [AGENT])
		self.assertTrue(on_timeline("Contact", contact, conversation.name))
		# Later plain edits cannot move the enquiry to somebody else behind the timelines' back.
		enquiry.contact = make_contact("Other", email=unique_email())
		with self.assertRaises(frappe.PermissionError):
			enquiry.save()
		self.assertEqual(frappe.db.get_value("Enquiry", enquiry.name, "contact"), contact)

	def test_the_desks_new_enquiry_form_refuses_bad_input_and_stores_nothing(self):
		frappe.set_user(AGENT)
		for fields, message in (({"email_id": "not-an-email"}, "not a valid email address"), ({"phone": "12"}, "not a phone number")):
			doc = frappe.get_doc({"doctype": "Enquiry", "source": "Fax", "channel": MANUAL_CHANNEL, "person_name": "Faxed In", **fields})
			with self.assertRaises(InvalidEnquiry, msg=fields) as raised:
				doc.insert()
			self.assertIn(message, str(raised.exception))
		self.assertFalse(frappe.db.exists("Enquiry", {"person_name": "Faxed In"}))


class WebFormIntake(FrappeTestCase):
	"""The standard Web Form at /enquiry, submitted as a guest through Frappe's own accept()."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		set_up_teams()
		frappe.db.set_single_value("Message Center Settings", "web_form_rate_limit", 100)

	def setUp(self):
		frappe.cache.delete(rate_limit_key(visitor()))
		frappe.set_user("Guest")

	def tearDown(self):
		frappe.flags.in_web_form = False
		frappe.set_user("Administrator")

	def submit(self, **data):
		data.setdefault("person_name", "Wendy Web")
		data.setdefault("message", "Please call me back")
		return accept("enquiry", json.dumps(data))

	def test_a_submission_creates_the_same_records_as_any_intake(self):
		email = unique_email()
		doc = self.submit(email_id=email, utm_source="newsletter", utm_medium="email", utm_campaign="spring")
		frappe.set_user("Administrator")
		enquiry = frappe.get_doc("Enquiry", doc.name)
		self.assertEqual((enquiry.source, enquiry.status, enquiry.channel, enquiry.team), ("Web Form", "New", WEB_CHANNEL, TEAM))
		self.assertEqual((enquiry.utm_source, enquiry.utm_medium, enquiry.utm_campaign), ("newsletter", "email", "spring"))
		conversation = frappe.get_doc("Conversation", enquiry.conversation)
		self.assertEqual((conversation.medium, conversation.party_address, conversation.enquiry), ("Web Form", email, enquiry.name))
		self.assertEqual(len(communications_of(conversation.name)), 1)

	def test_guest_fields_cannot_set_status_owner_links_or_assignee(self):
		"""Even a tampered form (fields the web form does not show) cannot choose what only agents decide."""
		email = unique_email()
		frappe.set_user("Administrator")
		somebody = make_contact("Somebody", email=unique_email())
		frappe.set_user("Guest")
		frappe.flags.in_web_form = True
		doc = frappe.get_doc(
			{
				"doctype": "Enquiry",
				"source": "Manual",
				"status": "Opportunity",
				"dead_reason": None,
				"team": "MC Test Enquiries Service",
				"channel": OTHER_CHANNEL,
				"contact": somebody,
				"person_name": "Tampered",
				"email_id": email,
				"message": "hi",
				"owner": "Administrator",
			}
		)
		doc.insert(ignore_permissions=True)
		frappe.set_user("Administrator")
		enquiry = frappe.get_doc("Enquiry", doc.name)
		self.assertEqual((enquiry.status, enquiry.source, enquiry.channel, enquiry.team), ("New", "Web Form", WEB_CHANNEL, TEAM))
		self.assertFalse(enquiry.contact)
		self.assertEqual(enquiry.owner, "Guest")
		self.assertIsNone(frappe.db.get_value("Conversation", enquiry.conversation, "claimed_by"))

	def test_invalid_submissions_are_refused_with_the_reason(self):
		with self.assertRaises(InvalidEnquiry) as raised:
			self.submit(email_id="nope")
		self.assertIn("not a valid email address", str(raised.exception))

	def test_the_form_is_rate_limited_per_visitor(self):
		frappe.db.set_single_value("Message Center Settings", "web_form_rate_limit", 2)
		try:
			self.submit(email_id=unique_email())
			self.submit(email_id=unique_email())
			email = unique_email()
			with self.assertRaises(frappe.TooManyRequestsError):
				self.submit(email_id=email)
			self.assertFalse(frappe.db.exists("Enquiry", {"email_id": email}))
		finally:
			frappe.db.set_single_value("Message Center Settings", "web_form_rate_limit", 100)

	def test_the_web_form_is_published_for_guests(self):
		form = frappe.get_doc("Web Form", "enquiry")
		self.assertEqual((form.route, form.doc_type, form.published, form.login_required), ("enquiry", "Enquiry", 1, 0))
		self.assertNotIn("status", {field.fieldname for field in form.web_form_fields})

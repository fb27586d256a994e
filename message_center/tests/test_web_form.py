"""The JSON endpoint for external landing pages, called over HTTP as a guest (in-process test client)."""

from urllib.parse import quote

import frappe
from frappe.tests.test_api import FrappeAPITestCase, make_request

from message_center.api.web_form import ENDPOINT, SECRET_HEADER
from message_center.tests.enquiry_fixtures import (
	AGENT,
	COLLEAGUE,
	OTHER_TEAM,
	TEAM,
	WEB_CHANNEL,
	set_up_teams,
	unique,
	unique_email,
)
from message_center.tests.factories import make_channel

SECRET = "landing-page-secret-42"
ORIGIN = "https://www.shop.example"
SMS_CHANNEL = "MC Test Enquiry SMS"


class WebFormEndpoint(FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		set_up_teams()
		channel = frappe.get_doc("Channel", WEB_CHANNEL)
		channel.web_form_secret = SECRET
		channel.allowed_origins = f"{ORIGIN}/\nhttps://landing.shop.example"
		channel.default_assignee = AGENT
		channel.save(ignore_permissions=True)
		make_channel(SMS_CHANNEL, TEAM, kind="SMS", twilio_account_sid="AC" + "1" * 32, twilio_auth_token="t", sms_from_number="+14155550999")
		frappe.db.set_single_value("Message Center Settings", "web_form_rate_limit", 50)
		frappe.db.commit()
		cls.emails = []

	@classmethod
	def tearDownClass(cls):
		# Requests commit their own transactions: remove what they stored.
		frappe.set_user("Administrator")
		for email in cls.emails:
			for conversation in frappe.get_all("Conversation", filters={"party_address": email}, pluck="name"):
				frappe.delete_doc("Conversation", conversation, force=True)
			for enquiry in frappe.get_all("Enquiry", filters={"email_id": email}, pluck="name"):
				frappe.delete_doc("Enquiry", enquiry, force=True)
		frappe.db.set_value("Channel", WEB_CHANNEL, "default_assignee", None)
		frappe.db.commit()
		super().tearDownClass()

	def email(self) -> str:
		email = unique_email("web")
		self.emails.append(email)
		return email

	def url(self, channel: str = WEB_CHANNEL) -> str:
		return self.method(ENDPOINT) + "?channel=" + quote(channel)

	def send(self, payload, channel: str = WEB_CHANNEL, secret: str | None = SECRET, origin: str | None = None, visitor: str | None = None):
		headers = {"X-Forwarded-For": visitor or f"10.9.{frappe.generate_hash(length=3)}"}
		if secret:
			headers[SECRET_HEADER] = secret
		if origin:
			headers["Origin"] = origin
		return self.post(self.url(channel), payload, headers=headers)

	def stored(self, email: str) -> bool:
		frappe.db.rollback()  # see what the request committed
		return bool(frappe.db.exists("Enquiry", {"email_id": email}) or frappe.db.exists("Conversation", {"party_address": email}))

	def test_a_signed_submission_is_stored_and_trusts_no_status_owner_or_assignee(self):
		email = self.email()
		response = self.send(
			{
				"name": "Lena Landing",
				"email": email,
				"phone": "+1 415 555 0177",
				"company": "Landing GmbH",
				"message": "Quote for 40 chairs <img src=x onerror=alert(1)>",
				"utm_source": "google",
				"utm_medium": "cpc",
				"utm_campaign": "chairs-q3",
				"budget": "5000",
				"status": "Opportunity",
				"owner": "Administrator",
				"assignee": COLLEAGUE,
				"claimed_by": COLLEAGUE,
				"team": OTHER_TEAM,
				"contact": "Administrator",
			},
		)
		self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
		self.assertEqual(response.json["message"], {"status": "received"})
		self.assertNotIn("ENQ-", response.get_data(as_text=True))  # a guest learns no ids
		frappe.db.rollback()
		enquiry = frappe.get_doc("Enquiry", {"email_id": email})
		self.assertEqual((enquiry.status, enquiry.source, enquiry.team, enquiry.owner), ("New", "Web Form", TEAM, "Guest"))
		self.assertEqual((enquiry.person_name, enquiry.company_name, enquiry.phone), ("Lena Landing", "Landing GmbH", "+14155550177"))
		self.assertEqual((enquiry.utm_source, enquiry.utm_medium, enquiry.utm_campaign), ("google", "cpc", "chairs-q3"))
		self.assertIsNone(enquiry.contact)
		conversation = frappe.get_doc("Conversation", enquiry.conversation)
		self.assertEqual((conversation.team, conversation.claimed_by, conversation.medium), (TEAM, AGENT, "Web Form"))
		content = frappe.get_all("Communication", filters={"reference_name": conversation.name}, pluck="content")[0]
		self.assertIn("budget: 5000", content)  # other landing-page fields are kept, as text
		self.assertNotIn("<img", content)
		self.assertNotIn("Opportunity", content)

	def test_wrong_or_missing_credentials_are_refused_and_nothing_is_stored(self):
		for secret, origin in (("wrong-secret", None), (None, None), (None, "https://evil.example"), ("wrong-secret", ORIGIN)):
			email = self.email()
			response = self.send({"email": email, "message": "hi"}, secret=secret, origin=origin)
			self.assertEqual(response.status_code, 403, (secret, origin))
			self.assertFalse(self.stored(email))
			if origin != ORIGIN:  # a foreign page's script may not even read the refusal
				self.assertNotIn("Access-Control-Allow-Origin", response.headers)

	def test_an_allowed_origin_may_post_without_the_secret_and_gets_cors_headers(self):
		email = self.email()
		response = self.send({"email": email, "message": "From the shop"}, secret=None, origin=ORIGIN)
		self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
		self.assertEqual(response.headers["Access-Control-Allow-Origin"], ORIGIN)
		self.assertIn("Origin", response.headers["Vary"])
		self.assertTrue(self.stored(email))

	def test_preflight_allows_the_secret_header_for_allowed_origins_only(self):
		def preflight(origin):
			headers = {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": SECRET_HEADER}
			return make_request(target=self.TEST_CLIENT.options, args=(self.url(),), kwargs={"headers": headers})

		response = preflight("https://landing.shop.example")
		self.assertEqual(response.status_code, 200)
		self.assertEqual(response.headers["Access-Control-Allow-Origin"], "https://landing.shop.example")
		self.assertIn("POST", response.headers["Access-Control-Allow-Methods"])
		self.assertIn(SECRET_HEADER, response.headers["Access-Control-Allow-Headers"])
		self.assertNotIn("Access-Control-Allow-Origin", preflight("https://evil.example").headers)

	def test_a_filled_honeypot_is_answered_like_success_and_stored_nowhere(self):
		email = self.email()
		before = frappe.db.count("Communication")
		response = self.send({"email": email, "message": "Cheap pills", "_gotcha": "http://spam.example"})
		self.assertEqual(response.status_code, 200)
		self.assertEqual(response.json["message"], {"status": "received"})
		self.assertFalse(self.stored(email))
		self.assertEqual(frappe.db.count("Communication"), before)

	def test_floods_get_429_per_visitor(self):
		frappe.db.set_single_value("Message Center Settings", "web_form_rate_limit", 3)
		frappe.db.commit()
		try:
			visitor = f"10.8.{frappe.generate_hash(length=4)}"
			for _ in range(3):
				self.assertEqual(self.send({"email": self.email(), "message": "hi"}, visitor=visitor).status_code, 200)
			email = self.email()
			response = self.send({"email": email, "message": "hi"}, visitor=visitor)
			self.assertEqual(response.status_code, 429)
			self.assertFalse(self.stored(email))
			# Somebody else is not affected.
			self.assertEqual(self.send({"email": self.email(), "message": "hi"}).status_code, 200)
		finally:
			frappe.db.set_single_value("Message Center Settings", "web_form_rate_limit", 50)
			frappe.db.commit()

	def test_bad_input_gets_400_with_the_reason(self):
		email = self.email()
		for payload, reason in (
			({"email": "not-an-address", "message": "hi"}, "not a valid email address"),
			({"message": "hi"}, "email address or a phone number"),
			({"email": email}, "message"),
			({"email": email, "message": "x" * 30000}, "too long"),
			([{"email": email}], "one JSON object"),
		):
			response = self.send(payload)
			self.assertEqual(response.status_code, 400, payload)
			self.assertIn(reason, response.json.get("_server_messages", ""), payload)
		self.assertFalse(self.stored(email))

	def test_only_enabled_web_form_channels_accept_submissions(self):
		email = self.email()
		for channel in (SMS_CHANNEL, "MC Test No Such Channel " + unique()):
			self.assertEqual(self.send({"email": email, "message": "hi"}, channel=channel).status_code, 403)
		frappe.db.set_value("Channel", WEB_CHANNEL, "enabled", 0)
		frappe.db.commit()
		frappe.clear_document_cache("Channel", WEB_CHANNEL)
		try:
			self.assertEqual(self.send({"email": email, "message": "hi"}).status_code, 403)
		finally:
			frappe.db.set_value("Channel", WEB_CHANNEL, "enabled", 1)
			frappe.db.commit()
			frappe.clear_document_cache("Channel", WEB_CHANNEL)
		self.assertFalse(self.stored(email))

	def test_get_is_not_accepted(self):
		response = self.get(self.url(), {"email": self.email(), "message": "hi"}, headers={SECRET_HEADER: SECRET})
		self.assertIn(response.status_code, (403, 405))

"""Twilio's webhooks over real HTTP: signatures, idempotency under concurrent retries, rate limits,
MMS media and out-of-order status callbacks."""

import threading

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import sms_inbound
from message_center.api import conversation as conversation_api
from message_center.message_center.doctype.conversation.conversation import actor_for
from message_center.sms_outbound import send_reply
from message_center.testing.twilio_webhooks import sign, signed_form_request, status_callback_params
from message_center.tests.factories import make_agent, make_team, timeline
from message_center.tests.sms_helpers import (
	AUTH_TOKEN,
	LiveServer,
	StandinConfig,
	count_messages,
	display_format,
	file_accepted,
	in_own_connections,
	inbound,
	make_sms_channel,
	random_number,
	rows_for,
)

AGENT = "mc.sms.hooks.agent@example.com"


def _set_rate_limit(value):
	settings = frappe.get_doc("Message Center Settings")
	settings.webhook_rate_limit = value
	settings.save(ignore_permissions=True)
	frappe.db.commit()


class TwilioWebhooks(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_agent(AGENT)
		cls.team = make_team("MC Test SMS Hooks", [AGENT])
		cls.channel = make_sms_channel("MC Test SMS Hooks", cls.team)
		cls.other_channel = make_sms_channel("MC Test SMS Hooks Two", cls.team, from_number="+14155550111")
		frappe.db.commit()
		cls.server = LiveServer().start()
		cls.addClassCleanup(cls.server.stop)

	def setUp(self):
		frappe.cache.delete_keys("message_center:webhook_rate")
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")

	def post(self, webhook, file=True, **header_changes):
		"""Deliver over HTTP, then (unless file=False) run the filing the webhook queued."""
		answer = self.server.deliver(webhook, **header_changes)
		frappe.db.commit()  # end this connection's snapshot: see what the server committed
		if file:
			file_accepted(self.channel)
		return answer

	def test_signed_text_from_a_contact_is_a_message_on_their_timelines(self):
		number = random_number()
		customer = frappe.get_doc(
			{"doctype": "Customer", "customer_name": f"MC Test SMS {number}", "customer_type": "Individual"}
		).insert(ignore_permissions=True)
		contact = frappe.get_doc({"doctype": "Contact", "first_name": "Sam", "last_name": "Texter"})
		contact.add_phone(display_format(number), is_primary_mobile_no=1)  # typed as free text
		contact.append("links", {"link_doctype": "Customer", "link_name": customer.name})
		contact.insert(ignore_permissions=True)
		frappe.db.commit()

		webhook = inbound(self.channel, number, "Do you deliver on <b>Sundays</b>?")
		answer = self.post(webhook)

		self.assertEqual(answer.status, 200, answer.body)
		self.assertTrue(answer.content_type.startswith("text/xml"))
		self.assertIn(b"<Response/>", answer.body)
		sid = dict(webhook_params(webhook))["MessageSid"]
		[row] = rows_for(sid)
		conversation = frappe.get_doc("Conversation", row.conversation)
		self.assertEqual((conversation.medium, conversation.party_address), ("SMS", number))
		self.assertEqual((conversation.contact, conversation.customer), (contact.name, customer.name))
		self.assertFalse(conversation.unmatched)
		self.assertEqual(conversation.status, "Open")
		self.assertIsNone(conversation.claimed_by)
		communication = frappe.get_doc("Communication", row.communication)
		self.assertEqual((communication.communication_medium, communication.sent_or_received), ("SMS", "Received"))
		# Plain text stays text: the markup is shown, never interpreted.
		self.assertIn("&lt;b&gt;Sundays&lt;/b&gt;", communication.content)
		self.assertIn(communication.name, timeline("Contact", contact.name))
		self.assertIn(communication.name, timeline("Customer", customer.name))
		# A new conversation is an enquiry, already associated with the person who texted.
		enquiry = frappe.get_doc("Enquiry", conversation.enquiry)
		self.assertEqual((enquiry.source, enquiry.status, enquiry.conversation), ("SMS", "Associated", conversation.name))
		self.assertEqual((enquiry.contact, enquiry.customer, enquiry.phone), (contact.name, customer.name, number))
		self.assertIn("Sundays", enquiry.message)

	def test_texts_join_the_open_conversation_and_start_a_new_one_after_close(self):
		number = random_number()
		self.assertEqual(self.post(inbound(self.channel, number, "Hi")).status, 200)
		self.assertEqual(self.post(inbound(self.channel, number, "Anyone there?")).status, 200)
		[first] = frappe.get_all("Conversation", filters={"channel": self.channel, "party_address": number}, pluck="name")
		self.assertEqual(frappe.db.get_value("Conversation", first, "message_count"), 2)

		frappe.set_user(AGENT)
		conversation_api.claim(first)
		conversation_api.close(first)
		frappe.set_user("Administrator")
		frappe.db.commit()
		self.assertEqual(self.post(inbound(self.channel, number, "One more question")).status, 200)
		conversations = frappe.get_all(
			"Conversation", filters={"channel": self.channel, "party_address": number}, fields=["name", "status"], order_by="creation"
		)
		self.assertEqual([row.status for row in conversations], ["Closed", "Open"])
		self.assertEqual(frappe.db.get_value("Conversation", conversations[1].name, "message_count"), 1)
		# Each conversation is one enquiry; an unknown number's is New, for the agent to associate.
		enquiries = [frappe.db.get_value("Conversation", row.name, "enquiry") for row in conversations]
		self.assertEqual(len(set(filter(None, enquiries))), 2)
		self.assertEqual(frappe.get_all("Enquiry", filters={"conversation": first}, pluck="status"), ["New"])

	def test_a_new_number_texting_only_a_keyword_opens_no_enquiry(self):
		number = random_number()
		self.assertEqual(self.post(inbound(self.channel, number, "HELP")).status, 200)
		[conversation] = frappe.get_all("Conversation", filters={"channel": self.channel, "party_address": number}, pluck="name")
		self.assertIsNone(frappe.db.get_value("Conversation", conversation, "enquiry"))
		self.assertFalse(frappe.db.exists("Enquiry", {"conversation": conversation}))

	def test_missing_forged_and_tampered_signatures_get_403_and_write_nothing(self):
		number = random_number()
		webhook = inbound(self.channel, number, "Send me your prices")
		params = webhook_params(webhook)
		other_channel_url = frappe.db.get_value("Channel", self.other_channel, "webhook_url")
		forged = signed_form_request(webhook.url, "not-the-auth-token", params)
		signed_elsewhere = signed_form_request("https://attacker.example/hook", AUTH_TOKEN, params)
		before = count_messages(self.channel), count_messages(self.other_channel)
		attempts = {
			"missing": self.post(webhook, **{"X-Twilio-Signature": None}),
			"empty": self.post(webhook, **{"X-Twilio-Signature": ""}),
			"forged": self.post(forged),
			"signed for another URL": self.server.post(webhook.url, webhook.body, signed_elsewhere.headers),
			"tampered body": self.server.post(webhook.url, webhook.body.replace(b"prices", b"secrets"), webhook.headers),
			"added field": self.server.post(webhook.url, webhook.body + b"&Extra=1", webhook.headers),
			"replayed to another channel": self.server.post(other_channel_url, webhook.body, webhook.headers),
		}
		frappe.db.commit()
		self.assertEqual({name: answer.status for name, answer in attempts.items()}, {name: 403 for name in attempts})
		self.assertEqual((count_messages(self.channel), count_messages(self.other_channel)), before)
		self.assertFalse(frappe.db.exists("Conversation", {"party_address": number}))
		# The genuine request still works afterwards.
		self.assertEqual(self.post(webhook).status, 200)
		self.assertEqual(len(rows_for(dict(webhook_params(webhook))["MessageSid"])), 1)

	def test_unknown_extra_parameters_still_validate(self):
		number = random_number()
		webhook = inbound(self.channel, number, "Hello", extra={"AddOns": '{"status":"successful"}', "SomethingNew": "1"})
		self.assertEqual(self.post(webhook).status, 200)
		self.assertEqual(len(rows_for(dict(webhook_params(webhook))["MessageSid"])), 1)

	def test_only_post_to_an_enabled_sms_channel(self):
		webhook = inbound(self.channel, random_number(), "Hello")
		unknown = webhook.url.split("?")[0] + "?channel=No%20Such%20Channel"
		params = webhook_params(webhook)
		answer = self.server.post(unknown, webhook.body, {**webhook.headers, "X-Twilio-Signature": sign(AUTH_TOKEN, unknown, params)})
		self.assertEqual(answer.status, 403)
		import urllib.request

		request = urllib.request.Request(
			f"{self.server.address}/api/method/message_center.api.twilio.incoming?channel=x", headers={"X-Frappe-Site-Name": self.server.site}
		)
		with self.assertRaises(urllib.error.HTTPError) as refused:
			urllib.request.urlopen(request, timeout=10)
		self.assertEqual(refused.exception.code, 403)

	def test_concurrent_duplicates_store_one_message(self):
		webhook = inbound(self.channel, random_number(), "Is this thing on?")
		start = threading.Barrier(8)
		answers = []

		def retry():
			start.wait()
			answers.append(self.server.deliver(webhook))  # its own connection, its own transaction

		threads = [threading.Thread(target=retry) for _ in range(8)]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join()
		file_accepted(self.channel)
		self.assertEqual([answer.status for answer in answers], [200] * 8)
		rows = rows_for(dict(webhook_params(webhook))["MessageSid"])
		self.assertEqual(len(rows), 1)
		self.assertEqual(
			frappe.db.count("Communication", {"reference_doctype": "Conversation", "reference_name": rows[0].conversation}), 1
		)

	def test_the_webhook_answers_first_and_a_job_files_the_text(self):
		from frappe.utils.background_jobs import create_job_id, get_queue

		webhook = inbound(self.channel, random_number(), "Quick answer please")
		self.assertEqual(self.post(webhook, file=False).status, 200)
		[row] = rows_for(dict(webhook_params(webhook))["MessageSid"])
		self.assertIsNone(row.communication)  # accepted, not filed yet
		self.assertIn("Quick answer please", frappe.db.get_value("Channel Message", row.name, "payload"))
		job = get_queue("short").fetch_job(create_job_id(sms_inbound.job_id(row.name)))
		self.assertIsNotNone(job, "the webhook queued no filing job")
		self.assertEqual(job.kwargs["kwargs"]["channel_message"], row.name)
		result = sms_inbound.process(row.name)  # what the worker runs
		frappe.db.commit()
		self.assertEqual(frappe.db.get_value("Channel Message", row.name, "communication"), result.communication)
		self.assertIsNone(frappe.db.get_value("Channel Message", row.name, "payload"))  # nothing kept twice
		self.assertIsNone(sms_inbound.process(row.name))  # a repeated job run files nothing again

	def test_texts_from_a_new_number_filed_concurrently_share_one_conversation(self):
		number = random_number()
		webhooks = [inbound(self.channel, number, f"Part {index}") for index in range(6)]
		for webhook in webhooks:
			self.assertEqual(self.post(webhook, file=False).status, 200)
		rows = [rows_for(dict(webhook_params(webhook))["MessageSid"])[0].name for webhook in webhooks]
		# Six workers file them at the same moment, and a repeated job for the first one too.
		results = in_own_connections(sms_inbound.process, [(row,) for row in rows] + [(rows[0],)])
		self.assertFalse([result for result in results if isinstance(result, Exception)])
		frappe.db.commit()
		conversations = frappe.get_all("Conversation", filters={"channel": self.channel, "party_address": number}, pluck="name")
		self.assertEqual(len(conversations), 1)
		self.assertEqual(frappe.db.get_value("Conversation", conversations[0], "message_count"), 6)
		self.assertEqual(frappe.db.count("Communication", {"reference_name": conversations[0]}), 6)

	def test_the_scheduler_sweep_files_a_text_whose_job_was_lost(self):
		sweep = "message_center.sms_inbound.process_pending"
		self.assertIn(sweep, frappe.get_hooks("scheduler_events")["cron"]["* * * * *"])
		webhook = inbound(self.channel, random_number(), "Did my job get lost?")
		self.assertEqual(self.post(webhook, file=False).status, 200)
		[row] = rows_for(dict(webhook_params(webhook))["MessageSid"])
		sms_inbound.process_pending(channel=self.channel)  # a fresh text may still have its job coming
		frappe.db.commit()
		self.assertIsNone(frappe.db.get_value("Channel Message", row.name, "communication"))
		# A minute later nobody filed it: the sweep does.
		frappe.db.set_value("Channel Message", row.name, "creation", frappe.utils.add_to_date(None, minutes=-2))
		frappe.db.commit()
		self.assertEqual(sms_inbound.process_pending(channel=self.channel), 1)
		frappe.db.commit()
		communication = frappe.db.get_value("Channel Message", row.name, "communication")
		self.assertTrue(communication)
		self.assertIn("Did my job get lost?", frappe.db.get_value("Communication", communication, "content"))

	def test_a_text_that_cannot_be_filed_is_kept_for_review_not_retried_forever(self):
		webhook = inbound(self.channel, random_number(), "Broken on the way")
		self.assertEqual(self.post(webhook, file=False).status, 200)
		[row] = rows_for(dict(webhook_params(webhook))["MessageSid"])
		# The kept form lost its MessageSid (say, edited by hand): filing it must fail, visibly.
		form = frappe.parse_json(frappe.db.get_value("Channel Message", row.name, "payload"))
		kept = [(key, value) for key, value in form if not key.endswith("Sid")]
		frappe.db.set_value("Channel Message", row.name, "payload", frappe.as_json(kept))
		frappe.db.commit()
		with self.assertRaises(sms_inbound.InvalidWebhook):
			sms_inbound.process(row.name)
		values = frappe.db.get_value("Channel Message", row.name, ["needs_review", "review_note", "payload"], as_dict=True)
		self.assertEqual(values.needs_review, 1)
		self.assertIn("MessageSid", values.review_note)
		self.assertIn("Broken on the way", values.payload)  # nothing lost
		sms_inbound.process_pending(older_than_seconds=0, channel=self.channel)  # the sweep leaves it alone
		frappe.db.commit()
		self.assertIsNone(frappe.db.get_value("Channel Message", row.name, "communication"))

	def test_a_text_caught_in_a_lock_wait_is_filed_later_not_parked_for_review(self):
		number = random_number()
		self.assertEqual(self.post(inbound(self.channel, number, "First")).status, 200)
		conversation = frappe.db.get_value("Conversation", {"channel": self.channel, "party_address": number})
		webhook = inbound(self.channel, number, "Waiting for a lock")
		self.assertEqual(self.post(webhook, file=False).status, 200)
		[row] = rows_for(dict(webhook_params(webhook))["MessageSid"])
		locked, release = threading.Event(), threading.Event()
		site = frappe.local.site

		def hold_the_conversation():  # another transaction, on its own connection, is updating it
			frappe.init(site=site)
			frappe.connect()
			try:
				frappe.db.sql("select name from `tabConversation` where name = %s for update", (conversation,))
				locked.set()
				release.wait(30)
				frappe.db.rollback()
			finally:
				frappe.destroy()

		holder = threading.Thread(target=hold_the_conversation)
		holder.start()
		self.assertTrue(locked.wait(30))
		try:
			frappe.db.sql("set session innodb_lock_wait_timeout = 1")
			with self.assertRaises(frappe.QueryTimeoutError):
				sms_inbound.process(row.name)
		finally:
			frappe.db.sql("set session innodb_lock_wait_timeout = 50")
			release.set()
			holder.join()
		frappe.db.commit()
		values = frappe.db.get_value("Channel Message", row.name, ["needs_review", "communication", "payload"], as_dict=True)
		self.assertEqual((values.needs_review, values.communication), (0, None))
		self.assertIn("Waiting for a lock", values.payload)
		self.assertTrue(sms_inbound.process(row.name).communication)  # the sweep's next try files it

	def test_abusers_are_rate_limited(self):
		_set_rate_limit(3)
		self.addCleanup(_set_rate_limit, 120)
		number = random_number()
		answers = [self.post(inbound(self.channel, number, f"spam {index}")).status for index in range(4)]
		self.assertEqual(answers, [200, 200, 200, 429])
		self.assertEqual(frappe.db.get_value("Conversation", {"party_address": number}, "message_count"), 3)
		# Another sender is not affected by this one.
		self.assertEqual(self.post(inbound(self.channel, random_number(), "hello")).status, 200)
		# A client failing signatures is shut out after the limit, before any verification.
		webhook = inbound(self.channel, random_number(), "forged")
		forged = [self.post(webhook, **{"X-Twilio-Signature": "bad"}).status for _ in range(4)]
		self.assertEqual(forged, [403, 403, 403, 429])

	def test_mms_media_are_attachments_of_the_message(self):
		media = [
			("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
			("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "application/pdf"),
			("javascript:alert(1)", "text/html"),
		]
		webhook = inbound(self.channel, random_number(), "", media=media)
		self.assertEqual(self.post(webhook).status, 200)
		[row] = rows_for(dict(webhook_params(webhook))["MessageSid"])
		files = frappe.get_all(
			"File", filters={"attached_to_doctype": "Communication", "attached_to_name": row.communication}, pluck="file_url"
		)
		self.assertEqual(sorted(files), sorted(url for url, _ in media[:2]))
		self.assertEqual(frappe.db.get_value("Communication", row.communication, "has_attachment"), 1)

	def test_status_callbacks_move_forward_only_whatever_their_order(self):
		number = random_number()
		self.assertEqual(self.post(inbound(self.channel, number, "Call me back?")).status, 200)
		conversation = frappe.get_doc("Conversation", {"channel": self.channel, "party_address": number})
		frappe.set_user(AGENT)
		conversation_api.claim(conversation.name)
		with StandinConfig() as twilio:
			first = send_reply(frappe.get_doc("Conversation", conversation.name), "Sure, at 3pm", actor_for(AGENT), [])
			second = send_reply(frappe.get_doc("Conversation", conversation.name), "Or 4pm?", actor_for(AGENT), [])
			frappe.set_user("Administrator")
			messages = {request.sid: request.param("StatusCallback") for request in twilio.create_requests}

			def callback(result, status, error_code=None, by_url=True):
				sid = frappe.db.get_value("Channel Message", result["channel_message"], "external_id")
				url = messages[sid] if by_url else frappe.db.get_value("Channel", self.channel, "status_callback_url")
				params = status_callback_params(twilio.message(sid), status, error_code=error_code)
				return self.post(signed_form_request(url, AUTH_TOKEN, params)).status

			def stored(result):
				return frappe.db.get_value("Channel Message", result["channel_message"], ["status", "error_code"])

			self.assertEqual(stored(first), ("Queued", None))
			self.assertEqual([callback(first, status) for status in ("delivered", "sent", "queued", "sending")], [200] * 4)
			self.assertEqual(stored(first)[0], "Delivered")
			self.assertEqual(callback(first, "undelivered", error_code=30003), 200)
			self.assertEqual(stored(first)[0], "Delivered")  # an outcome is final
			self.assertEqual(frappe.db.get_value("Communication", first["communication"], "delivery_status"), "Sent")

			# A callback found by its MessageSid (no row in the URL) works too, and failures keep their reason.
			self.assertEqual(callback(second, "sent", by_url=False), 200)
			self.assertEqual(callback(second, "undelivered", error_code=30007, by_url=False), 200)
			self.assertEqual(callback(second, "delivered", by_url=False), 200)
			status, code = stored(second)
			self.assertEqual((status, code), ("Undelivered", "30007"))
			self.assertIn("spam", frappe.db.get_value("Channel Message", second["channel_message"], "error_message"))

			# A forged callback changes nothing.
			sid = frappe.db.get_value("Channel Message", first["channel_message"], "external_id")
			forged = signed_form_request(messages[sid], "wrong-token", status_callback_params(twilio.message(sid), "failed"))
			self.assertEqual(self.post(forged).status, 403)
			self.assertEqual(stored(first)[0], "Delivered")


def webhook_params(webhook):
	from urllib.parse import parse_qsl

	return parse_qsl(webhook.body.decode(), keep_blank_values=True)

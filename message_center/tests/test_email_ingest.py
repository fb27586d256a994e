"""Mail sync into the site against a real Dovecot: what becomes a Conversation, an Enquiry and a
Communication, how mail threads, who it is matched to, and what is flagged or kept raw."""

import base64
import json

import frappe

from message_center import messages
from message_center.api import inbox
from message_center.api.messages import history
from message_center.core import conversation_rules as rules
from message_center.tests.factories import make_contact, make_team, timeline
from message_center.tests.mail_lab import (
	DovecotTestCase,
	channel_messages,
	communications,
	conversations,
	mail,
	make_email_channel,
	settings,
	stored_bytes,
	suffix,
	sync,
)

PIXEL = base64.b64encode(
	base64.b64decode(
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	)
).decode()

# The last part of a multipart/mixed body (boundary "mix"): a 300 kB zip, over a 0.1 MB limit.
HUGE_ZIP_PART = (
	'--mix\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename="huge.zip"\r\n'
	"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"x" * 300_000).decode() + "\r\n--mix--\r\n"
)


class EmailIngest(DovecotTestCase):
	address_prefix = "info"

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.team = make_team("MC Test Mail Team", [])
		cls.key = suffix()
		cls.customer = (
			frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": f"MC Test Lovelace {cls.key}",
					"customer_type": "Company",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		cls.ada_email = f"ada.{cls.key}@lovelace-{cls.key}.example"
		cls.ada_name = f"Ada Lovelace{cls.key}"  # unique per run: earlier runs' Adas must not compete
		cls.ada = make_contact("Ada", email=cls.ada_email, last_name=f"Lovelace{cls.key}")
		contact = frappe.get_doc("Contact", cls.ada)
		contact.append("links", {"link_doctype": "Customer", "link_name": cls.customer})
		contact.save(ignore_permissions=True)
		frappe.db.commit()

	def setUp(self):
		super().setUp()
		self.channel = make_email_channel(self.team, self.box, self.address)

	def closed_conversation(self, message_id: str):
		"""A customer's first mail, imported, and the conversation closed by a manager."""
		self.box.deliver(mail(to=self.address, message_id=message_id))
		sync(self.channel)
		conversation = self.only_conversation()
		conversation.apply_event(rules.Action.CLOSE, actor=rules.Actor("Administrator", is_manager=True))
		conversation.save_via_rules()
		frappe.db.commit()
		return conversation

	def only_conversation(self):
		(conversation,) = conversations(self.channel)
		return frappe.get_doc("Conversation", conversation.name)

	# ---- new mail -----------------------------------------------------------------------------

	def test_mail_from_a_known_contact_opens_a_linked_conversation_and_enquiry_on_the_timelines(self):
		self.box.deliver(
			mail(
				sender=f"{self.ada_name} <{self.ada_email}>",
				to=self.address,
				subject="Quote for 40 widgets",
				message_id=f"<q1-{self.key}@lovelace.example>",
				body="Hello,\nplease quote 40 widgets.\n\nOn Monday you wrote:\n> old text\n",
			)
		)

		result = sync(self.channel)

		self.assertTrue(result.ok, result.error)
		self.assertEqual(result.stored, 1)
		conversation = self.only_conversation()
		self.assertEqual((conversation.contact, conversation.customer), (self.ada, self.customer))
		self.assertEqual(
			(conversation.medium, conversation.status, conversation.party_address),
			("Email", "Open", self.ada_email),
		)
		self.assertEqual(conversation.party_name, self.ada_name)
		self.assertFalse(conversation.unmatched)
		self.assertEqual(conversation.message_count, 1)
		self.assertTrue(conversation.waiting_since and conversation.unclaimed_since)
		self.assertEqual(conversation.thread_subject, "quote for 40 widgets")
		enquiry = frappe.get_doc("Enquiry", conversation.enquiry)
		self.assertEqual(
			(enquiry.source, enquiry.channel, enquiry.conversation),
			("Email", self.channel, conversation.name),
		)
		self.assertEqual(
			(enquiry.email_id, enquiry.person_name, enquiry.contact, enquiry.team),
			(self.ada_email, self.ada_name, self.ada, self.team),
		)
		self.assertEqual(enquiry.status, "Associated")  # linked at once, as the enquiry rules say
		self.assertIn("please quote 40 widgets", enquiry.message)
		self.assertNotIn("old text", enquiry.message)  # the quoted history is left out
		(communication,) = communications(conversation.name)
		self.assertEqual(
			(communication.sent_or_received, communication.communication_medium), ("Received", "Email")
		)
		self.assertEqual(
			(communication.sender, communication.message_id),
			(self.ada_email, f"q1-{self.key}@lovelace.example"),
		)
		self.assertIn("please quote 40 widgets", communication.content)
		for doctype, name in (
			("Contact", self.ada),
			("Customer", self.customer),
			("Conversation", conversation.name),
		):
			self.assertIn(communication.name, timeline(doctype, name), doctype)
		(row,) = channel_messages(self.channel)
		self.assertEqual((row.direction, row.status, row.kind), ("Inbound", "Received", "Normal"))
		self.assertEqual(
			(row.external_id, row.conversation, row.communication),
			(f"<q1-{self.key}@lovelace.example>", conversation.name, communication.name),
		)
		self.assertEqual((row.imap_folder, row.imap_uid), ("INBOX", "1"))

	def test_a_known_name_from_an_unknown_address_is_unmatched_and_the_agent_is_offered_that_person(self):
		from message_center.api import enquiry as enquiry_api

		private = f"ada.{self.key}@gmail.com"  # Ada, writing from home
		self.box.deliver(
			mail(sender=f"{self.ada_name} <{private}>", to=self.address, message_id=f"<u-{self.key}@x>")
		)

		sync(self.channel)

		conversation = self.only_conversation()
		self.assertTrue(conversation.unmatched)
		self.assertFalse(conversation.contact or conversation.lead or conversation.customer)
		enquiry = frappe.get_doc("Enquiry", conversation.enquiry)
		self.assertEqual((enquiry.status, enquiry.contact), ("New", None))
		# the Associate dialog ranks similar people when it opens
		suggestions = enquiry_api.get_suggestions(enquiry.name)
		self.assertEqual((suggestions[0]["doctype"], suggestions[0]["name"]), ("Contact", self.ada))
		self.assertIn("same name", suggestions[0]["reasons"])
		self.assertFalse(suggestions[0]["same_email"])

	def test_a_contacts_second_address_or_a_leads_address_links_that_person(self):
		work = f"ada.work.{self.key}@lovelace-{self.key}.example"
		contact = frappe.get_doc("Contact", self.ada)
		contact.append("email_ids", {"email_id": work})
		contact.save(ignore_permissions=True)
		lead_address = f"grace.{self.key}@navy-{self.key}.example"
		lead = frappe.get_doc(
			{"doctype": "Lead", "first_name": "Grace", "last_name": f"Hopper{self.key}", "email_id": lead_address}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		for number, sender in enumerate((work, lead_address)):
			self.box.deliver(
				mail(sender=sender, to=self.address, subject=f"Hello {number}", message_id=f"<s{number}-{self.key}@x>")
			)

		sync(self.channel)

		by_address = {row.party_address: row for row in conversations(self.channel)}
		self.assertEqual((by_address[work].contact, by_address[work].customer), (self.ada, self.customer))
		self.assertEqual(by_address[lead_address].lead, lead.name)
		self.assertFalse(by_address[work].unmatched or by_address[lead_address].unmatched)

	def test_two_contacts_with_the_address_are_not_linked_and_both_are_kept_for_the_agent(self):
		twin = frappe.get_doc({"doctype": "Contact", "first_name": "Ada", "last_name": f"Twin{self.key}"})
		twin.add_email(self.ada_email, is_primary=1)
		twin = twin.insert(ignore_permissions=True).name
		frappe.db.commit()
		try:
			self.box.deliver(
				mail(sender=f"{self.ada_name} <{self.ada_email}>", to=self.address, message_id=f"<t-{self.key}@x>")
			)
			sync(self.channel)
			conversation = self.only_conversation()
			self.assertTrue(conversation.unmatched)
			self.assertFalse(conversation.contact)
			kept = {row["name"] for row in json.loads(conversation.match_suggestions)}
			self.assertEqual(kept, {self.ada, twin})
		finally:
			frappe.delete_doc("Contact", twin, force=True, ignore_permissions=True)
			frappe.db.commit()

	def test_a_sender_of_several_new_threads_is_looked_up_once_per_run_and_each_thread_is_told(self):
		from unittest import mock

		from message_center import people, realtime

		private = f"ada.{self.key}@gmail.com"
		for number in (1, 2):
			self.box.deliver(
				mail(
					sender=f"{self.ada_name} <{private}>",
					to=self.address,
					subject=f"Question {number}",
					message_id=f"<m{number}-{self.key}@x>",
				)
			)
		with (
			mock.patch.object(
				people, "exact_email_candidates", wraps=people.exact_email_candidates
			) as looked_up,
			mock.patch.object(people, "suggestions", wraps=people.suggestions) as ranked,
			mock.patch.object(realtime, "_audience", wraps=realtime._audience) as audiences,
			mock.patch.object(frappe, "publish_realtime") as published,
		):
			sync(self.channel)

		self.assertEqual(looked_up.call_count, 1)
		self.assertEqual(ranked.call_count, 0)  # nobody opened the Associate dialog
		self.assertEqual(audiences.call_count, 1)  # the team's audience, read once for the run
		told = {
			call.args[1]["conversation"]
			for call in published.call_args_list
			if call.args[0] == realtime.EVENT
		}
		found = conversations(self.channel)
		self.assertEqual(len(found), 2)
		self.assertEqual(told, {conversation.name for conversation in found})
		self.assertTrue(all(conversation.unmatched for conversation in found))

	# ---- threading ----------------------------------------------------------------------------

	def test_replies_thread_by_in_reply_to_references_and_subject_without_a_new_enquiry(self):
		first = f"<t1-{self.key}@customer.example>"
		self.box.deliver(mail(to=self.address, subject="Delivery to Leeds", message_id=first))
		sync(self.channel)
		self.box.deliver(
			mail(
				to=self.address,
				subject="Re: Delivery to Leeds",
				message_id=f"<t2-{self.key}@c>",
				headers={"In-Reply-To": first},
			),
			mail(
				to=self.address,
				subject="AW: Delivery to Leeds",
				message_id=f"<t3-{self.key}@c>",
				headers={"References": f"<unknown@x> {first}"},
			),
			mail(
				to=self.address, subject="RE: [External] Delivery to Leeds", message_id=f"<t4-{self.key}@c>"
			),
		)

		result = sync(self.channel)

		self.assertEqual(result.stored, 3)
		conversation = self.only_conversation()
		self.assertEqual(len(communications(conversation.name)), 4)
		self.assertEqual(conversation.message_count, 4)
		self.assertEqual(frappe.db.count("Enquiry", {"channel": self.channel}), 1)

	def test_the_list_previews_what_a_reply_says_and_the_message_keeps_the_quote(self):
		first = f"<p1-{self.key}@customer.example>"
		self.box.deliver(mail(to=self.address, subject="Skylights", message_id=first, body="Do you fit skylights?\n"))
		sync(self.channel)
		quoting = (
			"Friday works for us.\n\n"
			"On Mon, 2 Nov 2026 at 10:00, Acme Sales <info@acme.example> wrote:\n"
			"> We can come on Friday.\n> Do you fit skylights?\n"
		)
		self.box.deliver(
			mail(to=self.address, subject="Re: Skylights", message_id=f"<p2-{self.key}@c>", body=quoting, headers={"In-Reply-To": first})
		)

		sync(self.channel)

		conversation = self.only_conversation()
		self.assertEqual(conversation.last_message_preview, "Friday works for us.")
		latest = communications(conversation.name)[-1]
		self.assertIn("&gt; We can come on Friday.", latest.content)  # the mail itself is kept whole
		# the conversation view shows the new part first, the whole mail one click away
		items = {item["subject"]: item for item in history(conversation=conversation.name)["items"]}
		first_item, reply_item = items["Skylights"], items["Re: Skylights"]
		self.assertNotIn("new_text", first_item)  # nothing to fold in a first mail
		self.assertEqual(reply_item["new_text"], "Friday works for us.")
		self.assertIn("We can come on Friday.", reply_item["html"])

	def test_other_people_with_the_same_subject_start_their_own_conversations(self):
		self.box.deliver(
			mail(
				sender="a@one.example", to=self.address, subject="Price list", message_id=f"<p1-{self.key}@x>"
			)
		)
		sync(self.channel)
		self.box.deliver(
			mail(
				sender="b@two.example",
				to=self.address,
				subject="Re: Price list",
				message_id=f"<p2-{self.key}@x>",
			)
		)
		sync(self.channel)
		self.assertEqual(len(conversations(self.channel)), 2)

	def test_a_reply_to_a_closed_conversation_starts_a_new_one_as_the_rules_say(self):
		first = f"<c1-{self.key}@customer.example>"
		conversation = self.closed_conversation(first)
		self.box.deliver(
			mail(
				to=self.address,
				subject="Re: Question about delivery",
				message_id=f"<c2-{self.key}@c>",
				headers={"In-Reply-To": first},
			)
		)

		sync(self.channel)

		old, new = conversations(self.channel)
		self.assertEqual((old.name, old.status, new.status), (conversation.name, "Closed", "Open"))
		self.assertEqual(len(communications(new.name)), 1)
		self.assertEqual(new.thread_subject, "question about delivery")

	# ---- automatic mail ------------------------------------------------------------------------

	def test_auto_replies_bounces_and_list_mail_are_flagged_and_never_open_an_enquiry(self):
		first = f"<a1-{self.key}@customer.example>"
		conversation = self.closed_conversation(first)
		self.box.deliver(
			mail(
				to=self.address,
				subject="Automatic reply: Question about delivery",
				message_id=f"<a2-{self.key}@c>",
				headers={"Auto-Submitted": "auto-replied", "In-Reply-To": first},
			),
			mail(
				sender="Industry News <news@lists.example.net>",
				to=self.address,
				subject="Newsletter",
				message_id=f"<a3-{self.key}@lists>",
				headers={"Precedence": "bulk", "List-Id": "<news.lists.example.net>"},
			),
		)

		result = sync(self.channel)

		self.assertEqual(result.stored, 2)
		closed, newsletter = conversations(self.channel)
		self.assertEqual(
			(closed.name, closed.status, closed.message_count), (conversation.name, "Closed", 1)
		)  # stays closed, nobody waits
		self.assertEqual(len(communications(closed.name)), 2)
		self.assertFalse(newsletter.enquiry)
		self.assertFalse(newsletter.waiting_since)
		kinds = {row.external_id: row.kind for row in channel_messages(self.channel)}
		self.assertEqual(kinds[f"<a2-{self.key}@c>"], "Auto Reply")
		self.assertEqual(kinds[f"<a3-{self.key}@lists>"], "List")
		self.assertEqual(frappe.db.count("Enquiry", {"channel": self.channel}), 1)
		# what the agent's conversation view reads: each message says what sent it
		shown = {
			item["subject"]: item["message_kind"]
			for name in (closed.name, newsletter.name)
			for item in history(conversation=name)["items"]
		}
		self.assertEqual(shown["Automatic reply: Question about delivery"], "Auto Reply")
		self.assertEqual(shown["Newsletter"], "List")
		self.assertEqual(shown["Question about delivery"], "Normal")

	def test_machine_mail_that_belongs_to_no_conversation_is_kept_closed_out_of_the_queues(self):
		newsletter_id = f"<m1-{self.key}@lists>"
		self.box.deliver(
			mail(
				sender="Industry News <news@lists.example.net>",
				to=self.address,
				subject="Newsletter",
				message_id=newsletter_id,
				headers={"Precedence": "bulk", "List-Id": "<news.lists.example.net>"},
			),
			mail(
				sender="Pat Buyer <pat@buyer.example>",
				to=self.address,
				subject="Out of office",
				message_id=f"<m2-{self.key}@buyer>",
				headers={"Auto-Submitted": "auto-replied"},
			),
			mail(to=self.address, message_id=f"<m3-{self.key}@customer>"),
		)

		self.assertEqual(sync(self.channel).stored, 3)

		by_subject = {row.subject: row for row in conversations(self.channel)}
		for subject in ("Newsletter", "Out of office"):
			kept = by_subject[subject]
			self.assertEqual((kept.status, kept.waiting_since, kept.unclaimed_since), ("Closed", None, None))
			self.assertFalse(kept.enquiry)
			self.assertEqual(len(communications(kept.name)), 1)  # kept, with the mail on it
		self.assertEqual(by_subject["Question about delivery"].status, "Open")

		def listed(view):
			return {row["subject"] for row in inbox.list(view=view, channel=self.channel)["rows"]}

		self.assertEqual(listed("open"), {"Question about delivery"})
		self.assertEqual(listed("unassigned"), {"Question about delivery"})
		self.assertEqual(listed("closed"), {"Newsletter", "Out of office"})

		# A person answering it is a customer writing after closing: a new conversation waits on the team.
		self.box.deliver(
			mail(
				sender="Industry News Editor <news@lists.example.net>",
				to=self.address,
				subject="Re: Newsletter",
				message_id=f"<m4-{self.key}@lists>",
				headers={"In-Reply-To": newsletter_id},
			)
		)
		sync(self.channel)
		answered = [row for row in conversations(self.channel) if row.party_address == "news@lists.example.net"]
		self.assertEqual([row.status for row in answered], ["Closed", "Open"])
		self.assertTrue(answered[1].waiting_since)

	def test_our_own_mail_is_never_imported_but_a_web_form_relay_is(self):
		self.box.deliver(
			mail(
				sender=f"Acme Sales <{self.address}>",
				to="someone@example.org",
				subject="Our offer",
				message_id=f"<o1-{self.key}@acme>",
			),
			mail(
				sender=f"Website <{self.address}>",
				to=self.address,
				subject="Website enquiry",
				message_id=f"<o2-{self.key}@acme>",
				headers={"Reply-To": "Grace Hopper <grace@navy.example>"},
			),
		)

		result = sync(self.channel)

		self.assertEqual((result.stored, result.skipped), (1, 1))
		conversation = self.only_conversation()
		self.assertEqual(conversation.party_address, "grace@navy.example")
		self.assertEqual(
			frappe.db.get_value("Enquiry", conversation.enquiry, "email_id"), "grace@navy.example"
		)

	# ---- content ------------------------------------------------------------------------------

	def test_attachments_are_private_files_inline_images_are_rewritten_and_oversize_ones_noted(self):
		body = (
			"--mix\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n"
			'--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src="cid:logo@x"> and the drawing.</p>'
			'<script>alert(1)</script><a href="javascript:alert(2)">x</a>\r\n'
			f"--rel\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <logo@x>\r\n\r\n{PIXEL}\r\n--rel--\r\n"
			'--mix\r\nContent-Type: application/pdf; name="drawing.pdf"\r\nContent-Disposition: attachment; filename="drawing.pdf"\r\n'
			"Content-Transfer-Encoding: base64\r\n\r\n"
			+ base64.encodebytes(b"%PDF-1.4 small").decode()
			+ "\r\n"
			+ HUGE_ZIP_PART
		)
		self.box.deliver(
			mail(
				to=self.address,
				message_id=f"<f1-{self.key}@x>",
				content_type='multipart/mixed; boundary="mix"',
				body=body,
			)
		)

		with settings(attachment_size_limit_mb=0.1):
			sync(self.channel)

		(communication,) = communications(self.only_conversation().name)
		files = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Communication", "attached_to_name": communication.name},
			fields=["file_name", "file_url", "is_private"],
		)
		self.assertEqual(len(files), 2)
		self.assertIn("drawing.pdf", {file.file_name for file in files})
		self.assertTrue(
			all(file.is_private and file.file_url.startswith("/private/files/") for file in files)
		)
		logo = next(file for file in files if file.file_name != "drawing.pdf")
		self.assertIn(f'src="{logo.file_url}"', communication.content)
		self.assertNotIn("cid:", communication.content)
		self.assertNotIn("<script", communication.content)
		self.assertNotIn("javascript:", communication.content)
		self.assertIn("huge.zip", communication.content)  # the skipped attachment is noted on the message
		self.assertIn("huge.zip", channel_messages(self.channel)[0].review_note)

	def test_a_folded_reply_still_shows_what_the_import_noted_on_it(self):
		body = (
			'--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
			"Drawing too big, sorry.\r\n\r\nOn Mon, 2 Nov 2026 at 10:00, Acme <info@acme.example> wrote:\r\n> Send us the drawing.\r\n"
			+ HUGE_ZIP_PART
		)
		self.box.deliver(
			mail(to=self.address, message_id=f"<n1-{self.key}@x>", content_type='multipart/mixed; boundary="mix"', body=body)
		)

		with settings(attachment_size_limit_mb=0.1):
			sync(self.channel)

		(item,) = history(conversation=self.only_conversation().name)["items"]
		self.assertEqual(item["new_text"], "Drawing too big, sorry.")
		(note,) = item["notes"]  # shown under the new part: the skipped file is not folded away
		self.assertIn("huge.zip", note)
		self.assertNotIn("huge.zip", item["new_text"])

	def test_broken_charsets_decode_with_replacement_and_the_original_is_kept_for_review(self):
		raw = (
			b"From: =?x-bogus?q?M=FCller?= <m@example.de>\r\nTo: "
			+ self.address.encode()
			+ b"\r\nSubject: =?utf-8?b?invalid***?= Gr\xfc\xdfe\r\n"
			b"Message-ID: <cs-"
			+ self.key.encode()
			+ b"@x>\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nK\xf6ln \xff\xfe\r\n"
		)
		self.box.deliver(raw)

		result = sync(self.channel)

		self.assertEqual((result.stored, result.poison), (1, 0))
		(communication,) = communications(self.only_conversation().name)
		self.assertIn("ln", communication.content)
		self.assertIn("damaged", communication.content)  # the agent is told what they read may be off
		(row,) = channel_messages(self.channel, needs_review=1)
		self.assertEqual(row.communication, communication.name)
		self.assertIn("no-such-charset", row.review_note)
		(file,) = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Channel Message", "attached_to_name": row.name},
			fields=["name", "is_private"],
		)
		self.assertTrue(file.is_private)
		self.assertEqual(stored_bytes(file.name), raw)

	def test_unparseable_mail_is_kept_raw_for_review_and_does_not_block_the_mailbox(self):
		garbage = b"this is no mail at all \xff\xfe\r\njust bytes\r\n"
		self.box.deliver(garbage, mail(to=self.address, message_id=f"<after-{self.key}@x>"))

		result = sync(self.channel)

		self.assertTrue(result.ok)
		self.assertEqual((result.poison, result.stored), (1, 1))
		(raw_row,) = channel_messages(self.channel, needs_review=1)
		self.assertIn("kept raw", raw_row.review_note)
		self.assertFalse(raw_row.conversation)
		(file,) = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Channel Message", "attached_to_name": raw_row.name},
			fields=["name", "is_private", "file_name"],
		)
		self.assertTrue(file.is_private and file.file_name.endswith(".eml"))
		self.assertEqual(stored_bytes(file.name), garbage)
		self.assertEqual(len(conversations(self.channel)), 1)  # the good mail after it is in
		self.assertEqual(sync(self.channel).duplicates, 0)  # and neither comes again

	def test_a_message_whose_import_fails_is_kept_raw_and_the_rest_continue(self):
		from message_center import email_ingest

		original = email_ingest.ChannelIngest._start

		def broken_start(ingest, plan, *args, **kwargs):
			if "explode" in plan.parsed.subject:
				raise ValueError("simulated bug")
			return original(ingest, plan, *args, **kwargs)

		self.box.deliver(
			mail(to=self.address, subject="explode", message_id=f"<x1-{self.key}@x>"),
			mail(to=self.address, message_id=f"<x2-{self.key}@x>"),
		)
		email_ingest.ChannelIngest._start = broken_start
		try:
			result = sync(self.channel)
		finally:
			email_ingest.ChannelIngest._start = original

		self.assertEqual((result.poison, result.stored), (1, 1))
		(raw_row,) = channel_messages(self.channel, needs_review=1)
		self.assertIn("simulated bug", raw_row.review_note)
		self.assertEqual(len(conversations(self.channel)), 1)
		self.assertFalse(
			frappe.db.exists("Enquiry", {"channel": self.channel, "message": ("like", "%explode%")})
		)

	# ---- deleting -----------------------------------------------------------------------------

	def test_a_deleted_conversation_is_never_imported_again(self):
		self.box.deliver(mail(to=self.address, message_id=f"<d1-{self.key}@x>"))
		sync(self.channel)
		conversation = self.only_conversation()
		frappe.delete_doc("Conversation", conversation.name, ignore_permissions=True)
		frappe.db.commit()
		frappe.db.set_value("Channel", self.channel, "sync_cursor", None)  # as if the mailbox was re-scanned
		frappe.db.commit()

		result = sync(self.channel)

		self.assertEqual((result.stored, result.skipped), (0, 1))
		self.assertEqual(conversations(self.channel), [])
		self.assertEqual(frappe.db.count("Communication", {"message_id": f"d1-{self.key}@x"}), 0)

	def test_record_automatic_keeps_the_conversation_state(self):
		conversation = messages.start_conversation(self.channel, "x@y.example", subject="s", medium="Email")
		before = conversation.rule_state()
		messages.record_automatic(conversation, content="Out of office")
		conversation.reload()
		self.assertEqual(conversation.rule_state(), before)
		self.assertEqual(conversation.last_message_preview, "Out of office")

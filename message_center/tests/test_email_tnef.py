"""Outlook "Rich Text" mail through the real sync: the files inside winmail.dat end as private Files
on the Communication, and the body Outlook put in it is the message's."""

import frappe

from message_center.testing.tnef_writer import TnefFile, outlook_mail, tnef_stream
from message_center.tests.factories import make_team
from message_center.tests.mail_lab import (
	DovecotTestCase,
	channel_messages,
	communications,
	conversations,
	make_email_channel,
	settings,
	stored_bytes,
	sync,
)

PDF = b"%PDF-1.4 quote for 20 chairs\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n tiny logo"


class EmailTnef(DovecotTestCase):
	address_prefix = "info"

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.team = make_team("MC Test TNEF Team", [])
		frappe.db.commit()

	def setUp(self):
		super().setUp()
		self.channel = make_email_channel(self.team, self.box, self.address)

	def test_files_inside_winmail_dat_become_private_files_on_the_communication(self):
		quote, logo = f"Angebot März {self.key}.pdf", f"logo-{self.key}.png"  # unique in the file store
		stream = tnef_stream(
			files=(
				TnefFile("QUOTE~1.PDF", PDF, long_filename=quote, mime_type="application/pdf"),
				TnefFile(logo, PNG, content_id="logo@acme"),
				TnefFile("scan.tif", b"I" * 200_000),
			),
			html='<p>Please find the quote attached.</p><img src="cid:logo@acme"><script>alert(1)</script>',
		)
		self.box.deliver(
			outlook_mail(
				stream,
				to=self.address,
				sender="Jane Customer <jane@customer.example>",
				message_id=f"<tnef-{self.key}@customer.example>",
			)
		)

		with settings(attachment_size_limit_mb=0.1):
			sync(self.channel)

		(conversation,) = conversations(self.channel)
		(communication,) = communications(conversation.name)
		files = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Communication", "attached_to_name": communication.name},
			fields=["name", "file_name", "file_url", "is_private"],
		)
		by_name = {file.file_name: file for file in files}
		self.assertEqual(set(by_name), {quote, logo})  # no opaque winmail.dat
		self.assertTrue(
			all(file.is_private and file.file_url.startswith("/private/files/") for file in files)
		)
		self.assertEqual(stored_bytes(by_name[quote].name), PDF)
		self.assertEqual(stored_bytes(by_name[logo].name), PNG)
		# The mail had no body of its own: Outlook's HTML body is the message, sanitised, its image shown
		self.assertIn("Please find the quote attached.", communication.content)
		self.assertIn(f'src="{by_name[logo].file_url}"', communication.content)
		self.assertNotIn("<script", communication.content)
		# The oversize file is not silently lost: it is noted on the message and for review
		self.assertIn("scan.tif", communication.content)
		self.assertIn("scan.tif", channel_messages(self.channel)[0].review_note)

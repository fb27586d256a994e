"""Inbox search through the FULLTEXT index: names, email, phone in the forms people type, subject and
message text; any status; never another team's conversations.

InnoDB indexes FULLTEXT rows only when they are committed, so this class commits its data and deletes
it afterwards.
"""

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import messages
from message_center import search as search_index
from message_center.api import conversation as conversation_api
from message_center.api import inbox
from message_center.api import user_state as user_state_api
from message_center.tests.factories import make_agent, make_channel, make_conversation, make_team

AGENT = "mc.search.agent@example.com"
OUTSIDER = "mc.search.outsider@example.com"


class InboxSearch(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		make_agent(AGENT)
		make_agent(OUTSIDER)
		# A word no other data contains, so results are exactly this class's conversations.
		cls.token = "zq" + frappe.generate_hash(length=8).lower()
		cls.team = make_team("MC Test Search", [AGENT])
		cls.outside_team = make_team("MC Test Search Elsewhere", [OUTSIDER])
		channel = make_channel("MC Test Search Phone", cls.team)
		outside_channel = make_channel("MC Test Search Elsewhere Phone", cls.outside_team)
		cls.by_name = make_conversation(channel, f"{cls.token}.maria@example.com", party_name=f"Maria {cls.token}ez")
		cls.by_phone = make_conversation(channel, "+14155557788", party_name="Phone Person", subject=f"Quote {cls.token}")
		cls.by_text = make_conversation(channel, "peter@example.net", party_name="Peter Parker")
		cls.closed = make_conversation(channel, "closed@example.net", party_name="Clara Closed")
		cls.outside = make_conversation(outside_channel, "other@example.net", party_name=f"Maria {cls.token}ez")
		messages.record_inbound(cls.by_text, content=f"<p>The gutter on the roof leaks {cls.token}quux</p><p>{cls.token}second paragraph</p>")
		messages.record_inbound(cls.closed, content=f"Old matter {cls.token}closed")
		messages.record_inbound(cls.outside, content=f"Same words {cls.token}quux")
		frappe.set_user("Administrator")
		conversation_api.close(cls.closed.name)
		cls.created = [cls.by_name.name, cls.by_phone.name, cls.by_text.name, cls.closed.name, cls.outside.name]
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		for name in cls.created:
			frappe.delete_doc("Conversation", name, ignore_permissions=True, force=True)
		frappe.db.commit()
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")

	def found(self, text, user=AGENT, **filters) -> set[str]:
		frappe.set_user(user)
		try:
			return {row["name"] for row in inbox.search(text, page_length=100, **filters)["rows"]} & set(self.created)
		finally:
			frappe.set_user("Administrator")

	def test_search_by_name_email_and_prefix(self):
		self.assertEqual(self.found(f"maria {self.token}"), {self.by_name.name})
		self.assertEqual(self.found(f"{self.token}.maria@example"), {self.by_name.name})
		self.assertEqual(self.found(self.token[:6]), {self.by_name.name, self.by_phone.name, self.by_text.name, self.closed.name})

	def test_search_by_phone_as_people_type_it(self):
		for typed in ("+1 415 555 7788", "(415) 555-7788", "4155557788", "555-7788", "5557788"):
			self.assertIn(self.by_phone.name, self.found(typed), typed)

	def test_search_by_subject_and_message_text_of_any_status(self):
		self.assertEqual(self.found(f"quote {self.token}"), {self.by_phone.name})
		self.assertEqual(self.found(f"gutter {self.token}quux"), {self.by_text.name})
		self.assertEqual(self.found(f"{self.token}closed"), {self.closed.name})

	def test_paragraphs_stay_separate_words_in_search_and_preview(self):
		self.assertEqual(self.found(f"{self.token}second"), {self.by_text.name})
		preview = frappe.db.get_value("Conversation", self.by_text.name, "last_message_preview")
		self.assertIn(f"{self.token}quux {self.token}second paragraph", preview)

	def test_search_never_crosses_teams(self):
		self.assertNotIn(self.outside.name, self.found(f"{self.token}quux"))
		self.assertNotIn(self.outside.name, self.found(f"maria {self.token}"))
		self.assertEqual(self.found(f"{self.token}quux", user=OUTSIDER), {self.outside.name})
		self.assertEqual(self.found(f"maria {self.token}", user=OUTSIDER), {self.outside.name})

	def test_short_and_stopword_queries_fall_back_to_name_prefix(self):
		# "Pe" is below the index's word length: names and addresses by prefix answer it.
		self.assertIn(self.by_text.name, self.found("Pe"))
		self.assertIn(self.by_text.name, self.found("peter@"))
		self.assertEqual(self.found(""), set())

	def test_search_pages_in_activity_order_with_my_marks(self):
		frappe.set_user(AGENT)
		user_state_api.star(self.by_text.name, 1)
		everything = inbox.search(self.token, page_length=100)["rows"]
		self.assertEqual({row["name"] for row in everything}, {self.by_name.name, self.by_phone.name, self.by_text.name, self.closed.name})
		self.assertEqual([row["name"] for row in everything if row["starred"]], [self.by_text.name])
		paged, cursor = [], None
		while True:
			result = inbox.search(self.token, page_length=1, cursor=cursor)
			paged += [row["name"] for row in result["rows"]]
			cursor = result["next_cursor"]
			if not cursor:
				break
		self.assertEqual(paged, [row["name"] for row in everything])
		# within a view that filters on my marks
		self.assertEqual([row["name"] for row in inbox.list(view="starred", search=self.token)["rows"]], [self.by_text.name])
		user_state_api.star(self.by_text.name, 0)

	def test_search_combines_with_filters(self):
		self.assertEqual(self.found(self.token[:6], mine_only=1), set())

	def test_rebuild_restores_a_lost_row(self):
		frappe.db.delete("Conversation Search", {"conversation": self.by_text.name})
		search_index.rebuild(self.by_text.name)
		row = frappe.db.get_value("Conversation Search", self.by_text.name, ["header_text", "body_text"], as_dict=True)
		self.assertIn("Peter Parker", row.header_text)
		self.assertIn(f"gutter on the roof leaks {self.token}quux", row.body_text)
		self.assertNotIn("<p>", row.body_text)
		frappe.db.commit()
		self.assertEqual(self.found(f"gutter {self.token}quux"), {self.by_text.name})

"""The inbox list API: views, filters, per-user state, alerts, keyset pages, counts and team scoping."""

from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime

from message_center import inbox_query, messages
from message_center.api import conversation as conversation_api
from message_center.api import inbox, user_state
from message_center.tests.factories import (
	make_agent,
	make_channel,
	make_contact,
	make_conversation,
	make_manager,
	make_team,
)

AGENT = "mc.inbox.agent@example.com"
COLLEAGUE = "mc.inbox.colleague@example.com"
OUTSIDER = "mc.inbox.outsider@example.com"
MANAGER = "mc.inbox.manager@example.com"


def names(result) -> list[str]:
	return [row["name"] for row in result["rows"]]


class InboxViews(FrappeTestCase):
	"""Each test builds its own conversations in a team of its own, so earlier runs never leak in."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_agent(AGENT)
		make_agent(COLLEAGUE)
		make_agent(OUTSIDER)
		make_manager(MANAGER)
		cls.outside_team = make_team("MC Test Inbox Elsewhere", [OUTSIDER])
		cls.outside_channel = make_channel("MC Test Inbox Elsewhere Phone", cls.outside_team)

	def setUp(self):
		frappe.set_user("Administrator")
		# A fresh team per test: counts and views see only this test's conversations.
		self.team = make_team(f"MC Test Inbox {frappe.generate_hash(length=8)}", [AGENT, COLLEAGUE])
		self.channel = make_channel(f"{self.team} Phone", self.team)
		self.sms_channel = make_channel(
			f"{self.team} SMS", self.team, kind="SMS", twilio_account_sid="AC" + "0" * 32, twilio_auth_token="x", sms_from_number="+14155550000"
		)

	def tearDown(self):
		frappe.set_user("Administrator")

	def conversation(self, address, *, channel=None, inbound=True, at=None, **values):
		doc = make_conversation(channel or self.channel, address, at=at, **values)
		if inbound:
			doc, _ = messages.record_inbound(doc, content=f"Hello from {address}", at=at)
		return doc

	def list_as(self, user, view="open", **filters):
		frappe.set_user(user)
		try:
			return inbox.list(view=view, channel=filters.pop("channel", None) or None, page_length=100, **filters)
		finally:
			frappe.set_user("Administrator")

	def in_my_team(self, result) -> set[str]:
		return {row["name"] for row in result["rows"] if row["team"] == self.team}

	def test_each_view_holds_what_its_name_says(self):
		contact = make_contact("Vera", email=f"vera.{self.team[-8:]}@example.com")
		unclaimed = self.conversation("+14155551001", party_name="Una Claimed")
		mine = self.conversation("+14155551002")
		theirs = self.conversation("+14155551003")
		answered = self.conversation(f"vera.{self.team[-8:]}@example.com", links={"contact": contact})
		closed = self.conversation("+14155551005")
		frappe.set_user(AGENT)
		conversation_api.claim(mine.name)
		conversation_api.claim(closed.name)
		conversation_api.close(closed.name)
		frappe.set_user(COLLEAGUE)
		conversation_api.claim(theirs.name)
		conversation_api.claim(answered.name)
		frappe.set_user("Administrator")
		answered.reload()
		messages.record_outbound(answered, content="On our way", actor=conversation_api.actor_for(COLLEAGUE))

		expected = {
			"open": {unclaimed.name, mine.name, theirs.name, answered.name},
			"waiting": {unclaimed.name, mine.name, theirs.name},
			"unassigned": {unclaimed.name},
			"mine": {mine.name},
			"closed": {closed.name},
			"unread": {unclaimed.name, mine.name, theirs.name, answered.name},
			"unmatched": {unclaimed.name, mine.name, theirs.name, closed.name},
		}
		for view, wanted in expected.items():
			self.assertEqual(self.in_my_team(self.list_as(AGENT, view)), wanted, view)
		counts = self.counts_as(AGENT, channel=self.channel)
		for view, wanted in expected.items():
			self.assertEqual(counts[view], len(wanted), view)

	def counts_as(self, user, **filters):
		frappe.set_user(user)
		try:
			return inbox.counts(**filters)["counts"]
		finally:
			frappe.set_user("Administrator")

	def test_rows_carry_the_quick_view(self):
		conversation = self.conversation("+14155551011", party_name="Quinn Quick", channel=self.sms_channel)
		frappe.set_user(AGENT)
		conversation_api.claim(conversation.name)
		row = next(row for row in self.list_as(AGENT)["rows"] if row["name"] == conversation.name)
		self.assertEqual(row["title"], "Quinn Quick")
		self.assertEqual(row["channel"], self.sms_channel)
		self.assertEqual(row["team"], self.team)
		self.assertEqual(row["claimed_by"], AGENT)
		self.assertTrue(row["claimed_by_name"])
		self.assertEqual(row["last_message_preview"], "Hello from +14155551011")
		self.assertTrue(row["unread"])
		self.assertFalse(row["starred"])
		# The header of the open conversation adds its channel's kind.
		frappe.set_user(AGENT)
		self.assertEqual(inbox.conversation(conversation.name)["channel_kind"], "SMS")

	def test_rows_keep_text_and_times_exactly(self):
		# Rows come back from the database as JSON: quotes, backslashes, line breaks and emoji survive,
		# and times are datetimes to the microsecond.
		at = now_datetime().replace(microsecond=123456)
		name = 'Zoë "Z" O\'Neil \\ 🚀'
		conversation = self.conversation("+14155551013", party_name=name, at=at)
		messages.record_inbound(conversation, content="Line one\nLine two, 50% off", at=at)
		row = next(row for row in self.list_as(AGENT)["rows"] if row["name"] == conversation.name)
		self.assertEqual(row["title"], name)
		self.assertEqual(row["last_message_preview"], "Line one Line two, 50% off")
		self.assertEqual(row["last_message_at"], at)
		self.assertEqual(row["unclaimed_since"], frappe.db.get_value("Conversation", conversation.name, "unclaimed_since"))

	def test_agents_see_only_their_teams_and_managers_see_all(self):
		ours = self.conversation("+14155551021")
		theirs = self.conversation("+14155551022", channel=self.outside_channel)
		for view in inbox_query.LIST_VIEWS:
			self.assertNotIn(theirs.name, names(self.list_as(AGENT, view)), view)
		self.assertIn(ours.name, names(self.list_as(AGENT)))
		self.assertNotIn(ours.name, names(self.list_as(OUTSIDER)))
		self.assertIn(theirs.name, names(self.list_as(OUTSIDER)))
		manager_view = names(self.list_as(MANAGER))
		self.assertIn(ours.name, manager_view)
		self.assertIn(theirs.name, manager_view)
		# Filtering by another team's channel does not open it up: it is refused outright.
		with self.assertRaises(frappe.PermissionError):
			self.list_as(AGENT, channel=self.outside_channel)
		with self.assertRaises(frappe.PermissionError):
			self.counts_as(AGENT, channel=self.outside_channel)

	def test_users_without_the_role_are_refused(self):
		frappe.set_user("Guest")
		with self.assertRaises(frappe.PermissionError):
			inbox.list()
		with self.assertRaises(frappe.PermissionError):
			inbox.counts()
		with self.assertRaises(frappe.PermissionError):
			inbox.options()

	def test_read_unread_star_and_archive_are_per_user(self):
		conversation = self.conversation("+14155551031")
		frappe.set_user(AGENT)
		user_state.mark_read(conversation.name)
		self.assertNotIn(conversation.name, self.in_my_team(self.list_as(AGENT, "unread")))
		self.assertIn(conversation.name, self.in_my_team(self.list_as(COLLEAGUE, "unread")))

		frappe.set_user(AGENT)
		user_state.mark_unread(conversation.name)
		self.assertIn(conversation.name, self.in_my_team(self.list_as(AGENT, "unread")))
		frappe.set_user(AGENT)
		user_state.mark_read(conversation.name)
		# A new customer message makes it unread again.
		messages.record_inbound(frappe.get_doc("Conversation", conversation.name), content="Anyone there?")
		self.assertIn(conversation.name, self.in_my_team(self.list_as(AGENT, "unread")))

		frappe.set_user(AGENT)
		self.assertTrue(user_state.star(conversation.name)["starred"])
		self.assertEqual(self.in_my_team(self.list_as(AGENT, "starred")), {conversation.name})
		self.assertEqual(self.in_my_team(self.list_as(COLLEAGUE, "starred")), set())

		frappe.set_user(AGENT)
		self.assertTrue(user_state.archive(conversation.name)["archived"])
		self.assertNotIn(conversation.name, self.in_my_team(self.list_as(AGENT, "open")))
		self.assertIn(conversation.name, self.in_my_team(self.list_as(COLLEAGUE, "open")))
		self.assertEqual(self.in_my_team(self.list_as(AGENT, "archived")), {conversation.name})
		# Starred still shows it: a star outlives archiving.
		self.assertEqual(self.in_my_team(self.list_as(AGENT, "starred")), {conversation.name})
		# The customer writing again brings it back.
		messages.record_inbound(frappe.get_doc("Conversation", conversation.name), content="Hello?")
		self.assertIn(conversation.name, self.in_my_team(self.list_as(AGENT, "open")))
		self.assertEqual(self.in_my_team(self.list_as(AGENT, "archived")), set())

		frappe.set_user(AGENT)
		self.assertFalse(user_state.star(conversation.name, starred=0)["starred"])
		frappe.set_user(COLLEAGUE)
		user_state.mark_read(conversation.name)
		frappe.set_user("Administrator")
		# Many marks, one row per user who made any.
		self.assertEqual(frappe.db.count("Conversation User State", {"conversation": conversation.name}), 2)

	def test_alerts_follow_the_settings_thresholds(self):
		long_ago = now_datetime() - timedelta(minutes=30)
		overdue = self.conversation("+14155551041", at=long_ago)
		fresh = self.conversation("+14155551042")
		rows = {row["name"]: row for row in self.list_as(AGENT)["rows"]}
		self.assertTrue(rows[overdue.name]["alert_unclaimed"])
		self.assertTrue(rows[overdue.name]["alert_unclaimed_overdue"])
		self.assertTrue(rows[overdue.name]["alert_waiting_overdue"])
		self.assertTrue(rows[fresh.name]["alert_unclaimed"])
		self.assertFalse(rows[fresh.name]["alert_unclaimed_overdue"])
		self.assertFalse(rows[fresh.name]["alert_waiting_overdue"])
		self.assertIsNotNone(rows[fresh.name]["alert_next_change_at"])

		settings = frappe.get_single("Message Center Settings")
		previous = settings.unclaimed_alert_minutes, settings.waiting_alert_minutes
		settings.unclaimed_alert_minutes, settings.waiting_alert_minutes = 60, 60
		settings.save()
		try:
			row = next(row for row in self.list_as(AGENT)["rows"] if row["name"] == overdue.name)
			self.assertTrue(row["alert_unclaimed"])
			self.assertFalse(row["alert_unclaimed_overdue"])
			self.assertFalse(row["alert_waiting_overdue"])
		finally:
			settings.unclaimed_alert_minutes, settings.waiting_alert_minutes = previous
			settings.save()

		frappe.set_user(AGENT)
		conversation_api.claim(overdue.name)
		row = next(row for row in self.list_as(AGENT)["rows"] if row["name"] == overdue.name)
		self.assertFalse(row["alert_unclaimed"])
		self.assertTrue(row["alert_waiting_overdue"], "claiming does not answer the customer")

	def test_pages_follow_each_other_without_gaps_or_repeats(self):
		start = now_datetime() - timedelta(hours=1)
		created = [self.conversation(f"+1415555{2000 + index}", at=start + timedelta(minutes=index % 7)).name for index in range(23)]
		seen, cursor = [], None
		for _ in range(10):
			frappe.set_user(AGENT)
			result = inbox.list(view="open", channel=self.channel, cursor=cursor, page_length=5)
			seen.extend(names(result))
			cursor = result["next_cursor"]
			if not cursor:
				break
		self.assertEqual(len(seen), 23)
		self.assertEqual(set(seen), set(created))
		times = [frappe.db.get_value("Conversation", name, "last_message_at") for name in seen]
		self.assertEqual(times, sorted(times, reverse=True))

	def test_my_messages_channel_and_assignee_filters(self):
		mine = self.conversation("+14155551051")
		sms = self.conversation("+14155551052", channel=self.sms_channel)
		theirs = self.conversation("+14155551053")
		frappe.set_user(AGENT)
		conversation_api.claim(mine.name)
		conversation_api.claim(sms.name)
		frappe.set_user(COLLEAGUE)
		conversation_api.claim(theirs.name)
		self.assertEqual(self.in_my_team(self.list_as(AGENT, "open", mine_only=1)), {mine.name, sms.name})
		self.assertEqual(self.in_my_team(self.list_as(AGENT, "waiting", mine_only=1)), {mine.name, sms.name})
		self.assertEqual(set(names(self.list_as(AGENT, channel=self.sms_channel))), {sms.name})
		self.assertEqual(self.in_my_team(self.list_as(AGENT, assignee=COLLEAGUE)), {theirs.name})
		self.assertEqual(self.counts_as(AGENT, mine_only=1, channel=self.channel)["open"], 1)

	def test_counts_stop_at_the_cap(self):
		for index in range(4):
			self.conversation(f"+1415555{3000 + index}")
		previous = inbox_query.COUNT_CAP
		inbox_query.COUNT_CAP = 2
		try:
			self.assertEqual(self.counts_as(AGENT, channel=self.channel)["open"], 3)
		finally:
			inbox_query.COUNT_CAP = previous
		self.assertEqual(self.counts_as(AGENT, channel=self.channel)["open"], 4)

	def test_a_conversation_without_messages_sorts_by_creation(self):
		older = self.conversation("+14155551061", at=now_datetime() - timedelta(minutes=10))
		typed_in = self.conversation("+14155551062", inbound=False)
		self.assertTrue(typed_in.last_message_at)
		self.assertEqual(names(self.list_as(AGENT, channel=self.channel))[:2], [typed_in.name, older.name])

	def test_unknown_views_and_bad_cursors_get_a_clear_error(self):
		frappe.set_user(AGENT)
		with self.assertRaises(frappe.ValidationError):
			inbox.list(view="everything")
		with self.assertRaises(frappe.ValidationError):
			inbox.list(cursor="not-a-cursor")

	def test_options_list_my_channels_and_colleagues(self):
		frappe.set_user(AGENT)
		options = inbox.options()
		channels = {row.name for row in options["channels"]}
		self.assertIn(self.channel, channels)
		self.assertNotIn(self.outside_channel, channels)
		agents = {row["user"] for row in options["agents"]}
		self.assertIn(COLLEAGUE, agents)
		self.assertNotIn(OUTSIDER, agents)
		self.assertEqual(options["thresholds"]["unclaimed_minutes"], 5)
		self.assertEqual(options["realtime_event"], "message_center")

	def test_deleting_a_conversation_removes_its_marks_and_search_row(self):
		conversation = self.conversation("+14155551071")
		frappe.set_user(AGENT)
		user_state.star(conversation.name)
		frappe.set_user("Administrator")
		self.assertTrue(frappe.db.exists("Conversation Search", conversation.name))
		frappe.delete_doc("Conversation", conversation.name, ignore_permissions=True)
		self.assertFalse(frappe.db.exists("Conversation Search", conversation.name))
		self.assertFalse(frappe.db.exists("Conversation User State", {"conversation": conversation.name}))

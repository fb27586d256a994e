"""The demo command's data: a working inbox across channels and states, which its agents can see."""

import frappe
from frappe.tests.utils import FrappeTestCase

from message_center import demo
from message_center.api import inbox

ADDED = 40


class DemoData(FrappeTestCase):
	def demo_conversations(self, fields=("name",)):
		return frappe.get_all("Conversation", filters={"channel": ["in", list(demo.CHANNELS)]}, fields=list(fields))

	def tearDown(self):
		# Some paths the demo walks commit on their own (notification mails in tests): leave no
		# conversations behind for the next run's counts.
		frappe.set_user("Administrator")
		frappe.db.rollback()
		for name in getattr(self, "created", []):
			if frappe.db.exists("Conversation", name):
				frappe.delete_doc("Conversation", name, ignore_permissions=True, force=True)
		frappe.db.commit()

	def test_fills_a_working_inbox_and_runs_again_without_duplicates(self):
		before = {row.name for row in self.demo_conversations()}
		summary = demo.create_demo(conversations=len(before) + ADDED, commit=False)
		self.assertEqual(summary["conversations"], len(before) + ADDED)

		added = [
			row
			for row in self.demo_conversations(("name", "channel", "status", "claimed_by", "message_count", "team"))
			if row.name not in before
		]
		self.created = [row.name for row in added]
		self.assertEqual(len(added), ADDED)
		kinds = {demo.CHANNELS[row.channel][0] for row in added}
		self.assertGreaterEqual(len(kinds), 3, kinds)
		self.assertEqual({row.status for row in added} & {"Open", "Closed"}, {"Open", "Closed"})
		self.assertTrue(any(row.status == "Open" and not row.claimed_by for row in added), "some wait to be claimed")
		self.assertTrue(any(row.status == "Open" and row.claimed_by for row in added), "some are being worked")
		for row in added:
			has_history = frappe.db.exists("Communication", {"reference_doctype": "Conversation", "reference_name": row.name})
			self.assertTrue(has_history, f"{row.name} has at least one message")
		self.assertTrue(frappe.db.exists("Quick Reply", {"title": demo.words.QUICK_REPLIES[0][0]}))

		# An agent of the demo's sales team sees its open work in the inbox, and no other team's.
		sales_agent = summary["agents"][0]
		frappe.set_user(sales_agent)
		try:
			rows = inbox.list(view="open", page_length=100)["rows"]
		finally:
			frappe.set_user("Administrator")
		self.assertTrue(rows, "the sales agent's inbox is not empty")
		self.assertEqual({row["team"] for row in rows if row["channel"] in demo.CHANNELS}, {"Sales"})

		again = demo.create_demo(conversations=len(before) + ADDED, commit=False)
		self.assertEqual(again["conversations"], len(before) + ADDED, "a second run adds nothing")
		self.assertEqual(len(set(again["agents"])), len(again["agents"]))

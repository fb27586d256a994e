"""The mail sync job against a real Dovecot: exactly-once through failures, the server left untouched,
batches that chain, one deduplicated job and one run per channel, and the Channel's health."""

import json
import re

import frappe
from frappe.utils import add_to_date, get_datetime, now_datetime
from frappe.utils.background_jobs import get_job, is_job_enqueued

from message_center import email_sync
from message_center.api import channel as channel_api
from message_center.testing.dovecot import DovecotServer
from message_center.testing.tcp_faults import FaultyProxy, SilentServer
from message_center.tests.factories import make_agent, make_manager, make_team
from message_center.tests.mail_lab import (
	DovecotTestCase,
	Mailbox,
	channel_messages,
	conversations,
	mail,
	make_email_channel,
	settings,
	site_config,
	sync,
	sync_until_done,
)

AGENT = "mc.mail.agent@example.com"
OTHER_AGENT = "mc.mail.other@example.com"
MANAGER = "mc.mail.manager@example.com"


def numbered(count: int, key: str, address: str, body_lines: int = 3, start: int = 1) -> list[bytes]:
	return [
		mail(
			sender=f"Customer {number} <customer{number}.{key}@example.org>",
			to=address,
			subject=f"Enquiry {number}",
			message_id=f"<n{number}-{key}@example.org>",
			body="".join(f"Line {line} of enquiry {number}.\n" for line in range(body_lines)),
		)
		for number in range(start, start + count)
	]


class EmailSync(DovecotTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_agent(AGENT)
		make_agent(OTHER_AGENT)
		make_manager(MANAGER)
		cls.team = make_team("MC Test Mail Sync", [AGENT])
		cls.other_team = make_team("MC Test Mail Sync Other", [OTHER_AGENT])
		frappe.db.commit()

	def setUp(self):
		super().setUp()
		self.channel = make_email_channel(self.team, self.box, self.address)

	def tearDown(self):
		frappe.set_user("Administrator")
		for job_id in email_sync._job_ids(self.channel):
			job = get_job(job_id)
			if job:
				job.delete()

	def health(self):
		return frappe.db.get_value(
			"Channel",
			self.channel,
			[
				"sync_status",
				"last_success_at",
				"lag_seconds",
				"backlog",
				"messages_imported",
				"last_error",
				"last_error_at",
				"sync_cursor",
			],
			as_dict=True,
		)

	def imported_ids(self) -> list[str]:
		return sorted(row.external_id for row in channel_messages(self.channel))

	def expected_ids(self, numbers) -> list[str]:
		return sorted(f"<n{number}-{self.key}@example.org>" for number in numbers)

	# ---- exactly once --------------------------------------------------------------------------

	def test_each_message_is_imported_once_and_the_server_is_never_changed(self):
		self.box.deliver(*numbered(3, self.key, self.address))
		self.box.deliver(
			*numbered(2, self.key, self.address, start=4), flags=("\\Seen",)
		)  # read in another client
		self.box.deliver(*numbered(1, self.key, self.address, start=6), flags=("\\Flagged", "$Label1"))
		flags_before = self.dovecot.flags(self.box.user, "INBOX")

		first = sync(self.channel)
		again = sync(self.channel)

		self.assertTrue(first.ok and again.ok)
		self.assertEqual((first.stored, again.stored), (6, 0))
		self.assertTrue(again.noop)
		self.assertEqual(self.imported_ids(), self.expected_ids(range(1, 7)))
		self.assertEqual(self.dovecot.flags(self.box.user, "INBOX"), flags_before)
		self.assertFalse(any("\\Seen" in flags for uid, flags in flags_before.items() if uid <= 3))
		health = self.health()
		self.assertEqual(
			(health.sync_status, health.backlog, health.lag_seconds, health.messages_imported),
			("Idle", 0, 0, 6),
		)
		self.assertTrue(health.last_success_at)
		cursor = json.loads(health.sync_cursor)["INBOX"]
		self.assertEqual(cursor["last_uid"], 6)
		self.assertTrue(cursor["uidvalidity"])

	def test_a_connection_cut_mid_fetch_and_a_uidvalidity_reset_lose_and_duplicate_nothing(self):
		raws = numbered(130, self.key, self.address, body_lines=12)
		self.box.deliver(*raws)
		with FaultyProxy(self.dovecot.host, self.dovecot.port) as proxy:
			frappe.db.set_value("Channel", self.channel, {"imap_host": proxy.host, "imap_port": proxy.port})
			frappe.db.commit()
			# dies inside the second FETCH chunk (100 per chunk): the first is stored, the second not
			proxy.cut_after_server_bytes(
				sum(map(len, raws[:115])) + 100 * 150, after_client_sends=b"BODY.PEEK[]"
			)

			broken = sync(self.channel)

			self.assertEqual(proxy.cuts, 1)
			self.assertFalse(broken.ok)
			self.assertEqual(broken.error_kind.value, "disconnected")
			health = self.health()
			self.assertEqual(health.sync_status, "Failed")
			self.assertTrue(health.last_error.startswith("disconnected:") and health.last_error_at)
			self.assertEqual(json.loads(health.sync_cursor)["INBOX"]["last_uid"], broken.stored)
			self.assertTrue(0 < broken.stored < 130)

			resumed = sync_until_done(self.channel)

		self.assertTrue(all(result.ok for result in resumed))
		self.assertEqual(sum(result.stored for result in resumed), 130 - broken.stored)
		self.assertEqual(sum(result.duplicates for result in resumed), 0)
		self.assertEqual(self.health().sync_status, "Idle")
		frappe.db.set_value(
			"Channel", self.channel, {"imap_host": self.dovecot.host, "imap_port": self.dovecot.port}
		)
		frappe.db.commit()
		self.dovecot.reset_uidvalidity(self.box.user, "INBOX")

		rescanned = sync(self.channel)

		self.assertTrue(rescanned.ok)
		self.assertEqual((rescanned.stored, rescanned.duplicates), (0, 130))
		self.assertEqual(self.imported_ids(), self.expected_ids(range(1, 131)))  # no duplicate, none lost
		self.assertEqual(len(conversations(self.channel)), 130)
		self.assertEqual(self.health().messages_imported, 130)

	def test_the_same_mail_on_two_channels_is_one_record_on_each(self):
		other = make_email_channel(self.team, self.box, f"other-{self.key}@acme.example")
		self.box.deliver(*numbered(3, self.key, self.address))

		sync(self.channel)
		sync(other)

		self.assertEqual(len(conversations(self.channel)), 3)
		self.assertEqual(len(conversations(other)), 3)
		self.assertEqual(len(channel_messages(other)), 3)

	def test_first_sync_covers_the_window_and_later_mail_whatever_its_date(self):
		self.box.deliver(*numbered(2, self.key, self.address), days_ago=45)
		self.box.deliver(*numbered(2, self.key, self.address, start=3), days_ago=3)
		with settings(first_sync_days=30):
			sync(self.channel)
			self.assertEqual(self.imported_ids(), self.expected_ids([3, 4]))
			self.box.deliver(
				*numbered(1, self.key, self.address, start=5), days_ago=400
			)  # moved in from an archive
			sync(self.channel)
		self.assertEqual(self.imported_ids(), self.expected_ids([3, 4, 5]))

	def test_a_backlog_is_imported_in_batches_that_chain_until_done(self):
		self.box.deliver(*numbered(12, self.key, self.address))
		with settings(sync_batch_size=5):
			summary = email_sync.sync_channel(self.channel)

			self.assertEqual((summary["stored"], summary["remaining"]), (5, 7))
			health = self.health()
			self.assertEqual((health.sync_status, health.backlog, health.messages_imported), ("Queued", 7, 5))
			self.assertGreater(health.lag_seconds, 0)
			first_id, continued_id = email_sync._job_ids(self.channel)
			self.assertTrue(is_job_enqueued(continued_id))  # the continuation, under the other job id
			self.assertEqual(
				get_job(continued_id).kwargs["kwargs"], {"channel": self.channel, "continued": True}
			)
			self.assertFalse(email_sync.enqueue_sync(self.channel))  # the schedule adds nothing meanwhile
			get_job(continued_id).delete()

			summary = email_sync.sync_channel(self.channel, continued=True)
			self.assertEqual((summary["stored"], summary["remaining"]), (5, 2))
			self.assertTrue(is_job_enqueued(first_id))  # and back to the first id
			get_job(first_id).delete()
			self.assertEqual(email_sync.sync_channel(self.channel)["remaining"], 0)

		self.assertEqual(self.imported_ids(), self.expected_ids(range(1, 13)))
		self.assertEqual(self.health().sync_status, "Idle")
		self.assertFalse(any(is_job_enqueued(job_id) for job_id in email_sync._job_ids(self.channel)))

	# ---- failures -----------------------------------------------------------------------------

	def test_a_wrong_password_is_recorded_and_the_next_good_run_recovers(self):
		channel = frappe.get_doc("Channel", self.channel)
		channel.imap_password = "wrong"
		channel.save(ignore_permissions=True)
		frappe.db.commit()
		self.box.deliver(*numbered(2, self.key, self.address))

		failed = sync(self.channel)

		self.assertEqual(failed.error_kind.value, "login")
		health = self.health()
		self.assertEqual(health.sync_status, "Failed")
		self.assertTrue(health.last_error.startswith("login:"))
		self.assertFalse(health.last_success_at)
		channel.imap_password = self.box.password
		channel.save(ignore_permissions=True)
		frappe.db.commit()
		self.assertEqual(sync(self.channel).stored, 2)
		self.assertEqual(self.health().sync_status, "Idle")

	def test_a_server_that_never_greets_times_out_and_is_recorded(self):
		with SilentServer() as silent, site_config(mc_imap_connect_timeout=1, mc_imap_read_timeout=1):
			frappe.db.set_value("Channel", self.channel, {"imap_host": silent.host, "imap_port": silent.port})
			frappe.db.commit()

			result = sync(self.channel)

		self.assertEqual(result.error_kind.value, "timeout")
		self.assertEqual(silent.accepted, 1)
		health = self.health()
		self.assertEqual(health.sync_status, "Failed")
		self.assertTrue(health.last_error.startswith("timeout:"))

	# ---- jobs -----------------------------------------------------------------------------------

	def test_the_schedule_queues_one_deduplicated_job_per_enabled_email_channel(self):
		disabled = make_email_channel(self.team, self.box, enabled=0)

		email_sync.enqueue_all()
		email_sync.enqueue_all()

		first_id, continued_id = email_sync._job_ids(self.channel)
		job = get_job(first_id)
		self.assertEqual(job.origin.rsplit(":", 1)[-1], "long")
		self.assertEqual(job.kwargs["method"], email_sync.JOB_METHOD)
		self.assertEqual(job.kwargs["kwargs"], {"channel": self.channel})
		self.assertFalse(is_job_enqueued(continued_id))
		self.assertFalse(is_job_enqueued(email_sync._job_ids(disabled)[0]))
		self.assertEqual(self.health().sync_status, "Queued")
		self.assertIn("*/5 * * * *", frappe.get_hooks("scheduler_events")["cron"])
		self.assertIn(
			"message_center.email_sync.enqueue_all",
			frappe.get_hooks("scheduler_events")["cron"]["*/5 * * * *"],
		)

	def test_two_runs_of_one_channel_never_overlap(self):
		self.box.deliver(*numbered(1, self.key, self.address))
		lock = frappe.cache.lock(
			frappe.cache.make_key(f"message_center:email_sync_lock:{self.channel}"), timeout=60
		)
		self.assertTrue(lock.acquire(blocking=False))
		try:
			summary = email_sync.sync_channel(self.channel)
		finally:
			lock.release()
		self.assertEqual((summary["ran"], summary.get("locked")), (False, True))
		self.assertEqual(channel_messages(self.channel), [])
		self.assertEqual(email_sync.sync_channel(self.channel)["stored"], 1)

	def test_a_channel_three_polls_without_a_successful_sync_warns_its_admin(self):
		def overdue():
			doc = frappe.get_doc("Channel", self.channel)
			doc.run_method("onload")
			return doc.get_onload().get("sync_overdue")

		self.box.deliver(*numbered(1, self.key, self.address))
		sync(self.channel)
		self.assertIsNone(overdue())  # just synced

		# the workers stopped: the cron keeps queueing, nothing runs
		frappe.db.set_value(
			"Channel", self.channel, {"last_success_at": add_to_date(now_datetime(), minutes=-16), "sync_status": "Queued"}
		)
		self.assertEqual(get_datetime(overdue()["since"]), get_datetime(self.health().last_success_at))
		with site_config(pause_scheduler=1):
			self.assertTrue(overdue()["scheduler_inactive"])

		frappe.db.set_value("Channel", self.channel, "sync_status", "Failed")
		self.assertIsNone(overdue())  # its own error says more
		frappe.db.set_value("Channel", self.channel, {"sync_status": "Idle", "enabled": 0})
		self.assertIsNone(overdue())

	def test_sync_now_is_for_the_channels_admins_only(self):
		frappe.set_user(MANAGER)
		first = channel_api.sync_now(self.channel)
		second = channel_api.sync_now(self.channel)
		self.assertTrue(first["queued"])
		self.assertFalse(second["queued"])
		self.assertTrue(is_job_enqueued(email_sync._job_ids(self.channel)[0]))
		for user in (AGENT, OTHER_AGENT):  # agents read channels; syncing is an admin's action
			frappe.set_user(user)
			with self.assertRaises(frappe.PermissionError, msg=user):
				channel_api.sync_now(self.channel)

	def test_test_connection_tells_the_admin_what_is_wrong_and_changes_nothing(self):
		self.box.deliver(*numbered(2, self.key, self.address))
		frappe.db.set_value("Channel", self.channel, "imap_folders", "INBOX\nArchiv")
		before = self.health()
		frappe.set_user(MANAGER)

		check = channel_api.test_connection(self.channel)

		self.assertEqual((check["ok"], check["error_kind"], check["error"]), (False, "folder", "not found: Archiv"))
		self.assertEqual([(row["folder"], row["found"], row["messages"]) for row in check["folders"]], [("INBOX", True, 2), ("Archiv", False, None)])
		self.assertIn("INBOX", check["server_folders"])
		frappe.set_user("Administrator")
		self.assertEqual(self.health(), before)  # nothing imported, no cursor, no health change
		self.assertEqual(channel_messages(self.channel), [])

		frappe.db.set_value("Channel", self.channel, "imap_folders", "INBOX")
		channel = frappe.get_doc("Channel", self.channel)
		channel.imap_password = "wrong"
		channel.save()
		frappe.set_user(MANAGER)
		check = channel_api.test_connection(self.channel)
		self.assertEqual((check["ok"], check["error_kind"]), (False, "login"))
		for user in (AGENT, OTHER_AGENT):  # it signs in with the stored password: admins only
			frappe.set_user(user)
			with self.assertRaises(frappe.PermissionError, msg=user):
				channel_api.test_connection(self.channel)

	def test_the_job_runs_as_the_system_whoever_queued_it(self):
		self.box.deliver(*numbered(1, self.key, self.address))
		frappe.set_user(MANAGER)
		summary = email_sync.sync_channel(self.channel)
		self.assertEqual(frappe.session.user, MANAGER)
		self.assertEqual(summary["stored"], 1)
		(conversation,) = conversations(self.channel)
		self.assertEqual(conversation.owner, "Administrator")

	def test_commands_never_touch_flags_nor_ask_for_open_ranges(self):
		rawlog = DovecotServer(rawlog=True).start()
		try:
			box = Mailbox(rawlog)
			channel = make_email_channel(self.team, box)
			box.deliver(*numbered(3, self.key, self.address))
			sync(channel)
			box.deliver(*numbered(1, self.key, self.address, start=4))
			sync(channel)
			commands = " ".join(rawlog.client_lines(box.user))
		finally:
			rawlog.stop()
		self.assertIn("EXAMINE", commands)
		self.assertIn("BODY.PEEK[]", commands)
		self.assertNotRegex(commands, r" (UID )?(STORE|EXPUNGE|COPY|MOVE|SELECT) ")
		self.assertIsNone(re.search(r"UID (SEARCH UID |FETCH )?0:", commands))
		self.assertNotIn(":*", commands)

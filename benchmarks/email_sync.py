"""Mail sync benchmark on a private Dovecot mailbox of varied messages (5,000 by default), one run:

	python benchmarks/email_sync.py [--bench DIR] [--site SITE] [--messages 5000]

Prints `name: value` lines:
- raw_fetch_msgs_per_s: imapclient, BODY.PEEK[] in batches of 100, nothing else (the physical limit);
- core_pipeline_msgs_per_s: sync_mailbox with the whole core pipeline in memory (parse, classify,
  thread, match); core_vs_raw (target >= 0.25); beside it what parts cost alone:
  parse_floor_vs_raw (fetch + the stdlib MIME parse only), raw_fetch_us_per_msg and
  quote_stripping_us_per_msg (mail-parser-reply on each message's text);
- site_ingest_msgs_per_s: into the site through the real job's work (email_sync.run_sync, chained);
  frappe_pull_msgs_per_s: Frappe's own Email Account pull into Communications (its best settings for a
  whole mailbox: every mail, batches of 500; no Contacts created) on the same mailbox without its
  unparseable mail, measured first, since Frappe passes over a mail whose Message-ID a Communication
  already has; ingest_vs_frappe (target >= 5); frappe_pull_imported_with_poison: what Frappe's pull
  imports from the mailbox as it is (a batch holding one unparseable mail fails whole);
  ingest_flags_changed: flags our import changed on the server (must be 0);
- noop_poll_ms: median of runs of the job with no new mail (target < 100);
- duplicates, lost: after a connection cut in the middle of a FETCH and a forced UIDVALIDITY reset,
  counted from what the site stored against every importable message (target 0);
- write_floor_msgs_per_s, write_floor_vs_frappe: the rows a new mail becomes, written bare and
  committed one mail at a time (write_floor.py): what no ingest can beat on this machine.
The site part runs under the bench's Python (the script re-runs itself there) and removes everything
it created afterwards (--keep leaves it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCHMARKS.parent), str(BENCHMARKS)]

OWN_ADDRESS = "info@acme.example"
USER, PASSWORD = "bench", "bench-password"
FRAPPE_USER = "frappe-pull"  # the same mailbox without the mail Frappe cannot parse


def parse_args():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--bench", default=os.environ.get("MC_BENCH", str(Path.home() / "frappe-bench")))
	parser.add_argument("--site", help="default: the bench's default site")
	parser.add_argument("--messages", type=int, default=5000)
	parser.add_argument(
		"--frappe-messages", type=int, default=1000, help="stop Frappe's pull after this many"
	)
	parser.add_argument("--noop-runs", type=int, default=20)
	parser.add_argument("--keep", action="store_true", help="leave the benchmark's records on the site")
	parser.add_argument("--in-bench", action="store_true", help=argparse.SUPPRESS)
	return parser.parse_args()


def rerun_under_bench_python(args) -> None:
	python = Path(args.bench) / "env" / "bin" / "python"
	if args.in_bench or Path(sys.prefix).resolve() == (Path(args.bench) / "env").resolve():
		return
	if not python.exists():
		sys.exit(f"no bench at {args.bench} (give --bench DIR)")
	os.execv(str(python), [str(python), __file__, *sys.argv[1:], "--in-bench"])


def report(name: str, value) -> None:
	print(f"{name}: {round(value, 3) if isinstance(value, float) else value}", flush=True)


# ---- core -----------------------------------------------------------------------------------------


def measure_raw_fetch(server, each=None) -> float:
	"""Messages a second fetched with BODY.PEEK[] in batches of 100; `each`, when given, is called on
	every message's bytes (the parse floor)."""
	from imapclient import IMAPClient

	client = IMAPClient(server.host, server.port, ssl=False)
	client.login(USER, PASSWORD)
	started = time.perf_counter()
	client.select_folder("INBOX", readonly=True)
	uids = sorted(client.search(["UID", "1:4294967295"]))
	fetched = 0
	for start in range(0, len(uids), 100):
		batch = client.fetch(uids[start : start + 100], [b"BODY.PEEK[]"])
		fetched += len(batch)
		if each:
			for data in batch.values():
				each(data[b"BODY[]"])
	elapsed = time.perf_counter() - started
	client.logout()
	return fetched / elapsed


def quote_stripping_us(raw_messages: list[bytes]) -> float:
	"""Microseconds a message of mail-parser-reply (through core.mail_quotes) on each text alone."""
	from message_center.core.mail_parse import parse_mail
	from message_center.core.mail_quotes import extract_new_text

	texts = [parse_mail(raw, max_attachment_bytes=10 * 1024 * 1024).text for raw in raw_messages]
	started = time.perf_counter()
	for text in texts:
		extract_new_text(text)
	return (time.perf_counter() - started) / len(texts) * 1e6


def measure_core_pipeline(server, corpus) -> float:
	from message_center.core.imap_sync import ImapConfig, sync_mailbox
	from message_center.core.mail_intake import IntakeSettings
	from message_center.core.people_matching import Candidate
	from message_center.testing.memory_intake import MemoryIntake, MemoryPeople

	people = MemoryPeople(
		[
			Candidate("Contact", f"C-{n}", name, (email,))
			for n, (email, name) in enumerate(corpus.contacts.items())
		]
	)
	intake = MemoryIntake(
		IntakeSettings(frozenset({OWN_ADDRESS}), "bench-secret", timedelta(days=14), 10 * 1024 * 1024), people
	)
	config = ImapConfig(server.host, USER, PASSWORD, port=server.port, ssl=False)
	cursors, fetched = {}, 0
	started = time.perf_counter()
	while True:
		result = sync_mailbox(
			config,
			cursors,
			store=intake.store,
			save_cursor=lambda c: cursors.__setitem__(c.folder, c),
			first_sync_since=date.today() - timedelta(days=30),
		)
		fetched += result.fetched
		if result.error or not result.more_pending:
			break
	return fetched / (time.perf_counter() - started)


# ---- site -----------------------------------------------------------------------------------------


def connect_site(bench: str, site: str | None) -> str:
	os.chdir(Path(bench) / "sites")
	import frappe

	if not site:
		site = (
			Path("currentsite.txt").read_text().strip() if Path("currentsite.txt").exists() else None
		) or frappe.get_conf().get("default_site")
	if not site:
		sys.exit("no --site given and the bench has no default site")
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return site


def make_site_records(server, corpus, key: str) -> tuple[str, str]:
	import frappe

	team = (
		frappe.get_doc({"doctype": "Message Center Team", "team_name": f"MC Bench {key}"})
		.insert(ignore_permissions=True)
		.name
	)
	for email, name in corpus.contacts.items():
		contact = frappe.get_doc(
			{"doctype": "Contact", "first_name": name.split()[0], "last_name": f"{name.split()[-1]} {key}"}
		)
		contact.add_email(email, is_primary=1)
		contact.insert(ignore_permissions=True)
	channel = frappe.get_doc(
		{
			"doctype": "Channel",
			"channel_name": f"MC Bench Mail {key}",
			"kind": "Email",
			"team": team,
			"email_address": OWN_ADDRESS,
			"imap_host": server.host,
			"imap_port": server.port,
			"imap_ssl": 0,
			"imap_username": USER,
			"imap_password": PASSWORD,
			"imap_folders": "INBOX",
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	return team, channel.name


def run_until_done(channel: str):
	from message_center import email_sync

	results = []
	while True:
		results.append(email_sync.run_sync(channel))
		if not results[-1].ok or not results[-1].more_pending:
			return results


def measure_site_ingest(channel: str) -> tuple[float, int]:
	started = time.perf_counter()
	results = run_until_done(channel)
	elapsed = time.perf_counter() - started
	if not results[-1].ok:
		sys.exit(f"site ingest failed: {results[-1].error}")
	fetched = sum(result.fetched for result in results)
	return fetched / elapsed, fetched


def measure_noop(channel: str, runs: int) -> float:
	from message_center import email_sync

	timings = []
	for _ in range(runs):
		started = time.perf_counter()
		result = email_sync.run_sync(channel)
		timings.append((time.perf_counter() - started) * 1000)
		assert result.noop, "new mail appeared during the no-op polls"
	return statistics.median(timings)


def measure_faults(server, channel: str, extra) -> None:
	"""New mail imported through a connection cut mid-FETCH, then a forced UIDVALIDITY reset."""
	import frappe

	from message_center.testing.tcp_faults import FaultyProxy

	seeds = extra.seeds(days_ago=1)
	server.append_many(USER, "INBOX", seeds)
	with FaultyProxy(server.host, server.port) as proxy:
		frappe.db.set_value("Channel", channel, {"imap_host": proxy.host, "imap_port": proxy.port})
		frappe.db.commit()
		proxy.cut_after_server_bytes(
			sum(len(seed.raw) for seed in seeds) // 2, after_client_sends=b"BODY.PEEK[]"
		)
		broken = run_until_done(channel)
		if proxy.cuts != 1 or broken[-1].ok:
			sys.exit("the connection cut did not happen: the fault figures would mean nothing")
		run_until_done(channel)
	frappe.db.set_value("Channel", channel, {"imap_host": server.host, "imap_port": server.port})
	frappe.db.commit()
	server.reset_uidvalidity(USER, "INBOX")
	run_until_done(channel)


def count_duplicates_and_lost(channel: str, corpora) -> tuple[int, int]:
	import frappe

	from message_center.core.mail_threading import message_identity

	rows = frappe.db.sql(
		"select external_id, content_hash from `tabChannel Message` where channel=%s and direction='Inbound'",
		channel,
	)
	stored = set(rows)
	message_ids = frappe.db.sql_list(
		"""select c.message_id from `tabCommunication` c join `tabConversation` v on v.name = c.reference_name
		where c.reference_doctype='Conversation' and v.channel=%s and ifnull(c.message_id, '')!=''""",
		channel,
	)
	duplicates = (len(rows) - len(stored)) + (len(message_ids) - len(set(message_ids)))
	expected = {tuple(message_identity(message.raw)) for corpus in corpora for message in corpus.importable}
	return duplicates, len(expected - stored)


def measure_frappe_pull(server, user: str, key: str, limit: int, accounts: list[str]) -> tuple[float, int]:
	"""Frappe's pull, batch after batch (its scheduler's work) until `limit` mails or two batches that
	import nothing; returns (Communications a second, Communications); the account goes on `accounts`."""
	import frappe
	from frappe.email.doctype.email_account.email_account import pull_from_email_account

	account = frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": f"MC Bench Pull {user} {key}",
			"email_id": f"pull-{user}-{key}@bench.example",
			"enable_incoming": 1,
			"use_imap": 1,
			"email_server": server.host,
			"incoming_port": str(server.port),
			"use_ssl": 0,
			"login_id_is_different": 1,
			"login_id": user,
			"password": PASSWORD,
			"create_contact": 0,
			# its best settings for a whole mailbox: every mail (not only unseen ones), in batches of 500
			"email_sync_option": "ALL",
			"initial_sync_count": "500",
			"imap_folder": [{"folder_name": "INBOX"}],
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	accounts.append(account.name)
	imported, elapsed, stalled = 0, 0.0, 0
	while imported < limit and stalled < 2:
		started = time.perf_counter()
		try:
			pull_from_email_account(account.name)
		except Exception:  # receive() raises after the batch when some mail failed; the scheduler logs it
			frappe.db.rollback()
		elapsed += time.perf_counter() - started
		now = frappe.db.count("Communication", {"email_account": account.name})
		stalled = stalled + 1 if now == imported else 0
		imported = now
	return imported / elapsed if elapsed else 0.0, imported


def main() -> None:
	args = parse_args()
	rerun_under_bench_python(args)
	from email.parser import BytesParser

	from message_center.core.mail_parts import PARSER_POLICY
	from message_center.testing.dovecot import DovecotServer
	from message_center.testing.mail_corpus import build_corpus

	corpus = build_corpus(args.messages, own_address=OWN_ADDRESS)
	extra = build_corpus(300, own_address=OWN_ADDRESS, seed=99, start=args.messages + 1)
	seeds = corpus.seeds(days_ago=10, spread=timedelta(days=7))
	with DovecotServer() as server:
		server.add_user(USER, PASSWORD)
		server.append_many(USER, "INBOX", seeds)
		# Frappe's pull gives up a whole batch on one unparseable mail (it imports nothing from it), so its
		# throughput is measured on the same mailbox without those
		server.add_user(FRAPPE_USER, PASSWORD)
		server.append_many(
			FRAPPE_USER,
			"INBOX",
			[seed for seed, message in zip(seeds, corpus.messages, strict=True) if message.kind != "poison"],
		)
		report("messages", len(corpus.messages))
		raw = measure_raw_fetch(server)
		core = measure_core_pipeline(server, corpus)
		report("raw_fetch_msgs_per_s", raw)
		report("core_pipeline_msgs_per_s", core)
		report("core_vs_raw", core / raw)
		parse_floor = measure_raw_fetch(server, each=BytesParser(policy=PARSER_POLICY).parsebytes)
		report("parse_floor_vs_raw", parse_floor / raw)  # fetch + stdlib MIME parse, nothing else
		report("raw_fetch_us_per_msg", 1e6 / raw)
		report("quote_stripping_us_per_msg", quote_stripping_us([message.raw for message in corpus.messages]))

		site = connect_site(args.bench, args.site)
		import frappe
		from site_cleanup import purge
		from write_floor import measure_write_floor

		key = frappe.generate_hash(length=6)
		report("site", site)
		team = channel = None
		accounts = []
		try:
			# Frappe first: it takes a mail whose Message-ID some Communication already has for known
			frappe_rate, frappe_count = measure_frappe_pull(
				server, FRAPPE_USER, key, args.frappe_messages, accounts
			)
			_rate, frappe_ours = measure_frappe_pull(server, USER, key, args.frappe_messages, accounts)
			seen_by_frappe = server.flags(USER, "INBOX")
			purge(channel=None, team=None, email_accounts=accounts, contact_suffix=None)

			team, channel = make_site_records(server, corpus, key)
			ingest, ingested = measure_site_ingest(channel)
			flags_changed = sum(
				flags != seen_by_frappe.get(uid) for uid, flags in server.flags(USER, "INBOX").items()
			)
			report("site_ingest_msgs_per_s", ingest)
			report("site_ingest_fetched", ingested)
			report("frappe_pull_msgs_per_s", frappe_rate)
			report("frappe_pull_imported", frappe_count)
			report("ingest_vs_frappe", ingest / frappe_rate if frappe_rate else float("inf"))
			# on the mailbox with unparseable mail in it, a batch with one fails whole
			report("frappe_pull_imported_with_poison", frappe_ours)
			report("frappe_pull_marked_seen", sum("\\Seen" in flags for flags in seen_by_frappe.values()))
			report("ingest_flags_changed", flags_changed)
			report("noop_poll_ms", measure_noop(channel, args.noop_runs))
			measure_faults(server, channel, extra)
			duplicates, lost = count_duplicates_and_lost(channel, [corpus, extra])
			report("duplicates", duplicates)
			report("lost", lost)
			# last: its rows are not mail, the counts above must not see them
			floor = measure_write_floor(channel)
			report("write_floor_msgs_per_s", floor)
			report("write_floor_vs_frappe", floor / frappe_rate if frappe_rate else float("inf"))
		finally:
			if not args.keep:
				purge(channel=channel, team=team, email_accounts=accounts, contact_suffix=key)


if __name__ == "__main__":
	main()

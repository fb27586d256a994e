"""Benchmark the inbox list API against Frappe's generic list view request, on a large site.

	python benchmarks/inbox_list.py [--bench DIR] [--site SITE] [--conversations 100000] [--messages 1000000] [--runs 300]

Seeds the site once (bulk INSERT ... SELECT off MariaDB's sequence engine, never doc.insert) with
--conversations Conversations spread over four teams, --messages Communications on them, their
search rows and one agent's read/star/archive marks; a later run reuses the seed when it is already
there (--reseed replaces it). Use a site of its own (mc-bench.localhost): the seed stays.

Then, as an agent of one team (team scoping applies, as in the desk), for every inbox view:
message_center.api.inbox.list (first page, 20 rows) and, where Frappe's list view can express the same
filter, frappe.desk.reportview.get (what /app/conversation?... requests: same filter, 20 rows, newest
activity first, comment counts), both called in this process, after a warm-up, --runs times each, taking turns.

Prints `name: value` lines: list_p95_ms.<view> (target < 100), generic_p95_ms.<view>,
list_vs_generic.<view> (target <= 0.5), and search_word_p95_ms / search_person_p95_ms for a
common word and for one customer's address.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench_site import connect, ensure_bench_python

TEAMS = [f"MC Bench Team {index}" for index in range(1, 5)]
CHANNELS = [f"MC Bench Channel {index}" for index in range(1, 5)]
AGENT = "mc.bench.agent@example.com"
COLLEAGUE = "mc.bench.colleague@example.com"
PREFIX = "BENCH-"
PAGE_LENGTH = 20
WORDS = "roof gutter quote invoice delivery window boiler kitchen survey deposit refund warranty".split()






def _user(frappe, email: str, first: str):
	from message_center.permissions import AGENT_ROLE

	if not frappe.db.exists("User", email):
		frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": first, "send_welcome_email": 0, "user_type": "System User"}
		).insert(ignore_permissions=True)
		frappe.get_doc("User", email).add_roles(AGENT_ROLE)


def setup_people(frappe):
	_user(frappe, AGENT, "Bench Agent")
	_user(frappe, COLLEAGUE, "Bench Colleague")
	for index, (team, channel) in enumerate(zip(TEAMS, CHANNELS, strict=True)):
		if not frappe.db.exists("Message Center Team", team):
			members = [{"user": AGENT}, {"user": COLLEAGUE}] if index == 0 else []
			frappe.get_doc({"doctype": "Message Center Team", "team_name": team, "members": members}).insert(ignore_permissions=True)
		if not frappe.db.exists("Channel", channel):
			frappe.get_doc({"doctype": "Channel", "channel_name": channel, "kind": "Manual", "team": team}).insert(ignore_permissions=True)
	frappe.db.commit()


def clear_seed(frappe):
	like = {"prefix": PREFIX + "%"}
	for table, field in (
		("Communication", "reference_name"),
		("Conversation Search", "conversation"),
		("Conversation User State", "conversation"),
		("Conversation", "name"),
	):
		frappe.db.sql(f"delete from `tab{table}` where {field} like %(prefix)s", like)
		frappe.db.commit()


def seed(frappe, conversations: int, messages: int):
	"""Conversations: 30 % open (of those a third unclaimed, half waiting), 40 % unmatched, the
	agent's claims spread in; activity over two years. Messages: alternating in/out, before the
	conversation's last activity."""
	per_conversation = max(1, messages // conversations)
	agent, colleague = frappe.db.escape(AGENT), frappe.db.escape(COLLEAGUE)
	words = ", ".join(frappe.db.escape(word) for word in WORDS)
	step = 20000
	for start in range(1, conversations + 1, step):
		end = min(conversations, start + step - 1)
		frappe.db.sql(
			f"""insert into `tabConversation` (name, creation, modified, owner, modified_by, docstatus, idx,
				subject, channel, medium, team, status, claimed_by, party_address, party_name, unmatched, contact,
				last_message_at, last_inbound_at, waiting_since, unclaimed_since, message_count, last_message_preview)
			select concat('{PREFIX}', lpad(seq, 7, '0')), at - interval 3 day, at, 'Administrator', 'Administrator', 0, 0,
				concat('About the ', elt(seq % 12 + 1, {words}), ' ', seq), concat('MC Bench Channel ', seq % 4 + 1),
				'Email', concat('MC Bench Team ', seq % 4 + 1), if(seq % 10 < 3, 'Open', 'Closed'),
				case when seq % 10 < 3 and seq % 3 = 0 then null when seq % 5 = 0 then {agent} else {colleague} end,
				concat('customer', seq, '@example.com'), if(seq % 5 < 2, null, concat('Customer ', seq)),
				if(seq % 5 < 2, 1, 0), if(seq % 5 < 2, null, concat('Customer ', seq)),
				at, at, if(seq % 10 < 3 and seq % 2 = 0, at, null), if(seq % 10 < 3 and seq % 3 = 0, at, null),
				{per_conversation}, concat('Message about the ', elt(seq % 12 + 1, {words}))
			from (select seq, now() - interval ((seq * 7919) % 63072000) second as at
				from seq_{start}_to_{end}) numbers"""
		)
		frappe.db.commit()
	chunk = max(1, step // per_conversation)
	for start in range(1, conversations + 1, chunk):
		end = min(conversations, start + chunk - 1)
		frappe.db.sql(
			f"""insert into `tabCommunication` (name, creation, modified, owner, modified_by, docstatus, idx,
				communication_type, communication_medium, sent_or_received, subject, content, sender, status,
				reference_doctype, reference_name, communication_date)
			select concat('{PREFIX}', lpad(cseq, 7, '0'), '-', mseq), at, at, 'Administrator', 'Administrator', 0, 0,
				'Communication', 'Email', if(mseq % 2 = 0, 'Received', 'Sent'), concat('About the ', elt(cseq % 12 + 1, {words})),
				concat('<p>Hello, a question about the ', elt((cseq + mseq) % 12 + 1, {words}), ' number ', cseq, '-', mseq, '.</p>'),
				concat('customer', cseq, '@example.com'), 'Linked', 'Conversation', concat('{PREFIX}', lpad(cseq, 7, '0')), at
			from (select c.seq as cseq, m.seq as mseq, now() - interval ((c.seq * 7919) % 63072000 + m.seq * 3600) second as at
				from seq_{start}_to_{end} c join seq_0_to_{per_conversation - 1} m) pairs"""
		)
		frappe.db.commit()
	frappe.db.sql(
		"""insert into `tabConversation Search` (name, conversation, header_text, body_text, creation, modified, owner, modified_by, docstatus, idx)
		select name, name, concat_ws(' ', name, party_name, party_address, subject), concat(last_message_preview, ' ', replace(name, '-', ' ')),
			creation, modified, 'Administrator', 'Administrator', 0, 0
		from `tabConversation` where name like %(prefix)s""",
		{"prefix": PREFIX + "%"},
	)
	# The agent's own marks: read a third of the team's open work, starred and archived a few.
	frappe.db.sql(
		f"""insert into `tabConversation User State` (name, conversation, user, last_read_at, starred, archived_at, marked_unread,
			creation, modified, owner, modified_by, docstatus, idx)
		select concat(name, '-state'), name, {agent}, if(right(name, 1) in ('1', '2', '3'), now(), null),
			if(right(name, 2) = '04', 1, 0), if(right(name, 2) = '08', now(), null), 0, now(), now(), {agent}, {agent}, 0, 0
		from `tabConversation` where name like %(prefix)s and team = %(team)s and (status = 'Open' or right(name, 2) in ('04', '08'))""",
		{"prefix": PREFIX + "%", "team": TEAMS[0]},
	)
	frappe.db.commit()
	for table in ("Conversation", "Communication", "Conversation Search", "Conversation User State"):
		frappe.db.sql(f"analyze table `tab{table}`")


# view -> generic list view filters for the same conversations (None: the list view cannot say it)
def generic_filters(view: str):
	open_ = ["Conversation", "status", "=", "Open"]
	return {
		"open": [open_],
		"waiting": [open_, ["Conversation", "waiting_since", "is", "set"]],
		"unassigned": [open_, ["Conversation", "claimed_by", "is", "not set"]],
		"mine": [open_, ["Conversation", "claimed_by", "=", AGENT]],
		"closed": [["Conversation", "status", "=", "Closed"]],
		"unmatched": [
			["Conversation", "contact", "is", "not set"],
			["Conversation", "lead", "is", "not set"],
			["Conversation", "customer", "is", "not set"],
		],
	}.get(view)


# What Frappe v15's list view asks for on /app/conversation: the standard fields, the in_list_view
# fields (subject, status, claimed_by, party_name), the title field and the sort field.
LIST_VIEW_FIELDS = [
	"`tabConversation`.`name`",
	"`tabConversation`.`owner`",
	"`tabConversation`.`creation`",
	"`tabConversation`.`modified`",
	"`tabConversation`.`modified_by`",
	"`tabConversation`.`_user_tags`",
	"`tabConversation`.`_comments`",
	"`tabConversation`.`_assign`",
	"`tabConversation`.`_liked_by`",
	"`tabConversation`.`docstatus`",
	"`tabConversation`.`idx`",
	"`tabConversation`.`status`",
	"`tabConversation`.`subject`",
	"`tabConversation`.`party_name`",
	"`tabConversation`.`claimed_by`",
	"`tabConversation`.`last_message_at`",
]


def generic_request(frappe, filters):
	from frappe.desk import reportview

	frappe.local.form_dict = frappe._dict(
		doctype="Conversation",
		fields=json.dumps(LIST_VIEW_FIELDS),
		filters=json.dumps(filters),
		order_by="`tabConversation`.`last_message_at` desc",
		start=0,
		page_length=PAGE_LENGTH,
		view="List",
		group_by="",
		with_comment_count=1,
	)
	return reportview.get()


def p95(samples: list[float]) -> float:
	return statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 else samples[0]


def timed(calls: dict, runs: int) -> dict:
	"""{name: (p95 ms, last result)} for each call. The calls take turns, so a busy moment of the
	machine falls on all of them alike rather than on whichever happened to run then."""
	results = {}
	for name, call in calls.items():
		for _ in range(3):  # warm-up: caches, prepared metadata
			results[name] = call()
	samples = {name: [] for name in calls}
	for _ in range(runs):
		for name, call in calls.items():
			start = time.perf_counter()
			call()
			samples[name].append((time.perf_counter() - start) * 1000)
	return {name: (p95(samples[name]), results[name]) for name in calls}


def main():
	parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
	parser.add_argument("--bench", default=str(Path.home() / "frappe-bench"))
	parser.add_argument("--site", default="mc-bench.localhost")
	parser.add_argument("--conversations", type=int, default=100_000)
	parser.add_argument("--messages", type=int, default=1_000_000)
	parser.add_argument("--runs", type=int, default=300)
	parser.add_argument("--reseed", action="store_true")
	args = parser.parse_args()
	bench = Path(args.bench).expanduser()
	ensure_bench_python(bench)
	frappe = connect(bench, args.site)
	try:
		frappe.set_user("Administrator")
		setup_people(frappe)
		present = frappe.db.sql("select count(*) from `tabConversation` where name like %s", PREFIX + "%")[0][0]
		if args.reseed or present != args.conversations:
			clear_seed(frappe)
			start = time.perf_counter()
			seed(frappe, args.conversations, args.messages)
			print(f"seed_s: {time.perf_counter() - start:.1f}")
		print(f"conversations: {frappe.db.count('Conversation')}")
		print(f"messages: {frappe.db.count('Communication')}")

		from message_center import inbox_query
		from message_center.api import inbox

		frappe.set_user(AGENT)
		for view in inbox_query.LIST_VIEWS:
			calls = {"list": lambda view=view: inbox.list(view=view, page_length=PAGE_LENGTH)}
			filters = generic_filters(view)
			if filters is not None:
				calls["generic"] = lambda filters=filters: generic_request(frappe, filters)
			timings = timed(calls, args.runs)
			list_ms, result = timings["list"]
			print(f"list_p95_ms.{view}: {list_ms:.1f}")
			print(f"list_rows.{view}: {len(result['rows'])}")
			if filters is None:
				print(f"list_vs_generic.{view}: n/a (per-user state the list view cannot filter on)")
				continue
			generic_ms = timings["generic"][0]
			print(f"generic_p95_ms.{view}: {generic_ms:.1f}")
			print(f"list_vs_generic.{view}: {list_ms / generic_ms:.2f}")
		# A word in a twelfth of all conversations (8k, a quarter of them the agent's), and one person.
		for name, text in (("search_word", WORDS[8]), ("search_person", "customer4712")):
			search_ms, found = timed({name: lambda text=text: inbox.search(text=text, page_length=PAGE_LENGTH)}, args.runs)[name]
			print(f"{name}_p95_ms: {search_ms:.1f}")
			print(f"{name}_rows: {len(found['rows'])}")
	finally:
		frappe.destroy()


if __name__ == "__main__":
	main()

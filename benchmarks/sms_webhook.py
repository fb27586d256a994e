"""Benchmark Twilio's incoming-SMS webhook against the bench's real web server.

	python benchmarks/sms_webhook.py [--bench DIR] [--site SITE] [--requests 2000] [--concurrency 8]

Starts what a production bench runs (`bench setup production`): gunicorn from the bench env
(frappe.app:application --preload, the bench's gunicorn_workers) on --port, and the bench's
background_workers short-queue workers, which file each accepted text on its conversation. Posts
--requests signed inbound webhooks (10 % of them replays of earlier ones, as Twilio's retries are)
from 8 concurrent clients, each request on a new connection. The baseline, measured on the same
server in the same run, is Frappe's unsigned no-op `ping` method at the same concurrency.

Then it gives the workers --drain-timeout seconds to file every text, runs the scheduler's sweep
(sms_inbound.process_pending) for whatever they did not reach, and checks the database: every
distinct MessageSid accepted exactly once (`lost`: never accepted; `duplicates`: a second row or a
second message for one MessageSid).

Prints `name: value` lines: webhook_req_per_s (target >= 50), webhook_p95_ms (target < 200),
lost and duplicates (target 0), the baseline with the ratios against it, and how filing went.
Note: the short queue is the bench's, shared by its sites; the workers run any site's short jobs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from bench_site import connect, ensure_bench_python

REPO = Path(__file__).resolve().parent.parent
CHANNEL = "MC Bench SMS"
TEAM = "MC Bench SMS"
ACCOUNT_SID = "AC" + "be" * 16






def setup_channel(frappe) -> tuple[str, str]:
	"""An SMS channel for the benchmark with a fresh auth token; returns (webhook URL, token)."""
	from message_center.testing.twilio_webhooks import new_auth_token

	token = new_auth_token()
	if not frappe.db.exists("Message Center Team", TEAM):
		frappe.get_doc({"doctype": "Message Center Team", "team_name": TEAM}).insert(ignore_permissions=True)
	if frappe.db.exists("Channel", CHANNEL):
		channel = frappe.get_doc("Channel", CHANNEL)
	else:
		channel = frappe.get_doc(
			{"doctype": "Channel", "channel_name": CHANNEL, "kind": "SMS", "team": TEAM, "sms_from_number": "+14155550199"}
		)
	channel.update({"twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": token, "enabled": 1})
	channel.save(ignore_permissions=True)
	frappe.db.commit()
	return channel.webhook_url, token


def file_leftovers(frappe):
	"""File what an earlier run left accepted, so a run counts only its own messages, and drop the
	queued filing jobs of texts already filed (the workers would spend this run on them)."""
	from frappe.utils.background_jobs import get_queue

	from message_center.sms_inbound import process_pending

	while process_pending(limit=500, older_than_seconds=0, channel=CHANNEL):
		pass
	frappe.db.commit()
	queue = get_queue("short")
	queued = {}
	for job in queue.get_jobs():
		kwargs = job.kwargs or {}
		if kwargs.get("site") == frappe.local.site and kwargs.get("method") == "message_center.sms_inbound.process":
			queued[kwargs["kwargs"]["channel_message"]] = job
	filed = frappe.get_all(
		"Channel Message", filters={"name": ("in", list(queued)), "communication": ("is", "set")}, pluck="name"
	) if queued else []
	for name in filed:
		queued[name].delete()


def build_requests(webhook_url: str, token: str, total: int, replay_share: float, senders: int, seed: int):
	"""Signed webhook bodies in sending order; replays come after their original."""
	from message_center.testing.twilio_webhooks import build_inbound_sms_request, new_sid

	rng = random.Random(seed)
	replays = int(total * replay_share)
	numbers = [f"+1628{rng.randint(2, 9)}{rng.randint(0, 999999):06d}" for _ in range(senders)]
	originals = []
	for index in range(total - replays):
		sid = new_sid("SM")
		webhook = build_inbound_sms_request(
			webhook_url,
			token,
			account_sid=ACCOUNT_SID,
			from_number=numbers[index % senders],
			to_number="+14155550199",
			body=f"Benchmark message {index}: is the {rng.choice(['blue', 'red', 'green'])} one in stock?",
			message_sid=sid,
		)
		originals.append((sid, webhook))
	order = list(originals)
	for _ in range(replays):
		position = rng.randrange(len(originals))
		# Twilio retries after its original request: insert the replay somewhere after it.
		insert_at = rng.randint(position + 1, len(order))
		order.insert(insert_at, originals[position])
	return [sid for sid, _ in originals], order


def _post(host: str, port: int, site: str, path: str, body: bytes, headers: dict) -> tuple[int, float]:
	started = time.perf_counter()
	connection = http.client.HTTPConnection(host, port, timeout=60)  # a new connection, as Twilio's
	try:
		connection.request("POST", path, body=body, headers={**headers, "Host": site})
		response = connection.getresponse()
		response.read()
		status = response.status
	finally:
		connection.close()
	return status, (time.perf_counter() - started) * 1000


def run_load(host, port, site, jobs, concurrency) -> tuple[float, list[float], dict[int, int]]:
	"""Returns (requests per second, latencies in ms, count per HTTP status)."""
	started = time.perf_counter()
	with ThreadPoolExecutor(max_workers=concurrency) as pool:
		results = list(pool.map(lambda job: _post(host, port, site, *job), jobs))
	elapsed = time.perf_counter() - started
	statuses: dict[int, int] = {}
	for status, _ in results:
		statuses[status] = statuses.get(status, 0) + 1
	return len(jobs) / elapsed, [latency for _, latency in results], statuses


def p95(values: list[float]) -> float:
	return statistics.quantiles(values, n=100, method="inclusive")[94]


def server_environment() -> dict[str, str]:
	"""As in production, Python's compiled bytecode is cached: without it (PYTHONDONTWRITEBYTECODE, as
	some dev shells set) every job a worker forks compiles Frappe's modules from source again. The
	cache goes to a temporary folder, never into the bench or this repository."""
	environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
	environment["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "message-center-benchmark-pycache")
	return environment


def start_server(bench: Path, port: int, workers: int) -> subprocess.Popen:
	command = [
		str(bench / "env" / "bin" / "gunicorn"),
		"-b",
		f"127.0.0.1:{port}",
		"-w",
		str(workers),
		"-t",
		"120",
		"--graceful-timeout",
		"30",
		"frappe.app:application",
		"--preload",
	]
	log = open(bench / "logs" / f"bench-sms-webhook-{port}.log", "ab")
	return subprocess.Popen(
		command, cwd=bench / "sites", stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=server_environment()
	)


def start_worker(bench: Path, index: int) -> subprocess.Popen:
	"""`bench worker --queue short`, as the bench's Procfile and supervisor run it."""
	command = [str(bench / "env" / "bin" / "python"), "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", "short"]
	log = open(bench / "logs" / f"bench-sms-webhook-worker-{index}.log", "ab")
	return subprocess.Popen(
		command, cwd=bench / "sites", stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=server_environment()
	)


def stop(process: subprocess.Popen):
	os.killpg(process.pid, signal.SIGTERM)
	try:
		process.wait(timeout=60)
	except subprocess.TimeoutExpired:
		os.killpg(process.pid, signal.SIGKILL)
		process.wait()


def wait_until_filed(frappe, sids: list[str], timeout: float) -> float | None:
	"""Seconds until the worker had filed every accepted text, None when it did not in time."""
	started = time.perf_counter()
	while time.perf_counter() - started < timeout:
		frappe.db.commit()  # a fresh snapshot each time
		if count_stored(frappe, sids) == len(sids):
			return time.perf_counter() - started
		time.sleep(0.5)
	return None


def wait_until_ready(host: str, port: int, site: str, timeout: float = 60):
	deadline = time.time() + timeout
	while time.time() < deadline:
		try:
			connection = http.client.HTTPConnection(host, port, timeout=5)
			connection.request("GET", "/api/method/ping", headers={"Host": site})
			if connection.getresponse().status == 200:
				return
		except OSError:
			pass
		time.sleep(0.25)
	raise SystemExit(f"the web server on {host}:{port} did not answer within {timeout:.0f} s")


def count_stored(frappe, sids: list[str], filed_only: bool = True) -> int:
	"""Channel Message rows of these MessageSids: filed ones (with their Communication), or all."""
	filters = {"channel": CHANNEL, "communication": ("is", "set")} if filed_only else {"channel": CHANNEL}
	stored = 0
	for start in range(0, len(sids), 500):
		stored += frappe.db.count("Channel Message", {**filters, "external_id": ("in", sids[start : start + 500])})
	return stored


def count_accepted(frappe, sids: list[str]) -> int:
	"""Distinct MessageSids with a Channel Message row."""
	accepted = 0
	for start in range(0, len(sids), 500):
		accepted += frappe.db.sql(
			"""select count(distinct external_id) from `tabChannel Message` where channel = %s and external_id in %s""",
			(CHANNEL, tuple(sids[start : start + 500])),
		)[0][0]
	return accepted


def count_communications(frappe, since) -> int:
	"""Communications the run created on the benchmark channel's conversations."""
	return frappe.db.sql(
		"""select count(*) from `tabCommunication` c join `tabConversation` v on v.name = c.reference_name
		where c.reference_doctype = 'Conversation' and v.channel = %s and c.creation >= %s""",
		(CHANNEL, since),
	)[0][0]


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--bench", default=os.path.expanduser("~/frappe-bench"))
	parser.add_argument("--site")
	parser.add_argument("--requests", type=int, default=2000)
	parser.add_argument("--concurrency", type=int, default=8)
	parser.add_argument("--replays", type=float, default=0.10)
	parser.add_argument("--senders", type=int, default=200)
	parser.add_argument("--baseline-requests", type=int, default=1000)
	parser.add_argument("--port", type=int, default=8012)
	parser.add_argument("--workers", type=int, help="gunicorn workers (default: the bench's gunicorn_workers)")
	parser.add_argument("--seed", type=int, default=5)
	parser.add_argument("--job-workers", type=int, help="short-queue workers (default: the bench's background_workers)")
	parser.add_argument("--drain-timeout", type=float, default=120, help="seconds the workers get to file every text")
	args = parser.parse_args()
	bench = Path(args.bench).expanduser().resolve()
	ensure_bench_python(bench, "twilio")
	sys.path.insert(0, str(REPO))
	common = json.loads((bench / "sites" / "common_site_config.json").read_text())
	site = args.site or common.get("default_site")
	workers = args.workers or int(common.get("gunicorn_workers") or 4)
	job_workers = args.job_workers or int(common.get("background_workers") or 1)
	if not site:
		sys.exit("name the site with --site")

	frappe = connect(bench, site)
	webhook_url, token = setup_channel(frappe)
	file_leftovers(frappe)
	sids, order = build_requests(webhook_url, token, args.requests, args.replays, args.senders, args.seed)
	since = frappe.utils.now_datetime()
	frappe.db.commit()

	host = "127.0.0.1"
	server = start_server(bench, args.port, workers)
	job_processes = [start_worker(bench, index) for index in range(job_workers)]
	try:
		wait_until_ready(host, args.port, site)
		ping = ("/api/method/ping", b"", {"Content-Length": "0"})
		run_load(host, args.port, site, [ping] * (args.concurrency * 4), args.concurrency)  # warm every worker
		baseline_rate, baseline_latencies, baseline_statuses = run_load(
			host, args.port, site, [ping] * args.baseline_requests, args.concurrency
		)
		jobs = []
		for _, webhook in order:
			parts = urlsplit(webhook.url)
			jobs.append((f"{parts.path}?{parts.query}", webhook.body, webhook.headers))
		load_started = time.perf_counter()
		rate, latencies, statuses = run_load(host, args.port, site, jobs, args.concurrency)
		load_seconds = time.perf_counter() - load_started
		report = [
			f"server: gunicorn -w {workers} frappe.app:application --preload on port {args.port}"
			f" + {job_workers} `bench worker --queue short` (what `bench setup production` runs), bytecode cached",
			f"site: {site}",
			f"requests: {len(order)} ({len(order) - len(sids)} replays) at concurrency {args.concurrency}, a new connection each",
			f"baseline: unsigned no-op /api/method/ping x {args.baseline_requests}, statuses {baseline_statuses}",
			f"baseline_req_per_s: {baseline_rate:.1f}",
			f"baseline_p95_ms: {p95(baseline_latencies):.1f}",
			f"webhook_statuses: {statuses}",
			f"webhook_req_per_s: {rate:.1f}",
			f"webhook_p50_ms: {statistics.median(latencies):.1f}",
			f"webhook_p95_ms: {p95(latencies):.1f}",
			f"webhook_vs_baseline_req_per_s: {rate / baseline_rate:.2f}",
			f"webhook_vs_baseline_p95: {p95(latencies) / p95(baseline_latencies):.2f}",
		]
		print("\n".join(report), flush=True)  # the webhook figures stand whatever filing does next
		drain_seconds = wait_until_filed(frappe, sids, args.drain_timeout)
		filed_by_workers = count_stored(frappe, sids)
	finally:
		stop(server)
		for process in job_processes:
			stop(process)

	# What the workers did not reach, the scheduler's sweep files (as it would a minute later).
	sweep_started = time.perf_counter()
	file_leftovers(frappe)
	sweep_seconds = time.perf_counter() - sweep_started
	frappe.db.commit()  # a fresh snapshot: see everything the server, the workers and the sweep wrote
	accepted = count_accepted(frappe, sids)
	rows = count_stored(frappe, sids, filed_only=False)
	filed = count_stored(frappe, sids)
	communications = count_communications(frappe, since)
	frappe.destroy()

	if drain_seconds is None:
		print(f"filed_by_workers: {filed_by_workers} of {len(sids)} within {args.drain_timeout:.0f} s after the load")
		print(f"filed_by_workers_msgs_per_s: {filed_by_workers / (load_seconds + args.drain_timeout):.1f}")
	else:
		print(f"filed_after_load_s: {drain_seconds:.1f}")
		print(f"filed_msgs_per_s: {len(sids) / (load_seconds + drain_seconds):.1f}")
	print(f"filed_by_sweep: {filed - filed_by_workers} in {sweep_seconds:.1f} s")
	print(f"unfiled: {len(sids) - filed}")
	print(f"lost: {len(sids) - accepted}")
	print(f"duplicates: {(rows - accepted) + (communications - filed)}")


if __name__ == "__main__":
	main()

"""Benchmark sync_mailbox against a private Dovecot on loopback.

	python benchmarks/bench_imap_sync.py [--messages 1000] [--body-lines 100] [--chunk 100]

Prints seeding time, full-import throughput (messages/s and MB/s, with the in-memory
idempotent sink, so identity hashing is included) and the no-op poll latency.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

from message_center.core.imap_sync import ImapConfig
from message_center.testing.dovecot import DovecotServer
from message_center.testing.memory_sink import MemorySink
from message_center.testing.sample_mail import make_message


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--messages", type=int, default=1000)
	parser.add_argument("--body-lines", type=int, default=100, help="~36 bytes each")
	parser.add_argument("--chunk", type=int, default=100, help="UIDs per FETCH")
	parser.add_argument("--batch-limit", type=int, default=500)
	parser.add_argument("--polls", type=int, default=50)
	args = parser.parse_args()

	with DovecotServer() as server:
		server.add_user("bench", "bench")
		started = time.perf_counter()
		server.append_many(
			"bench", "INBOX", [make_message(n, body_lines=args.body_lines) for n in range(args.messages)]
		)
		seeded = time.perf_counter() - started
		config = ImapConfig(host=server.host, port=server.port, ssl=False, username="bench", password="bench")
		since = date.today() - timedelta(days=30)

		sink = MemorySink()
		started = time.perf_counter()
		results = sink.sync_until_done(
			config, first_sync_since=since, batch_limit=args.batch_limit, fetch_chunk=args.chunk
		)
		imported = time.perf_counter() - started
		assert len(sink.records) == args.messages and all(r.ok for r in results)
		megabytes = sum(m.size for m in sink.records.values()) / 1e6

		poll_ms = []
		for _ in range(args.polls):
			result = sink.sync(config, first_sync_since=since)
			assert result.noop
			poll_ms.append(result.duration_s * 1000)

	print(f"seeded {args.messages} messages ({megabytes:.1f} MB) by MULTIAPPEND in {seeded:.2f} s")
	print(
		f"imported in {imported:.2f} s over {len(results)} calls: "
		f"{args.messages / imported:,.0f} msgs/s, {megabytes / imported:.1f} MB/s"
	)
	print(f"no-op poll: median {statistics.median(poll_ms):.1f} ms, max {max(poll_ms):.1f} ms")


if __name__ == "__main__":
	main()

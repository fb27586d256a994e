"""What the core pipeline's parts cost on their own, for reading core_vs_raw against them.

- parse_floor: the raw fetch plus the standard library's MIME parse of every message, and nothing else
  (no header decoding, sanitising, quote stripping, threading or matching);
- quote stripping: mail-parser-reply (through core.mail_quotes) on every message's text, in
  microseconds a message, to set against the raw fetch's microseconds a message.
"""

from __future__ import annotations

import time
from email.parser import BytesParser


def measure_parse_floor(server, user: str, password: str) -> float:
	from imapclient import IMAPClient

	from message_center.core.mail_parts import PARSER_POLICY

	parser = BytesParser(policy=PARSER_POLICY)
	client = IMAPClient(server.host, server.port, ssl=False)
	client.login(user, password)
	started = time.perf_counter()
	client.select_folder("INBOX", readonly=True)
	uids = sorted(client.search(["UID", "1:4294967295"]))
	parsed = 0
	for start in range(0, len(uids), 100):
		for data in client.fetch(uids[start : start + 100], [b"BODY.PEEK[]"]).values():
			parser.parsebytes(data[b"BODY[]"])
			parsed += 1
	elapsed = time.perf_counter() - started
	client.logout()
	return parsed / elapsed


def quote_stripping_us(raw_messages: list[bytes]) -> float:
	from message_center.core.mail_parse import parse_mail
	from message_center.core.mail_quotes import extract_new_text

	texts = [parse_mail(raw, max_attachment_bytes=10 * 1024 * 1024).text for raw in raw_messages]
	started = time.perf_counter()
	for text in texts:
		extract_new_text(text)
	return (time.perf_counter() - started) / len(texts) * 1e6

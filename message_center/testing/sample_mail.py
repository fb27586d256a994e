"""Synthetic enquiry mails for seeding test and benchmark mailboxes."""

from __future__ import annotations


def make_message(
	number: int, *, tag: str = "m", body_lines: int = 5, message_id: bool = True, relay: str = "mx1"
) -> bytes:
	"""A plain RFC 5322 message with Message-ID `<{tag}-{number}@example.org>`.

	`relay` only changes the transport header (Received), as a second delivery would.
	"""
	headers = [
		f"Received: from {relay}.example.net by imap.example.com; Mon, 1 Jan 2024 10:00:00 +0000",
		f"From: Customer {number} <customer{number}@example.org>",
		"To: sales@example.com",
		f"Subject: Enquiry {tag}-{number}",
		"Date: Mon, 1 Jan 2024 10:00:00 +0000",
	]
	if message_id:
		headers.append(f"Message-ID: <{tag}-{number}@example.org>")
	body = "".join(f"Line {line} of enquiry {tag}-{number}.\r\n" for line in range(body_lines))
	return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()

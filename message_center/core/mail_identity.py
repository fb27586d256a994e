"""A message's identity for idempotent import: its Message-ID and a hash of its stable content.

The same mail must be recognised when it is fetched again: after a UIDVALIDITY reset, a server
migration, or from a second folder. Transport headers (Received, DKIM/ARC signatures, spam
scores, Delivered-To...) differ between deliveries and migrations, so the content hash covers
only the body and the headers the author's client wrote.
"""

from __future__ import annotations

import hashlib
import re
from email.parser import BytesHeaderParser
from typing import NamedTuple

# Headers written by the sender's client; everything else may be added or rewritten in transit.
STABLE_HEADERS = (
	"from",
	"sender",
	"reply-to",
	"to",
	"cc",
	"subject",
	"date",
	"message-id",
	"in-reply-to",
	"references",
	"mime-version",
	"content-type",
	"content-transfer-encoding",
)
MAX_KEY_LENGTH = 140  # fits a Frappe Data field
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_WHITESPACE = re.compile(r"\s+")


class MessageIdentity(NamedTuple):
	message_id_key: str  # "<local@domain>", or "sha256:<content_hash>" when there is no usable Message-ID
	content_hash: str  # sha256 hex of the stable headers and the body


def message_identity(raw: bytes) -> MessageIdentity:
	"""Identify a raw RFC 5322 message. Never raises on malformed input."""
	head, body = _split(raw)
	# only the header block is parsed (cheap for big mails); raw_items() gives the values as
	# received (surrogate-escaped), with no decoding that could vary
	values_by_name: dict[str, list[str]] = {}
	for name, value in BytesHeaderParser().parsebytes(head + b"\n").raw_items():
		values_by_name.setdefault(name.strip().lower(), []).append(value)
	if body is None:  # no blank line: all headers, or (if none parsed) all content
		body = b"" if values_by_name else head
	content_hash = _content_hash(values_by_name, body.rstrip())
	message_id = normalise_message_id((values_by_name.get("message-id") or [None])[0])
	return MessageIdentity(message_id or f"sha256:{content_hash}", content_hash)


def normalise_message_id(value: str | None) -> str | None:
	"""`<id>` from a Message-ID header value, or None if it holds no usable id."""
	if value is None:
		return None
	text = _WHITESPACE.sub(" ", value).strip()
	match = _ANGLE_ID.search(text)
	bare = match.group(1) if match else text
	if not bare or " " in bare:
		return None
	key = f"<{bare}>"
	if len(key) > MAX_KEY_LENGTH:  # absurdly long ids still need a stable, storable key
		return "msgid-sha256:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
	return key


def _split(raw: bytes) -> tuple[bytes, bytes | None]:
	"""(header block, body or None if there is no blank line), line endings normalised to LF:
	servers differ there (Maildir stores LF, IMAP sends CRLF)."""
	text = raw.replace(b"\r\n", b"\n")
	if text.startswith(b"\n"):
		return b"", text[1:]
	head, separator, body = text.partition(b"\n\n")
	return (head, body) if separator else (text, None)


def _content_hash(values_by_name: dict[str, list[str]], body: bytes) -> str:
	digest = hashlib.sha256()
	for name in STABLE_HEADERS:  # fixed order: header reordering in transit must not matter
		for value in values_by_name.get(name, ()):
			unfolded = _WHITESPACE.sub(" ", value).strip()
			digest.update(f"{name}: {unfolded}\n".encode("utf-8", "surrogateescape"))
	digest.update(b"\n")
	digest.update(body)
	return digest.hexdigest()

"""Parsing a received mail into what the inbox stores: people, text, safe HTML and attachments.

parse_mail never raises. Broken mail yields what can be recovered plus a list of defects; a total
failure yields a ParsedMail with parse_error set, so the caller keeps the raw bytes and flags the
message for review instead of losing it.

The stdlib parser runs with compat32, the most tolerant policy, with header values kept raw so that
every header goes through one charset-forgiving decoder (see mail_parts.PARSER_POLICY).
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesParser
from urllib.parse import unquote

from message_center.core.html_sanitize import html_to_text, sanitize_html
from message_center.core.mail_attachments import Attachment, SkippedAttachment
from message_center.core.mail_charset import (
	clean_text,
	decode_header_value,
	read_header,
	text_from_surrogates,
	unfold,
)
from message_center.core.mail_parts import (
	PARSER_POLICY,
	DeliveryReport,
	PartCollector,
	content_type_of,
	message_ids_in,
)
from message_center.core.mail_quotes import extract_new_text


@dataclass(frozen=True)
class Address:
	name: str
	address: str  # lowercased; may lack a domain (e.g. "mailer-daemon"), never contains spaces

	def __str__(self) -> str:
		"""For people to read (not RFC 2047-encoded): 'Müller, Hans' <h@x.de>."""
		if not self.name:
			return self.address
		name = self.name.replace("\\", "\\\\").replace('"', '\\"')
		return (
			f'"{name}" <{self.address}>'
			if re.search(r'[(),.:;<>@\[\]"\\]', name)
			else f"{name} <{self.address}>"
		)


@dataclass
class ParsedMail:
	message_id: str | None  # without angle brackets
	in_reply_to: str | None  # without angle brackets
	references: list[str]  # oldest first, as in the header, without angle brackets
	subject: str
	sender: Address | None  # From (falls back to Sender)
	to: list[Address]
	cc: list[Address]
	reply_to: list[Address]
	date: datetime | None  # timezone-aware; "-0000" and missing zones are read as UTC
	text: str  # plain text; derived from the HTML when the mail has no text part
	html: str  # sanitised, safe to show in the desk; cid: URLs still to be rewritten
	new_text: str  # the text without quoted history and signature
	attachments: list[Attachment] = field(default_factory=list)
	skipped_attachments: list[SkippedAttachment] = field(default_factory=list)
	defects: list[str] = field(default_factory=list)
	damage: list[str] = field(default_factory=list)  # defects after which it may not read as sent
	headers: dict[str, list[str]] = field(
		default_factory=dict
	)  # lowercased name -> decoded values, top level
	content_type: str = "text/plain"  # of the top-level part
	report: DeliveryReport | None = None  # set for multipart/report (bounces, read receipts)
	parse_error: str | None = None  # set when nothing could be parsed: keep the raw bytes for review

	def header(self, name: str) -> str | None:
		"""The first value of a top-level header, decoded, or None."""
		values = self.headers.get(name.lower())
		return values[0] if values else None

	@property
	def all_addresses(self) -> list[str]:
		"""Every address the mail names (from, to, cc, reply-to), each once, in that order."""
		people = ([self.sender] if self.sender else []) + self.to + self.cc + self.reply_to
		return list(dict.fromkeys(person.address for person in people if person.address))


def parse_mail(
	raw: bytes,
	*,
	max_attachment_bytes: int,
	max_total_attachment_bytes: int | None = None,
) -> ParsedMail:
	"""Parse raw RFC 5322 bytes. Never raises.

	max_attachment_bytes: a larger attachment is left out and listed in skipped_attachments.
	max_total_attachment_bytes: once kept attachments add up to this, further ones are skipped too.
	"""
	try:
		if isinstance(raw, str):
			raw = raw.encode("utf-8", "surrogateescape")
		return _parse(bytes(raw), max_attachment_bytes, max_total_attachment_bytes)
	except Exception as error:  # the promise is to never lose a mail to a parser bug
		return failed_mail(f"{type(error).__name__}: {error}")


def failed_mail(reason: str) -> ParsedMail:
	"""An empty ParsedMail that says why it is empty."""
	return ParsedMail(
		message_id=None,
		in_reply_to=None,
		references=[],
		subject="",
		sender=None,
		to=[],
		cc=[],
		reply_to=[],
		date=None,
		text="",
		html="",
		new_text="",
		parse_error=clean_text(str(reason))[:1000] or "unknown error",
	)


def _parse(raw: bytes, max_attachment_bytes: int, max_total_attachment_bytes: int | None) -> ParsedMail:
	raw = raw.lstrip(b"\r\n")  # some stores keep a blank line before the headers
	if not raw.strip():
		return failed_mail("empty message")
	parse_error = None
	try:
		message = BytesParser(policy=PARSER_POLICY).parsebytes(raw)
	except RecursionError:  # the stdlib parser recurses once per nesting level
		message = BytesParser(policy=PARSER_POLICY).parsebytes(raw, headersonly=True)
		parse_error = "MIME parts nested too deeply to read: only the headers were parsed"
	header_damage: list[str] = []
	headers = _decoded_headers(message, header_damage)
	if not headers:
		return failed_mail("no headers found: not an RFC 5322 message")

	collector = PartCollector(
		max_attachment_bytes=max_attachment_bytes,
		max_total_attachment_bytes=max_total_attachment_bytes,
	)
	if parse_error is None:
		collector.walk(message)
		collector.add_tnef_body()
	defects = list(collector.defects)

	raw_html = "\n".join(collector.htmls)
	html = sanitize_html(raw_html) if raw_html else ""
	text = "\n".join(collector.texts).strip("\n")
	if not text.strip() and raw_html:
		text = html_to_text(raw_html)

	referenced = {unquote(cid) for cid in re.findall(r"cid:([^\"'\s>)]+)", html, flags=re.I)}
	attachments = [part.finish(is_inline=part.content_id in referenced) for part in collector.attachments]

	date = _parse_date(headers.get("date", [None])[0], defects)
	sender = _first_address(message, "from") or _first_address(message, "sender")

	return ParsedMail(
		message_id=_first_message_id(message.get("message-id")),
		in_reply_to=_first_message_id(message.get("in-reply-to")),
		references=message_ids_in(message.get("references")),
		subject=" ".join(headers.get("subject", [""])[0].split()),
		sender=sender,
		to=_addresses(message, "to"),
		cc=_addresses(message, "cc"),
		reply_to=_addresses(message, "reply-to"),
		date=date,
		text=text,
		html=html,
		new_text=extract_new_text(text),
		attachments=attachments,
		skipped_attachments=list(collector.skipped),
		defects=defects,
		damage=header_damage + list(collector.damage),
		headers=headers,
		content_type=content_type_of(message),
		report=collector.report(),
		parse_error=parse_error,
	)


# The headers an agent reads: an encoded-word in one of them that cannot be read is damage.
_SHOWN_HEADERS = ("subject", "from", "to", "cc", "reply-to")


def _decoded_headers(message: Message, damage: list[str]) -> dict[str, list[str]]:
	headers: dict[str, list[str]] = {}
	for name, value in message.items():
		key = clean_text(text_from_surrogates(str(name))).strip().lower()
		if not key:
			continue
		decoded = read_header(value)
		headers.setdefault(key, []).append(decoded.text)
		if decoded.damage and key in _SHOWN_HEADERS:
			words = f"{key.title()} header: {decoded.damage}"
			if words not in damage:
				damage.append(words)
	return headers


def _first_message_id(value: str | None) -> str | None:
	found = message_ids_in(value)
	return found[0] if found else None


def _addresses(message: Message, header_name: str) -> list[Address]:
	values = [text_from_surrogates(unfold(str(value))) for value in message.get_all(header_name, [])]
	if not values:
		return []
	try:
		pairs = email.utils.getaddresses(values)
	except Exception:  # the address parser has had crash bugs on hostile input
		pairs = []
	people = []
	for name, address in pairs:
		address = clean_text(address).strip().strip("<>").lower()
		if " " in address or not address:
			continue
		people.append(
			Address(name=" ".join(decode_header_value(name).split()).strip("\"' "), address=address)
		)
	if any("@" in person.address for person in people):
		# An unquoted comma in a display name ("Müller, Hans <h@x.de>") yields a stray "address".
		people = [person for person in people if "@" in person.address]
	if not people:  # the parser found nothing usable: keep whatever looks like an address
		for value in values:
			for address in re.findall(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+", clean_text(value)):
				people.append(Address(name="", address=address.lower()))
	return list(dict.fromkeys(people))


def _first_address(message: Message, header_name: str) -> Address | None:
	found = _addresses(message, header_name)
	return found[0] if found else None


def _parse_date(value: str | None, defects: list[str]) -> datetime | None:
	if not value:
		return None
	try:
		parsed = email.utils.parsedate_to_datetime(value)
	except (TypeError, ValueError, IndexError, OverflowError):
		defects.append(f"unreadable Date header: {value[:80]!r}")
		return None
	return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def rewrite_cid_urls(html: str, urls_by_content_id: dict[str, str]) -> str:
	"""Point cid: references at the URLs the inline images were saved under.

	Content-IDs are matched without angle brackets, exactly first and then case-insensitively (some
	clients change the case in the HTML); unknown cid: references are left as they are.
	"""
	if not html or not urls_by_content_id:
		return html
	exact = {content_id.strip("<> "): url for content_id, url in urls_by_content_id.items()}
	folded = {content_id.lower(): url for content_id, url in exact.items()}

	def replace(match: re.Match) -> str:
		content_id = unquote(match.group(1))
		url = exact.get(content_id) or folded.get(content_id.lower())
		return _escape_attribute(url) if url else match.group(0)

	return re.sub(r"cid:([^\"'\s>)]+)", replace, html, flags=re.I)


def _escape_attribute(value: str) -> str:
	return (
		value.replace("&", "&amp;")
		.replace('"', "&quot;")
		.replace("'", "&#x27;")
		.replace("<", "&lt;")
		.replace(">", "&gt;")
	)


# Re-exported so callers need one import for everything parse_mail returns.
__all__ = [
	"Address",
	"Attachment",
	"DeliveryReport",
	"ParsedMail",
	"SkippedAttachment",
	"failed_mail",
	"parse_mail",
	"rewrite_cid_urls",
]

"""Walking the MIME tree of a mail: which parts are the body, which are attachments, and what a
delivery report (bounce or read receipt) says. Each part is handled on its own, so one broken part
costs that part only, and what went wrong is kept as a defect in words.
"""

from __future__ import annotations

import base64
import email.utils
import mimetypes
import re
from dataclasses import dataclass, field
from email import errors
from email.message import Message
from email.parser import BytesParser, Parser
from email.policy import Compat32

from message_center.core.mail_attachments import (
	PendingAttachment,
	SkippedAttachment,
	format_size,
	safe_filename,
)
from message_center.core.mail_charset import (
	clean_text,
	decode_bytes,
	decode_header_value,
	text_from_surrogates,
	unfold,
)
from message_center.core.mail_tnef import TnefFile, TnefParts, is_tnef


class _RawHeaders(Compat32):
	"""compat32, but header values come back exactly as parsed (8-bit bytes surrogate-escaped) rather
	than as email.header.Header objects, so that all decoding goes through mail_charset."""

	def header_fetch_parse(self, name: str, value: str) -> str:
		return value


PARSER_POLICY = _RawHeaders()

_MAX_DEPTH = 30
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
_DELIVERY_STATUS_TYPES = {"message/delivery-status", "message/global-delivery-status"}
_EMBEDDED_MESSAGE_TYPES = {"message/rfc822", "message/global"}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-z0-9_\-:.]+)", re.I)
_DELIMITER_LINE = re.compile(r"^--([^\s\"]{1,70})[ \t]*$", re.M)


@dataclass
class DeliveryReport:
	report_type: str  # "delivery-status" (bounce, delay) or "disposition-notification" (read receipt)
	original_message_id: str | None  # of the mail the report is about, without angle brackets
	failed_recipients: list[str] = field(default_factory=list)
	status: str | None = None  # e.g. "5.1.1"
	diagnostic: str | None = None  # the remote server's words, e.g. "550 5.1.1 user unknown"


def message_ids_in(value: str | None) -> list[str]:
	"""Message-IDs in a header, without angle brackets; bare tokens when a client left them out."""
	if not value:
		return []
	text = clean_text(text_from_surrogates(unfold(str(value))))
	found = _MESSAGE_ID.findall(text)
	if not found:
		found = [token.strip("<>,;") for token in text.split() if "@" in token]
	return list(dict.fromkeys(message_id for message_id in found if message_id))


def unflow(text: str, *, delete_space: bool) -> str:
	"""Undo RFC 3676 format=flowed soft line breaks (Apple Mail, Thunderbird) so paragraphs read whole."""
	merged: list[list] = []  # [quote depth, text, ends with a soft break]
	for line in text.split("\n"):
		depth = len(line) - len(line.lstrip(">"))
		content = line[depth:]
		if content.startswith(" "):
			content = content[1:]  # space-stuffing
		if merged and merged[-1][2] and merged[-1][0] == depth:
			previous = merged[-1][1]
			merged[-1][1] = (previous[:-1] if delete_space else previous) + content
		else:
			merged.append([depth, content, False])
		merged[-1][2] = content.endswith(" ") and content.rstrip() != "--"
	lines = []
	for depth, content, _ in merged:
		prefix = ">" * depth + " " if depth else ""
		lines.append(prefix + (content if content == "-- " else content.rstrip(" ")))
	return "\n".join(lines)


def _param(part: Message, name: str) -> str:
	"""A Content-Type parameter as plain lowercase text (RFC 2231 values collapsed), "" if absent."""
	try:
		value = part.get_param(name)
		return clean_text(str(email.utils.collapse_rfc2231_value(value) if value else "")).strip().lower()
	except Exception:
		return ""


class PartCollector(TnefParts):
	"""Sorts the parts of one mail into body texts, HTML, attachments and delivery report fields."""

	def __init__(self, *, max_attachment_bytes: int, max_total_attachment_bytes: int | None = None) -> None:
		self.max_attachment_bytes = max_attachment_bytes
		self.max_total_attachment_bytes = max_total_attachment_bytes
		self.texts: list[str] = []
		self.htmls: list[str] = []
		self.attachments: list[PendingAttachment] = []
		self.skipped: list[SkippedAttachment] = []
		self.defects: list[str] = []
		self.damage: list[str] = []  # the defects that mean the mail may not read as it was sent
		self._kept_bytes = 0
		self._unnamed = 0
		self._report: DeliveryReport | None = None
		self._tnef_bodies: list = []  # see TnefParts

	def report(self) -> DeliveryReport | None:
		return self._report

	def walk(self, part: Message, depth: int = 0) -> None:
		if depth > _MAX_DEPTH:
			self._damaged(f"MIME parts nested deeper than {_MAX_DEPTH} levels were ignored")
			return
		content_type = content_type_of(part)
		try:
			self._handle(part, content_type, depth)
		except Exception as error:  # one broken part must not cost the rest of the mail
			self._damaged(f"{content_type} part could not be read ({type(error).__name__}: {error})")
		for defect in getattr(part, "defects", []):
			words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(defect).__name__.removesuffix("Defect")).lower()
			self._defect(f"{content_type}: {words}")

	def _handle(self, part: Message, content_type: str, depth: int) -> None:
		if content_type == "multipart/report" and self._report is None:
			self._report = DeliveryReport(report_type=_param(part, "report-type"), original_message_id=None)
		if content_type.startswith("multipart/"):
			if part.is_multipart():
				for child in part.get_payload():
					if isinstance(child, Message):
						self.walk(child, depth + 1)
				return
			recovered = _recover_multipart(part, content_type)
			if recovered is not None:
				self._damaged(
					f"{content_type} had no usable boundary: parts recovered from its delimiter lines"
				)
				self.walk(recovered, depth + 1)
			else:
				self._damaged(f"{content_type} had no usable boundary: its content was read as plain text")
				self._add_body(part, "text/plain")
		elif content_type in _DELIVERY_STATUS_TYPES:
			self._read_delivery_status(part)
		elif content_type == "message/disposition-notification":
			fields = _embedded(part)
			self._report_fields().original_message_id = _first_id((fields or part).get("original-message-id"))
		elif content_type == "text/rfc822-headers":
			headers = Parser(policy=part.policy).parsestr(_text_payload(part), headersonly=True)
			self._note_original(headers)
		elif content_type in _EMBEDDED_MESSAGE_TYPES and _embedded(part) is not None:
			self._add_embedded_message(part)
		elif content_type in ("text/plain", "text/html") and part.get_content_disposition() != "attachment":
			self._add_body(part, content_type)
		else:
			self._add_attachment(part, content_type)

	def _defect(self, words: str) -> None:
		if words not in self.defects:
			self.defects.append(words)

	def _damaged(self, words: str) -> None:
		self._defect(words)
		if words not in self.damage:
			self.damage.append(words)

	def _report_fields(self) -> DeliveryReport:
		if self._report is None:
			self._report = DeliveryReport(report_type="", original_message_id=None)
		return self._report

	def _note_original(self, message: Message) -> None:
		if self._report is not None and self._report.original_message_id is None:
			self._report.original_message_id = _first_id(message.get("message-id"))

	def _add_body(self, part: Message, content_type: str) -> None:
		data = _payload_bytes(part) or b""
		charset = part.get_content_charset(None)
		if content_type == "text/html" and not charset:
			declared = _META_CHARSET.search(data[:4096])
			charset = declared.group(1).decode("ascii") if declared else None
		decoded = decode_bytes(data, charset)
		if decoded.note:
			(self._damaged if decoded.lossy else self._defect)(f"{content_type}: {decoded.note}")
		text = clean_text(decoded.text)
		if content_type == "text/html":
			self.htmls.append(text)
			return
		if _param(part, "format") == "flowed":
			text = unflow(text, delete_space=_param(part, "delsp") == "yes")
		self.texts.append(text)

	def _add_attachment(self, part: Message, content_type: str) -> None:
		filename = self._filename(part, content_type)
		content = _payload_bytes(part)
		if content is None:
			self.skipped.append(
				SkippedAttachment(
					filename, content_type, 0, f"{filename} skipped: its content could not be decoded"
				)
			)
			return
		if is_tnef(content_type, filename) and self._add_tnef(content, content_type, filename):
			return
		content_id = (
			message_ids_in(part.get("content-id"))
			or [decode_header_value(part.get("content-id")).strip("<> ") or None]
		)[0]
		self._keep_or_skip(PendingAttachment(filename, content_type, content, content_id))

	def _add_embedded_message(self, part: Message) -> None:
		inner = _embedded(part)
		self._note_original(inner)
		subject = decode_header_value(inner.get("subject"))
		filename = self._filename(
			part, "message/rfc822", default=safe_filename(subject, 100) or "attached message"
		)
		if not filename.lower().endswith(".eml"):
			filename += ".eml"
		try:
			content = inner.as_bytes()
		except Exception as error:
			note = (
				f"{filename} skipped: the attached message could not be re-encoded ({type(error).__name__})"
			)
			self.skipped.append(SkippedAttachment(filename, "message/rfc822", 0, note))
			return
		self._keep_or_skip(PendingAttachment(filename, "message/rfc822", content, None))

	def _keep_file(self, file: TnefFile) -> None:
		name = safe_filename(file.filename) or "attachment"
		self._keep_or_skip(PendingAttachment(name, file.content_type, file.content, file.content_id))

	def _keep_or_skip(self, attachment: PendingAttachment) -> None:
		size = len(attachment.content)
		label = f"{attachment.filename} ({format_size(size)}) skipped"
		note = None
		if size > self.max_attachment_bytes:
			note = f"{label}: larger than the {format_size(self.max_attachment_bytes)} limit"
		elif (
			self.max_total_attachment_bytes is not None
			and self._kept_bytes + size > self.max_total_attachment_bytes
		):
			note = f"{label}: the attachments of this mail would exceed the {format_size(self.max_total_attachment_bytes)} total limit"
		if note:
			self.skipped.append(SkippedAttachment(attachment.filename, attachment.content_type, size, note))
			return
		self._kept_bytes += size
		self.attachments.append(attachment)

	def _filename(self, part: Message, content_type: str, default: str = "") -> str:
		try:
			declared = part.get_filename() or ""
		except Exception:  # RFC 2231 continuations can be malformed in many ways
			declared = ""
		name = safe_filename(decode_header_value(declared)) if declared else default
		if name:
			return name
		self._unnamed += 1
		extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
		stem = "image" if content_type.startswith("image/") else "attachment"
		return f"{stem}-{self._unnamed}{extension}"

	def _read_delivery_status(self, part: Message) -> None:
		report = self._report_fields()
		report.report_type = report.report_type or "delivery-status"
		blocks = part.get_payload()
		if not isinstance(blocks, list):  # not split into field blocks (e.g. encoded): parse the text
			blocks = [
				Parser(policy=part.policy).parsestr(chunk, headersonly=True)
				for chunk in re.split(r"\n\s*\n", _text_payload(part))
			]
		for block in blocks:
			if not isinstance(block, Message):
				continue
			recipient = decode_header_value(block.get("final-recipient") or block.get("original-recipient"))
			if not recipient:
				continue
			address = recipient.rpartition(";")[2].strip().strip("<>").lower()
			action = decode_header_value(block.get("action")).lower()
			status = decode_header_value(block.get("status")) or None
			if action == "failed" or (status or "").startswith("5"):
				if address and address not in report.failed_recipients:
					report.failed_recipients.append(address)
			if report.status is None or action == "failed":
				report.status = status or report.status
				report.diagnostic = (
					" ".join(decode_header_value(block.get("diagnostic-code")).partition(";")[2].split())
					or report.diagnostic
				)


def content_type_of(part: Message) -> str:
	try:
		return clean_text(part.get_content_type()).lower()
	except Exception:
		return "application/octet-stream"


def _first_id(value: str | None) -> str | None:
	found = message_ids_in(value)
	return found[0] if found else None


def _embedded(part: Message) -> Message | None:
	payload = part.get_payload()
	if isinstance(payload, list) and payload and isinstance(payload[0], Message):
		return payload[0]
	return None


def _payload_bytes(part: Message) -> bytes | None:
	"""The transfer-decoded payload (base64 and quoted-printable undone), or None for containers."""
	encoding = part.get("content-transfer-encoding")
	if encoding is not None:
		tidy = str(encoding).strip().lower()
		if tidy != str(encoding) and tidy in ("base64", "quoted-printable"):
			part.replace_header("content-transfer-encoding", tidy)  # e.g. "Base64 " from sloppy mailers
	payload = part.get_payload(decode=True)
	if isinstance(payload, str):
		payload = payload.encode("utf-8", "surrogateescape")
	if any(isinstance(defect, errors.InvalidBase64LengthDefect) for defect in part.defects):
		# Truncated in transit: the stdlib gives up and returns the base64 text; keep every whole group.
		encoded = re.sub(rb"[^A-Za-z0-9+/]", b"", payload or b"")
		payload = base64.b64decode(encoded[: len(encoded) - len(encoded) % 4])
	return payload


def _text_payload(part: Message) -> str:
	payload = _payload_bytes(part)
	return decode_bytes(payload).text if payload else ""


def _recover_multipart(part: Message, content_type: str) -> Message | None:
	"""Re-parse a multipart whose boundary parameter is missing or wrong, using the first line that
	looks like a MIME delimiter ("--something") as the boundary."""
	body = part.get_payload()
	if not isinstance(body, str):
		return None
	delimiter = _DELIMITER_LINE.search(body)
	if delimiter is None:
		return None
	boundary = delimiter.group(1).removesuffix("--")
	if not boundary:
		return None
	header = f'Content-Type: {content_type}; boundary="{boundary}"\n\n'.encode("ascii")
	recovered = BytesParser(policy=part.policy).parsebytes(header + body.encode("utf-8", "surrogateescape"))
	return recovered if recovered.is_multipart() else None

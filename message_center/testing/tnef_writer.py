"""Writing TNEF streams (Outlook's winmail.dat) for tests, per MS-OXTNEF.

No real winmail.dat samples can be fetched where the tests run, so the tests build their own: a
stream is the signature, a legacy key, then attributes (level, attribute id and type, length, data,
checksum). Message attributes come first, then for each attachment attAttachRendData (which starts
it), attAttachTitle, attAttachData and attAttachment (MAPI properties: long file name, MIME type,
Content-ID, or an attached Outlook item). Bodies are attBody (plain, in the OEM codepage) and, in
attMAPIProps, PR_BODY_HTML and PR_RTF_COMPRESSED, which is how Outlook writes them and where
tnefparse reads them.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

SIGNATURE = 0x223E9F78
LEVEL_MESSAGE = 0x01
LEVEL_ATTACHMENT = 0x02

# Attribute ids as MS-OXTNEF writes them: the type in the high word, the id in the low word.
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_SUBJECT = 0x00018004
ATT_BODY = 0x0002800C
ATT_MAPI_PROPS = 0x00069003
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005

# MAPI property types and ids.
PT_LONG = 0x0003
PT_OBJECT = 0x000D
PT_STRING8 = 0x001E
PT_UNICODE = 0x001F
PT_BINARY = 0x0102
PR_BODY_HTML = 0x1013
PR_RTF_COMPRESSED = 0x1009
PR_INTERNET_CPID = 0x3FDE
PR_DISPLAY_NAME = 0x3001
PR_ATTACH_DATA_OBJ = 0x3701
PR_ATTACH_METHOD = 0x3705
PR_ATTACH_LONG_FILENAME = 0x3707
PR_ATTACH_MIME_TAG = 0x370E
PR_ATTACH_CONTENT_ID = 0x3712
ATTACH_BY_VALUE = 1
ATTACH_EMBEDDED_MSG = 5
IID_IMESSAGE = bytes.fromhex("0703020000000000c000000000000046")

# The dictionary every compressed RTF stream starts from (MS-OXRTFCP 2.1.3.1.1).
_RTF_PREFIX = (
	b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
	b"\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
	b"\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
)


@dataclass(frozen=True)
class TnefFile:
	filename: str  # written as attAttachTitle, in the stream's codepage
	content: bytes
	long_filename: str | None = None  # PR_ATTACH_LONG_FILENAME, as Outlook writes for long or Unicode names
	mime_type: str | None = None  # PR_ATTACH_MIME_TAG
	content_id: str | None = None  # PR_ATTACH_CONTENT_ID, for images an HTML body shows


@dataclass(frozen=True)
class TnefItem:
	"""An Outlook item (a mail) attached as an item: its own TNEF stream inside PR_ATTACH_DATA_OBJ."""

	display_name: str
	stream: bytes


def checksum(data: bytes) -> int:
	return sum(data) & 0xFFFF


def attribute(level: int, attribute_id: int, data: bytes) -> bytes:
	return struct.pack("<BII", level, attribute_id, len(data)) + data + struct.pack("<H", checksum(data))


def mapi_properties(properties: list[tuple[int, int, int | bytes]]) -> bytes:
	"""A MAPI property list: (type, id, value) with value an int for PT_LONG, else bytes (strings
	already encoded and NUL-terminated)."""
	out = struct.pack("<I", len(properties))
	for prop_type, prop_id, value in properties:
		out += struct.pack("<HH", prop_type, prop_id)
		if prop_type == PT_LONG:
			out += struct.pack("<i", value)
		else:  # variable length: a count of values (one), then each value's length and padded bytes
			out += struct.pack("<II", 1, len(value)) + value + b"\x00" * (-len(value) % 4)
	return out


def tnef_stream(
	*,
	files: tuple[TnefFile | TnefItem, ...] = (),
	body: str | None = None,
	html: str | None = None,
	rtf: bytes | None = None,
	compress_rtf: bool = False,
	subject: str = "Enquiry",
	codepage: int = 1252,
	key: int = 0x5A3C,
) -> bytes:
	"""A complete TNEF stream with the given bodies and attachments, in the order Outlook writes."""
	encoding = f"cp{codepage}"
	out = struct.pack("<IH", SIGNATURE, key)
	out += attribute(LEVEL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
	out += attribute(LEVEL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", codepage, 0))
	out += attribute(LEVEL_MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\x00")
	out += attribute(LEVEL_MESSAGE, ATT_SUBJECT, subject.encode(encoding) + b"\x00")
	if body is not None:
		out += attribute(LEVEL_MESSAGE, ATT_BODY, body.encode(encoding))
	properties: list[tuple[int, int, int | bytes]] = []
	if html is not None:
		properties += [(PT_LONG, PR_INTERNET_CPID, 65001), (PT_BINARY, PR_BODY_HTML, html.encode())]
	if rtf is not None:
		properties.append((PT_BINARY, PR_RTF_COMPRESSED, compressed_rtf(rtf, compress=compress_rtf)))
	if properties:
		out += attribute(LEVEL_MESSAGE, ATT_MAPI_PROPS, mapi_properties(properties))
	for file in files:
		out += _attachment(file, encoding)
	return out


def _attachment(file: TnefFile | TnefItem, encoding: str) -> bytes:
	# attachment type 1 (file), position -1 (not rendered in the body), no size, no flags
	out = attribute(LEVEL_ATTACHMENT, ATT_ATTACH_REND_DATA, struct.pack("<HiHHI", 1, -1, 0, 0, 0))
	if isinstance(file, TnefItem):
		properties = [
			(PT_LONG, PR_ATTACH_METHOD, ATTACH_EMBEDDED_MSG),
			(PT_STRING8, PR_DISPLAY_NAME, file.display_name.encode(encoding) + b"\x00"),
			(PT_OBJECT, PR_ATTACH_DATA_OBJ, IID_IMESSAGE + file.stream),
		]
		return out + attribute(LEVEL_ATTACHMENT, ATT_ATTACHMENT, mapi_properties(properties))
	out += attribute(LEVEL_ATTACHMENT, ATT_ATTACH_TITLE, file.filename.encode(encoding) + b"\x00")
	out += attribute(LEVEL_ATTACHMENT, ATT_ATTACH_DATA, file.content)
	properties = [(PT_LONG, PR_ATTACH_METHOD, ATTACH_BY_VALUE)]
	if file.long_filename:
		long_name = (file.long_filename + "\x00").encode("utf-16-le")
		properties.append((PT_UNICODE, PR_ATTACH_LONG_FILENAME, long_name))
	if file.mime_type:
		properties.append((PT_STRING8, PR_ATTACH_MIME_TAG, file.mime_type.encode("ascii") + b"\x00"))
	if file.content_id:
		properties.append((PT_STRING8, PR_ATTACH_CONTENT_ID, file.content_id.encode("ascii") + b"\x00"))
	return out + attribute(LEVEL_ATTACHMENT, ATT_ATTACHMENT, mapi_properties(properties))


def compressed_rtf(rtf: bytes, *, compress: bool) -> bytes:
	"""PR_RTF_COMPRESSED content (MS-OXRTFCP): "MELA" (stored as is) or "LZFu" with literal runs only
	(valid, if no smaller: what matters here is a stream only a real decompressor can read)."""
	if not compress:
		return struct.pack("<III", len(rtf) + 12, len(rtf), 0x414C454D) + b"\x00" * 4 + rtf
	content, position = b"", len(_RTF_PREFIX)
	for start in range(0, len(rtf) + 1, 8):
		chunk = rtf[start : start + 8]
		if len(chunk) == 8:
			content += b"\x00" + chunk
			position += 8
			continue
		# The last run: its literals, then the end marker (a reference to the current write position).
		position = (position + len(chunk)) % 4096
		content += bytes([1 << len(chunk)]) + chunk + struct.pack(">H", position << 4)
		break
	crc = zlib.crc32(content, 0xFFFFFFFF) ^ 0xFFFFFFFF  # MS-OXRTFCP's CRC: no initial or final inversion
	return struct.pack("<IIII", len(content) + 12, len(rtf), 0x75465A4C, crc) + content


def outlook_mail(
	stream: bytes,
	*,
	text: str | None = None,
	content_type: str = "application/ms-tnef",
	filename: str = "winmail.dat",
	sender: str = "Jane Customer <jane@customer.example>",
	to: str = "info@acme.example",
	subject: str = "Drawings for the quote",
	message_id: str = "<tnef-1@customer.example>",
) -> bytes:
	"""A mail as Exchange sends Outlook "Rich Text" mail: winmail.dat, after a plain text part when
	`text` is given. CRLF line ends, base64 winmail.dat."""
	winmail = (
		f'Content-Type: {content_type}; name="{filename}"\r\n'
		f'Content-Disposition: attachment; filename="{filename}"\r\n'
		"Content-Transfer-Encoding: base64\r\n\r\n"
	).encode() + base64.encodebytes(stream).replace(b"\n", b"\r\n")
	headers = (
		f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Wed, 05 Jun 2024 10:00:00 +0200\r\n"
		f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
	).encode()
	if text is None:
		return headers + winmail
	plain = b'Content-Type: text/plain; charset="utf-8"\r\n\r\n' + text.encode().replace(b"\n", b"\r\n")
	return (
		headers
		+ b'Content-Type: multipart/mixed; boundary="tnef-mix"\r\n\r\n'
		+ b"--tnef-mix\r\n"
		+ plain
		+ b"\r\n--tnef-mix\r\n"
		+ winmail
		+ b"\r\n--tnef-mix--\r\n"
	)

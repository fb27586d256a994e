"""Unpacking Outlook's winmail.dat (TNEF, application/ms-tnef) into the files and body inside it.

Outlook sends "Rich Text" mail as one opaque winmail.dat: the customer's files are inside it, and
sometimes the only readable body. The decoding itself is tnefparse's; this module turns what it finds
into plain values for mail_parts, which keeps or skips each file like any other attachment. When a
stream cannot be used, TnefError says why in words and the caller keeps winmail.dat as it came.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field

from tnefparse import TNEF, TNEFObject
from tnefparse import properties as mapi
from tnefparse.mapi import IMESSAGE_SIG, decode_mapi

from message_center.core.html_sanitize import html_to_text
from message_center.core.mail_charset import clean_text, decode_bytes

TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_SIGNATURE = (0x223E9F78).to_bytes(4, "little")
_MAX_DEPTH = 3  # Outlook items attached inside Outlook items inside ...
_MAX_NULS = 11  # fewer than the 12 bytes tnefparse reads as one more attribute
_MAX_COPIED = 4 << 30  # bytes tnefparse may copy while reading a stream: about a second's work
_PROPERTY_LISTS = (TNEF.ATTMAPIPROPS, TNEF.ATTATTACHMENT)
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class TnefError(ValueError):
	"""winmail.dat cannot be used; the message says why, for people."""


@dataclass(frozen=True)
class TnefFile:
	filename: str  # as the sender named it: still to be made safe
	content_type: str
	content: bytes
	content_id: str | None  # without angle brackets; an HTML body shows it through a cid: URL


@dataclass
class TnefContent:
	files: list[TnefFile] = field(default_factory=list)
	html: str = ""  # not sanitised yet
	text: str = ""
	rtf: bytes | None = None  # the Rich Text body as an .rtf file's bytes, when it is the only body
	rtf_unreadable: bool = False  # the only body is compressed RTF that could not be unpacked
	notes: list[str] = field(default_factory=list)  # what inside could not be used, in words
	keep_original: bool = False  # something inside could not be unpacked: keep winmail.dat as well

	@property
	def has_body(self) -> bool:
		return bool(self.html.strip() or self.text.strip() or self.rtf or self.rtf_unreadable)


class TnefParts:
	"""The winmail.dat half of mail_parts.PartCollector, mixed into it: uses the collector's texts,
	htmls, _tnef_bodies, _defect and _keep_file (which keeps or skips a file like any attachment)."""

	def _add_tnef(self, content: bytes, content_type: str, filename: str) -> bool:
		"""The files in winmail.dat become attachments. False when it cannot be unpacked: the caller
		then keeps it as it came, so the bytes are never lost."""
		try:
			unpacked = unpack_tnef(content)
		except TnefError as error:
			self._defect(f"{filename} ({content_type}) kept as it came, not unpacked: {error}")
			return False
		winmail = TnefFile(filename, content_type, content, None)
		for file in unpacked.files:
			self._keep_file(file)
		for note in unpacked.notes:
			self._defect(note)
		if unpacked.keep_original:
			self._defect(f"{filename} kept as well, so that nothing in it is lost")
			self._keep_file(winmail)
		if unpacked.has_body:  # used only if the walk finds no body of the mail's own
			self._tnef_bodies.append((unpacked, winmail))
		return True

	def add_tnef_body(self) -> None:
		"""After the walk: a mail without a body of its own gets the one Outlook put in winmail.dat."""
		if not self._tnef_bodies or any(body.strip() for body in self.texts + self.htmls):
			return
		unpacked, winmail = self._tnef_bodies[0]
		if unpacked.html.strip():
			self.htmls.append(unpacked.html)  # sanitised by parse_mail like any HTML part
		elif unpacked.text.strip():
			self.texts.append(unpacked.text)
		elif unpacked.rtf:  # kept, not converted: the agent's word processor shows it as Outlook did
			self._keep_file(TnefFile("message.rtf", "application/rtf", unpacked.rtf, None))
		else:
			self._defect(f"the Rich Text body in {winmail.filename} could not be unpacked: kept it whole")
			if not unpacked.keep_original:  # else kept already
				self._keep_file(winmail)


def is_tnef(content_type: str, filename: str) -> bool:
	"""Whether an attachment is a TNEF stream: by its type, or by the name Outlook always gives it
	when a relay relabelled it as plain bytes."""
	return content_type in TNEF_TYPES or (
		content_type == "application/octet-stream" and filename.lower() == "winmail.dat"
	)


def unpack_tnef(data: bytes) -> TnefContent:
	"""The files and body in a TNEF stream. Raises TnefError when it is not one, is damaged, or
	holds neither files nor a body."""
	tnef = _decode(data)
	unpacked = TnefContent()
	try:
		_collect(tnef, unpacked, depth=0)
	except TnefError:
		raise
	except Exception as error:  # whatever else goes wrong, winmail.dat is kept as it came
		raise TnefError(f"it could not be read ({type(error).__name__}: {error})") from error
	if not unpacked.files and not unpacked.has_body:
		raise TnefError("; ".join(unpacked.notes) or "it holds no files and no message body")
	return unpacked


def _decode(data: bytes) -> TNEF:
	if not data.startswith(_SIGNATURE):
		raise TnefError("it is not a TNEF stream (no TNEF signature)")
	try:
		_check_bounds(data, [0], depth=0)
		tnef = TNEF(data, do_checksum=True)
	except TnefError:
		raise
	except Exception as error:  # a damaged stream trips the library in many ways (struct, index, codec)
		raise TnefError(f"the TNEF stream is damaged ({type(error).__name__}: {error})") from error
	# tnefparse only logs a bad checksum; a truncated or corrupted attribute shows up as one, and
	# handing out a corrupted file as if it were the customer's is worse than keeping winmail.dat.
	damaged = [obj for obj in tnef.objects if not obj.good_checksum]
	if damaged:
		name = damaged[0].name_str or f"{damaged[0].name:#06x}"
		raise TnefError(f"the TNEF stream is damaged (checksum mismatch in its {name} attribute)")
	# The library stops quietly when fewer than 12 bytes are left: a stream cut off there (inside
	# an attachment's data, say) would lose that file without a word.
	if data[6 + sum(obj.length for obj in tnef.objects) :].strip(b"\x00"):
		raise TnefError("the TNEF stream is damaged (it ends inside an attribute)")
	return tnef


class _Bounded(bytes):
	"""Bytes that note a slice running past their end. tnefparse never checks: a multi-valued property
	claiming four billion values in a few bytes has it build four billion empty ones."""

	overrun = False

	def __getitem__(self, key):
		# 3 bytes of slack: the padding after the last value, which a sloppy writer may leave out
		if isinstance(key, slice) and key.stop is not None and key.stop > len(self) + 3:
			self.overrun = True
			raise IndexError("MAPI property data runs past the end of its attribute")
		return super().__getitem__(key)


def _check_bounds(data: bytes, copied: list[int], depth: int) -> None:
	"""Refuse a stream that would keep tnefparse busy for hours or fill the memory: it trusts the
	counts in MAPI property lists (four billion properties or values claimed in a few bytes) and
	copies the rest of the stream for every attribute. A poison mail must never block a mailbox.
	Walks the stream with the library's own framing and property decoding, checking only counts
	and sizes, before the library reads it for real."""
	if depth > _MAX_DEPTH + 1:
		raise TnefError("its attached Outlook items are nested too deeply to unpack")
	view, offset = memoryview(data), 6
	while offset + TNEF.MIN_OBJ_SIZE < len(data):
		copied[0] += len(data) - offset
		if copied[0] > _MAX_COPIED:
			raise TnefError("it holds too many attributes to unpack safely")
		obj = TNEFObject(view[offset:], do_checksum=False)
		offset += obj.length
		payload = bytes(obj.data)
		if obj.name in _PROPERTY_LISTS:
			_check_property_list(payload, 0, copied, depth)
		elif obj.name == TNEF.ATTRECIPTABLE and len(payload) >= 4:
			position = 4
			for _ in range(int.from_bytes(payload[:4], "little")):  # rows: each takes 4 bytes or more
				if position + 4 > len(payload):
					break  # the library stops here too, with an error
				position = _check_property_list(payload, position, copied, depth)


def _check_property_list(payload: bytes, position: int, copied: list[int], depth: int) -> int:
	count = int.from_bytes(payload[position : position + 4], "little")
	if count * 8 > len(payload) - position:  # a property takes 8 bytes at least
		raise TnefError(f"the TNEF stream is damaged (a property list claims {count} entries)")
	bounded = _Bounded(payload)
	position, properties = decode_mapi(bounded, "latin-1", starting_offset=position)  # never raises
	if bounded.overrun:
		raise TnefError("the TNEF stream is damaged (a MAPI property runs past the end of its attribute)")
	for prop in properties:
		if prop.name == mapi.MAPI_ATTACH_DATA_OBJ and isinstance(prop.data, bytes):
			if prop.data.startswith(IMESSAGE_SIG):  # an attached Outlook item: the library reads it too
				_check_bounds(prop.data[len(IMESSAGE_SIG) :] + bytes(_MAX_NULS), copied, depth + 1)
	return position


def _collect(tnef: TNEF, unpacked: TnefContent, depth: int) -> None:
	codepage = tnef.codepage or "cp1252"
	unpacked.html = _text(tnef.htmlbody, None)
	unpacked.text = _text(tnef.body, codepage)
	if not unpacked.html.strip() and not unpacked.text.strip():
		_read_rtf(tnef, unpacked)  # only now: tnefparse warns each time it cannot decompress
	for number, attachment in enumerate(tnef.attachments, start=1):
		name = _attachment_name(attachment, codepage)
		if isinstance(getattr(attachment, "embed", None), TNEF):
			# tnefparse strips trailing NULs from the item's stream (they are padding as a rule, but
			# can be its last checksum bytes too): put them back before reading it, checksums and all
			# (and so in _check_property_list).
			try:
				item = _decode(bytes(attachment.data) + bytes(_MAX_NULS))
			except TnefError as error:
				unpacked.notes.append(f"{name or f'attached item {number}'} in winmail.dat: {error}")
				unpacked.keep_original = True
				continue
			name = name or _subject(item, item.codepage or codepage) or f"attached item {number}"
			_add_embedded(item, name, unpacked, depth)
		elif not attachment.data:
			unpacked.notes.append(f"{name or f'attachment {number}'} in winmail.dat has no content")
		else:
			name = name or (f"attachment-{number}" + (_guess_extension(_mime_tag(attachment)) or ".bin"))
			content_type = (
				_mime_tag(attachment) or mimetypes.guess_type(name)[0] or "application/octet-stream"
			)
			content_id = _mapi_text(attachment, mapi.MAPI_ATTACH_CONTENT_ID, codepage).strip("<> ") or None
			unpacked.files.append(TnefFile(name, content_type, bytes(attachment.data), content_id))


def _add_embedded(item: TNEF, name: str, unpacked: TnefContent, depth: int) -> None:
	"""An Outlook item attached as an item: its files join the others, its body becomes a file."""
	if depth >= _MAX_DEPTH:
		unpacked.notes.append(f"{name} in winmail.dat is nested too deeply to unpack")
		unpacked.keep_original = True
		return
	inner = TnefContent()
	_collect(item, inner, depth + 1)
	body = inner.text.strip() or html_to_text(inner.html).strip()
	if body:
		unpacked.files.append(TnefFile(f"{name}.txt", "text/plain", body.encode("utf-8"), None))
	elif inner.rtf:
		unpacked.files.append(TnefFile(f"{name}.rtf", "application/rtf", inner.rtf, None))
	elif inner.rtf_unreadable:
		inner.notes.append(f"the Rich Text body of {name} in winmail.dat could not be unpacked")
		inner.keep_original = True
	unpacked.files.extend(inner.files)
	unpacked.notes.extend(inner.notes)
	unpacked.keep_original = unpacked.keep_original or inner.keep_original


def _read_rtf(tnef: TNEF, unpacked: TnefContent) -> None:
	try:
		rtf = tnef.rtfbody or b""  # decompressed when the optional compressed-rtf package is installed
	except Exception:  # compressed-rtf rejects a damaged body
		unpacked.rtf_unreadable = True
		return
	if rtf and not rtf.startswith(b"{\\rtf") and rtf[8:12] == b"MELA":
		# The container's "uncompressed" form: a 16-byte header, then the RTF as it is.
		rtf = rtf[16 : 16 + int.from_bytes(rtf[4:8], "little")]
	if rtf.startswith(b"{\\rtf"):
		unpacked.rtf = bytes(rtf)
	elif rtf:
		unpacked.rtf_unreadable = True


def _subject(item: TNEF, codepage: str) -> str:
	for prop in item.msgprops:
		if prop.name == TNEF.ATTSUBJECT:
			return _text(prop.data, codepage)
	return ""


def _attachment_name(attachment, codepage: str) -> str:
	long_name = _mapi_text(attachment, mapi.MAPI_ATTACH_LONG_FILENAME, codepage)
	if long_name:
		return long_name
	try:
		return clean_text(attachment.name).strip()
	except UnicodeDecodeError:  # .name assumes UTF-8; Outlook writes the title in its own codepage
		return _text(getattr(attachment, "_name", b""), codepage)


def _mapi_text(attachment, property_id: int, codepage: str) -> str:
	for prop in attachment.mapi_attrs:
		if prop.name == property_id:
			try:
				return _text(prop.data, codepage)
			except Exception:  # a property of an unexpected type: as if absent
				return ""
	return ""


def _mime_tag(attachment) -> str | None:
	tag = _mapi_text(attachment, mapi.MAPI_ATTACH_MIME_TAG, "ascii").lower()
	return tag if _MIME_TYPE.match(tag) else None


def _guess_extension(content_type: str | None) -> str | None:
	return mimetypes.guess_extension(content_type, strict=False) if content_type else None


def _text(value: str | bytes | None, codepage: str | None) -> str:
	if not value:
		return ""
	if isinstance(value, bytes):
		value = decode_bytes(value.rstrip(b"\x00"), codepage).text
	return clean_text(str(value)).strip("\n")

"""Turning the bytes of a mail into text, whatever charset it claims.

Mail in the wild declares charsets that do not exist ("x-unknown"), declares none at all, or lies
(latin-1 bytes labelled utf-8, raw 8-bit bytes in headers). Nothing here raises: the declared
charset is trusted when it decodes, a browser-style superset is used where mail software is known to
overshoot a label, and charset-normalizer guesses when there is nothing usable to go on.
"""

from __future__ import annotations

import codecs
import email.header
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Labels Python does not know, mapped to the codec mail clients mean by them.
_CHARSET_ALIASES = {
	"iso-8859-8-i": "iso-8859-8",
	"iso-8859-6-i": "iso-8859-6",
	"windows-874": "cp874",
	"x-mac-roman": "mac_roman",
	"unicode-1-1-utf-7": "utf-7",
	"ks_c_5601-1987": "cp949",
	"x-sjis": "cp932",
}

# Labels whose byte repertoire real senders routinely exceed: decode with the superset, as browsers do.
_SUPERSETS = {
	"ascii": "cp1252",
	"iso8859-1": "cp1252",
	"iso8859-9": "cp1254",
	"gb2312": "gb18030",
	"gbk": "gb18030",
	"euc_kr": "cp949",
	"shift_jis": "cp932",
}

# When guessing, equally plausible candidates are settled by our users' languages (Western Europe first).
_GUESS_PREFERENCE = (
	"cp1252",
	"iso8859_15",
	"cp1250",
	"cp1251",
	"koi8_r",
	"cp1253",
	"cp1254",
	"gb18030",
	"big5",
	"cp932",
	"euc_jp",
	"cp949",
)

_SURROGATE_RUN = re.compile("[\udc80-\udcff]+")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_CONTROL_CHARS = re.compile("[\x00\ufffe\uffff]")
_BASE64_WORD = re.compile(r"=\?[^?\s]+\?[bB]\?([^?\s]*)\?=")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")


@dataclass(frozen=True)
class DecodedText:
	text: str
	charset: str  # the codec actually used
	note: str | None = None  # set when the declared charset could not be honoured
	lossy: bool = False  # bytes were replaced, or a declared charset was wrong and the right one guessed


def codec_for(declared: str | None) -> str | None:
	"""The Python codec for a declared charset label, or None when it is missing or unknown."""
	if not declared:
		return None
	label = str(declared).strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 may add "*lang"
	label = _CHARSET_ALIASES.get(label, label)
	try:
		name = codecs.lookup(label).name
		"".encode(name)  # rejects bytes-to-bytes codecs such as base64 or zlib
	except (LookupError, ValueError, TypeError):
		return None
	return _SUPERSETS.get(name, name)


def decode_bytes(data: bytes, declared: str | None = None, *, guess_on_error: bool = True) -> DecodedText:
	"""Decode mail bytes, honouring the declared charset when it works and never raising.

	guess_on_error: when the declared charset is utf-8 or ascii but the bytes are not, guess the real
	one (latin-1 bytes labelled utf-8 are common in bodies); otherwise just replace the bad bytes.
	"""
	codec = codec_for(declared)
	if codec == "cp1252" and _is_utf8_with_non_ascii(data):
		# Labelled ascii/latin-1 but well-formed UTF-8: random Western bytes almost never are.
		return DecodedText(data.decode("utf-8"), "utf-8", f"bytes labelled {declared} decoded as utf-8")
	if codec is not None:
		try:
			return DecodedText(data.decode(codec), codec)
		except (UnicodeDecodeError, LookupError):
			pass
		note = f"invalid {declared} bytes replaced"
		if codec in ("utf-8", "cp1252") and guess_on_error and not _has_valid_utf8_sequences(data):
			guessed = guess_codec(data)
			return DecodedText(
				data.decode(guessed, "replace"), guessed, f"bytes labelled {declared} decoded as {guessed}", lossy=True
			)
		return DecodedText(data.decode(codec, "replace"), codec, note, lossy=True)

	note = f"unknown charset {declared!r}" if declared else None
	if data.isascii():
		return DecodedText(data.decode("ascii"), "ascii")
	try:
		return DecodedText(data.decode("utf-8"), "utf-8", note and f"{note}, decoded as utf-8")
	except UnicodeDecodeError:
		pass
	guessed = guess_codec(data)
	detail = f"{note}, guessed {guessed}" if note else f"no charset declared, guessed {guessed}"
	# undeclared 8-bit text is everyday legacy mail; a declared charset we cannot read is damage
	return DecodedText(data.decode(guessed, "replace"), guessed, detail, lossy=bool(note))


def guess_codec(data: bytes) -> str:
	"""The most plausible single-codec reading of non-utf-8 bytes, preferring our users' charsets."""
	try:
		matches = list(from_bytes(data[:65536]))
	except Exception:  # the detector is a heuristic: never let it break parsing
		return "cp1252"
	if not matches:
		return "cp1252"
	least_chaos = min(match.chaos for match in matches)
	plausible = [match for match in matches if match.chaos <= least_chaos + 0.01]
	for preferred in _GUESS_PREFERENCE:
		for match in plausible:
			if preferred in match.could_be_from_charset:
				return preferred
	best = plausible[0].encoding
	# UTF-16/32 without a byte order mark does not occur in mail; it is the detector's fallback for noise.
	return "cp1252" if best.startswith(("utf_16", "utf_32")) else best


def text_from_surrogates(text: str) -> str:
	"""Replace runs of surrogate-escaped bytes (how the email package keeps undecodable 8-bit header
	bytes) by their best decoding, so the result is valid Unicode that a database will accept."""
	if not _SURROGATE_RUN.search(text):
		return text
	try:
		return decode_bytes(text.encode("utf-8", "surrogateescape")).text
	except UnicodeEncodeError:  # lone surrogates that were not escapes: just drop them
		return text.encode("utf-8", "replace").decode("utf-8")


def clean_text(text: str) -> str:
	"""Valid Unicode without NULs or non-characters (databases reject them); line ends as \\n."""
	text = text_from_surrogates(text)
	text = text.encode("utf-8", "replace").decode("utf-8")  # any surrogate left over
	return _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def unfold(raw: str) -> str:
	return _FOLDING.sub("", raw)


@dataclass(frozen=True)
class DecodedHeader:
	text: str
	damage: str | None = None  # why the value may not read as it was sent


def decode_header_value(raw: str | None) -> str:
	"""A header value as text: RFC 2047 encoded-words decoded, 8-bit bytes guessed, never raising."""
	return read_header(raw).text


def read_header(raw: str | None) -> DecodedHeader:
	"""decode_header_value, also saying when an encoded-word could not be read as written: a charset
	that is unknown or does not fit its bytes, or a broken encoding (raw 8-bit header bytes are
	everyday legacy mail, not damage)."""
	if not raw:
		return DecodedHeader("")
	text = text_from_surrogates(unfold(str(raw)))
	if "=?" not in text:
		return DecodedHeader(clean_text(text).strip())
	try:
		chunks = email.header.decode_header(text)
	except Exception as error:  # HeaderParseError on broken base64, or worse: keep the raw words
		return DecodedHeader(clean_text(text).strip(), f"encoded-word not readable ({error})")
	parts, damage = [], _broken_base64_word(text)
	for chunk, charset in chunks:
		if isinstance(chunk, str):
			parts.append(chunk)
		elif charset is None:
			parts.append(chunk.decode("raw-unicode-escape", "replace"))  # how decode_header stores plain text
		else:
			decoded = decode_bytes(chunk, charset, guess_on_error=False)
			parts.append(decoded.text)
			if decoded.lossy and damage is None:
				damage = decoded.note
	return DecodedHeader(clean_text("".join(parts)).strip(), damage)


def _broken_base64_word(text: str) -> str | None:
	"""The stdlib drops characters outside the base64 alphabet without a word, so a broken word can
	vanish from a Subject silently: say so."""
	for payload in _BASE64_WORD.findall(text):
		if _NOT_BASE64.search(payload) or len(payload.rstrip("=")) % 4 == 1:
			return "broken base64 encoded-word"
	return None


def _has_valid_utf8_sequences(data: bytes) -> bool:
	"""True when the bytes contain at least one well-formed multi-byte UTF-8 character, i.e. they are
	UTF-8 with a few damaged bytes rather than another charset mislabelled."""
	decoded = data.decode("utf-8", "replace")
	return any(ord(char) > 0x7F and char != "\ufffd" for char in decoded)


def _is_utf8_with_non_ascii(data: bytes) -> bool:
	if data.isascii():
		return False
	try:
		data.decode("utf-8")
	except UnicodeDecodeError:
		return False
	return True

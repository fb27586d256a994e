"""The new part of a reply: the quoted previous mail and the sender's signature cut off.

mail-parser-reply recognises the reply headers of Gmail, Outlook and Apple Mail in many languages
("On … wrote:", "Le … a écrit :", "Von: / Gesendet:", "-----Original Message-----") and common
signatures ("-- ", "Sent from my iPhone", "Mit freundlichen Grüßen"). What it misses is a quote block
introduced by a header it does not know (Gmail's Spanish "El … escribió:") or by none at all; those
are cut here when they run to the end of the mail. When nothing can be told apart, the whole text is
the new part: an agent should rather read a quote twice than miss a word.
"""

from __future__ import annotations

import re
from functools import cached_property

from mailparser_reply.parser import EmailMessage

# Every language the library has patterns for; it always adds English.
_REPLY_LANGUAGES = ["en", "de", "fr", "it", "es", "nl", "da", "sv", "pl", "cs", "zh", "ja", "ko"]

# The library's header patterns backtrack quadratically on long lines (one 50,000-character line
# takes half a minute), so it only sees the head of the text, with long lines stood in for by
# placeholders: reply headers are short lines near the top.
_MAX_CHARS_ANALYSED = 20_000
_MAX_LINE_ANALYSED = 300
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")

_QUOTED_LINE = re.compile(r"^\s*>")
# An attribution line just above a quote: ends with a colon and carries a date, time or address.
_ATTRIBUTION_HINT = re.compile(r"@|\d{1,2}:\d{2}|\b(?:19|20)\d{2}\b")


def extract_new_text(text: str) -> str:
	"""The part of a plain-text mail body the sender actually wrote this time."""
	if not text or not text.strip():
		return ""
	new_part = _cut_trailing_quote(_library_new_part(text)).strip()
	return new_part or text.strip()


def _library_new_part(text: str) -> str:
	"""What mail-parser-reply takes for the latest reply, or the whole text when it finds no cut."""
	long_lines: list[str] = []

	def stand_in(line: str) -> str:
		if len(line) <= _MAX_LINE_ANALYSED:
			return line
		long_lines.append(line.strip())
		return f"\ue000{len(long_lines) - 1}\ue001"

	probe = "\n".join(stand_in(line) for line in text[:_MAX_CHARS_ANALYSED].split("\n"))
	try:
		message = _EmailMessage(text=probe, languages=list(_REPLY_LANGUAGES), keep_hyphen_lists=True).read()
	except Exception:  # a third-party heuristic: never let it lose the mail
		return text
	if not message.replies:
		return text
	latest = message.replies[0]
	if len(text) > _MAX_CHARS_ANALYSED and len(message.replies) == 1 and not latest.signatures:
		return text  # no cut in the head, and the head alone is not the whole new part
	return _PLACEHOLDER.sub(lambda match: long_lines[int(match.group(1))], latest.body)


def _cut_trailing_quote(text: str) -> str:
	"""Remove a block of "> " lines that runs to the end, and the attribution line above it.

	Interleaved answers ("> question" / answer / "> question" / answer) are kept whole: only a quote
	with nothing written after it is history.
	"""
	lines = text.split("\n")
	end = len(lines)
	while end and not lines[end - 1].strip():
		end -= 1
	start = end
	while start and (_QUOTED_LINE.match(lines[start - 1]) or not lines[start - 1].strip()):
		start -= 1
	if start == end or not any(_QUOTED_LINE.match(line) for line in lines[start:end]):
		return text
	# The attribution ("El lun, 3 jun 2024 a las 10:00, Ana <a@b.es> escribió:") may wrap over two lines.
	for span in (1, 2):
		attribution = " ".join(line.strip() for line in lines[max(0, start - span) : start])
		if start - span >= 0 and attribution.endswith(":") and _ATTRIBUTION_HINT.search(attribution):
			start -= span
			break
	return "\n".join(lines[:start]).rstrip()


class _LineStartFinder:
	"""findall of the library's reply-header pattern, tried only where a header can begin.

	Every header pattern starts at the start of a line or at a line break, except the
	Danish "-----Oprindelig meddelelse-----" separator, which may start inside a line, and its first
	line holds a colon or a dashed separator: only lines that do are tried. Scanning with
	`match` at those positions in order, resuming after each match, gives exactly what findall gives
	(none of the patterns matches the empty string), without trying the long alternation at every
	character: that scan was a third of the whole pipeline's time.
	"""

	_MID_LINE_START = re.compile(r"-----oprindelig meddelelse-----", re.IGNORECASE)

	def __init__(self, pattern: re.Pattern):
		self.pattern = pattern

	def findall(self, text: str) -> list:
		starts = set()
		offset = 0
		for line in text.split("\n"):
			# a header's first line holds a colon ("From:", "… wrote:", "…写道：") or a dashed separator;
			# it is matched from the line's start or from the line break before it
			if ":" in line or "\uff1a" in line or "-----" in line:
				starts.add(offset)
				if offset:
					starts.add(offset - 1)
			offset += len(line) + 1
		starts.update(match.start() for match in self._MID_LINE_START.finditer(text))
		found, resume = [], 0
		for start in sorted(starts):
			if start < resume or start > len(text):
				continue
			match = self.pattern.match(text, start)
			if match is None:
				continue
			found.append(self._item(match))
			resume = match.end()
		return found

	def _item(self, match: re.Match):
		if self.pattern.groups == 0:
			return match.group(0)
		if self.pattern.groups == 1:
			return match.group(1) or ""
		return match.groups("")


_HEADER_FINDERS: dict[tuple[str, ...], _LineStartFinder] = {}


_SIGNATURE_PATTERNS: dict[tuple, re.Pattern] = {}
_DISCLAIMER_PATTERNS: dict[tuple, re.Pattern] = {}


class _EmailMessage(EmailMessage):
	"""The library's message, with its header search done by _LineStartFinder (same result), and its
	patterns built once per set of languages: the library joins them anew for every mail, which
	took longer than searching with them."""

	@cached_property
	def HEADER_REGEX(self):  # noqa: N802 (the library's name)
		languages = tuple(self.languages)
		if languages not in _HEADER_FINDERS:
			_HEADER_FINDERS[languages] = _LineStartFinder(EmailMessage.HEADER_REGEX.fget(self))
		return _HEADER_FINDERS[languages]

	@property
	def SIGNATURE_REGEX(self):  # noqa: N802
		key = (tuple(self.languages), self.keep_hyphen_lists)
		if key not in _SIGNATURE_PATTERNS:
			_SIGNATURE_PATTERNS[key] = EmailMessage.SIGNATURE_REGEX.fget(self)
		return _SIGNATURE_PATTERNS[key]

	@property
	def DISCLAIMERS_REGEX(self):  # noqa: N802
		key = tuple(self.languages)
		if key not in _DISCLAIMER_PATTERNS:
			_DISCLAIMER_PATTERNS[key] = EmailMessage.DISCLAIMERS_REGEX.fget(self)
		return _DISCLAIMER_PATTERNS[key]

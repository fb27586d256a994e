"""SMS segment counting: which encoding a body needs and how many billable parts it becomes.

Carriers send a body as GSM-7 when every character is in the GSM 03.38 default alphabet
(extension characters cost an escape septet, so 2), otherwise as UCS-2 (UTF-16 code units, so an
emoji outside the BMP costs 2). A single part holds 160 septets / 70 units; once split, each
part loses room to the concatenation header (153 / 67). Parts are counted by actually packing,
because an escape sequence or a surrogate pair is never split across parts, which can leave a
part one unit short.
"""

from dataclasses import dataclass, field
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM_7: Encoding = "GSM-7"
UCS_2: Encoding = "UCS-2"

# Twilio refuses bodies over 1,600 characters (error 21617); refusing here lets the composer say so
# before anything is queued.
MAX_CHARACTERS = 1600

SINGLE_PART_LIMIT = {GSM_7: 160, UCS_2: 70}
MULTI_PART_LIMIT = {GSM_7: 153, UCS_2: 67}

# GSM 03.38 default alphabet (basic table), without 0x1B which is the escape itself.
GSM_BASIC_CHARACTERS = frozenset(
	"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC + character, so it costs 2 septets.
GSM_EXTENSION_CHARACTERS = frozenset("\f^{}\\[~]|€")


class SmsTooLong(ValueError):
	"""The body is longer than any SMS provider will accept as one message."""

	def __init__(self, characters: int, limit: int = MAX_CHARACTERS):
		self.characters = characters
		self.limit = limit
		super().__init__(
			f"This message is {characters:,} characters long; an SMS can be at most {limit:,} characters. "
			f"Shorten it by {characters - limit:,} characters."
		)


@dataclass(frozen=True)
class SegmentInfo:
	encoding: Encoding
	characters: int  # Unicode code points, the unit of the 1,600 character limit
	units: int  # septets for GSM-7, UTF-16 code units for UCS-2
	segments: int  # 0 for an empty body
	per_segment: int  # capacity of each part: 160/70 when single, 153/67 when split
	remaining_in_segment: int  # units still free in the last part before another part is needed
	non_gsm_characters: list[str] = field(default_factory=list)  # unique, in order of appearance

	@property
	def is_multipart(self) -> bool:
		return self.segments > 1


def is_gsm_character(character: str) -> bool:
	return character in GSM_BASIC_CHARACTERS or character in GSM_EXTENSION_CHARACTERS


def non_gsm_characters(text: str) -> list[str]:
	"""The characters that force UCS-2, each once, in the order they first appear."""
	return list(dict.fromkeys(character for character in text if not is_gsm_character(character)))


def character_units(character: str, encoding: Encoding) -> int:
	"""What one code point costs: septets in GSM-7, UTF-16 code units in UCS-2."""
	if encoding == GSM_7:
		return 2 if character in GSM_EXTENSION_CHARACTERS else 1
	return 2 if ord(character) > 0xFFFF else 1


def detect_encoding(text: str) -> Encoding:
	return GSM_7 if all(is_gsm_character(character) for character in text) else UCS_2


def _check_length(text: str) -> None:
	if len(text) > MAX_CHARACTERS:
		raise SmsTooLong(len(text))


def _pack(text: str, encoding: Encoding) -> tuple[list[str], list[int]]:
	"""Split into parts as a handset would see them; returns the parts and the units each uses."""
	units = [character_units(character, encoding) for character in text]
	if sum(units) <= SINGLE_PART_LIMIT[encoding]:
		return ([text] if text else []), ([sum(units)] if text else [])

	capacity = MULTI_PART_LIMIT[encoding]
	parts: list[str] = []
	fills: list[int] = []
	start = 0
	fill = 0
	for index, cost in enumerate(units):
		# A character that does not fit whole starts the next part: escape sequences and
		# surrogate pairs are never cut in half.
		if fill + cost > capacity:
			parts.append(text[start:index])
			fills.append(fill)
			start, fill = index, 0
		fill += cost
	parts.append(text[start:])
	fills.append(fill)
	return parts, fills


def split_segments(text: str) -> list[str]:
	"""The body cut into the parts it will be delivered as (empty list for an empty body)."""
	_check_length(text)
	return _pack(text, detect_encoding(text))[0]


def count_segments(text: str) -> SegmentInfo:
	"""Encoding, size and part count of an SMS body; raises SmsTooLong over 1,600 characters."""
	_check_length(text)
	forcing = non_gsm_characters(text)
	encoding = UCS_2 if forcing else GSM_7
	parts, fills = _pack(text, encoding)
	total_units = sum(fills)
	per_segment = MULTI_PART_LIMIT[encoding] if len(parts) > 1 else SINGLE_PART_LIMIT[encoding]
	remaining = per_segment - (fills[-1] if fills else 0)
	return SegmentInfo(
		encoding=encoding,
		characters=len(text),
		units=total_units,
		segments=len(parts),
		per_segment=per_segment,
		remaining_in_segment=remaining,
		non_gsm_characters=forcing,
	)

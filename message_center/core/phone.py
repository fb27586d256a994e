"""Phone numbers: E.164 normalisation and matching against numbers typed as free text.

Contact and Lead phone fields hold whatever people typed ("(415) 555-2671", "020 7946 0958",
"+44 20 7946 0958"), so the shell finds candidates with a cheap SQL prefilter on the last digits and
confirms each with same_number(), which compares the parsed numbers rather than the text.
"""

import re

import phonenumbers
from phonenumbers import MatchType, NumberParseException, PhoneNumber, PhoneNumberFormat

# Seven trailing digits identify a subscriber in practically every numbering plan while staying
# clear of trunk prefixes ("0") and country codes, which free text may or may not include.
SUFFIX_LENGTH = 7

_NON_DIGITS = re.compile(r"\D")


def _clean_region(default_region: str | None) -> str | None:
	return default_region.strip().upper() if default_region and default_region.strip() else None


def _parse(raw: str, region: str | None) -> PhoneNumber | None:
	try:
		return phonenumbers.parse(raw, region)
	except NumberParseException:
		return None
	except Exception:  # the library raises odd errors on pathological input; never let them out
		return None


def _is_acceptable(number: PhoneNumber, strict: bool) -> bool:
	return phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)


def parse_number(
	raw: str | None, default_region: str | None = None, *, strict: bool = True
) -> PhoneNumber | None:
	"""Parsed number, or None when the text is not a valid (strict) / plausible number."""
	if not isinstance(raw, str) or not raw.strip():
		return None
	text = raw.strip()
	region = _clean_region(default_region)
	number = _parse(text, region)
	if number is not None and _is_acceptable(number, strict):
		return number
	# "00" is the international prefix in most of the world but not in the default region
	# (the US dials 011), so read "0044 ..." as "+44 ..." before giving up.
	if text.startswith("00"):
		number = _parse("+" + text[2:], None)
		if number is not None and _is_acceptable(number, strict):
			return number
	return None


def normalise_e164(raw: str | None, default_region: str | None = None, *, strict: bool = True) -> str | None:
	"""E.164 form ("+14155552671") of a number typed in any common format, or None; never raises.

	default_region (ISO 3166 alpha-2, e.g. "US", "GB") is used for numbers written without a country
	code. strict=True requires a number the numbering plan allocates; strict=False only a plausible
	length, which survives stale metadata for newly opened ranges.
	"""
	number = parse_number(raw, default_region, strict=strict)
	return phonenumbers.format_number(number, PhoneNumberFormat.E164) if number is not None else None


def digits_only(raw: str | None) -> str:
	return _NON_DIGITS.sub("", raw or "")


def digits_suffix(raw: str | None, length: int = SUFFIX_LENGTH) -> str | None:
	"""The last `length` digits of a number (fewer if it has fewer), or None when it has no digits."""
	digits = digits_only(raw)
	return digits[-length:] if digits else None


def like_pattern_for_suffix(suffix: str) -> str:
	"""SQL LIKE pattern matching free text whose digits end with `suffix`, whatever separators sit
	between them: "5552671" -> "%5%5%5%2%6%7%1". Over-inclusive by design; confirm with same_number()."""
	digits = digits_only(suffix)
	if not digits:
		raise ValueError("A phone suffix needs at least one digit")
	return "%" + "%".join(digits)


def same_number(a: str | None, b: str | None, default_region: str | None = None) -> bool:
	"""True when two free-text phone numbers denote the same line.

	Both are read with default_region when they lack a country code. When one side cannot be read
	that way (a foreign number typed without its country code), fall back to comparing the national
	numbers, which phonenumbers reports as an NSN match; shorter partial matches are not accepted.
	"""
	first = normalise_e164(a, default_region, strict=False)
	second = normalise_e164(b, default_region, strict=False)
	if first and second:
		return first == second
	if not digits_only(a) or not digits_only(b):
		return False
	try:
		match = phonenumbers.is_number_match(a, b)
	except Exception:
		return False
	return match in (MatchType.EXACT_MATCH, MatchType.NSN_MATCH)

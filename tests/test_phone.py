import re

import pytest

from message_center.core.phone import (
	digits_suffix,
	like_pattern_for_suffix,
	normalise_e164,
	same_number,
)


@pytest.mark.parametrize(
	("raw", "region", "expected"),
	[
		("(415) 555-2671", "US", "+14155552671"),
		("415.555.2671", "US", "+14155552671"),
		("1-415-555-2671", "US", "+14155552671"),
		("020 7946 0958", "GB", "+442079460958"),
		("07911 123456", "GB", "+447911123456"),
		("+14155552671", "US", "+14155552671"),
		("+14155552671", None, "+14155552671"),
		("+44 20 7946 0958", "US", "+442079460958"),  # an explicit country code beats the region
		("+44 (0)20 7946 0958", None, "+442079460958"),
		(" +1 (415) 555-2671 ", "us", "+14155552671"),  # region case and padding do not matter
		("0044 20 7946 0958", "GB", "+442079460958"),
		("00 44 20 7946 0958", "US", "+442079460958"),  # 00 read as international in the US too
		("011 44 20 7946 0958", "US", "+442079460958"),
	],
)
def test_normalises_to_e164(raw, region, expected):
	assert normalise_e164(raw, region) == expected


@pytest.mark.parametrize(
	("raw", "region"),
	[
		("", "US"),
		("   ", "US"),
		(None, "US"),
		("not a number", "US"),
		("12345", "US"),
		("+1 415", None),
		("555-555-5555", "US"),  # no such area code
		("(415) 555-2671", None),  # national format without a region to read it in
		("+999 1234 5678", None),
		("1" * 300, "US"),
		(12345, "US"),
	],
)
def test_invalid_input_gives_none_and_never_raises(raw, region):
	assert normalise_e164(raw, region) is None


def test_lenient_mode_accepts_plausible_numbers_from_unlisted_ranges():
	assert normalise_e164("07700 900123", "GB") is None  # Ofcom's drama range is not allocated
	assert normalise_e164("07700 900123", "GB", strict=False) == "+447700900123"


@pytest.mark.parametrize(
	("a", "b", "region", "expected"),
	[
		("(415) 555-2671", "+14155552671", "US", True),
		("415-555-2671", "1 415 555 2671", "US", True),
		("020 7946 0958", "+44 20 7946 0958", "GB", True),
		("020 7946 0958", "+44 20 7946 0958", "US", True),  # foreign number typed without +44
		("+44 20 7946 0958", "0044 20 7946 0958", "US", True),
		("(415) 555-2671", "(415) 555-2672", "US", False),
		("+14155552671", "+442079460958", None, False),
		("", "+14155552671", "US", False),
		(None, None, "US", False),
		("n/a", "n/a", "US", False),
	],
)
def test_same_number(a, b, region, expected):
	assert same_number(a, b, region) is expected
	assert same_number(b, a, region) is expected


def test_digit_suffix_and_like_pattern_find_free_text_candidates():
	suffix = digits_suffix("+1 (415) 555-2671")
	assert suffix == "5552671"
	pattern = like_pattern_for_suffix(suffix)
	assert pattern == "%5%5%5%2%6%7%1"
	# The same number in free text matches the pattern, whatever the separators.
	stored = ["415-555-2671", "(415) 555 2671", "+14155552671", "415.555.26.71"]
	regex = "^" + pattern.replace("%", ".*") + "$"
	assert all(re.match(regex, text) for text in stored)
	assert digits_suffix("12") == "12"
	assert digits_suffix("no digits") is None
	with pytest.raises(ValueError):
		like_pattern_for_suffix("--")

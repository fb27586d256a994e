import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from message_center.core.sms_segments import (
	GSM_7,
	MAX_CHARACTERS,
	MULTI_PART_LIMIT,
	SINGLE_PART_LIMIT,
	UCS_2,
	SmsTooLong,
	character_units,
	count_segments,
	split_segments,
)

EMOJI = "😀"  # outside the BMP: a surrogate pair, 2 UTF-16 units


@pytest.mark.parametrize(
	("text", "encoding", "units", "segments", "per_segment", "remaining"),
	[
		("Hello, your quote is ready.", GSM_7, 27, 1, 160, 133),
		("a" * 160, GSM_7, 160, 1, 160, 0),
		("a" * 161, GSM_7, 161, 2, 153, 145),
		("a" * 306, GSM_7, 306, 2, 153, 0),
		("a" * 307, GSM_7, 307, 3, 153, 152),
		("Price: 10€", GSM_7, 11, 1, 160, 149),
		("€" * 80, GSM_7, 160, 1, 160, 0),
		("€" * 81, GSM_7, 162, 2, 153, 143),  # 76 € fill part one (152), 5 € in part two
		("Grüße aus München", GSM_7, 17, 1, 160, 143),  # ü and ß are in the GSM table
		("Olá, está bem?", UCS_2, 14, 1, 70, 56),  # á is not
		(f"Thanks {EMOJI}", UCS_2, 9, 1, 70, 61),
		("ж" * 70, UCS_2, 70, 1, 70, 0),
		("ж" * 71, UCS_2, 71, 2, 67, 63),
		("", GSM_7, 0, 0, 160, 160),
	],
)
def test_segment_table(text, encoding, units, segments, per_segment, remaining):
	info = count_segments(text)
	assert (info.encoding, info.units, info.segments, info.per_segment, info.remaining_in_segment) == (
		encoding,
		units,
		segments,
		per_segment,
		remaining,
	)
	assert info.characters == len(text)


@pytest.mark.parametrize("extension", list("€[]{}^~\\|\f"))
def test_every_extension_character_costs_two_septets(extension):
	info = count_segments("a" + extension)
	assert info.encoding == GSM_7
	assert info.units == 3


def test_an_escape_sequence_is_not_split_across_a_segment_boundary():
	# 152 plain septets fill all but one septet of the first part; the € (2 septets) must move
	# whole to the second part, leaving that last septet of part one unused.
	text = "a" * 152 + "€" + "b" * 10
	parts = split_segments(text)
	assert parts == ["a" * 152, "€" + "b" * 10]
	info = count_segments(text)
	assert (info.units, info.segments, info.remaining_in_segment) == (164, 2, 153 - 12)


def test_extension_characters_tip_a_message_into_a_second_segment():
	assert count_segments("a" * 159).segments == 1
	assert count_segments("a" * 159 + "^").segments == 2  # 161 septets


def test_a_surrogate_pair_is_not_split_across_a_segment_boundary():
	text = "ж" * 66 + EMOJI + "ж" * 5  # the emoji would straddle units 67/68
	parts = split_segments(text)
	assert parts == ["ж" * 66, EMOJI + "ж" * 5]
	assert count_segments(text).segments == 2


def test_one_emoji_forces_ucs2_and_is_reported():
	info = count_segments(f"Your order shipped {EMOJI} – thanks")
	assert info.encoding == UCS_2
	assert info.non_gsm_characters == [EMOJI, "–"]
	assert info.units == len(f"Your order shipped {EMOJI} – thanks") + 1


def test_non_gsm_characters_are_unique_in_order_of_appearance():
	assert count_segments("“quoted” and “again”").non_gsm_characters == ["“", "”"]
	assert count_segments("plain").non_gsm_characters == []


def test_1600_characters_are_accepted_and_1601_refused():
	assert count_segments("a" * MAX_CHARACTERS).segments == math.ceil(1600 / 153)
	with pytest.raises(SmsTooLong) as refused:
		count_segments("a" * (MAX_CHARACTERS + 1))
	assert isinstance(refused.value, ValueError)
	assert "1,601 characters" in str(refused.value)
	assert "at most 1,600" in str(refused.value)


sms_text = st.text(
	alphabet=st.one_of(
		st.sampled_from("abc XYZ 019.,!?@£$\n€[]{}^~\\|"),
		st.sampled_from("жé–“😀🎉中"),
		st.characters(codec="utf-8"),
	),
	max_size=MAX_CHARACTERS,
)


@settings(max_examples=150, deadline=None)
@given(sms_text)
def test_segments_match_the_packed_parts(text):
	info = count_segments(text)
	parts = split_segments(text)
	assert info.segments == len(parts)
	assert "".join(parts) == text
	capacity = SINGLE_PART_LIMIT[info.encoding] if len(parts) == 1 else MULTI_PART_LIMIT[info.encoding]
	for part in parts:
		assert sum(character_units(character, info.encoding) for character in part) <= capacity
	if text:
		assert info.segments >= 1
		# Packing can only waste room at part boundaries, never save it.
		assert info.segments >= math.ceil(info.units / capacity)
	else:
		assert info.segments == 0


@settings(max_examples=150, deadline=None)
@given(sms_text, st.data())
def test_segments_never_decrease_as_text_grows(text, data):
	cut = data.draw(st.integers(min_value=0, max_value=len(text)))
	assert count_segments(text[:cut]).segments <= count_segments(text).segments

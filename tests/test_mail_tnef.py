"""Outlook's winmail.dat (TNEF): the files inside become ordinary attachments, its body stands in for
a mail without one, and a stream that cannot be unpacked is kept as it came, with a defect saying why.

The streams come from message_center.testing.tnef_writer; the first tests check that tnefparse (the
real library, not a stand-in) reads them as written, so every later test also tests the decoding."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tnefparse import TNEF

from message_center.core.mail_parse import ParsedMail, parse_mail
from message_center.core.mail_tnef import TnefError, is_tnef, unpack_tnef
from message_center.testing.tnef_writer import (
	ATT_MAPI_PROPS,
	ATT_SUBJECT,
	LEVEL_MESSAGE,
	TnefFile,
	TnefItem,
	attribute,
	outlook_mail,
	tnef_stream,
)

TEN_MB = 10 * 1024 * 1024
PDF = b"%PDF-1.4 quote for 20 chairs\n%%EOF\n\x00\x00"  # trailing NULs must survive
PNG = b"\x89PNG\r\n\x1a\n tiny logo"
RTF = b"{\\rtf1\\ansi\\deff0 {\\b Hello} from Outlook\\par}"


def parse(raw: bytes, **limits) -> ParsedMail:
	limits.setdefault("max_attachment_bytes", TEN_MB)
	return parse_mail(raw, **limits)


def files_of(mail: ParsedMail) -> dict[str, tuple[str, bytes]]:
	return {
		attachment.filename: (attachment.content_type, attachment.content) for attachment in mail.attachments
	}


def _flipped(stream: bytes, at: int) -> bytes:
	return stream[:at] + bytes([stream[at] ^ 0xFF]) + stream[at + 1 :]


QUOTE = TnefFile("QUOTE~1.PDF", PDF, long_filename="Angebot Bürostühle März.pdf", mime_type="application/pdf")
SHEET = TnefFile("Maße.csv", b"sku;qty\nA1;20\n")  # a title only (no long name), in the sender's codepage
LOGO = TnefFile("logo.png", PNG, content_id="logo@acme")


# --- the writer and the library agree -------------------------------------------------------------


def test_tnefparse_reads_the_writers_streams_as_written():
	stream = tnef_stream(files=(QUOTE, SHEET), body="Plain body", html="<p>HTML body</p>")
	tnef = TNEF(stream, do_checksum=True)
	assert all(obj.good_checksum for obj in tnef.objects)
	quote, sheet = tnef.attachments
	assert quote.long_filename() == "Angebot Bürostühle März.pdf"
	with pytest.raises(UnicodeDecodeError):  # tnefparse reads a cp1252 title as UTF-8: mail_tnef falls back
		sheet.long_filename()
	assert [attachment.data for attachment in tnef.attachments] == [PDF, b"sku;qty\nA1;20\n"]
	assert tnef.htmlbody == "<p>HTML body</p>" and tnef.body == "Plain body"


def test_unpack_tnef_gives_files_and_bodies():
	unpacked = unpack_tnef(tnef_stream(files=(QUOTE, SHEET, LOGO), body="Plain", html="<p>Rich</p>"))
	assert [(file.filename, file.content_type, file.content, file.content_id) for file in unpacked.files] == [
		("Angebot Bürostühle März.pdf", "application/pdf", PDF, None),
		("Maße.csv", "text/csv", b"sku;qty\nA1;20\n", None),
		("logo.png", "image/png", PNG, "logo@acme"),
	]
	assert (unpacked.html, unpacked.text, unpacked.rtf) == ("<p>Rich</p>", "Plain", None)
	assert unpacked.notes == []


@pytest.mark.parametrize(
	("content_type", "filename", "expected"),
	[
		("application/ms-tnef", "winmail.dat", True),
		("application/vnd.ms-tnef", "anything.bin", True),
		("application/octet-stream", "WINMAIL.DAT", True),
		("application/octet-stream", "data.dat", False),
		("application/pdf", "winmail.dat", False),
	],
)
def test_what_counts_as_tnef(content_type, filename, expected):
	assert is_tnef(content_type, filename) is expected


# --- attachments ----------------------------------------------------------------------------------


def test_files_in_winmail_dat_become_attachments_with_names_and_content():
	mail = parse(
		outlook_mail(tnef_stream(files=(QUOTE, SHEET), body="See the quote."), text="See the quote.\n")
	)
	assert files_of(mail) == {
		"Angebot Bürostühle März.pdf": ("application/pdf", PDF),
		"Maße.csv": ("text/csv", b"sku;qty\nA1;20\n"),
	}
	assert "winmail.dat" not in files_of(mail)
	assert all(attachment.size == len(attachment.content) for attachment in mail.attachments)
	assert mail.defects == [] and mail.skipped_attachments == []


@pytest.mark.parametrize("content_type", ["application/vnd.ms-tnef", "application/octet-stream"])
def test_other_labels_of_winmail_dat_are_unpacked_too(content_type):
	mail = parse(outlook_mail(tnef_stream(files=(SHEET,)), text="Hi", content_type=content_type))
	assert list(files_of(mail)) == ["Maße.csv"]


def test_names_in_winmail_dat_are_made_safe_and_unnamed_files_get_one():
	evil = TnefFile("x", b"MZ", long_filename="..\\..\\Windows\\evil\x07.exe")
	nameless = TnefFile("", b"\x89PNG", mime_type="image/png")
	mail = parse(outlook_mail(tnef_stream(files=(evil, nameless)), text="Hi"))
	assert list(files_of(mail)) == ["evil.exe", "attachment-2.png"]


def test_an_oversize_file_is_skipped_with_a_note_and_the_rest_kept():
	big = TnefFile("drawing.dwg", b"D" * (30 * 1024), mime_type="application/acad")
	mail = parse(outlook_mail(tnef_stream(files=(big, SHEET)), text="Hi"), max_attachment_bytes=20 * 1024)
	assert list(files_of(mail)) == ["Maße.csv"]
	[skipped] = mail.skipped_attachments
	assert (skipped.filename, skipped.content_type, skipped.size) == (
		"drawing.dwg",
		"application/acad",
		30 * 1024,
	)
	assert skipped.note == "drawing.dwg (30 KB) skipped: larger than the 20 KB limit"


def test_files_in_winmail_dat_count_towards_the_total_limit():
	first = TnefFile("a.bin", b"a" * 6000)
	second = TnefFile("b.bin", b"b" * 6000)
	mail = parse(
		outlook_mail(tnef_stream(files=(first, second)), text="Hi"),
		max_attachment_bytes=10_000,
		max_total_attachment_bytes=10_000,
	)
	assert list(files_of(mail)) == ["a.bin"]
	[skipped] = mail.skipped_attachments
	assert skipped.filename == "b.bin" and "total limit" in skipped.note


def test_an_attached_outlook_item_gives_its_files_and_its_text():
	item = tnef_stream(files=(SHEET,), body="The order we talked about.", subject="Fwd: Order 1042")
	mail = parse(outlook_mail(tnef_stream(files=(QUOTE, TnefItem("Order 1042", item))), text="Hi"))
	assert files_of(mail) == {
		"Angebot Bürostühle März.pdf": ("application/pdf", PDF),
		"Fwd: Order 1042.txt": ("text/plain", b"The order we talked about."),
		"Maße.csv": ("text/csv", b"sku;qty\nA1;20\n"),
	}
	assert mail.defects == []


def test_an_attached_item_that_cannot_be_read_keeps_winmail_dat_as_well():
	item = tnef_stream(files=(SHEET,), body="The order.", subject="Order 1042")
	damaged = _flipped(item, item.index(b"sku;qty"))  # its checksum no longer matches
	stream = tnef_stream(files=(QUOTE, TnefItem("Order 1042", damaged)))
	mail = parse(outlook_mail(stream, text="Hi"))
	assert files_of(mail) == {
		"Angebot Bürostühle März.pdf": ("application/pdf", PDF),
		"winmail.dat": ("application/ms-tnef", stream),
	}
	assert mail.defects == [
		# tnefparse drops an item's display name when it comes before the item, as Outlook writes it;
		# a readable item is named by its subject, a damaged one only by its place.
		"attached item 2 in winmail.dat: the TNEF stream is damaged (checksum mismatch in its Attachment Data attribute)",
		"winmail.dat kept as well, so that nothing in it is lost",
	]


def test_items_nested_too_deeply_keep_winmail_dat_as_well():
	stream = tnef_stream(files=(SHEET,), subject="Level 4")
	for level in (3, 2, 1):
		stream = tnef_stream(files=(TnefItem(f"Level {level + 1}", stream),), subject=f"Level {level}")
	stream = tnef_stream(files=(QUOTE, TnefItem("Level 1", stream)))
	mail = parse(outlook_mail(stream, text="Hi"))
	assert files_of(mail) == {
		"Angebot Bürostühle März.pdf": ("application/pdf", PDF),
		"winmail.dat": ("application/ms-tnef", stream),
	}
	assert mail.defects == [
		"Level 4 in winmail.dat is nested too deeply to unpack",
		"winmail.dat kept as well, so that nothing in it is lost",
	]


# --- bytes that cannot be unpacked are kept as they came -------------------------------------------


GOOD = tnef_stream(files=(QUOTE, SHEET), body="Plain")
# Streams tnefparse would chew on for hours (one warning per missing property; a copy of the rest of
# the stream per attribute): refused up front, so a poison mail never blocks the mailbox.
FOUR_BILLION = attribute(LEVEL_MESSAGE, ATT_MAPI_PROPS, (2**32 - 1).to_bytes(4, "little"))
FOUR_BILLION_SHORTS = attribute(  # one multi-valued PT_SHORT property (0x1002) of 2**32 - 1 values
	LEVEL_MESSAGE, ATT_MAPI_PROPS, bytes.fromhex("01000000 0210 0100 ffffffff 0000000000000000")
)
BIG_LAST = tnef_stream(files=(TnefFile("big.bin", b"B" * (1 << 20)),))
MANY_ATTRIBUTES = (
	tnef_stream()
	+ attribute(LEVEL_MESSAGE, ATT_SUBJECT, b"s\x00") * 5000
	+ BIG_LAST[len(tnef_stream()) :]  # each of the 5000 copies the 1 MB file after it
)
DAMAGED = {
	"flipped byte in a file": (
		_flipped(GOOD, GOOD.index(PDF) + 3),
		"checksum mismatch in its Attachment Data",
	),
	"cut inside an attribute's data": (GOOD[: len(GOOD) - 10], "the TNEF stream is damaged"),
	"cut inside an attribute's header": (GOOD[: len(GOOD) - 40], "it ends inside an attribute"),
	"not TNEF at all": (b"PK\x03\x04 a zip, really", "not a TNEF stream"),
	"nothing inside": (tnef_stream(), "holds no files and no message body"),
	"a property list of four billion": (GOOD + FOUR_BILLION, "a property list claims 4294967295 entries"),
	"a property of four billion values": (GOOD + FOUR_BILLION_SHORTS, "runs past the end of its attribute"),
	"the same in an attached item": (
		tnef_stream(files=(TnefItem("x", tnef_stream() + FOUR_BILLION_SHORTS),)),
		"runs past the end of its attribute",
	),
	"a big stream of many attributes": (
		MANY_ATTRIBUTES,
		"too many attributes to unpack safely",
	),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_winmail_dat_that_cannot_be_unpacked_is_kept_with_a_defect(case):
	stream, reason = DAMAGED[case]
	with pytest.raises(TnefError, match=reason):
		unpack_tnef(stream)
	mail = parse(outlook_mail(stream, text="Hi"))
	assert files_of(mail) == {"winmail.dat": ("application/ms-tnef", stream)}
	[defect] = mail.defects
	assert defect.startswith("winmail.dat (application/ms-tnef) kept as it came, not unpacked: ")
	assert reason in defect
	assert mail.text == "Hi"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mangled_stream_never_raises_and_never_loses_bytes(data):
	stream = bytearray(tnef_stream(files=(QUOTE, LOGO), html="<p>x</p>"))
	for _ in range(data.draw(st.integers(1, 4))):
		at = data.draw(st.integers(0, len(stream) - 1))
		stream[at] = data.draw(st.integers(0, 255))
	stream = bytes(stream[: data.draw(st.integers(0, len(stream)))])
	mail = parse(outlook_mail(stream, text="Hi"))
	assert mail.parse_error is None and mail.text == "Hi"
	kept = files_of(mail)
	# Unpacked only with every checksum right, so a file is one that was written, never a mangled one.
	assert all(content in (PDF, PNG, stream) for _, content in kept.values())
	if "winmail.dat" in kept:
		assert kept["winmail.dat"][1] == stream
		assert any("winmail.dat" in defect for defect in mail.defects)


# --- the body -------------------------------------------------------------------------------------


def test_html_body_is_used_sanitised_when_the_mail_has_none():
	html = '<p>Dear team,</p><p>see <img src="cid:logo@acme"> and the quote.</p><script>alert(1)</script>'
	mail = parse(outlook_mail(tnef_stream(files=(QUOTE, LOGO), html=html, body="plain fallback")))
	assert "Dear team," in mail.html and "<script" not in mail.html
	assert "Dear team," in mail.text and "plain fallback" not in mail.text
	logo = next(attachment for attachment in mail.attachments if attachment.filename == "logo.png")
	assert logo.is_inline and logo.content_id == "logo@acme"
	assert mail.defects == []


def test_plain_body_is_used_when_the_mail_has_none():
	mail = parse(outlook_mail(tnef_stream(files=(SHEET,), body="Grüße aus Köln,\r\nJane")))
	assert mail.text == "Grüße aus Köln,\nJane" and mail.html == ""
	assert mail.new_text.startswith("Grüße aus Köln")
	assert list(files_of(mail)) == ["Maße.csv"]


def test_a_mail_with_its_own_body_keeps_it():
	stream = tnef_stream(files=(SHEET,), html="<p>The TNEF rendition</p>", rtf=RTF)
	mail = parse(outlook_mail(stream, text="My own words.\n"))
	assert mail.text == "My own words." and mail.html == ""
	assert list(files_of(mail)) == ["Maße.csv"]  # no message.rtf either: the body is already there


def test_a_body_only_winmail_dat_under_a_body_of_its_own_leaves_no_attachment():
	mail = parse(outlook_mail(tnef_stream(html="<p>Same words, rich</p>"), text="Same words"))
	assert mail.text == "Same words" and mail.attachments == [] and mail.defects == []


def test_an_rtf_only_body_is_kept_as_message_rtf():
	mail = parse(outlook_mail(tnef_stream(files=(SHEET,), rtf=RTF)))
	assert files_of(mail) == {
		"Maße.csv": ("text/csv", b"sku;qty\nA1;20\n"),
		"message.rtf": ("application/rtf", RTF),
	}
	assert mail.text == "" and mail.defects == []


def test_a_compressed_rtf_body_is_unpacked():
	# Outlook compresses its RTF body; tnefparse[optional] (a dependency) brings the decompressor
	stream = tnef_stream(files=(SHEET,), rtf=RTF, compress_rtf=True)
	mail = parse(outlook_mail(stream))
	assert files_of(mail) == {
		"Maße.csv": ("text/csv", b"sku;qty\nA1;20\n"),
		"message.rtf": ("application/rtf", RTF),
	}
	assert mail.defects == []


def test_an_unreadable_rtf_body_keeps_winmail_dat_whole():
	# the only body is "Rich Text" that is not RTF once unpacked: the body would be lost otherwise
	stream = tnef_stream(files=(SHEET,), rtf=b"not rich text at all")
	mail = parse(outlook_mail(stream))
	assert files_of(mail)["Maße.csv"] == ("text/csv", b"sku;qty\nA1;20\n")
	assert files_of(mail)["winmail.dat"] == ("application/ms-tnef", stream)
	assert mail.defects == ["the Rich Text body in winmail.dat could not be unpacked: kept it whole"]

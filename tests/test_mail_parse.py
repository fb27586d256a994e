import base64
from datetime import timedelta, timezone

import pytest
from mail_samples import build_mail, sample, simple_headers

from message_center.core.mail_attachments import format_size
from message_center.core.mail_parse import Address, ParsedMail, parse_mail, rewrite_cid_urls
from message_center.core.mail_parts import unflow

TEN_MB = 10 * 1024 * 1024


def parse(raw: bytes, **limits) -> ParsedMail:
	limits.setdefault("max_attachment_bytes", TEN_MB)
	return parse_mail(raw, **limits)


def multipart(
	boundary: str, parts: list[bytes], content_type: str = "multipart/mixed", **headers: str
) -> bytes:
	body = (
		b"".join(b"--" + boundary.encode() + b"\n" + part + b"\n" for part in parts)
		+ b"--"
		+ boundary.encode()
		+ b"--\n"
	)
	return build_mail(simple_headers(content_type=f'{content_type}; boundary="{boundary}"', **headers), body)


# --- Real-looking replies from the common clients ------------------------------------------------


def test_gmail_reply_in_english():
	mail = parse(sample("gmail_reply_en.eml"))
	assert mail.parse_error is None
	assert mail.sender == Address("John Smith", "john.smith@gmail.com")
	assert mail.to == [Address("Acme Sales", "info@acme.example")]
	assert mail.subject == "Re: Quote for 20 office chairs"
	assert mail.message_id == "CAJx9f5Hq+ZtB6W8p0=Xz1GkV7k5QbA@mail.gmail.com"
	assert mail.in_reply_to.startswith("mc1-") and mail.references == [mail.in_reply_to]
	assert mail.date.utcoffset() == timedelta(hours=1)
	assert mail.new_text == "Hi,\n\nThanks for the quote. Could you also include delivery to Manchester?"
	assert "Please find our quote attached" in mail.text
	assert "Manchester" in mail.html and "class=" not in mail.html
	assert mail.defects == [] and mail.attachments == []


def test_outlook_reply_in_german_with_latin1_quoted_printable():
	mail = parse(sample("outlook_reply_de.eml"))
	assert mail.subject == "AW: Angebot Bürostühle"
	assert mail.sender.name == "Hans Müller"
	assert mail.new_text == "Hallo,\n\nvielen Dank. Bitte liefern Sie 20 Stück bis Ende Juni."
	assert "<style" not in mail.html and "margin-top" not in mail.html
	assert 'id="' not in mail.html


def test_apple_mail_reply_in_italian_with_format_flowed():
	mail = parse(sample("apple_reply_it.eml"))
	assert mail.subject == "R: Preventivo sedie"
	# The soft line break of format=flowed is undone, so the sentence reads whole.
	assert "confermo l’ordine di 20 sedie, con consegna entro la fine del mese." in mail.text
	assert mail.new_text == "Buongiorno, confermo l’ordine di 20 sedie, con consegna entro la fine del mese."


def test_gmail_reply_in_spanish_attribution_unknown_to_the_library():
	mail = parse(sample("gmail_reply_es.eml"))
	assert mail.subject == "RE: Catálogo 2024"
	assert mail.sender == Address("Ana García", "ana.garcia@cliente.example")
	assert mail.new_text == "Hola,\n\n¿Tienen también la versión en negro?"


def test_outlook_reply_in_french_base64():
	mail = parse(sample("outlook_reply_fr.eml"))
	assert mail.subject == "RE: Devis pour les chaises"
	assert mail.new_text == "Bonjour,\n\nMerci pour le devis, je valide la commande."
	assert "Objet : Devis pour les chaises" in mail.text


def test_dash_dash_signature_is_not_part_of_the_new_text():
	body = b"Please call me back tomorrow.\n\n-- \nJohn Smith\nSales Manager\n+44 20 7946 0000\n"
	mail = parse(build_mail(simple_headers(), body))
	assert mail.new_text == "Please call me back tomorrow."
	assert "Sales Manager" in mail.text


def test_interleaved_answers_are_kept_whole():
	body = b"> Which colour?\nBlack.\n\n> How many?\nTwenty.\n"
	mail = parse(build_mail(simple_headers(), body))
	assert "Black." in mail.new_text and "Twenty." in mail.new_text


def test_a_mail_that_is_only_a_quote_keeps_its_text():
	body = b"> just the quoted text\n> nothing else\n"
	assert parse(build_mail(simple_headers(), body)).new_text == "> just the quoted text\n> nothing else"


# --- HTML, inline images and attachments ---------------------------------------------------------


def test_html_only_mail_with_inline_cid_image():
	mail = parse(sample("html_only_inline_image.eml"))
	assert mail.text.startswith("Buongiorno,") and "listino prezzi – grazie" in mail.text
	assert mail.new_text == mail.text
	[logo] = mail.attachments
	assert (logo.filename, logo.content_type, logo.content_id, logo.is_inline) == (
		"logo.png",
		"image/png",
		"logo.png@01DAB6",
		True,
	)
	assert logo.content.startswith(b"\x89PNG") and logo.size == len(logo.content)
	assert "<script" not in mail.html and "onerror" not in mail.html
	assert 'src="cid:logo.png@01DAB6"' in mail.html
	rewritten = rewrite_cid_urls(mail.html, {"<logo.png@01DAB6>": "/private/files/logo.png?fid=1&x=2"})
	assert 'src="/private/files/logo.png?fid=1&amp;x=2"' in rewritten


def test_rewrite_cid_urls_matches_case_insensitively_and_leaves_unknown_ids():
	html = '<img src="cid:Part1.ABC@x"><img src="cid:unknown@x">'
	assert (
		rewrite_cid_urls(html, {"part1.abc@x": "/f/1.png"}) == '<img src="/f/1.png"><img src="cid:unknown@x">'
	)


def test_image_with_content_id_not_shown_by_the_html_is_a_plain_attachment():
	image = (
		b"Content-Type: image/png\nContent-ID: <unused@x>\nContent-Transfer-Encoding: base64\n\n"
		+ base64.b64encode(b"png")
	)
	raw = multipart("b1", [b"Content-Type: text/html\n\n<p>no image here</p>", image])
	[attachment] = parse(raw).attachments
	assert attachment.content_id == "unused@x" and attachment.is_inline is False


def test_multipart_alternative_with_attachments():
	pdf = base64.encodebytes(b"%PDF-1.4 quote")
	raw = multipart(
		"outer",
		[
			b'Content-Type: multipart/alternative; boundary="alt"\n\n--alt\nContent-Type: text/plain; charset=utf-8\n\nPlain body\n'
			b"--alt\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <b>body</b></p>\n--alt--",
			b'Content-Type: application/pdf; name="quote.pdf"\nContent-Disposition: attachment; filename="quote.pdf"\n'
			b"Content-Transfer-Encoding: base64\n\n" + pdf,
			b'Content-Type: text/csv; name="items.csv"\nContent-Disposition: attachment; filename="items.csv"\n\nsku,qty\nA1,2\n',
		],
	)
	mail = parse(raw)
	assert mail.text == "Plain body" and mail.html == "<p>HTML <b>body</b></p>"
	assert [(a.filename, a.content_type, a.is_inline) for a in mail.attachments] == [
		("quote.pdf", "application/pdf", False),
		("items.csv", "text/csv", False),
	]
	assert mail.attachments[0].content == b"%PDF-1.4 quote"


def test_oversize_attachment_is_skipped_with_a_note_for_people():
	report = b"x" * int(12.3 * 1024)
	raw = multipart(
		"b",
		[
			b"Content-Type: text/plain\n\nSee attached.",
			b'Content-Type: application/pdf\nContent-Disposition: attachment; filename="report.pdf"\nContent-Transfer-Encoding: base64\n\n'
			+ base64.encodebytes(report),
			b'Content-Type: text/plain\nContent-Disposition: attachment; filename="small.txt"\n\nsmall',
		],
	)
	mail = parse(raw, max_attachment_bytes=10 * 1024)
	assert [attachment.filename for attachment in mail.attachments] == ["small.txt"]
	[skipped] = mail.skipped_attachments
	assert skipped.note == "report.pdf (12.3 KB) skipped: larger than the 10 KB limit"
	assert (skipped.filename, skipped.content_type, skipped.size) == (
		"report.pdf",
		"application/pdf",
		len(report),
	)


def test_total_attachment_limit():
	parts = [b"Content-Type: text/plain\n\nThree files."] + [
		f'Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="f{i}.bin"\n\n'.encode()
		+ b"y" * 600
		for i in range(3)
	]
	mail = parse(multipart("b", parts), max_attachment_bytes=1000, max_total_attachment_bytes=1300)
	assert [attachment.filename for attachment in mail.attachments] == ["f0.bin", "f1.bin"]
	assert (
		mail.skipped_attachments[0].note
		== "f2.bin (600 bytes) skipped: the attachments of this mail would exceed the 1.3 KB total limit"
	)


@pytest.mark.parametrize(
	("size", "words"),
	[
		(40, "40 bytes"),
		(10 * 1024, "10 KB"),
		(TEN_MB, "10 MB"),
		(int(12.3 * 1024 * 1024), "12.3 MB"),
		(3 * 1024**3, "3 GB"),
	],
)
def test_format_size(size, words):
	assert format_size(size) == words


@pytest.mark.parametrize(
	("disposition", "expected"),
	[
		(b'attachment; filename="../../etc/passwd"', "passwd"),
		(b"attachment; filename*=utf-8''devis%20%C3%A9t%C3%A9.pdf", "devis été.pdf"),
		(b'attachment; filename="=?utf-8?B?0L/RgNCw0LnRgS5wZGY=?="', "прайс.pdf"),
		(b'attachment; filename="C:\\\\Users\\\\jo\\\\..hidden.doc"', "hidden.doc"),
		(b"attachment", "attachment-1.pdf"),
	],
)
def test_attachment_filenames_are_decoded_and_made_safe(disposition, expected):
	part = b"Content-Type: application/pdf\nContent-Disposition: " + disposition + b"\n\n%PDF"
	raw = multipart("b", [b"Content-Type: text/plain\n\nbody", part])
	assert parse(raw).attachments[0].filename == expected


def test_nested_message_rfc822_becomes_an_eml_attachment():
	inner = build_mail(
		simple_headers(subject="Original enquiry", message_id="<inner@x>"),
		b"The inner text must not be the body.\n",
	)
	raw = multipart(
		"b",
		[b"Content-Type: text/plain\n\nForwarding this to you.", b"Content-Type: message/rfc822\n\n" + inner],
	)
	mail = parse(raw)
	assert mail.text == "Forwarding this to you."
	[attached] = mail.attachments
	assert (attached.filename, attached.content_type) == ("Original enquiry.eml", "message/rfc822")
	assert parse(attached.content).subject == "Original enquiry"


# --- Charsets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
	("encoded", "decoded"),
	[
		("=?iso-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème"),
		("=?UTF-8?B?UmU6IMOcYmVyd2Vpc3VuZw==?=", "Re: Überweisung"),
		("=?koi8-r?B?8NLJ18XU?=", "Привет"),
		("=?gb2312?B?xOO6ww==?=", "你好"),
		("=?ISO-2022-JP?B?GyRCOCtAURsoQg==?=", "見積"),
		("=?windows-1252?Q?=93quoted=94?=", "“quoted”"),
		("=?utf-8?q?caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?= suite", "café crème suite"),
		("Devis =?utf-8?q?pi=C3=A8ces?= urgent", "Devis pièces urgent"),
		("=?utf-8?b?w6?=", "\ufffd"),
		("=?utf-8?x?not-an-encoding?=", "=?utf-8?x?not-an-encoding?="),
	],
)
def test_encoded_word_subjects(encoded, decoded):
	assert parse(build_mail(simple_headers(subject=encoded))).subject == decoded


def test_encoded_word_names_with_comma():
	mail = parse(
		build_mail(simple_headers(**{"from": "=?utf-8?q?M=C3=BCller=2C_Hans?= <H.Mueller@Kunde.example>"}))
	)
	assert mail.sender == Address("Müller, Hans", "h.mueller@kunde.example")


def test_unquoted_comma_in_a_display_name_keeps_the_real_address():
	mail = parse(build_mail(simple_headers(**{"from": "Mueller, Hans <h.mueller@kunde.example>"})))
	assert mail.sender.address == "h.mueller@kunde.example"


def test_bogus_charset_is_guessed_and_noted():
	headers = simple_headers(content_type='text/plain; charset="x-unknown"', subject="=?x-unknown?q?caf=E9?=")
	mail = parse(build_mail(headers, "Bonjour, un café crème et une brioche.\n".encode("cp1252")))
	assert mail.text == "Bonjour, un café crème et une brioche."
	assert mail.subject == "café"
	assert any("unknown charset 'x-unknown'" in defect for defect in mail.defects)


def test_invalid_utf8_bytes_in_a_utf8_body_are_replaced_and_the_rest_kept():
	mail = parse(build_mail(simple_headers(), "Grüße ".encode() + b"\xff\xfe" + " aus Köln".encode()))
	assert mail.text == "Grüße \ufffd\ufffd aus Köln"
	assert mail.damage == ["text/plain: invalid utf-8 bytes replaced"]


@pytest.mark.parametrize(
	("headers", "damage"),
	[
		({"subject": "=?x-unknown?q?caf=E9?="}, "Subject header: unknown charset 'x-unknown', guessed cp1252"),
		({"subject": "Devis =?utf-8?q?pi=E8ces?="}, "Subject header: invalid utf-8 bytes replaced"),
		({"subject": "=?utf-8?b?!!!?= urgent"}, "Subject header: broken base64 encoded-word"),
		({"subject": "=?utf-8?b?w?="}, "Subject header: encoded-word not readable (Base64 decoding error)"),
		({"from": "=?bogus?q?M=FCller?= <h@kunde.example>"}, "From header: unknown charset 'bogus', guessed cp1252"),
	],
)
def test_an_encoded_word_that_cannot_be_read_as_sent_is_damage(headers, damage):
	mail = parse(build_mail(simple_headers(**headers), b"Hello"))
	assert mail.damage == [damage]


def test_header_damage_is_only_counted_in_headers_an_agent_reads():
	unread = simple_headers(**{"x-mailer": "=?bogus?q?caf=E9?="})
	assert not parse(build_mail(unread, b"Hello")).damage
	# raw 8-bit bytes in a header are everyday legacy mail, read by guessing, not damage
	mail = parse(build_mail(simple_headers(subject="Café crème".encode("cp1252")), b"Hello"))
	assert mail.subject == "Café crème" and not mail.damage


def test_damage_is_what_may_not_read_as_sent_not_every_defect():
	guessed = simple_headers(content_type='text/plain; charset="x-unknown"')
	assert parse(build_mail(guessed, "un café crème".encode("cp1252"))).damage == [
		"text/plain: unknown charset 'x-unknown', guessed cp1252"
	]
	no_boundary = parse(build_mail(simple_headers(content_type="multipart/mixed"), b"Just some text.\n"))
	assert any("no usable boundary" in words for words in no_boundary.damage)
	# everyday legacy mail: no charset declared, or a declared one that merely was not needed
	undeclared = parse(build_mail(simple_headers(content_type="text/plain"), "Ça va, très bien.".encode("cp1252")))
	assert undeclared.defects and not undeclared.damage
	unneeded = parse(build_mail(guessed, b"plain ascii"))
	assert not unneeded.damage
	assert not parse(build_mail(simple_headers(), b"Hello")).damage


def test_latin1_body_labelled_utf8_is_recovered():
	mail = parse(build_mail(simple_headers(), "Merci beaucoup, à bientôt !".encode("latin-1")))
	assert mail.text == "Merci beaucoup, à bientôt !"


def test_missing_charset_with_8bit_utf8_body():
	mail = parse(build_mail(simple_headers(content_type="text/plain"), "¿Qué tal? Ça va.".encode()))
	assert mail.text == "¿Qué tal? Ça va."


def test_raw_8bit_headers_in_utf8_and_latin1():
	headers = simple_headers(
		subject="Réunion à Zürich".encode(),
		**{"from": "Jérôme Lefèvre <jerome@client.example>".encode("latin-1")},
	)
	mail = parse(build_mail(headers))
	assert mail.subject == "Réunion à Zürich"
	assert mail.sender == Address("Jérôme Lefèvre", "jerome@client.example")


def test_html_meta_charset_is_honoured_when_the_header_has_none():
	html = '<html><head><meta charset="iso-8859-15"></head><body><p>Prix : 20 €</p></body></html>'.encode(
		"iso-8859-15"
	)
	mail = parse(build_mail(simple_headers(content_type="text/html"), html))
	assert mail.text == "Prix : 20 €"


def test_nul_bytes_never_reach_the_database():
	mail = parse(build_mail(simple_headers(subject="a\x00b"), b"te\x00xt"))
	assert "\x00" not in mail.text and "\x00" not in mail.subject


# --- Broken structure ------------------------------------------------------------------------------


def test_missing_boundary_is_recovered_from_delimiter_lines():
	body = b"--zzz\nContent-Type: text/plain\n\nRecovered text\n--zzz\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n\n%PDF\n--zzz--\n"
	mail = parse(build_mail(simple_headers(content_type="multipart/mixed"), body))
	assert mail.text == "Recovered text"
	assert [attachment.filename for attachment in mail.attachments] == ["a.pdf"]
	assert any("no usable boundary" in defect for defect in mail.defects)


def test_multipart_without_any_delimiter_is_read_as_text():
	mail = parse(build_mail(simple_headers(content_type="multipart/mixed"), b"Just some text.\n"))
	assert mail.text == "Just some text." and mail.defects


def test_truncated_base64_and_missing_close_boundary():
	encoded = base64.b64encode(b"%PDF-1.4 a fairly long document body")[:-3]
	raw = build_mail(
		simple_headers(content_type='multipart/mixed; boundary="b"'),
		b"--b\nContent-Type: text/plain\n\nStill here\n--b\nContent-Type: application/pdf\n"
		b"Content-Disposition: attachment; filename=cut.pdf\nContent-Transfer-Encoding: base64\n\n" + encoded,
	)
	mail = parse(raw)
	assert mail.text == "Still here"
	[attachment] = mail.attachments
	assert attachment.filename == "cut.pdf" and attachment.content.startswith(b"%PDF-1.4")
	assert any("base64" in defect for defect in mail.defects)
	assert any("close boundary" in defect for defect in mail.defects)


def test_unreadable_date_is_none_with_a_defect_and_a_missing_zone_is_utc():
	mail = parse(build_mail(simple_headers(date="sometime last week")))
	assert mail.date is None and any("Date" in defect for defect in mail.defects)
	assert (
		parse(build_mail(simple_headers(date="Wed, 05 Jun 2024 10:00:00 -0000"))).date.tzinfo == timezone.utc
	)


@pytest.mark.parametrize("raw", [b"", b"   \n", b"\x00\x01\x02 no headers at all"])
def test_nothing_parseable_sets_parse_error(raw):
	mail = parse(raw)
	assert mail.parse_error and mail.text == "" and mail.attachments == []


def test_wrong_input_type_sets_parse_error_instead_of_raising():
	assert parse_mail(None, max_attachment_bytes=10).parse_error.startswith("TypeError")


def test_crlf_and_lf_line_ends_parse_the_same():
	raw = build_mail(simple_headers(), b"line one\nline two\n")
	assert parse(raw).text == parse(raw.replace(b"\n", b"\r\n")).text == "line one\nline two"


def test_unflow_respects_quotes_and_signature_separator():
	flowed = "First half \nsecond half.\n> quoted \n> continues\n-- \nSig"
	assert unflow(flowed, delete_space=False) == "First half second half.\n> quoted continues\n-- \nSig"
	assert unflow("Wrap \nped", delete_space=True) == "Wrapped"


def test_all_addresses_lists_everyone_once():
	headers = simple_headers(
		to="info@acme.example, Bob <bob@x.example>", cc="bob@x.example", reply_to="jane@customer.example"
	)
	assert parse(build_mail(headers)).all_addresses == [
		"jane@customer.example",
		"info@acme.example",
		"bob@x.example",
	]


def test_absurdly_deep_nesting_keeps_the_headers_and_flags_the_mail():
	depth = 2000
	opening = b"".join(
		f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode()
		for level in range(depth)
	)
	closing = b"".join(f"--b{level}--\n".encode() for level in reversed(range(depth)))
	raw = (
		b"From: Deep <deep@x.example>\nSubject: nested\n"
		+ opening
		+ b"Content-Type: text/plain\n\ninnermost\n"
		+ closing
	)
	mail = parse(raw)
	assert mail.subject == "nested" and mail.sender.address == "deep@x.example"
	assert mail.parse_error == "MIME parts nested too deeply to read: only the headers were parsed"


def test_nesting_beyond_the_walk_limit_is_reported():
	depth = 40
	opening = b"".join(
		f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode()
		for level in range(depth)
	)
	closing = b"".join(f"--b{level}--\n".encode() for level in reversed(range(depth)))
	mail = parse(b"From: deep@x.example\n" + opening + b"Content-Type: text/plain\n\ninnermost\n" + closing)
	assert mail.parse_error is None and mail.text == ""
	assert "MIME parts nested deeper than 30 levels were ignored" in mail.defects

"""parse_mail promises never to raise, and to return text a database accepts, whatever the bytes."""

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mail_samples import all_samples

from message_center.core.mail_classify import classify_mail
from message_center.core.mail_parse import ParsedMail, parse_mail
from message_center.core.mail_threading import message_identity, normalise_subject

SAMPLES = all_samples()
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that matter to MIME parsing, to make mutations hit structure rather than only text.
INTERESTING = st.sampled_from(
	[
		b"\n",
		b"\r\n",
		b"--",
		b"=?",
		b"?=",
		b"=?utf-8?b?",
		b"=?x-unknown?q?",
		b"boundary=",
		b"charset=",
		b"base64",
	]
	+ [
		b"Content-Type: multipart/mixed\n",
		b"\xff",
		b"\xc3",
		b"\x00",
		b";",
		b":",
		b"<",
		b">",
		b'"',
		b"=",
		b"\t",
		b"cid:",
	]
)


def all_strings(value) -> list[str]:
	"""Every str inside a parse result, however deeply nested."""
	if isinstance(value, str):
		return [value]
	if dataclasses.is_dataclass(value) and not isinstance(value, type):
		return [text for item in dataclasses.fields(value) for text in all_strings(getattr(value, item.name))]
	if isinstance(value, dict):
		return [text for key, item in value.items() for text in all_strings(key) + all_strings(item)]
	if isinstance(value, (list, tuple)):
		return [text for item in value for text in all_strings(item)]
	return []


def assert_well_formed(mail: ParsedMail) -> None:
	assert isinstance(mail, ParsedMail)
	for text in all_strings(mail):
		text.encode("utf-8")  # no lone surrogates
		assert "\x00" not in text
	assert mail.date is None or mail.date.tzinfo is not None
	for attachment in mail.attachments:
		assert attachment.size == len(attachment.content) and "/" not in attachment.filename
	# The rest of the pipeline must cope with whatever came out.
	classify_mail(mail, own_addresses=["info@acme.example"], secret="s")
	normalise_subject(mail.subject)


@PROPERTY_SETTINGS
@given(st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(raw):
	assert_well_formed(parse_mail(raw, max_attachment_bytes=500))
	message_identity(raw)


@st.composite
def mutated_samples(draw) -> bytes:
	raw = bytearray(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
	for _ in range(draw(st.integers(1, 8))):
		position = draw(st.integers(0, len(raw)))
		operation = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "duplicate"]))
		if operation == "insert":
			raw[position:position] = draw(INTERESTING | st.binary(min_size=1, max_size=8))
		elif operation == "delete":
			del raw[position : position + draw(st.integers(1, 40))]
		elif operation == "replace" and position < len(raw):
			raw[position] = draw(st.integers(0, 255))
		elif operation == "truncate":
			del raw[position:]
		elif operation == "duplicate":
			raw[position:position] = raw[position : position + draw(st.integers(1, 200))]
	return bytes(raw)


@PROPERTY_SETTINGS
@given(mutated_samples())
def test_never_raises_on_mutated_real_messages(raw):
	assert_well_formed(parse_mail(raw, max_attachment_bytes=500, max_total_attachment_bytes=800))
	message_identity(raw, None)


def test_every_sample_parses_cleanly():
	for name, raw in SAMPLES.items():
		mail = parse_mail(raw, max_attachment_bytes=10 * 1024 * 1024)
		assert mail.parse_error is None and mail.sender is not None and mail.text, name
		assert_well_formed(mail)

"""message_identity: stable across redelivery and migration, distinct for different mail."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from message_center.core.mail_identity import message_identity, normalise_message_id

MAIL = (
	b"Received: from mx1.example.net by imap.example.com; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	b"DKIM-Signature: v=1; a=rsa-sha256; b=abc\r\n"
	b"From: Ann <ann@example.org>\r\n"
	b"To: sales@example.com\r\n"
	b"Subject: Quote for\r\n 40 chairs\r\n"
	b"Message-ID: <quote-1@example.org>\r\n"
	b"\r\n"
	b"Hello,\r\nplease quote 40 chairs.\r\n"
)


def test_message_id_is_the_key():
	assert message_identity(MAIL).message_id_key == "<quote-1@example.org>"


def test_transport_headers_and_line_endings_do_not_change_the_identity():
	relayed = MAIL.replace(b"mx1.example.net", b"mx7.example.net").replace(b"b=abc", b"b=xyz")
	migrated = b"X-Migrated: yes\n" + relayed.replace(b"\r\n", b"\n") + b"\n"
	assert message_identity(relayed) == message_identity(MAIL) == message_identity(migrated)


def test_different_body_or_subject_changes_the_content_hash_only():
	other_body = MAIL.replace(b"40 chairs.", b"41 chairs.")
	other_subject = MAIL.replace(b" 40 chairs\r\nMessage", b" 41 chairs\r\nMessage")
	hashes = {message_identity(mail).content_hash for mail in (MAIL, other_body, other_subject)}
	assert len(hashes) == 3
	assert message_identity(other_body).message_id_key == "<quote-1@example.org>"


def test_missing_message_id_falls_back_to_the_content_hash():
	anonymous = MAIL.replace(b"Message-ID: <quote-1@example.org>\r\n", b"")
	identity = message_identity(anonymous)
	assert identity.message_id_key == f"sha256:{identity.content_hash}"
	assert message_identity(anonymous.replace(b"mx1", b"mx2")) == identity


def test_message_id_normalisation():
	assert normalise_message_id("  <a@b>  ") == "<a@b>"
	assert normalise_message_id("\r\n <a@b> (comment)") == "<a@b>"
	assert normalise_message_id("a@b") == "<a@b>"
	assert normalise_message_id("") is None
	assert normalise_message_id("two words") is None
	assert normalise_message_id("<" + "x" * 300 + "@b>").startswith("msgid-sha256:")


def test_headerless_garbage_does_not_collide():
	assert message_identity(b"garbage one") != message_identity(b"garbage two")


@given(st.binary(max_size=2000))
def test_never_raises_on_arbitrary_bytes(raw):
	identity = message_identity(raw)
	assert identity.message_id_key and len(identity.content_hash) == 64
	assert len(identity.message_id_key) <= 140

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from mail_samples import build_mail, sample, simple_headers

from message_center.core.mail_parse import ParsedMail, parse_mail
from message_center.core.mail_threading import (
	ThreadIndex,
	ThreadMatch,
	extract_reply_token,
	find_thread,
	make_message_id,
	make_reply_token,
	message_id_key,
	message_identity,
	normalise_subject,
	read_reply_token,
	tag_subject,
)

SECRET = "threading-test-secret"
NOW = datetime(2024, 6, 5, 12, 0, tzinfo=timezone.utc)
WINDOW = timedelta(days=14)


@dataclass
class InMemoryThreadIndex:
	"""What the Frappe shell does with queries, over plain dicts."""

	conversations_by_message_key: dict[str, str] = field(
		default_factory=dict
	)  # message_id_key -> conversation
	existing_conversations: set[str] = field(default_factory=set)
	# (normalised subject, participant, last activity, conversation)
	subjects: list[tuple[str, str, datetime, str]] = field(default_factory=list)
	calls: list[str] = field(default_factory=list)

	def by_message_ids(self, message_id_keys: Sequence[str]) -> str | None:
		self.calls.append("by_message_ids")
		for key in message_id_keys:
			if key in self.conversations_by_message_key:
				return self.conversations_by_message_key[key]
		return None

	def by_token(self, token: str) -> str | None:
		self.calls.append("by_token")
		conversation = read_reply_token(token, SECRET)
		return conversation if conversation in self.existing_conversations else None

	def by_subject_and_participant(
		self, normalised_subject: str, participant_address: str, since: datetime
	) -> str | None:
		self.calls.append("by_subject_and_participant")
		found = [
			(active, conversation)
			for subject, person, active, conversation in self.subjects
			if subject == normalised_subject and person == participant_address and active >= since
		]
		return max(found)[1] if found else None


def mail(**headers: str | None) -> ParsedMail:
	return parse_mail(build_mail(simple_headers(**headers)), max_attachment_bytes=1000)


def thread(parsed: ParsedMail, index: ThreadIndex, **options) -> ThreadMatch:
	return find_thread(parsed, index, secret=SECRET, now=NOW, window=WINDOW, **options)


# --- Tokens ----------------------------------------------------------------------------------------


def test_token_round_trip_and_is_safe_in_message_ids_and_subjects():
	for conversation in ["CONV-00042", "a1b2c3d4e5", "Conversation with spaces/and#odd chars é"]:
		token = make_reply_token(conversation, SECRET)
		assert re.fullmatch(r"[a-z0-9-]+", token)
		assert read_reply_token(token, SECRET) == conversation
		assert read_reply_token(token.upper(), SECRET) == conversation  # some gateways change case
	assert len(make_reply_token("CONV-00042", SECRET)) <= 40


@pytest.mark.parametrize(
	"tamper",
	[
		lambda token: make_reply_token("CONV-00042", "another-secret"),  # signed with someone else's secret
		lambda token: token[:-1] + ("a" if token[-1] != "a" else "b"),  # signature altered
		lambda token: token.replace(
			token.split("-")[1], make_reply_token("CONV-00043", SECRET).split("-")[1]
		),  # id swapped
		lambda token: token.rsplit("-", 1)[0],  # signature dropped
		lambda token: "mc1-!!!-aaaaaaaaaaaaa",
		lambda token: "",
	],
)
def test_forged_tokens_are_rejected(tamper):
	assert read_reply_token(tamper(make_reply_token("CONV-00042", SECRET)), SECRET) is None


def test_secret_rotation_accepts_the_previous_secret():
	old_token = make_reply_token("CONV-1", "old-secret")
	assert read_reply_token(old_token, ["new-secret", "old-secret"]) == "CONV-1"
	assert (
		read_reply_token(make_reply_token("CONV-1", ["new-secret", "old-secret"]), "new-secret") == "CONV-1"
	)
	with pytest.raises(ValueError):
		make_reply_token("CONV-1", "")
	assert read_reply_token(old_token, "") is None and read_reply_token(old_token, [""]) is None


def test_message_id_carries_the_token_and_is_unique():
	first = make_message_id("CONV-00042", SECRET, "ERP.acme.example.")
	second = make_message_id("CONV-00042", SECRET, "erp.acme.example")
	assert first != second
	assert re.fullmatch(r"<mc1-[a-z2-7]+-[a-z2-7]{13}\.[0-9a-f]{12}@erp\.acme\.example>", first)
	with pytest.raises(ValueError):
		make_message_id("CONV-1", SECRET, "bad domain>")


def test_extract_token_from_references_and_subject_and_bounce():
	token = make_reply_token("CONV-7", SECRET)
	message_id = make_message_id("CONV-7", SECRET, "erp.acme.example")
	assert extract_reply_token(mail(references=f"<a@x> {message_id} <b@y>"), SECRET) == token
	assert extract_reply_token(mail(subject=tag_subject("Re: Your quote", token)), SECRET) == token
	assert tag_subject(tag_subject("Quote", token), token) == f"Quote [#{token}]"
	bounce = parse_mail(
		sample("bounce_postfix_dsn.eml").replace(
			b"20240603150000.1234@erp.acme.example", message_id[1:-1].encode()
		),
		max_attachment_bytes=1000,
	)
	assert extract_reply_token(bounce, SECRET) == token


def test_extract_token_ignores_forgeries():
	forged = make_reply_token("CONV-7", "attacker-secret")
	assert (
		extract_reply_token(
			mail(subject=f"Re: hi [#{forged}]", in_reply_to=f"<{forged}.1@evil.example>"), SECRET
		)
		is None
	)
	assert (
		extract_reply_token(parse_mail(sample("gmail_reply_en.eml"), max_attachment_bytes=1000), SECRET)
		is None
	)


# --- Subjects --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
	("subject", "normalised"),
	[
		("Re: Quote for chairs", "quote for chairs"),
		("RE: RE: Fwd: Quote for chairs", "quote for chairs"),
		("Re[2]: Quote", "quote"),
		("RE(3): Quote", "quote"),
		("Re^2: Quote", "quote"),
		("Fw: Quote", "quote"),
		("FWD: quote", "quote"),
		("AW: WG: Angebot Bürostühle", "angebot bürostühle"),
		("Antw: Offerte", "offerte"),
		("SV: VS: Tarjous", "tarjous"),
		("Réf. : Devis", "devis"),
		("TR: RE : Devis", "devis"),
		("RIF: Preventivo", "preventivo"),
		("R: I: Preventivo", "preventivo"),
		("RV: Presupuesto", "presupuesto"),
		("ENC: Orçamento", "orçamento"),
		("回复：报价", "报价"),
		("回复: 报价", "报价"),
		("[info] Re: Quote", "quote"),
		("Re: [info] Quote", "quote"),
		("[EXTERNAL] RE: Quote", "quote"),
		("  Re:   Quote   for   chairs  ", "quote for chairs"),
		("Re: Quote [#mc1-inbuiq2ogaydaoi-abcdefghijklm]", "quote"),
		("Regarding our call", "regarding our call"),
		("Reminder: invoice", "reminder: invoice"),
		("Ｒｅ：Ｑｕｏｔｅ", "quote"),
		("", ""),
	],
)
def test_subject_normalisation(subject, normalised):
	assert normalise_subject(subject) == normalised


def test_list_tags_can_be_kept():
	assert normalise_subject("[info] Re: Quote", strip_tags=False) == "[info] re: quote"


# --- Threading decision ----------------------------------------------------------------------------


def full_index() -> InMemoryThreadIndex:
	token_conversation = "CONV-TOKEN"
	return InMemoryThreadIndex(
		conversations_by_message_key={
			"<parent@acme.example>": "CONV-IRT",
			"<older@acme.example>": "CONV-OLD-REF",
			"<newer@acme.example>": "CONV-NEW-REF",
		},
		existing_conversations={token_conversation},
		subjects=[("quote for chairs", "jane@customer.example", NOW - timedelta(days=2), "CONV-SUBJECT")],
	)


def everything_matches(**overrides: str | None) -> ParsedMail:
	token = make_reply_token("CONV-TOKEN", SECRET)
	headers = {
		"in_reply_to": "<parent@acme.example>",
		"references": "<older@acme.example> <newer@acme.example>",
		"subject": f"Re: Quote for chairs [#{token}]",
	}
	headers.update(overrides)
	return mail(**headers)


def test_priority_in_reply_to_then_references_then_token_then_subject():
	index = full_index()
	assert thread(everything_matches(), index) == ThreadMatch(
		"CONV-IRT", "in_reply_to", "parent@acme.example"
	)
	assert thread(everything_matches(in_reply_to="<unknown@x>"), index) == ThreadMatch(
		"CONV-NEW-REF", "references", None
	)
	assert thread(everything_matches(in_reply_to=None, references=None), index).method == "token"
	assert thread(
		everything_matches(in_reply_to=None, references=None, subject="Re: Quote for chairs"), index
	) == ThreadMatch("CONV-SUBJECT", "subject", "quote for chairs")
	assert thread(mail(subject="Something new"), index) == ThreadMatch(None, None, None)


def test_references_are_tried_newest_first():
	index = full_index()
	result = thread(mail(references="<older@acme.example> <newer@acme.example> <unknown@x>"), index)
	assert result.conversation_id == "CONV-NEW-REF"


def test_a_bounce_threads_to_the_mail_it_returns():
	index = InMemoryThreadIndex(
		conversations_by_message_key={"<20240603150000.1234@erp.acme.example>": "CONV-BOUNCED"}
	)
	bounce = parse_mail(sample("bounce_postfix_dsn.eml"), max_attachment_bytes=1000)
	assert thread(bounce, index) == ThreadMatch("CONV-BOUNCED", "references", None)


def test_forged_token_does_not_thread():
	forged = make_reply_token("CONV-TOKEN", "attacker-secret")
	index = full_index()
	assert thread(mail(subject=f"Hello [#{forged}]"), index) == ThreadMatch(None, None, None)
	assert "by_token" not in index.calls


def test_subject_window_is_respected():
	index = InMemoryThreadIndex(
		subjects=[
			("quote for chairs", "jane@customer.example", NOW - WINDOW - timedelta(minutes=1), "CONV-STALE")
		]
	)
	assert thread(mail(subject="Re: Quote for chairs"), index).conversation_id is None
	wider = find_thread(
		mail(subject="Re: Quote for chairs"),
		index,
		secret=SECRET,
		now=NOW,
		window=WINDOW + timedelta(hours=1),
	)
	assert wider.conversation_id == "CONV-STALE"


def test_subject_match_needs_the_same_participant_and_never_our_own_address():
	index = InMemoryThreadIndex(subjects=[("quote", "info@acme.example", NOW, "CONV-ANY")])
	parsed = mail(subject="Re: Quote", **{"from": "info@acme.example", "reply_to": None})
	assert thread(parsed, index, own_addresses=["INFO@acme.example"]).conversation_id is None
	assert (
		thread(mail(subject="Re: Quote", **{"from": "someone.else@x.example"}), index).conversation_id is None
	)


def test_reply_to_counts_as_participant_for_web_form_relays():
	index = InMemoryThreadIndex(subjects=[("website enquiry", "jane@customer.example", NOW, "CONV-FORM")])
	parsed = mail(
		subject="Website enquiry", reply_to="jane@customer.example", **{"from": "info@acme.example"}
	)
	assert thread(parsed, index, own_addresses=["info@acme.example"]).conversation_id == "CONV-FORM"


def test_empty_subject_never_matches_by_subject():
	index = InMemoryThreadIndex(subjects=[("", "jane@customer.example", NOW, "CONV-EMPTY")])
	assert thread(mail(subject="Re:"), index).conversation_id is None
	assert "by_subject_and_participant" not in index.calls


def test_a_mail_does_not_thread_to_itself():
	index = InMemoryThreadIndex(conversations_by_message_key={"<question-1@customer.example>": "CONV-SELF"})
	assert (
		thread(
			mail(in_reply_to="<question-1@customer.example>", references="<question-1@customer.example>"),
			index,
		).conversation_id
		is None
	)


# --- Identity (mail_identity's, which the IMAP import dedupes on) ----------------------------------


TRANSPORT_HEADERS = (
	b"Return-Path: <bounce+123@customer.example>\n"
	b"Delivered-To: info@acme.example\n"
	b"Received: from mx1.customer.example by mx.acme.example; Wed, 05 Jun 2024 10:00:05 +0200\n"
	b"DKIM-Signature: v=1; a=rsa-sha256; d=customer.example; b=abc\n"
	b"X-Spam-Status: No, score=-0.1\n"
)


def test_identity_is_stable_across_transport_headers_and_line_ends():
	raw = build_mail(simple_headers(), b"Hello, is it in stock?\n")
	redelivered = (TRANSPORT_HEADERS.replace(b"mx1", b"mx2") + raw).replace(b"\n", b"\r\n")
	first, second = (
		message_identity(raw),
		message_identity(redelivered, parse_mail(redelivered, max_attachment_bytes=10)),
	)
	assert first == second
	assert (
		first.message_id_key
		== "<question-1@customer.example>"
		== message_id_key("question-1@customer.example")
	)


def test_identity_differs_for_different_mail():
	base = message_identity(build_mail(simple_headers(), b"Hello\n"))
	assert message_identity(build_mail(simple_headers(), b"Hello!\n")).content_hash != base.content_hash
	assert (
		message_identity(build_mail(simple_headers(subject="Other"), b"Hello\n")).content_hash
		!= base.content_hash
	)
	other_id = message_identity(
		build_mail(simple_headers(message_id="<question-2@customer.example>"), b"Hello\n")
	)
	assert other_id.message_id_key != base.message_id_key and other_id.content_hash != base.content_hash


def test_missing_message_id_is_keyed_by_a_hash_that_survives_redelivery():
	raw = build_mail(simple_headers(message_id=None), b"No id here\n")
	identity = message_identity(raw)
	assert identity.message_id_key == f"sha256:{identity.content_hash}"
	assert message_identity(TRANSPORT_HEADERS + raw) == identity


def test_threading_looks_up_the_same_keys_the_import_stores():
	long_id = "x" * 200 + "@example.com"
	stored_key = message_identity(build_mail(simple_headers(message_id=f"<{long_id}>"))).message_id_key
	assert len(stored_key) <= 140 and message_id_key(long_id) == stored_key
	index = InMemoryThreadIndex(conversations_by_message_key={stored_key: "CONV-LONG"})
	assert thread(mail(in_reply_to=f"<{long_id}>"), index).conversation_id == "CONV-LONG"
	assert message_id_key("two words") is None


def test_identity_never_raises_on_garbage():
	for raw in [b"", b"\x00\xff" * 20, b"no headers", None]:
		identity = message_identity(raw)
		assert identity.message_id_key.startswith("sha256:") and len(identity.content_hash) == 64

"""The whole mail pipeline without a database: plan_intake's decisions, and end to end from a real
Dovecot (fetch, parse, classify, thread, match) into in-memory conversations."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from mail_samples import build_mail, sample, simple_headers

from message_center.core.mail_intake import IntakeAction, IntakeSettings, plan_intake
from message_center.core.mail_threading import make_message_id, message_identity
from message_center.core.people_matching import Candidate
from message_center.testing.mail_corpus import build_corpus
from message_center.testing.memory_intake import MemoryIntake, MemoryPeople
from message_center.testing.tcp_faults import FaultyProxy

SECRET = "intake-test-secret"
OURS = "info@acme.example"
NOW = datetime(2024, 6, 5, 12, 0, tzinfo=timezone.utc)
SETTINGS = IntakeSettings(frozenset({OURS}), SECRET, timedelta(days=14), max_attachment_bytes=1_000_000)
JANE = Candidate("Contact", "CONT-1", "Jane Customer", ("jane@customer.example",))


def plan(raw: bytes, intake: MemoryIntake | None = None, people=(JANE,)):
	intake = intake or MemoryIntake(SETTINGS, MemoryPeople(people), now=NOW)
	return plan_intake(raw, settings=SETTINGS, index=intake, people=intake.people, now=NOW)


def raw(**headers) -> bytes:
	return build_mail(simple_headers(**headers))


# ---- decisions ---------------------------------------------------------------------------------


def test_a_new_mail_from_a_known_address_opens_an_enquiry_linked_to_that_person():
	decided = plan(raw())
	assert decided.action is IntakeAction.NEW
	assert decided.opens_enquiry and decided.customer_wrote
	assert decided.party.address == "jane@customer.example"
	assert (decided.sender_match.link.doctype, decided.sender_match.link.name) == ("Contact", "CONT-1")


def test_two_people_with_the_address_are_offered_not_linked():
	twin = Candidate("Contact", "CONT-2", "Jane C.", ("jane@customer.example",))
	decided = plan(raw(), people=(JANE, twin))
	assert decided.sender_match.unmatched
	assert {suggestion.name for suggestion in decided.sender_match.suggestions} == {"CONT-1", "CONT-2"}


def test_an_unknown_sender_is_unmatched():
	decided = plan(raw(**{"from": "Somebody <new@elsewhere.example>"}))
	assert decided.sender_match.unmatched and decided.sender_match.suggestions == ()


def test_our_own_mail_is_skipped_whether_by_address_or_by_our_message_id():
	assert plan(raw(**{"from": f"Sales <{OURS}>"})).action is IntakeAction.SKIP_OWN
	ours = make_message_id("CONV-000001", SECRET, "acme.example")
	assert plan(raw(**{"message-id": ours})).action is IntakeAction.SKIP_OWN


def test_a_web_form_relay_is_answered_at_its_reply_to():
	decided = plan(raw(**{"from": f"Website <{OURS}>", "reply-to": "Grace <grace@navy.example>"}))
	assert decided.action is IntakeAction.NEW
	assert decided.party.address == "grace@navy.example"


@pytest.mark.parametrize(
	("name", "kind"),
	[
		("out_of_office_exchange.eml", "Auto Reply"),
		("bounce_postfix_dsn.eml", "Bounce"),
		("list_newsletter.eml", "List"),
	],
)
def test_automatic_mail_is_flagged_and_never_opens_an_enquiry(name, kind):
	decided = plan(sample(name))
	assert decided.kind == kind
	assert not decided.customer_wrote and not decided.opens_enquiry
	assert decided.sender_match is None  # nobody to match: a machine wrote


def test_unparseable_mail_is_kept_raw_with_the_reason():
	decided = plan(b"\xff\xfe not a mail\r\n")
	assert decided.action is IntakeAction.POISON
	assert "no headers" in decided.reason


def test_damaged_mail_is_imported_with_a_note_and_flagged_for_review():
	body = "Grüße ".encode() + b"\xff\xfe" + " aus Köln".encode()
	decided = plan(build_mail(simple_headers(), body))
	assert decided.action is IntakeAction.NEW and decided.needs_review
	assert any("damaged (text/plain: invalid utf-8 bytes replaced)" in note for note in decided.notes)
	assert not plan(raw()).needs_review


def test_an_oversize_attachment_is_noted():
	body = (
		b"--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/zip\nContent-Disposition: attachment; filename=big.zip\n\n"
		+ b"x" * 2_000_000
		+ b"\n--b--\n"
	)
	mail = build_mail(simple_headers(**{"content-type": 'multipart/mixed; boundary="b"'}), body)
	decided = plan(mail)
	assert decided.parsed.attachments == []
	assert any("big.zip" in note for note in decided.notes)


def test_a_reply_threads_and_does_not_open_an_enquiry():
	intake = MemoryIntake(SETTINGS, MemoryPeople((JANE,)), now=NOW)
	first = raw()
	assert (
		plan_intake(first, settings=SETTINGS, index=intake, people=intake.people, now=NOW).action
		is IntakeAction.NEW
	)
	_store(intake, first)
	reply = raw(
		**{
			"message-id": "<r@customer.example>",
			"in-reply-to": "<question-1@customer.example>",
			"subject": "Re: Question about delivery",
		}
	)
	decided = plan_intake(reply, settings=SETTINGS, index=intake, people=intake.people, now=NOW)
	assert decided.action is IntakeAction.THREAD and decided.thread.method == "in_reply_to"
	assert not decided.opens_enquiry


def _store(intake: MemoryIntake, mail: bytes, uid: int = 1):
	from message_center.core.imap_sync import FetchedMessage

	return intake.store(FetchedMessage("INBOX", 1, uid, mail, NOW, len(mail)))


# ---- end to end from Dovecot ----------------------------------------------------------------------


def sync_all(intake: MemoryIntake, config, cursors, since):
	from message_center.core.imap_sync import sync_mailbox

	results = []
	while True:
		results.append(
			sync_mailbox(
				config,
				cursors,
				store=intake.store,
				save_cursor=lambda cursor: cursors.__setitem__(cursor.folder, cursor),
				first_sync_since=since,
			)
		)
		if not results[-1].more_pending or not results[-1].ok:
			return results


def test_a_varied_mailbox_end_to_end(mailbox, window_start):
	corpus = build_corpus(600, own_address=OURS, seed=11)
	mailbox.server.append_many(mailbox.user, "INBOX", corpus.seeds(days_ago=5))
	people = MemoryPeople(
		[
			Candidate("Contact", f"C-{index}", name, (email,))
			for index, (email, name) in enumerate(corpus.contacts.items())
		]
	)
	intake = MemoryIntake(SETTINGS, people, keep_plans=True)
	flags_before = mailbox.server.flags(mailbox.user, "INBOX")

	results = sync_all(intake, mailbox.config(), {}, window_start)

	assert all(result.ok for result in results)
	kinds = corpus.counts()
	by_kind = Counter(
		(message.kind, plan.action.value) for message, plan in zip(corpus.messages, intake.plans, strict=True)
	)
	assert by_kind[("own", "skip_own")] == kinds["own"]
	assert by_kind[("poison", "poison")] == kinds["poison"]
	assert by_kind[("reply", "thread")] == kinds["reply"]  # every reply finds its conversation
	assert by_kind[("auto_reply", "thread")] == kinds["auto_reply"]
	assert by_kind[("bounce", "thread")] == kinds["bounce"]  # by the returned mail's Message-ID
	enquiries = sum(conversation.has_enquiry for conversation in intake.conversations.values())
	assert (
		enquiries
		== by_kind[("new", "new")]
		+ by_kind[("html_inline", "new")]
		+ by_kind[("attachment", "new")]
		+ by_kind[("latin1", "new")]
		+ by_kind[("no_message_id", "new")]
		+ by_kind[("web_relay", "new")]
		+ by_kind[("subject_reply", "new")]
	)
	linked = [conversation for conversation in intake.conversations.values() if conversation.linked]
	assert linked and all(conversation.party in corpus.contacts for conversation in linked)
	assert sum(result.stored + result.poison for result in results) == len(corpus.importable)
	assert mailbox.server.flags(mailbox.user, "INBOX") == flags_before


def test_end_to_end_exactly_once_through_a_cut_a_uidvalidity_reset_and_a_deletion(mailbox, window_start):
	corpus = build_corpus(260, own_address=OURS, seed=5)
	seeds = corpus.seeds(days_ago=3)
	mailbox.server.append_many(mailbox.user, "INBOX", seeds)
	intake = MemoryIntake(SETTINGS)
	cursors = {}
	with FaultyProxy(mailbox.server.host, mailbox.server.port) as proxy:
		proxy.cut_after_server_bytes(
			sum(len(seed.raw) for seed in seeds[:150]), after_client_sends=b"BODY.PEEK[]"
		)
		broken = sync_all(intake, mailbox.config(host=proxy.host, port=proxy.port), cursors, window_start)
		assert proxy.cuts == 1 and not broken[-1].ok
		sync_all(intake, mailbox.config(host=proxy.host, port=proxy.port), cursors, window_start)
	stored_keys = {identity for identity in intake.records}
	expected = {tuple(message_identity(message.raw)) for message in corpus.importable}
	assert stored_keys == expected
	deleted = next(iter(intake.conversations))
	deleted_messages = len(intake.conversations[deleted].message_keys)
	intake.delete_conversation(deleted)
	kept = len(intake.records)
	mailbox.server.reset_uidvalidity(mailbox.user, "INBOX")

	rescan = sync_all(intake, mailbox.config(), cursors, window_start)

	assert all(result.ok for result in rescan)
	assert sum(result.stored for result in rescan) == 0  # nothing twice, the deleted one not back
	assert sum(result.duplicates for result in rescan) == kept
	assert sum(result.skipped for result in rescan) == deleted_messages + corpus.counts()["own"]
	assert deleted not in intake.conversations

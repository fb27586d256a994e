"""What to do with one received mail, decided without a database: skip it, keep it raw for a
human, or thread it into a conversation (an existing one, or a new one that opens an enquiry).

plan_intake runs the functional pipeline for one raw message: identity, parse, classify, thread,
match the sender. The Frappe shell (message_center/email_ingest.py) carries the plan out with its
database behind the ThreadIndex and PeopleDirectory protocols; the core tests and the benchmark
run the same function against in-memory ones (message_center/testing/memory_intake.py).

Rules decided here:
- our own mail (sent from our addresses, or carrying our signed Message-ID) is never imported;
- mail that cannot be parsed is kept raw and flagged for review, never dropped, never raised; mail
  that parses with damage (a charset it does not have, replaced bytes, broken MIME) is imported as
  far as it reads, with a note, and flagged for review with its original kept;
- auto-replies, bounces and list mail are threaded like any mail and flagged with their kind, but
  nobody is waiting on them (no INBOUND event) and they never open an enquiry;
- only a new thread of ordinary mail opens an enquiry, and only then is the sender matched: the
  single person with exactly that address is linked; otherwise the conversation is unmatched, with
  the people sharing the address (if several) kept for the agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from message_center.core.mail_classify import MailClass, classify_mail
from message_center.core.mail_identity import MessageIdentity
from message_center.core.mail_parse import Address, ParsedMail, parse_mail
from message_center.core.mail_threading import (
	Secrets,
	ThreadIndex,
	ThreadMatch,
	find_thread,
	message_identity,
)
from message_center.core.people_matching import (
	Candidate,
	SenderDetails,
	Suggestion,
	auto_link,
	rank_candidates,
)

# Channel Message "kind" labels for each mail_classify kind
KIND_LABELS = {
	"normal": "Normal",
	"auto_reply": "Auto Reply",
	"bounce": "Bounce",
	"list": "List",
	"own": "Normal",
}


class IntakeAction(str, Enum):
	SKIP_OWN = "skip_own"  # our own sent mail: never imported as inbound
	POISON = "poison"  # unparseable: keep the raw bytes, flag for review
	THREAD = "thread"  # continues plan.thread.conversation_id
	NEW = "new"  # starts a conversation


class PeopleDirectory(Protocol):
	"""Who the sender may be: the shell asks its database, the tests and the benchmark a list."""

	def exact_email_candidates(self, email: str) -> Sequence[Candidate]:
		"""The Contacts (any of their addresses), Leads and Customers with exactly this address."""
		...


@dataclass(frozen=True)
class IntakeSettings:
	own_addresses: frozenset[str]  # every address of ours (channel inboxes, outgoing accounts), lowercase
	secret: Secrets  # the reply-token secret(s)
	thread_window: timedelta  # subject + participant threading looks back this far
	max_attachment_bytes: int
	max_total_attachment_bytes: int | None = None


@dataclass(frozen=True)
class SenderMatch:
	link: Suggestion | None  # link without asking (single exact email match)
	suggestions: tuple[Suggestion, ...]  # everyone with the address, best first

	@property
	def unmatched(self) -> bool:
		return self.link is None


@dataclass
class IntakePlan:
	action: IntakeAction
	identity: MessageIdentity
	parsed: ParsedMail
	mail_class: MailClass | None = None
	thread: ThreadMatch | None = None
	party: Address | None = None  # whom the conversation is with
	kind: str = "Normal"  # Channel Message kind
	customer_wrote: bool = False  # a person wrote: the conversation rules' INBOUND event applies
	opens_enquiry: bool = False
	sender_match: SenderMatch | None = None
	notes: list[str] = field(default_factory=list)  # for people, shown on the message
	needs_review: bool = False  # stored, but damaged: the original is kept and flagged for review
	reason: str = ""  # why it was skipped or kept raw

	@property
	def conversation_id(self) -> str | None:
		return self.thread.conversation_id if self.thread else None


def plan_intake(
	raw: bytes,
	*,
	settings: IntakeSettings,
	index: ThreadIndex,
	people: PeopleDirectory,
	now: datetime,
	identity: MessageIdentity | None = None,
) -> IntakePlan:
	"""Decide what to do with one received message. Never raises for bad mail (only when an index
	or the directory raises)."""
	identity = identity or message_identity(raw)
	parsed = parse_mail(
		raw,
		max_attachment_bytes=settings.max_attachment_bytes,
		max_total_attachment_bytes=settings.max_total_attachment_bytes,
	)
	notes = [skipped.note for skipped in parsed.skipped_attachments]
	if parsed.damage:
		notes.append(damage_note(parsed.damage))
	if parsed.parse_error:
		return IntakePlan(IntakeAction.POISON, identity, parsed, notes=notes, reason=parsed.parse_error)

	mail_class = classify_mail(parsed, own_addresses=settings.own_addresses, secret=settings.secret)
	if not mail_class.is_inbound:
		return IntakePlan(
			IntakeAction.SKIP_OWN, identity, parsed, mail_class, reason="; ".join(mail_class.reasons)
		)

	person_wrote = mail_class.kind == "normal"
	plan = IntakePlan(
		IntakeAction.NEW,
		identity,
		parsed,
		mail_class,
		party=party_of(parsed, settings.own_addresses),
		kind=KIND_LABELS[mail_class.kind],
		customer_wrote=person_wrote,
		notes=notes,
		needs_review=bool(parsed.damage),
	)
	plan.thread = find_thread(
		parsed,
		index,
		secret=settings.secret,
		now=now,
		window=settings.thread_window,
		own_addresses=settings.own_addresses,
	)
	if plan.thread.conversation_id:
		plan.action = IntakeAction.THREAD
		return plan
	plan.opens_enquiry = person_wrote
	if person_wrote and plan.party:
		plan.sender_match = match_sender(plan.party, people)
	return plan


def damage_note(damage: list[str]) -> str:
	return (
		f"Parts of this mail were damaged ({'; '.join(damage)[:300]}): "
		"shown as far as it could be read, the original is kept for review."
	)


def party_of(parsed: ParsedMail, own_addresses: Iterable[str]) -> Address | None:
	"""Whom we would answer: the sender, or for a relay sent from our own address (a website form)
	the first Reply-To that is not ours."""
	ours = {address.lower() for address in own_addresses}
	if parsed.sender and parsed.sender.address and parsed.sender.address not in ours:
		return parsed.sender
	outside = [person for person in parsed.reply_to if person.address and person.address not in ours]
	if outside:
		return outside[0]
	return parsed.sender


def match_sender(party: Address, people: PeopleDirectory) -> SenderMatch:
	"""Who the sender is: the people with exactly this address, the single one linked without asking.

	A sender with no such person (or several) is left unmatched for an agent. Similar people are
	ranked when the agent opens the Associate dialog, not here: fresh then, limited to the people
	that agent may read, and never paid for by mail nobody associates."""
	sender = SenderDetails(email=party.address, name=party.name or None)
	exact = tuple(rank_candidates(sender, people.exact_email_candidates(party.address)))
	return SenderMatch(auto_link(exact, by="email"), exact)

"""The whole core mail pipeline in memory: an idempotent store callback for sync_mailbox that plans
every message with mail_intake.plan_intake (parse, classify, thread, match) and keeps conversations,
enquiries and message keys in dicts, the way the Frappe shell keeps them in tables.

The core end-to-end tests and the benchmark's core_pipeline figure use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from message_center.core.imap_sync import FetchedMessage, StoreOutcome
from message_center.core.mail_intake import IntakeAction, IntakePlan, IntakeSettings, plan_intake
from message_center.core.mail_threading import normalise_subject, read_reply_token
from message_center.core.people_matching import Candidate


@dataclass
class MemoryConversation:
	id: str
	party: str
	subject: str  # normalised
	last_activity: datetime
	has_enquiry: bool
	message_keys: list[str] = field(default_factory=list)
	kinds: list[str] = field(default_factory=list)
	waiting: bool = False  # a person wrote and nobody answered
	linked: tuple[str, str] | None = None  # (doctype, name) linked without asking
	suggestions: tuple = ()


@dataclass
class MemoryPeople:
	"""A PeopleDirectory over a list of candidates, indexed by email address."""

	people: Sequence[Candidate] = ()

	def __post_init__(self) -> None:
		self._by_email: dict[str, list[Candidate]] = defaultdict(list)
		for candidate in self.people:
			for email in dict.fromkeys(address.lower() for address in candidate.emails):
				self._by_email[email].append(candidate)

	def exact_email_candidates(self, email: str) -> list[Candidate]:
		return list(self._by_email.get(email.lower(), []))


@dataclass
class MemoryIntake:
	settings: IntakeSettings
	people: MemoryPeople = field(default_factory=MemoryPeople)
	now: datetime | None = None  # fixed clock for tests; default: the real time
	conversations: dict[str, MemoryConversation] = field(default_factory=dict)
	records: dict[tuple[str, str], str] = field(default_factory=dict)  # identity -> conversation ("" raw)
	tombstoned_keys: set[str] = field(default_factory=set)
	poison: list[tuple[int, str]] = field(default_factory=list)  # (uid, reason)
	skipped_own: int = 0
	plans: list[IntakePlan] = field(default_factory=list)
	keep_plans: bool = False
	_conversation_by_key: dict[str, str] = field(default_factory=dict)
	# (normalised subject, party) -> conversation ids: the shell's indexed thread_subject lookup
	_conversations_by_subject: dict[tuple[str, str], list[str]] = field(
		default_factory=lambda: defaultdict(list)
	)

	# ---- ThreadIndex --------------------------------------------------------------------------

	def by_message_ids(self, message_id_keys: Sequence[str]) -> str | None:
		for key in message_id_keys:
			if key in self._conversation_by_key:
				return self._conversation_by_key[key]
		return None

	def by_token(self, token: str) -> str | None:
		conversation = read_reply_token(token, self.settings.secret)
		return conversation if conversation in self.conversations else None

	def by_subject_and_participant(
		self, normalised_subject: str, participant_address: str, since: datetime
	) -> str | None:
		found = [
			(conversation.last_activity, conversation.id)
			for conversation in map(
				self.conversations.get,
				self._conversations_by_subject.get((normalised_subject, participant_address), ()),
			)
			if conversation and conversation.last_activity >= since
		]
		return max(found)[1] if found else None

	# ---- the store callback -------------------------------------------------------------------

	def store(self, message: FetchedMessage) -> StoreOutcome:
		from message_center.core.mail_threading import message_identity

		identity = message_identity(message.raw)
		if identity.message_id_key in self.tombstoned_keys:
			return StoreOutcome.SKIPPED
		if tuple(identity) in self.records:
			return StoreOutcome.DUPLICATE
		now = self.now or datetime.now(timezone.utc)
		plan = plan_intake(
			message.raw, settings=self.settings, index=self, people=self.people, now=now, identity=identity
		)
		if self.keep_plans:
			self.plans.append(plan)
		if plan.action is IntakeAction.SKIP_OWN:
			self.skipped_own += 1
			return StoreOutcome.SKIPPED
		if plan.action is IntakeAction.POISON:
			self.records[tuple(identity)] = ""
			self.poison.append((message.uid, plan.reason))
			return StoreOutcome.POISON_STORED
		at = message.internaldate or now
		if plan.action is IntakeAction.THREAD:
			conversation = self.conversations[plan.conversation_id]
		else:
			party = plan.party.address if plan.party else ""
			conversation = MemoryConversation(
				id=f"CONV-{len(self.conversations) + 1:06d}",
				party=party,
				subject=normalise_subject(plan.parsed.subject),
				last_activity=at,
				has_enquiry=plan.opens_enquiry,
			)
			if plan.sender_match:
				link = plan.sender_match.link
				conversation.linked = (link.doctype, link.name) if link else None
				conversation.suggestions = plan.sender_match.suggestions
			self.conversations[conversation.id] = conversation
			self._conversations_by_subject[(conversation.subject, conversation.party)].append(conversation.id)
		conversation.message_keys.append(identity.message_id_key)
		conversation.kinds.append(plan.kind)
		conversation.last_activity = max(conversation.last_activity, at)
		conversation.waiting = conversation.waiting or plan.customer_wrote
		self._conversation_by_key[identity.message_id_key] = conversation.id
		self.records[tuple(identity)] = conversation.id
		return StoreOutcome.STORED

	def record_outgoing(self, conversation_id: str, message_id_key: str) -> None:
		"""An agent's reply went out with this Message-ID: replies to it thread by In-Reply-To."""
		self._conversation_by_key[message_id_key] = conversation_id
		self.conversations[conversation_id].waiting = False

	def delete_conversation(self, conversation_id: str) -> None:
		"""An agent deleted it: its messages are tombstoned and never imported again."""
		conversation = self.conversations.pop(conversation_id)
		self.tombstoned_keys.update(conversation.message_keys)
		self.records = {key: value for key, value in self.records.items() if value != conversation_id}
		for key in conversation.message_keys:
			self._conversation_by_key.pop(key, None)

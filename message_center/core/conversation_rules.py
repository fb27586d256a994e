"""The conversation state machine.

A conversation moves through events (inbound/outbound messages, notes, claims, transfers,
closing, opting out...). `apply()` checks the event's guard and returns the next state plus
the side effects the shell must carry out; `check()` answers "may this actor do this now, and if
not, why" so the desk can explain a disabled composer instead of failing on send.

The Frappe controllers call these functions; they never re-implement a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum


class Status(str, Enum):
	OPEN = "Open"
	CLOSED = "Closed"


class Medium(str, Enum):
	EMAIL = "Email"
	SMS = "SMS"
	WEB = "Web Form"
	PHONE = "Phone"
	FAX = "Fax"
	MANUAL = "Manual"


class Action(str, Enum):
	INBOUND = "inbound"
	OUTBOUND = "outbound"
	NOTE = "note"
	CLAIM = "claim"
	RELEASE = "release"
	ASSIGN = "assign"
	TRANSFER = "transfer"
	CLOSE = "close"
	REOPEN = "reopen"
	OPT_OUT = "opt_out"
	OPT_IN = "opt_in"


class Effect(str, Enum):
	"""What the shell must do besides saving the new state."""

	START_NEW_CONVERSATION = "start_new_conversation"  # inbound on a closed conversation
	NOTIFY_ASSIGNEE = "notify_assignee"  # assignment / transfer to an agent
	NOTIFY_TEAM = "notify_team"  # transferred to a team without an agent
	RECORD_FIRST_RESPONSE = "record_first_response"


@dataclass(frozen=True)
class Actor:
	user: str
	is_manager: bool = False
	is_system: bool = False  # automatic compliance replies (e.g. to HELP): no claim needed, opt-out still binds


SYSTEM = Actor("system", is_system=True)


@dataclass(frozen=True)
class Event:
	action: Action
	at: datetime
	actor: Actor | None = None  # None for events from the customer or the system
	assignee: str | None = None  # assign / transfer target agent
	team: str | None = None  # transfer target team
	warm: bool = False  # warm transfer: the recipient was asked first (a hand-over note exists)


@dataclass(frozen=True)
class ConversationState:
	medium: Medium
	status: Status = Status.OPEN
	team: str | None = None
	claimed_by: str | None = None
	opted_out: bool = False
	unclaimed_since: datetime | None = None  # open and nobody owns it: drives the "unclaimed" alert
	waiting_since: datetime | None = None  # the customer waits for us: drives the "waiting" alert
	first_response_at: datetime | None = None
	last_inbound_at: datetime | None = None
	last_outbound_at: datetime | None = None
	message_count: int = 0


@dataclass(frozen=True)
class Transition:
	state: ConversationState
	effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Decision:
	allowed: bool
	code: str = ""
	reason: str = ""


class RuleViolation(Exception):
	"""An event that the rules refuse; `code` is stable for the API and tests, `reason` is for people."""

	def __init__(self, code: str, reason: str):
		super().__init__(reason)
		self.code = code
		self.reason = reason


ALLOWED = Decision(True)

# Media where the agent texts the customer: a reply needs a claim first (nobody texts twice).
CLAIM_BEFORE_REPLY = frozenset({Medium.SMS})


def new_conversation(medium: Medium, at: datetime, team: str | None = None, opted_out: bool = False) -> ConversationState:
	return ConversationState(medium=Medium(medium), team=team, opted_out=opted_out, unclaimed_since=at)


def _deny(code: str, reason: str) -> Decision:
	return Decision(False, code, reason)


def _is_owner_or_manager(state: ConversationState, actor: Actor | None) -> bool:
	return actor is not None and (actor.is_manager or state.claimed_by == actor.user)


def check(state: ConversationState, action: Action, actor: Actor | None = None, **details) -> Decision:
	"""May `actor` perform `action` on a conversation in `state` now? Never raises."""
	action = Action(action)
	closed = state.status == Status.CLOSED
	claimed_by_other = state.claimed_by is not None and actor is not None and state.claimed_by != actor.user
	manager = actor is not None and actor.is_manager

	if action == Action.OUTBOUND:
		if state.opted_out:
			return _deny("opted_out", "This person has opted out of messages: nothing can be sent to them.")
		if actor is None:
			return _deny("no_actor", "Only an agent can send a message.")
		if actor.is_system:
			return ALLOWED
		if closed:
			return _deny("closed", "This conversation is closed. Reopen it to reply.")
		if state.medium in CLAIM_BEFORE_REPLY and state.claimed_by is None:
			return _deny("not_claimed", "Claim this conversation before texting the customer.")
		if claimed_by_other and not manager:
			return _deny("claimed_by_other", f"Only {state.claimed_by}, who claimed this conversation, can reply.")
		return ALLOWED

	if action == Action.CLAIM:
		if closed:
			return _deny("closed", "A closed conversation cannot be claimed. Reopen it first.")
		if actor is None:
			return _deny("no_actor", "Only an agent can claim a conversation.")
		if state.claimed_by == actor.user:
			return _deny("already_claimed", "You have already claimed this conversation.")
		if claimed_by_other and not manager:
			return _deny("claimed_by_other", f"{state.claimed_by} has already claimed this conversation.")
		return ALLOWED

	if action == Action.RELEASE:
		if state.claimed_by is None:
			return _deny("not_claimed", "Nobody has claimed this conversation.")
		if not _is_owner_or_manager(state, actor):
			return _deny("claimed_by_other", f"Only {state.claimed_by} or a manager can release this conversation.")
		return ALLOWED

	if action in (Action.ASSIGN, Action.TRANSFER):
		if closed:
			return _deny("closed", "A closed conversation cannot be assigned or transferred. Reopen it first.")
		if actor is None:
			return _deny("no_actor", "Only an agent can assign or transfer a conversation.")
		if claimed_by_other and not manager:
			return _deny("claimed_by_other", f"Only {state.claimed_by}, who claimed this conversation, or a manager can do that.")
		if action == Action.TRANSFER and not (details.get("assignee") or details.get("team")):
			return _deny("no_target", "Choose an agent or a team to transfer to.")
		if action == Action.ASSIGN and not details.get("assignee"):
			return _deny("no_target", "Choose an agent to assign to.")
		return ALLOWED

	if action == Action.CLOSE:
		if closed:
			return _deny("closed", "This conversation is already closed.")
		if claimed_by_other and not manager:
			return _deny("claimed_by_other", f"Only {state.claimed_by}, who claimed this conversation, or a manager can close it.")
		return ALLOWED

	if action == Action.REOPEN:
		if not closed:
			return _deny("open", "This conversation is already open.")
		return ALLOWED

	# Inbound messages, notes and opt-in/out are always accepted (inbound on a closed
	# conversation is routed to a new one by apply()).
	return ALLOWED


def apply(state: ConversationState, event: Event) -> Transition:
	"""Return the next state, or raise RuleViolation when a guard refuses the event."""
	decision = check(state, event.action, event.actor, assignee=event.assignee, team=event.team)
	if not decision.allowed:
		raise RuleViolation(decision.code, decision.reason)
	return _HANDLERS[event.action](state, event)


def _on_inbound(state: ConversationState, event: Event) -> Transition:
	if state.status == Status.CLOSED:
		# The texting product's rule: a customer writing after closing starts a fresh conversation.
		return Transition(state, (Effect.START_NEW_CONVERSATION,))
	return Transition(
		replace(
			state,
			waiting_since=state.waiting_since or event.at,
			last_inbound_at=event.at,
			message_count=state.message_count + 1,
		)
	)


def _on_outbound(state: ConversationState, event: Event) -> Transition:
	effects: tuple[Effect, ...] = ()
	first_response_at = state.first_response_at
	if first_response_at is None and state.last_inbound_at is not None:
		first_response_at = event.at
		effects = (Effect.RECORD_FIRST_RESPONSE,)
	next_state = replace(
		state,
		waiting_since=None,
		last_outbound_at=event.at,
		first_response_at=first_response_at,
		message_count=state.message_count + 1,
	)
	if state.claimed_by is None and not event.actor.is_system:
		# Replying to an unowned email takes ownership, so two agents never answer the same customer.
		next_state = replace(next_state, claimed_by=event.actor.user, unclaimed_since=None)
	return Transition(next_state, effects)


def _on_note(state: ConversationState, event: Event) -> Transition:
	return Transition(state)


def _on_claim(state: ConversationState, event: Event) -> Transition:
	return Transition(replace(state, claimed_by=event.actor.user, unclaimed_since=None))


def _on_release(state: ConversationState, event: Event) -> Transition:
	unclaimed_since = event.at if state.status == Status.OPEN else None
	return Transition(replace(state, claimed_by=None, unclaimed_since=unclaimed_since))


def _on_assign(state: ConversationState, event: Event) -> Transition:
	effects = (Effect.NOTIFY_ASSIGNEE,) if event.assignee != (event.actor and event.actor.user) else ()
	return Transition(replace(state, claimed_by=event.assignee, unclaimed_since=None), effects)


def _on_transfer(state: ConversationState, event: Event) -> Transition:
	team = event.team or state.team
	if event.assignee:
		return Transition(replace(state, team=team, claimed_by=event.assignee, unclaimed_since=None), (Effect.NOTIFY_ASSIGNEE,))
	# A cold transfer to a team puts the conversation back in that team's unassigned queue.
	return Transition(replace(state, team=team, claimed_by=None, unclaimed_since=event.at), (Effect.NOTIFY_TEAM,))


def _on_close(state: ConversationState, event: Event) -> Transition:
	return Transition(replace(state, status=Status.CLOSED, waiting_since=None, unclaimed_since=None))


def _on_reopen(state: ConversationState, event: Event) -> Transition:
	return Transition(replace(state, status=Status.OPEN, unclaimed_since=None if state.claimed_by else event.at))


def _on_opt_out(state: ConversationState, event: Event) -> Transition:
	closed = _on_close(state, event).state if state.status == Status.OPEN else state
	return Transition(replace(closed, opted_out=True))


def _on_opt_in(state: ConversationState, event: Event) -> Transition:
	return Transition(replace(state, opted_out=False))


_HANDLERS = {
	Action.INBOUND: _on_inbound,
	Action.OUTBOUND: _on_outbound,
	Action.NOTE: _on_note,
	Action.CLAIM: _on_claim,
	Action.RELEASE: _on_release,
	Action.ASSIGN: _on_assign,
	Action.TRANSFER: _on_transfer,
	Action.CLOSE: _on_close,
	Action.REOPEN: _on_reopen,
	Action.OPT_OUT: _on_opt_out,
	Action.OPT_IN: _on_opt_in,
}


def invariant_violations(state: ConversationState) -> list[str]:
	"""Everything that must hold for any reachable state; used by the property tests and as a sanity check."""
	problems = []
	if state.status == Status.CLOSED and state.waiting_since is not None:
		problems.append("a closed conversation cannot be waiting")
	if state.status == Status.OPEN and (state.claimed_by is None) != (state.unclaimed_since is not None):
		problems.append("an open conversation is unclaimed exactly when unclaimed_since is set")
	if state.status == Status.CLOSED and state.unclaimed_since is not None:
		problems.append("a closed conversation has no unclaimed clock")
	if state.waiting_since is not None and (state.last_inbound_at is None or state.waiting_since > state.last_inbound_at):
		problems.append("waiting_since must come from an inbound message")
	if state.waiting_since is not None and state.last_outbound_at is not None and state.last_outbound_at > state.waiting_since:
		problems.append("a reply ends the wait")
	if state.first_response_at is not None and state.last_outbound_at is None:
		problems.append("a first response needs an outbound message")
	if state.message_count < 0:
		problems.append("negative message count")
	return problems


@dataclass(frozen=True)
class ViewFlags:
	"""The inbox views are queries over the state, not extra state."""

	open: bool
	waiting: bool
	unassigned: bool
	closed: bool
	mine: bool = False


def views(state: ConversationState, user: str | None = None) -> ViewFlags:
	is_open = state.status == Status.OPEN
	return ViewFlags(
		open=is_open,
		waiting=is_open and state.waiting_since is not None,
		unassigned=is_open and state.claimed_by is None,
		closed=not is_open,
		mine=user is not None and state.claimed_by == user,
	)


@dataclass(frozen=True)
class History:
	"""Replay helper for tests and data repair: fold events over a state, collecting the effects."""

	state: ConversationState
	effects: list[Effect] = field(default_factory=list)


def replay(state: ConversationState, events: list[Event]) -> History:
	effects: list[Effect] = []
	for event in events:
		transition = apply(state, event)
		state = transition.state
		effects.extend(transition.effects)
	return History(state, effects)

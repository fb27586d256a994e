"""The enquiry lifecycle: which action an enquiry allows in which status, and what it becomes.

An enquiry starts New, becomes Associated once it is linked to a person (Contact, Lead or
Customer), and is processed into exactly one outcome: an Opportunity, Dead (with a reason) or No
Action. A processed enquiry is processed again only after it is reopened. Repeating an action
that already happened is not an error: `decide()` answers ALREADY_DONE so the shell returns the
existing record instead of creating a second one (double clicks, retries).

Actions on the side (create a task, add to a marketing list) never change the status, but have
guards of their own (a marketing list needs an email address nobody unsubscribed).

The Frappe shell calls `decide()`; it never re-implements a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
	NEW = "New"
	ASSOCIATED = "Associated"
	OPPORTUNITY = "Opportunity"
	DEAD = "Dead"
	NO_ACTION = "No Action"


class Action(str, Enum):
	ASSOCIATE = "associate"
	CREATE_OPPORTUNITY = "create_opportunity"
	ASSOCIATE_OPPORTUNITY = "associate_opportunity"
	MARK_DEAD = "mark_dead"
	NO_ACTION = "no_action"
	REOPEN = "reopen"
	CREATE_TASK = "create_task"
	ADD_TO_MARKETING_LIST = "add_to_marketing_list"


PROCESSED = frozenset({Status.OPPORTUNITY, Status.DEAD, Status.NO_ACTION})
PROCESS_ACTIONS = frozenset({Action.CREATE_OPPORTUNITY, Action.ASSOCIATE_OPPORTUNITY, Action.MARK_DEAD, Action.NO_ACTION})

# The transition table: the status an action leads to from each status that allows it.
# Anything missing is refused; REOPEN's target depends on whether a person is linked.
TRANSITIONS: dict[Action, dict[Status, Status]] = {
	Action.ASSOCIATE: {Status.NEW: Status.ASSOCIATED, Status.ASSOCIATED: Status.ASSOCIATED},
	Action.CREATE_OPPORTUNITY: {Status.ASSOCIATED: Status.OPPORTUNITY},
	Action.ASSOCIATE_OPPORTUNITY: {Status.ASSOCIATED: Status.OPPORTUNITY},
	Action.MARK_DEAD: {Status.NEW: Status.DEAD, Status.ASSOCIATED: Status.DEAD},
	Action.NO_ACTION: {Status.ASSOCIATED: Status.NO_ACTION},
	Action.REOPEN: {Status.OPPORTUNITY: Status.ASSOCIATED, Status.DEAD: Status.ASSOCIATED, Status.NO_ACTION: Status.ASSOCIATED},
}
SIDE_ACTIONS = frozenset({Action.CREATE_TASK, Action.ADD_TO_MARKETING_LIST})


@dataclass(frozen=True)
class EnquiryState:
	status: Status = Status.NEW
	contact: str | None = None
	lead: str | None = None
	customer: str | None = None
	opportunity: str | None = None
	dead_reason: str | None = None

	@property
	def person(self) -> tuple[str, str] | None:
		"""The record the enquiry is stored against, most specific first."""
		for doctype, name in (("Contact", self.contact), ("Lead", self.lead), ("Customer", self.customer)):
			if name:
				return doctype, name
		return None

	@property
	def party(self) -> tuple[str, str] | None:
		"""Who an Opportunity is for: the Customer (the account) if there is one, else the Lead."""
		if self.customer:
			return "Customer", self.customer
		if self.lead:
			return "Lead", self.lead
		return None


@dataclass(frozen=True)
class Request:
	"""What the agent asks for, with the facts the guards need."""

	action: Action
	person: tuple[str, str] | None = None  # associate: (doctype, name)
	opportunity: str | None = None  # associate_opportunity: the chosen one
	opportunity_party: tuple[str, str] | None = None  # ... and whose it is
	opportunity_open: bool = True
	reason: str | None = None  # mark_dead
	email: str | None = None  # add_to_marketing_list: the person's address, if any
	unsubscribed: bool = False  # ... and whether they opted out of mail
	already_member: bool = False  # ... of this list
	assignee: str | None = None  # create_task


class Verdict(str, Enum):
	APPLY = "apply"
	ALREADY_DONE = "already_done"


@dataclass(frozen=True)
class Decision:
	verdict: Verdict
	status: Status  # the status after the action (unchanged for ALREADY_DONE and side actions)


class EnquiryRuleError(Exception):
	"""An action the rules refuse; `code` is stable for the API and tests, `reason` is for people."""

	def __init__(self, code: str, reason: str):
		super().__init__(reason)
		self.code = code
		self.reason = reason


def decide(state: EnquiryState, request: Request) -> Decision:
	"""APPLY (with the next status), ALREADY_DONE, or raise EnquiryRuleError with the reason."""
	action = Action(request.action)
	if action in SIDE_ACTIONS:
		return _decide_side_action(state, request)
	done = _already_done(state, request)
	if done:
		return Decision(Verdict.ALREADY_DONE, state.status)
	if action == Action.REOPEN and state.status not in PROCESSED:
		return Decision(Verdict.ALREADY_DONE, state.status)
	next_status = TRANSITIONS[action].get(state.status)
	if next_status is None:
		raise _refusal(state, action)
	_check_guards(state, request)
	if action == Action.REOPEN and state.person is None:
		next_status = Status.NEW
	return Decision(Verdict.APPLY, next_status)


def allowed_actions(state: EnquiryState) -> dict[str, dict]:
	"""For the desk: which actions are possible now, and why the others are not.

	Probes each action with a request that satisfies the request's own guards (a reason, a person,
	an open opportunity of the same party), so only the enquiry's state decides."""
	answers = {}
	for action in Action:
		probe = Request(
			action, person=("?", "?"), opportunity="?", opportunity_party=state.party, reason="?", email="?", assignee="?"
		)
		try:
			decision = decide(state, probe)
		except EnquiryRuleError as error:
			answers[action.value] = {"allowed": False, "code": error.code, "reason": error.reason}
			continue
		if decision.verdict == Verdict.APPLY:
			answers[action.value] = {"allowed": True, "code": "", "reason": ""}
		elif action == Action.REOPEN:
			answers[action.value] = {"allowed": False, "code": "not_processed", "reason": "This enquiry is not processed yet."}
		else:
			error = _refusal(state, action)
			answers[action.value] = {"allowed": False, "code": error.code, "reason": error.reason}
	return answers


def _already_done(state: EnquiryState, request: Request) -> bool:
	action = request.action
	if action == Action.ASSOCIATE:
		return state.status in (Status.NEW, Status.ASSOCIATED) and request.person is not None and _linked(state, request.person)
	if action == Action.CREATE_OPPORTUNITY:
		return state.status == Status.OPPORTUNITY and bool(state.opportunity)
	if action == Action.ASSOCIATE_OPPORTUNITY:
		return state.status == Status.OPPORTUNITY and state.opportunity == request.opportunity
	if action == Action.MARK_DEAD:
		return state.status == Status.DEAD and state.dead_reason == request.reason
	if action == Action.NO_ACTION:
		return state.status == Status.NO_ACTION
	return False


def _linked(state: EnquiryState, person: tuple[str, str]) -> bool:
	doctype, name = person
	return {"Contact": state.contact, "Lead": state.lead, "Customer": state.customer}.get(doctype) == name


def _refusal(state: EnquiryState, action: Action) -> EnquiryRuleError:
	if state.status in PROCESSED:
		what = {
			Status.OPPORTUNITY: f"processed into Opportunity {state.opportunity}" if state.opportunity else "processed into an Opportunity",
			Status.DEAD: f"marked as dead ({state.dead_reason})" if state.dead_reason else "marked as dead",
			Status.NO_ACTION: "marked as needing no action",
		}[state.status]
		return EnquiryRuleError("processed", f"This enquiry was already {what}. Reopen it first.")
	if state.status == Status.NEW:
		return EnquiryRuleError("not_associated", "Associate this enquiry with a Contact, Lead or Customer first.")
	return EnquiryRuleError("not_allowed", f"{action.value.replace('_', ' ').capitalize()} is not possible on a {state.status.value} enquiry.")


def _check_guards(state: EnquiryState, request: Request) -> None:
	action = request.action
	if action == Action.ASSOCIATE and request.person is None:
		raise EnquiryRuleError("no_person", "Choose the Contact, Lead or Customer to associate.")
	if action == Action.CREATE_OPPORTUNITY and state.party is None:
		raise EnquiryRuleError(
			"no_party", "An Opportunity is for a Lead or a Customer: associate one (or create the account) first."
		)
	if action == Action.ASSOCIATE_OPPORTUNITY:
		if not request.opportunity:
			raise EnquiryRuleError("no_opportunity", "Choose the Opportunity to add this enquiry to.")
		if state.party is None:
			raise EnquiryRuleError("no_party", "Associate this enquiry with a Lead or a Customer first.")
		if request.opportunity_party != state.party:
			raise EnquiryRuleError("other_party", f"Opportunity {request.opportunity} belongs to someone else.")
		if not request.opportunity_open:
			raise EnquiryRuleError("opportunity_closed", f"Opportunity {request.opportunity} is no longer open.")
	if action == Action.MARK_DEAD and not (request.reason or "").strip():
		raise EnquiryRuleError("no_reason", "Choose why this enquiry is dead.")
	if action == Action.NO_ACTION and state.person is None:
		raise EnquiryRuleError("not_associated", "Associate this enquiry first: it is stored against that person.")


def _decide_side_action(state: EnquiryState, request: Request) -> Decision:
	if request.action == Action.CREATE_TASK:
		if not request.assignee:
			raise EnquiryRuleError("no_assignee", "Choose who should do this task.")
		return Decision(Verdict.APPLY, state.status)
	if not request.email:
		raise EnquiryRuleError("no_email", "This person has no email address, so they cannot join a marketing list.")
	if request.unsubscribed:
		raise EnquiryRuleError("unsubscribed", f"{request.email} has unsubscribed from our mail: they cannot be added to a marketing list.")
	if request.already_member:
		return Decision(Verdict.ALREADY_DONE, state.status)
	return Decision(Verdict.APPLY, state.status)

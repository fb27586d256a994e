from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from message_center.core.conversation_rules import (
	Action,
	Actor,
	Effect,
	Event,
	Medium,
	RuleViolation,
	Status,
	apply,
	check,
	invariant_violations,
	new_conversation,
	replay,
	views,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
ANN = Actor("ann@example.com")
BOB = Actor("bob@example.com")
MANAGER = Actor("meg@example.com", is_manager=True)
SYSTEM = Actor("system", is_system=True)


def at(minutes: int) -> datetime:
	return T0 + timedelta(minutes=minutes)


def sms_with_inbound():
	state = new_conversation(Medium.SMS, T0, team="Sales")
	return apply(state, Event(Action.INBOUND, at(0))).state


def test_inbound_starts_waiting_and_counts():
	state = sms_with_inbound()
	assert state.waiting_since == at(0)
	assert state.message_count == 1
	assert views(state).waiting and views(state).unassigned and views(state).open


def test_waiting_since_keeps_the_first_unanswered_message():
	state = sms_with_inbound()
	state = apply(state, Event(Action.INBOUND, at(3))).state
	assert state.waiting_since == at(0)
	assert state.last_inbound_at == at(3)


def test_sms_reply_needs_a_claim():
	state = sms_with_inbound()
	decision = check(state, Action.OUTBOUND, ANN)
	assert not decision.allowed and decision.code == "not_claimed"
	with pytest.raises(RuleViolation) as raised:
		apply(state, Event(Action.OUTBOUND, at(1), ANN))
	assert raised.value.code == "not_claimed"


def test_claim_then_reply_ends_wait_and_records_first_response():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	assert state.claimed_by == ANN.user and state.unclaimed_since is None
	transition = apply(state, Event(Action.OUTBOUND, at(2), ANN))
	assert transition.state.waiting_since is None
	assert transition.state.first_response_at == at(2)
	assert Effect.RECORD_FIRST_RESPONSE in transition.effects
	again = apply(transition.state, Event(Action.OUTBOUND, at(3), ANN))
	assert again.state.first_response_at == at(2) and Effect.RECORD_FIRST_RESPONSE not in again.effects


def test_only_the_claimer_or_a_manager_replies_or_transfers():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	assert check(state, Action.OUTBOUND, BOB).code == "claimed_by_other"
	assert check(state, Action.TRANSFER, BOB, assignee="carl@example.com").code == "claimed_by_other"
	assert check(state, Action.OUTBOUND, MANAGER).allowed
	assert check(state, Action.TRANSFER, MANAGER, team="Service").allowed
	assert check(state, Action.CLAIM, BOB).code == "claimed_by_other"


def test_email_reply_on_unclaimed_conversation_takes_ownership():
	state = apply(new_conversation(Medium.EMAIL, T0), Event(Action.INBOUND, at(0))).state
	assert check(state, Action.OUTBOUND, BOB).allowed
	state = apply(state, Event(Action.OUTBOUND, at(1), BOB)).state
	assert state.claimed_by == BOB.user
	assert check(state, Action.OUTBOUND, ANN).code == "claimed_by_other"


def test_closed_conversation_cannot_be_claimed_and_inbound_starts_a_new_one():
	state = apply(sms_with_inbound(), Event(Action.CLOSE, at(1), ANN)).state
	assert state.status == Status.CLOSED and state.waiting_since is None
	assert check(state, Action.CLAIM, ANN).code == "closed"
	assert check(state, Action.OUTBOUND, ANN).code == "closed"
	transition = apply(state, Event(Action.INBOUND, at(5)))
	assert transition.effects == (Effect.START_NEW_CONVERSATION,)
	assert transition.state == state


def test_opted_out_party_receives_nothing_even_from_a_manager():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	state = apply(state, Event(Action.OPT_OUT, at(2))).state
	assert state.opted_out and state.status == Status.CLOSED
	state = apply(state, Event(Action.REOPEN, at(3), MANAGER)).state
	decision = check(state, Action.OUTBOUND, MANAGER)
	assert not decision.allowed and decision.code == "opted_out"
	assert "opted out" in decision.reason
	state = apply(state, Event(Action.OPT_IN, at(4))).state
	assert check(state, Action.OUTBOUND, ANN).allowed


def test_cold_transfer_to_a_team_returns_to_its_unassigned_queue():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	transition = apply(state, Event(Action.TRANSFER, at(2), ANN, team="Service"))
	assert transition.state.team == "Service"
	assert transition.state.claimed_by is None and transition.state.unclaimed_since == at(2)
	assert transition.effects == (Effect.NOTIFY_TEAM,)


def test_warm_transfer_to_an_agent_notifies_them():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	transition = apply(state, Event(Action.TRANSFER, at(2), ANN, assignee=BOB.user, warm=True))
	assert transition.state.claimed_by == BOB.user
	assert transition.effects == (Effect.NOTIFY_ASSIGNEE,)


def test_transfer_and_assign_need_a_target():
	state = sms_with_inbound()
	assert check(state, Action.TRANSFER, ANN).code == "no_target"
	assert check(state, Action.ASSIGN, ANN).code == "no_target"


def test_release_puts_it_back_in_the_queue():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	assert check(state, Action.RELEASE, BOB).code == "claimed_by_other"
	state = apply(state, Event(Action.RELEASE, at(2), ANN)).state
	assert state.claimed_by is None and state.unclaimed_since == at(2)
	assert check(state, Action.RELEASE, ANN).code == "not_claimed"


def test_system_reply_needs_no_claim_but_respects_opt_out():
	state = sms_with_inbound()
	assert check(state, Action.OUTBOUND, SYSTEM).allowed
	assert apply(state, Event(Action.OUTBOUND, at(1), SYSTEM)).state.claimed_by is None
	assert check(state, Action.OUTBOUND, None).code == "no_actor"
	state = apply(state, Event(Action.OPT_OUT, at(2))).state
	assert check(state, Action.OUTBOUND, SYSTEM).code == "opted_out"


def test_releasing_a_closed_conversation_starts_no_clock():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	state = apply(state, Event(Action.CLOSE, at(2), ANN)).state
	state = apply(state, Event(Action.RELEASE, at(3), ANN)).state
	assert state.claimed_by is None and state.unclaimed_since is None


def test_notes_change_nothing_but_are_always_allowed():
	state = apply(sms_with_inbound(), Event(Action.CLOSE, at(1), ANN)).state
	assert apply(state, Event(Action.NOTE, at(2), BOB)).state == state


def test_reopen_only_closed_and_restarts_unclaimed_clock_when_unowned():
	state = sms_with_inbound()
	assert check(state, Action.REOPEN, ANN).code == "open"
	state = apply(state, Event(Action.CLOSE, at(1), ANN)).state
	state = apply(state, Event(Action.REOPEN, at(9), ANN)).state
	assert state.status == Status.OPEN and state.unclaimed_since == at(9)


def test_views_are_queries_over_state():
	state = apply(sms_with_inbound(), Event(Action.CLAIM, at(1), ANN)).state
	assert views(state, ANN.user).mine and not views(state, BOB.user).mine
	assert not views(state).unassigned and views(state).waiting


def test_replay_collects_effects():
	history = replay(
		new_conversation(Medium.SMS, T0),
		[
			Event(Action.INBOUND, at(0)),
			Event(Action.CLAIM, at(1), ANN),
			Event(Action.OUTBOUND, at(2), ANN),
			Event(Action.CLOSE, at(3), ANN),
			Event(Action.INBOUND, at(4)),
		],
	)
	assert history.effects == [Effect.RECORD_FIRST_RESPONSE, Effect.START_NEW_CONVERSATION]


# --- properties: no sequence of events reaches an invalid state -------------------------------

actors = st.sampled_from([ANN, BOB, MANAGER, SYSTEM, None])
actions = st.sampled_from(list(Action))
steps = st.lists(
	st.tuples(
		actions,
		actors,
		st.sampled_from([None, ANN.user, BOB.user]),
		st.sampled_from([None, "Sales", "Service"]),
		st.integers(min_value=0, max_value=30),
	),
	max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(medium=st.sampled_from(list(Medium)), steps=steps)
def test_no_sequence_of_events_reaches_an_invalid_state(medium, steps):
	state = new_conversation(medium, T0, team="Sales")
	now = T0
	for action, actor, assignee, team, gap in steps:
		now = now + timedelta(minutes=gap)
		event = Event(action, now, actor, assignee=assignee, team=team)
		decision = check(state, action, actor, assignee=assignee, team=team)
		before = state
		try:
			transition = apply(state, event)
		except RuleViolation as violation:
			assert not decision.allowed and violation.code == decision.code
			continue
		assert decision.allowed
		state = transition.state
		assert invariant_violations(state) == [], (event, before, state)
		# The guards, restated from the outside:
		if action == Action.OUTBOUND:
			assert not before.opted_out and actor is not None
			if not actor.is_system:
				assert before.status == Status.OPEN
				if medium == Medium.SMS:
					assert before.claimed_by is not None
				assert before.claimed_by in (None, actor.user) or actor.is_manager
		if action == Action.CLAIM:
			assert before.status == Status.OPEN
		if action == Action.INBOUND and before.status == Status.CLOSED:
			assert transition.effects == (Effect.START_NEW_CONVERSATION,)
		if action == Action.OPT_OUT:
			assert state.opted_out and state.status == Status.CLOSED


@settings(max_examples=200, deadline=None)
@given(steps=steps)
def test_opted_out_state_never_accepts_an_outbound(steps):
	state = apply(new_conversation(Medium.SMS, T0), Event(Action.OPT_OUT, T0)).state
	now = T0
	for action, actor, assignee, team, gap in steps:
		if action == Action.OPT_IN:
			continue
		now = now + timedelta(minutes=gap)
		try:
			state = apply(state, Event(action, now, actor, assignee=assignee, team=team)).state
		except RuleViolation:
			continue
		assert state.opted_out
	assert check(state, Action.OUTBOUND, MANAGER).code == "opted_out"

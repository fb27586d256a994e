from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from message_center.core.enquiry_rules import (
	PROCESS_ACTIONS,
	PROCESSED,
	TRANSITIONS,
	Action,
	Decision,
	EnquiryRuleError,
	EnquiryState,
	Request,
	Status,
	Verdict,
	allowed_actions,
	decide,
)

NEW = EnquiryState()
WITH_CONTACT = EnquiryState(Status.ASSOCIATED, contact="CONT-1")
WITH_LEAD = EnquiryState(Status.ASSOCIATED, contact="CONT-1", lead="LEAD-1")
WITH_CUSTOMER = EnquiryState(Status.ASSOCIATED, contact="CONT-1", customer="Acme")


def refused(state, request) -> str:
	with pytest.raises(EnquiryRuleError) as raised:
		decide(state, request)
	assert raised.value.reason  # every refusal explains itself
	return raised.value.code


def test_associate_moves_a_new_enquiry_to_associated_and_repeating_it_is_a_no_op():
	decision = decide(NEW, Request(Action.ASSOCIATE, person=("Contact", "CONT-1")))
	assert decision == Decision(Verdict.APPLY, Status.ASSOCIATED)
	assert decide(WITH_CONTACT, Request(Action.ASSOCIATE, person=("Contact", "CONT-1"))).verdict == Verdict.ALREADY_DONE
	# Choosing somebody else re-associates.
	assert decide(WITH_CONTACT, Request(Action.ASSOCIATE, person=("Contact", "CONT-2"))).verdict == Verdict.APPLY
	assert refused(NEW, Request(Action.ASSOCIATE)) == "no_person"


def test_an_opportunity_needs_a_lead_or_a_customer():
	assert refused(NEW, Request(Action.CREATE_OPPORTUNITY)) == "not_associated"
	assert refused(WITH_CONTACT, Request(Action.CREATE_OPPORTUNITY)) == "no_party"
	assert decide(WITH_LEAD, Request(Action.CREATE_OPPORTUNITY)) == Decision(Verdict.APPLY, Status.OPPORTUNITY)
	assert WITH_CUSTOMER.party == ("Customer", "Acme")
	assert WITH_LEAD.party == ("Lead", "LEAD-1")


def test_processing_twice_is_idempotent_but_processing_differently_is_refused():
	processed = replace(WITH_LEAD, status=Status.OPPORTUNITY, opportunity="OPP-1")
	assert decide(processed, Request(Action.CREATE_OPPORTUNITY)).verdict == Verdict.ALREADY_DONE
	assert decide(processed, Request(Action.ASSOCIATE_OPPORTUNITY, opportunity="OPP-1")).verdict == Verdict.ALREADY_DONE
	assert refused(processed, Request(Action.ASSOCIATE_OPPORTUNITY, opportunity="OPP-2", opportunity_party=("Lead", "LEAD-1"))) == "processed"
	assert refused(processed, Request(Action.MARK_DEAD, reason="Too expensive")) == "processed"
	assert refused(processed, Request(Action.NO_ACTION)) == "processed"
	assert refused(processed, Request(Action.ASSOCIATE, person=("Contact", "CONT-9"))) == "processed"

	dead = replace(WITH_CONTACT, status=Status.DEAD, dead_reason="Spam")
	assert decide(dead, Request(Action.MARK_DEAD, reason="Spam")).verdict == Verdict.ALREADY_DONE
	assert refused(dead, Request(Action.MARK_DEAD, reason="Too expensive")) == "processed"
	with pytest.raises(EnquiryRuleError, match=r"marked as dead \(Spam\)\. Reopen it first"):
		decide(dead, Request(Action.CREATE_OPPORTUNITY))


def test_reopen_returns_to_associated_or_new():
	dead_new = EnquiryState(Status.DEAD, dead_reason="Spam")
	assert decide(dead_new, Request(Action.REOPEN)) == Decision(Verdict.APPLY, Status.NEW)
	no_action = replace(WITH_CONTACT, status=Status.NO_ACTION)
	assert decide(no_action, Request(Action.REOPEN)) == Decision(Verdict.APPLY, Status.ASSOCIATED)
	assert decide(WITH_CONTACT, Request(Action.REOPEN)).verdict == Verdict.ALREADY_DONE


def test_associate_opportunity_guards():
	assert refused(WITH_LEAD, Request(Action.ASSOCIATE_OPPORTUNITY)) == "no_opportunity"
	assert refused(WITH_LEAD, Request(Action.ASSOCIATE_OPPORTUNITY, opportunity="OPP-7", opportunity_party=("Lead", "LEAD-2"))) == "other_party"
	assert (
		refused(WITH_LEAD, Request(Action.ASSOCIATE_OPPORTUNITY, opportunity="OPP-7", opportunity_party=("Lead", "LEAD-1"), opportunity_open=False))
		== "opportunity_closed"
	)
	ok = Request(Action.ASSOCIATE_OPPORTUNITY, opportunity="OPP-7", opportunity_party=("Lead", "LEAD-1"))
	assert decide(WITH_LEAD, ok) == Decision(Verdict.APPLY, Status.OPPORTUNITY)


def test_dead_needs_a_reason_and_no_action_needs_a_person():
	assert refused(NEW, Request(Action.MARK_DEAD, reason="  ")) == "no_reason"
	assert decide(NEW, Request(Action.MARK_DEAD, reason="Spam")) == Decision(Verdict.APPLY, Status.DEAD)
	assert refused(NEW, Request(Action.NO_ACTION)) == "not_associated"
	assert decide(WITH_CONTACT, Request(Action.NO_ACTION)) == Decision(Verdict.APPLY, Status.NO_ACTION)


def test_marketing_list_needs_a_subscribed_email():
	assert refused(WITH_CONTACT, Request(Action.ADD_TO_MARKETING_LIST)) == "no_email"
	assert refused(WITH_CONTACT, Request(Action.ADD_TO_MARKETING_LIST, email="a@b.example", unsubscribed=True)) == "unsubscribed"
	request = Request(Action.ADD_TO_MARKETING_LIST, email="a@b.example")
	assert decide(WITH_CONTACT, request) == Decision(Verdict.APPLY, Status.ASSOCIATED)
	assert decide(WITH_CONTACT, replace(request, already_member=True)).verdict == Verdict.ALREADY_DONE
	# Side actions never change the status, even on a processed enquiry.
	dead = replace(WITH_CONTACT, status=Status.DEAD, dead_reason="Spam")
	assert decide(dead, request).status == Status.DEAD
	assert refused(dead, Request(Action.CREATE_TASK)) == "no_assignee"
	assert decide(dead, Request(Action.CREATE_TASK, assignee="a@b.example")) == Decision(Verdict.APPLY, Status.DEAD)


def test_allowed_actions_explain_disabled_buttons():
	answers = allowed_actions(NEW)
	assert answers["associate"]["allowed"] and answers["mark_dead"]["allowed"]
	assert not answers["create_opportunity"]["allowed"] and answers["create_opportunity"]["code"] == "not_associated"
	assert not answers["reopen"]["allowed"]
	processed = allowed_actions(replace(WITH_LEAD, status=Status.OPPORTUNITY, opportunity="OPP-1"))
	assert processed["reopen"]["allowed"]
	assert not processed["create_opportunity"]["allowed"] and "OPP-1" in processed["create_opportunity"]["reason"]
	assert not processed["mark_dead"]["allowed"] and processed["mark_dead"]["code"] == "processed"
	assert processed["create_task"]["allowed"]


def test_the_table_only_leaves_processed_states_through_reopen():
	for action, moves in TRANSITIONS.items():
		for source in moves:
			if source in PROCESSED:
				assert action == Action.REOPEN


STATES = st.builds(
	EnquiryState,
	status=st.sampled_from(Status),
	contact=st.sampled_from([None, "CONT-1"]),
	lead=st.sampled_from([None, "LEAD-1"]),
	customer=st.sampled_from([None, "Acme"]),
	opportunity=st.sampled_from([None, "OPP-1"]),
	dead_reason=st.sampled_from([None, "Spam"]),
)
REQUESTS = st.builds(
	Request,
	action=st.sampled_from(Action),
	person=st.sampled_from([None, ("Contact", "CONT-1"), ("Lead", "LEAD-2")]),
	opportunity=st.sampled_from([None, "OPP-1", "OPP-2"]),
	opportunity_party=st.sampled_from([None, ("Lead", "LEAD-1"), ("Customer", "Acme")]),
	opportunity_open=st.booleans(),
	reason=st.sampled_from([None, "", "Spam", "Too expensive"]),
	email=st.sampled_from([None, "a@b.example"]),
	unsubscribed=st.booleans(),
	already_member=st.booleans(),
	assignee=st.sampled_from([None, "agent@example.com"]),
)


@given(STATES, REQUESTS)
def test_decide_never_crashes_and_processed_enquiries_only_reopen(state, request):
	try:
		decision = decide(state, request)
	except EnquiryRuleError as error:
		assert error.code and error.reason
		return
	if state.status in PROCESSED and decision.verdict == Verdict.APPLY and request.action not in (
		Action.CREATE_TASK,
		Action.ADD_TO_MARKETING_LIST,
	):
		assert request.action == Action.REOPEN
		assert decision.status in (Status.NEW, Status.ASSOCIATED)
	if decision.verdict == Verdict.ALREADY_DONE:
		assert decision.status == state.status
	if request.action in PROCESS_ACTIONS and decision.verdict == Verdict.APPLY:
		assert decision.status in PROCESSED

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from message_center.core.sms_status import OUTBOUND_STATUSES, advance_status, is_terminal
from message_center.testing.twilio_standin import TwilioStandin
from message_center.testing.twilio_webhooks import WebhookRecorder

LIFECYCLE = ["queued", "sending", "sent", "delivered"]
PROGRESS = ["scheduled", "accepted", "queued", "sending", "sent"]


@pytest.mark.parametrize(
	("current", "incoming", "expected"),
	[
		("queued", "sending", "sending"),
		("queued", "delivered", "delivered"),
		("accepted", "queued", "queued"),
		("scheduled", "queued", "queued"),
		("scheduled", "canceled", "canceled"),
		("sent", "sending", "sent"),
		("sent", "queued", "sent"),
		("delivered", "sent", "delivered"),
		("delivered", "failed", "delivered"),
		("failed", "delivered", "failed"),
		("undelivered", "sent", "undelivered"),
		("delivered", "read", "read"),
		("read", "delivered", "read"),
		("failed", "read", "failed"),
		("sent", "sent", "sent"),
		("sent", "Delivered", "delivered"),
		("sent", "bogus", "sent"),
		("sent", None, "sent"),
		("sent", "", "sent"),
		(None, "sent", "sent"),
		("", "queued", "queued"),
		("Not Sent", "sent", "sent"),  # a status the shell wrote itself is overtaken by Twilio's
		("Not Sent", "bogus", "Not Sent"),
	],
)
def test_status_table(current, incoming, expected):
	assert advance_status(current, incoming) == expected


@pytest.mark.parametrize("order", list(itertools.permutations(LIFECYCLE)))
def test_any_arrival_order_ends_delivered(order):
	status = None
	for incoming in order:
		status = advance_status(status, incoming)
	assert status == "delivered"


@given(st.lists(st.sampled_from([*sorted(OUTBOUND_STATUSES), "receiving", "weird", ""]), max_size=12))
def test_a_status_never_moves_backwards(callbacks):
	rank = {status: index for index, status in enumerate(PROGRESS)}
	status = "queued"
	for incoming in callbacks:
		new_status = advance_status(status, incoming)
		if is_terminal(status):
			assert new_status == status or (status, new_status) == ("delivered", "read")
		elif not is_terminal(new_status):
			assert rank[new_status] >= rank[status]
		status = new_status


def test_out_of_order_callbacks_from_the_standin_never_go_backwards():
	with TwilioStandin() as twilio, WebhookRecorder() as receiver:
		client = twilio.client()
		message = client.messages.create(
			to="+14155552671", from_="+15005550006", body="hi", status_callback=receiver.url + "/status"
		)
		for status in ["delivered", "sent", "sending", "queued"]:  # the worst possible order
			assert twilio.deliver_status(message.sid, status).http_status == 200
		stored = "queued"
		for request in receiver.wait_for(4):
			stored = advance_status(stored, request.param("MessageStatus"))
		assert stored == "delivered"

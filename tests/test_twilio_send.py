"""The real Twilio SDK, through send_message, against the loopback Twilio stand-in."""

import re
import socket

import pytest

from message_center.core.sms_send import RatePacer, SendResult, backoff_delay, send_message
from message_center.core.twilio_client import BaseUrlHttpClient, make_client
from message_center.testing.twilio_standin import TwilioStandin

TO = "+14155552671"
FROM = "+15005550006"
SERVICE_SID = "MG" + "0" * 32
SID_SHAPE = re.compile(r"^(SM|MM)[0-9a-f]{32}$")


@pytest.fixture
def twilio():
	with TwilioStandin() as standin:
		yield standin


@pytest.fixture
def sleeps():
	return []


def send(client, sleeps, **overrides) -> SendResult:
	arguments = {"to": TO, "body": "Your quote is ready.", "from_number": FROM, "sleep": sleeps.append}
	return send_message(client, **{**arguments, **overrides})


def test_success_creates_exactly_one_message(twilio, sleeps):
	result = send(twilio.client(), sleeps, status_callback="https://example.invalid/sms/status")
	assert result.ok and result.status == "queued"
	assert SID_SHAPE.match(result.sid)
	assert (result.attempts, result.num_segments, result.error_code) == (1, 1, None)
	assert sleeps == []
	[request] = twilio.create_requests
	assert request.param("To") == TO and request.param("From") == FROM
	assert request.param("Body") == "Your quote is ready."
	assert request.param("StatusCallback") == "https://example.invalid/sms/status"
	assert [message["sid"] for message in twilio.messages] == [result.sid]
	fetched = twilio.client().messages(result.sid).fetch()
	assert (fetched.status, fetched.to, fetched.body) == ("queued", TO, "Your quote is ready.")


def test_a_long_body_is_one_api_call_and_twilio_counts_the_segments(twilio, sleeps):
	result = send(twilio.client(), sleeps, body="a" * 400)
	assert result.ok and result.num_segments == 3
	assert len(twilio.create_requests) == 1


def test_messaging_service_messages_are_accepted(twilio, sleeps):
	result = send(twilio.client(), sleeps, from_number=None, messaging_service_sid=SERVICE_SID)
	assert result.status == "accepted"
	assert twilio.create_requests[0].param("MessagingServiceSid") == SERVICE_SID
	assert twilio.create_requests[0].param("From") is None


def test_429_is_retried_after_backoff_and_one_message_is_created(twilio, sleeps):
	twilio.fail_next(1, http_status=429)
	result = send(twilio.client(), sleeps, backoff=0.5)
	assert result.ok and result.attempts == 2
	assert sleeps == [0.5]
	assert [request.http_status for request in twilio.create_requests] == [429, 201]
	assert len(twilio.messages) == 1


def test_503_twice_then_success_backs_off_exponentially(twilio, sleeps):
	twilio.fail_next(2, http_status=503)
	result = send(twilio.client(), sleeps, backoff=1.0)
	assert result.ok and result.attempts == 3
	assert sleeps == [1.0, 2.0]
	assert len(twilio.messages) == 1


def test_500_is_retried_a_bounded_number_of_times_then_fails_with_the_reason(twilio, sleeps):
	twilio.fail_next(10, http_status=500)
	result = send(twilio.client(), sleeps, max_attempts=3)
	assert result.status == "failed" and not result.ok
	assert (result.attempts, result.http_status, result.error_code) == (3, 500, 20500)
	assert result.retryable and not result.outcome_unknown
	assert "HTTP 500" in result.error_message and "3 attempts" in result.error_message
	assert "Internal Server Error" in result.error_message
	assert len(twilio.create_requests) == 3  # exactly one API call per attempt
	assert twilio.messages == []
	assert len(sleeps) == 2


def test_a_timeout_after_the_request_reached_twilio_is_not_retried(twilio, sleeps):
	twilio.delay_next(2.0, create=True)  # Twilio creates the message, the answer comes too late
	result = send(twilio.client(timeout=0.3), sleeps)
	assert result.status == "failed"
	assert result.outcome_unknown and not result.retryable
	assert result.attempts == 1 and sleeps == []
	assert "may have been sent" in result.error_message
	assert len(twilio.create_requests) == 1
	assert len(twilio.messages) == 1  # sent once, never twice


def test_a_timeout_before_twilio_answered_anything_is_not_retried_either(twilio, sleeps):
	twilio.delay_next(2.0, create=False)
	result = send(twilio.client(timeout=0.3), sleeps)
	assert result.outcome_unknown and result.attempts == 1
	assert len(twilio.messages) <= 1


def test_a_gateway_timeout_is_treated_as_maybe_sent(twilio, sleeps):
	twilio.fail_next(1, http_status=504)
	result = send(twilio.client(), sleeps)
	assert result.status == "failed" and result.outcome_unknown and not result.retryable
	assert result.attempts == 1 and len(twilio.create_requests) == 1


def test_a_refused_connection_never_reached_twilio_so_it_is_retried(sleeps):
	with socket.socket() as probe:  # a port nobody listens on
		probe.bind(("127.0.0.1", 0))
		port = probe.getsockname()[1]
	client = make_client("AC" + "1" * 32, "token", base_url=f"http://127.0.0.1:{port}", timeout=1)
	result = send(client, sleeps, max_attempts=2)
	assert result.status == "failed" and result.retryable and not result.outcome_unknown
	assert result.attempts == 2 and len(sleeps) == 1
	assert "nothing was sent" in result.error_message


def test_an_opted_out_recipient_fails_with_21610(twilio, sleeps):
	twilio.opt_out(TO)
	result = send(twilio.client(), sleeps)
	assert result.status == "failed" and result.opted_out
	assert (result.error_code, result.http_status, result.attempts) == (21610, 400, 1)
	assert result.error_message == "Attempt to send to unsubscribed recipient"
	assert not result.retryable and twilio.messages == []


def test_wrong_credentials_fail_with_twilios_message(twilio, sleeps):
	client = make_client(twilio.account_sid, "not-the-token", base_url=twilio.base_url, timeout=2)
	result = send(client, sleeps)
	assert result.status == "failed"
	assert (result.http_status, result.error_code, result.error_message) == (401, 20003, "Authenticate")
	assert result.attempts == 1 and not result.retryable
	assert twilio.messages == []


def test_media_urls_are_passed_as_repeated_mediaurl_fields(twilio, sleeps):
	media = ["https://example.invalid/a.jpg", "https://example.invalid/b.pdf"]
	result = send(twilio.client(), sleeps, body=None, media_urls=media)
	assert result.ok and result.sid.startswith("MM")
	assert twilio.create_requests[0].params_named("MediaUrl") == media
	assert twilio.message(result.sid)["num_media"] == "2"


@pytest.mark.parametrize(
	("overrides", "code"),
	[
		({"to": ""}, 21604),
		({"body": None}, 21602),
		({"to": "415-555"}, 21211),
		({"body": "a" * 1601}, 21617),
	],
)
def test_validation_errors_carry_twilios_code(twilio, sleeps, overrides, code):
	result = send(twilio.client(), sleeps, **overrides)
	assert result.status == "failed" and result.error_code == code and result.attempts == 1
	assert result.error_message and not result.retryable


def test_a_sender_is_required():
	with pytest.raises(ValueError):
		send_message(object(), to=TO, body="hi")


def test_the_sdk_lists_what_the_standin_created(twilio, sleeps):
	client = twilio.client()
	sids = [send(client, sleeps, body=f"message {number}").sid for number in range(5)]
	send(client, sleeps, to="+442079460958")
	listed = [message.sid for message in client.messages.list(to=TO, page_size=2)]  # follows 3 pages
	assert listed == list(reversed(sids))


def test_base_url_client_rewrites_only_twilio_api_hosts():
	client = BaseUrlHttpClient("http://127.0.0.1:9/proxy/")
	path = "/2010-04-01/Accounts/AC1/Messages.json"
	assert client.rewrite_url("https://api.twilio.com" + path) == "http://127.0.0.1:9/proxy" + path
	assert client.rewrite_url("https://api.dublin.ie1.twilio.com" + path + "?a=1").endswith(path + "?a=1")
	assert client.rewrite_url("https://example.com/x") == "https://example.com/x"
	with pytest.raises(ValueError):
		BaseUrlHttpClient("127.0.0.1:9")


def test_backoff_doubles_and_is_capped():
	assert [backoff_delay(attempt, 1.0) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
	assert backoff_delay(20, 1.0) == 30.0


def test_rate_pacer_spaces_sends_at_the_numbers_rate():
	pacer = RatePacer(messages_per_second=2)
	assert pacer.interval == 0.5
	assert pacer.next_slot(None, now=100.0) == 100.0
	assert pacer.next_slot(100.0, now=100.1) == 100.5  # too soon: wait for the next slot
	assert pacer.next_slot(100.0, now=103.0) == 103.0  # idle for a while: send now
	assert pacer.next_slot(105.0, now=100.0) == 105.5  # a backlog is queued behind the last slot
	slot = pacer.reserve(100.0, now=100.2)
	assert (slot.at, round(slot.wait_seconds, 6)) == (100.5, 0.3)
	# Reserving back to back yields evenly spaced slots.
	slots, last = [], None
	for _ in range(4):
		last = pacer.next_slot(last, now=10.0)
		slots.append(last)
	assert slots == [10.0, 10.5, 11.0, 11.5]
	with pytest.raises(ValueError):
		RatePacer(messages_per_second=0)

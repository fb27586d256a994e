"""verify_signature against signatures made by the Twilio SDK's RequestValidator, and end to end."""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from message_center.core.twilio_client import verify_signature
from message_center.testing.twilio_standin import TwilioStandin
from message_center.testing.twilio_webhooks import (
	SIGNATURE_HEADER,
	WebhookRecorder,
	build_inbound_sms_request,
	new_sid,
)

TOKEN = "12345678901234567890123456789012"
URL = "https://crm.example.com/api/method/message_center.api.sms.inbound?channel=SMS-1"
PARAMS = {
	"MessageSid": "SM" + "a" * 32,
	"AccountSid": "AC" + "b" * 32,
	"From": "+14155552671",
	"To": "+15005550006",
	"Body": "Is the roof quote ready?",
	"NumMedia": "0",
}


def signed(url=URL, params=PARAMS, token=TOKEN) -> str:
	return RequestValidator(token).compute_signature(url, params)


def reference_signature(token: str, url: str, pairs: list[tuple[str, str]]) -> str:
	"""Twilio's documented algorithm written out: URL, then each key followed by its values, sorted."""
	data = url
	for key in sorted({key for key, _ in pairs}):
		for value in sorted({value for name, value in pairs if name == key}):
			data += key + value
	digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
	return base64.b64encode(digest).decode()


class MultiValueForm(dict):
	"""The getlist() interface of werkzeug's MultiDict (what frappe.request.form is)."""

	def __init__(self, pairs):
		super().__init__()
		self._pairs = list(pairs)
		for key, value in self._pairs:
			self.setdefault(key, value)

	def getlist(self, key):
		return [value for name, value in self._pairs if name == key]


def test_a_signature_made_by_the_sdk_verifies():
	signature = signed()
	assert verify_signature(TOKEN, URL, PARAMS, signature)
	assert verify_signature(TOKEN, URL, list(PARAMS.items()), signature)
	assert verify_signature(TOKEN, URL, MultiValueForm(PARAMS.items()), signature)
	assert verify_signature(TOKEN, URL, PARAMS, f"  {signature}\n")


def test_forged_and_wrong_token_signatures_fail():
	assert not verify_signature(TOKEN, URL, PARAMS, base64.b64encode(b"x" * 20).decode())
	assert not verify_signature(TOKEN, URL, PARAMS, signed(token="another-token"))
	assert not verify_signature("another-token", URL, PARAMS, signed())


@pytest.mark.parametrize(
	"tamper",
	[
		lambda params: {**params, "Body": "Send the invoice to attacker@example.com"},
		lambda params: {**params, "From": "+14155550000"},
		lambda params: {**params, "Injected": "1"},
		lambda params: {key: value for key, value in params.items() if key != "NumMedia"},
	],
)
def test_tampered_params_fail(tamper):
	assert not verify_signature(TOKEN, URL, tamper(PARAMS), signed())


@pytest.mark.parametrize(
	"url",
	[
		URL.replace("crm.example.com", "evil.example.com"),
		URL.replace("channel=SMS-1", "channel=SMS-2"),
		URL.replace("?channel=SMS-1", ""),
		URL.replace("https://", "http://"),
		URL.replace("inbound", "status"),
	],
)
def test_tampered_urls_fail(url):
	assert not verify_signature(TOKEN, url, PARAMS, signed())


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_a_missing_signature_fails(signature):
	assert not verify_signature(TOKEN, URL, PARAMS, signature)


def test_an_empty_auth_token_never_verifies():
	# With an empty key anyone could compute a "valid" signature.
	assert not verify_signature("", URL, PARAMS, RequestValidator("").compute_signature(URL, PARAMS))


def test_unknown_extra_params_that_twilio_signed_still_verify():
	params = {**PARAMS, "SmsStatus": "received", "SomeFieldTwilioAddsNextYear": "x", "ToCity": ""}
	assert verify_signature(TOKEN, URL, params, signed(params=params))


def test_repeated_keys_are_all_signed():
	pairs = [
		*PARAMS.items(),
		("MediaUrl", "https://example.com/b.jpg"),
		("MediaUrl", "https://example.com/a.jpg"),
	]
	signature = reference_signature(TOKEN, URL, pairs)
	assert verify_signature(TOKEN, URL, pairs, signature)
	assert verify_signature(TOKEN, URL, MultiValueForm(pairs), signature)
	assert verify_signature(TOKEN, URL, {**PARAMS, "MediaUrl": [pair[1] for pair in pairs[-2:]]}, signature)
	assert not verify_signature(TOKEN, URL, pairs[:-1], signature)


def test_default_port_in_the_signed_url_is_tolerated():
	# Twilio sometimes signs https://host:443/...; the SDK accepts either form, and so do we.
	with_port = URL.replace("crm.example.com", "crm.example.com:443")
	assert verify_signature(TOKEN, URL, PARAMS, signed(url=with_port))


def test_inbound_webhooks_built_for_tests_verify_only_with_blank_values_kept():
	account_sid = new_sid("AC")
	url, headers, body = build_inbound_sms_request(
		URL,
		TOKEN,
		account_sid=account_sid,
		from_number="+14155552671",
		to_number="+15005550006",
		body="Photo of the leak attached",
		media=[("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg")],
	)
	params = parse_qsl(body.decode(), keep_blank_values=True)
	fields = dict(params)
	assert fields["NumMedia"] == "1" and fields["MediaContentType0"] == "image/jpeg"
	assert fields["AccountSid"] == account_sid and fields["MessageSid"].startswith("MM")
	assert headers["Content-Type"] == "application/x-www-form-urlencoded"
	assert verify_signature(TOKEN, url, params, headers[SIGNATURE_HEADER])
	# Twilio signs empty fields (ToCity=""); a form parser that drops them breaks the signature.
	assert not verify_signature(TOKEN, url, parse_qsl(body.decode()), headers[SIGNATURE_HEADER])


def test_status_callbacks_from_the_standin_verify_at_the_receiver():
	with TwilioStandin() as twilio, WebhookRecorder() as receiver:
		callback_url = receiver.url + "/api/method/sms_status?channel=SMS-1"
		sid = twilio.client().messages.create(to="+14155552671", from_="+15005550006", body="hi").sid
		delivery = twilio.deliver_status(sid, "delivered", url=callback_url, extra={"ChannelPrefix": "sms"})
		assert delivery.http_status == 200
		[request] = receiver.wait_for(1)
		assert request.param("MessageSid") == sid and request.param("MessageStatus") == "delivered"
		signature = request.headers[SIGNATURE_HEADER]
		assert verify_signature(twilio.auth_token, receiver.url + request.path, request.params, signature)
		assert not verify_signature(twilio.auth_token, receiver.url + "/elsewhere", request.params, signature)


def test_the_standin_posts_signed_inbound_sms_like_twilio():
	with TwilioStandin() as twilio, WebhookRecorder() as receiver:
		url = receiver.url + "/api/method/sms_inbound"
		delivery = twilio.deliver_inbound_sms(
			url, from_number="+14155552671", to_number="+15005550006", body="STOP"
		)
		assert delivery.http_status == 200
		[request] = receiver.wait_for(1)
		assert request.param("Body") == "STOP" and request.param("AccountSid") == twilio.account_sid
		assert request.param("NumMedia") == "0"
		assert verify_signature(
			twilio.auth_token, receiver.url + request.path, request.params, request.headers[SIGNATURE_HEADER]
		)

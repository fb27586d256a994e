import pytest
from mail_samples import build_mail, sample, simple_headers

from message_center.core.mail_classify import MailClass, classify_mail
from message_center.core.mail_parse import parse_mail
from message_center.core.mail_threading import make_message_id

OUR_ADDRESSES = ["info@acme.example", "Enquiries@acme.example"]
SECRET = "classify-test-secret"


def classify(raw: bytes, **options) -> MailClass:
	options.setdefault("own_addresses", OUR_ADDRESSES)
	options.setdefault("secret", SECRET)
	return classify_mail(parse_mail(raw, max_attachment_bytes=1_000_000), **options)


def with_headers(*extra: tuple[str, str], **overrides: str | None) -> bytes:
	return build_mail(simple_headers(**overrides) + list(extra), b"Some text.\n")


@pytest.mark.parametrize(
	("header", "kind"),
	[
		(("Auto-Submitted", "auto-replied"), "auto_reply"),
		(("Auto-Submitted", "auto-generated"), "auto_reply"),
		(("Auto-Submitted", "auto-notified; owner-email=x@y.example"), "auto_reply"),
		(("X-Autoreply", "yes"), "auto_reply"),
		(("X-Autorespond", "Out of office"), "auto_reply"),
		(("X-Auto-Response-Suppress", "All"), "auto_reply"),
		(("X-Auto-Response-Suppress", "DR, OOF, AutoReply"), "auto_reply"),
		(("Precedence", "bulk"), "list"),
		(("Precedence", "junk"), "list"),
		(("Precedence", "list"), "list"),
		(("Precedence", "auto_reply"), "auto_reply"),
		(("List-Id", "Customers <customers.lists.example>"), "list"),
		(("List-Unsubscribe", "<mailto:leave@lists.example>"), "list"),
		(("X-MS-Exchange-Generated-Message-Source", "Mailbox Rules Agent"), "auto_reply"),
		(("X-MS-Exchange-Inbox-Rules-Loop", "sales@customer.example"), "auto_reply"),
		(("X-Failed-Recipients", "nobody@customer.example"), "bounce"),
		(("Return-Path", "<>"), "auto_reply"),
	],
)
def test_each_header_rule(header, kind):
	result = classify(with_headers(header))
	assert result.kind == kind
	assert any(header[0].split("-")[0] in reason or "Return-Path" in reason for reason in result.reasons)


@pytest.mark.parametrize(
	"header",
	[
		("Auto-Submitted", "no"),
		("X-Autoreply", "no"),
		("X-Auto-Response-Suppress", "None"),
		("Precedence", "first-class"),
		("Return-Path", "<jane@customer.example>"),
	],
)
def test_harmless_values_do_not_flag(header):
	assert classify(with_headers(header)) == MailClass("normal", ())


@pytest.mark.parametrize(
	"sender",
	[
		"MAILER-DAEMON@mx.example",
		"postmaster@customer.example",
		"MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@customer.example",
	],
)
def test_mail_system_senders_are_bounces(sender):
	assert classify(with_headers(**{"from": sender})).kind == "bounce"


def test_null_return_path_with_a_delivery_failure_subject_is_a_bounce():
	result = classify(with_headers(("Return-Path", "<>"), subject="Undeliverable: Your quote"))
	assert result.kind == "bounce"


def test_a_customer_writing_about_an_undelivered_parcel_is_not_a_bounce():
	assert classify(with_headers(subject="Undelivered parcel, order 1234")).kind == "normal"


def test_real_looking_postfix_bounce():
	result = classify(sample("bounce_postfix_dsn.eml"))
	assert result.kind == "bounce" and result.is_automatic and not result.may_auto_respond
	assert "delivery status report (multipart/report; report-type=delivery-status)" in result.reasons
	report = parse_mail(sample("bounce_postfix_dsn.eml"), max_attachment_bytes=1_000_000).report
	assert report.failed_recipients == ["nobody@client.example"]
	assert report.original_message_id == "20240603150000.1234@erp.acme.example"
	assert report.status == "5.1.1" and "User unknown" in report.diagnostic


def test_exchange_out_of_office():
	result = classify(sample("out_of_office_exchange.eml"))
	assert result.kind == "auto_reply"
	assert "Auto-Submitted: auto-generated" in result.reasons
	assert any("Automatische Antwort" in reason for reason in result.reasons)


@pytest.mark.parametrize(
	"subject",
	[
		"Automatic reply: Quote",
		"Réponse automatique : Devis",
		"Risposta automatica: Preventivo",
		"Respuesta automática: Catálogo",
		"Out of Office: Re: order",
	],
)
def test_out_of_office_subjects_without_headers(subject):
	assert classify(with_headers(subject=subject)).kind == "auto_reply"


def test_read_receipt_is_an_automatic_reply():
	result = classify(sample("read_receipt.eml"))
	assert result.kind == "auto_reply" and "read receipt" in result.reasons[0]


def test_newsletter_is_list_mail():
	result = classify(sample("list_newsletter.eml"))
	assert (
		result.kind == "list"
		and result.is_inbound
		and not result.is_automatic
		and not result.may_auto_respond
	)
	assert "Precedence: bulk" in result.reasons


@pytest.mark.parametrize(
	"name",
	[
		"gmail_reply_en.eml",
		"outlook_reply_de.eml",
		"apple_reply_it.eml",
		"gmail_reply_es.eml",
		"outlook_reply_fr.eml",
		"html_only_inline_image.eml",
	],
)
def test_ordinary_mail_from_people_is_not_flagged(name):
	result = classify(sample(name))
	assert result == MailClass("normal", ()) and result.may_auto_respond


def test_mail_from_our_own_address_is_our_own():
	result = classify(with_headers(**{"from": "Acme <ENQUIRIES@acme.example>"}))
	assert result.kind == "own" and not result.is_inbound
	assert result.reasons == ("sender enquiries@acme.example is one of our own addresses",)


def test_web_form_relay_from_our_address_with_a_customer_reply_to_is_inbound():
	result = classify(
		with_headers(**{"from": "info@acme.example", "reply_to": "Jane <jane@customer.example>"})
	)
	assert result.kind == "normal"


def test_our_message_id_marks_our_own_mail_even_from_another_sender():
	message_id = make_message_id("CONV-0042", SECRET, "erp.acme.example")
	result = classify(with_headers(message_id=message_id, **{"from": "colleague@acme-group.example"}))
	assert result.kind == "own" and "signed reply token" in result.reasons[0]
	# Without the secret the token proves nothing, but the domain can still be ours.
	assert classify(with_headers(message_id=message_id), secret=None).kind == "normal"
	assert (
		classify(with_headers(message_id=message_id), secret=None, own_domains=["erp.acme.example"]).kind
		== "own"
	)


def test_a_forged_token_in_a_message_id_is_not_ours():
	forged = make_message_id("CONV-0042", "someone-elses-secret", "erp.acme.example")
	assert classify(with_headers(message_id=forged)).kind == "normal"


def test_own_outranks_automatic_and_every_reason_is_kept():
	result = classify(
		with_headers(
			("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"), **{"from": "info@acme.example"}
		)
	)
	assert result.kind == "own"
	assert result.reasons == (
		"sender info@acme.example is one of our own addresses",
		"Auto-Submitted: auto-replied",
		"Precedence: bulk",
	)


def test_classify_a_failed_parse_is_normal():
	assert classify(b"").kind == "normal"

"""A varied, reproducible mailbox for benchmarks and end-to-end tests: new enquiries, replies that
thread by In-Reply-To or only by subject, HTML with inline images, attachments, non-ASCII charsets,
mail without Message-ID, auto-replies, bounces, list mail, our own mail and a few unparseable ones.

	corpus = build_corpus(5000, own_address="info@acme.example")
	server.append_many(user, "INBOX", corpus.seeds(days_ago=10))
"""

from __future__ import annotations

import base64
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from message_center.testing.dovecot import SeedMessage

# a 1x1 PNG, the smallest real inline image
PIXEL_PNG = base64.b64decode(
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
KINDS = (
	("new", 46),
	("reply", 14),
	("subject_reply", 3),
	("html_inline", 8),
	("attachment", 5),
	("latin1", 5),
	("no_message_id", 2),
	("auto_reply", 4),
	("bounce", 2),
	("list", 7),
	("web_relay", 2),
	("own", 1),
	("poison", 1),
)


@dataclass
class CorpusMessage:
	number: int
	kind: str
	raw: bytes
	sender: str
	message_id: str | None  # with angle brackets


@dataclass
class Corpus:
	own_address: str
	messages: list[CorpusMessage] = field(default_factory=list)
	contacts: dict[str, str] = field(default_factory=dict)  # email -> display name of known people

	def seeds(self, *, days_ago: float = 5, spread: timedelta = timedelta(days=3)) -> list[SeedMessage]:
		start = datetime.now(timezone.utc) - timedelta(days=days_ago)
		step = spread / max(len(self.messages), 1)
		return [
			SeedMessage(message.raw, (), start + step * index) for index, message in enumerate(self.messages)
		]

	def counts(self) -> Counter:
		return Counter(message.kind for message in self.messages)

	@property
	def importable(self) -> list[CorpusMessage]:
		"""Everything that must end up stored (all but our own mail)."""
		return [message for message in self.messages if message.kind != "own"]


def build_corpus(
	count: int,
	*,
	own_address: str = "info@acme.example",
	seed: int = 7,
	known_share: float = 0.3,
	start: int = 1,
) -> Corpus:
	"""`count` messages numbered from `start` (Message-IDs and senders carry the number, so corpora with
	distinct ranges never share a message)."""
	randomiser = random.Random(seed)
	corpus = Corpus(own_address=own_address)
	kinds = [kind for kind, _weight in KINDS]
	weights = [weight for _kind, weight in KINDS]
	sent: list[CorpusMessage] = []  # earlier people's mail, to reply to
	for number in range(start, start + count):
		kind = randomiser.choices(kinds, weights)[0]
		if kind in ("reply", "subject_reply", "auto_reply", "bounce") and not sent:
			kind = "new"
		customer = f"customer{number}@{randomiser.choice(['gmail.com', 'example.org', f'firm{number % 97}.example'])}"
		name = f"Customer {number}"
		if randomiser.random() < known_share:
			corpus.contacts[customer] = name
		builder = _BUILDERS[kind]
		message = builder(number, customer, name, own_address, randomiser.choice(sent) if sent else None)
		corpus.messages.append(message)
		if kind in ("new", "html_inline", "attachment", "latin1"):
			sent.append(message)
	return corpus


def _headers(
	number: int, sender: str, name: str, to: str, subject: str, message_id: str | None, **extra: str
) -> list[str]:
	date = format_datetime(datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=number))
	lines = [
		f"From: {name} <{sender}>",
		f"To: {to}",
		f"Subject: {subject}",
		f"Date: {date}",
		"MIME-Version: 1.0",
	]
	if message_id:
		lines.append(f"Message-ID: {message_id}")
	lines += [f"{key.replace('_', '-')}: {value}" for key, value in extra.items()]
	return lines


def _join(lines: list[str], body: str) -> bytes:
	return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def _text_body(number: int) -> str:
	return "".join(
		f"Line {line}: we would like a quote for {number * 3 + line} units, delivered soon.\n"
		for line in range(12)
	)


def _new(number, sender, name, own, _parent, subject=None) -> CorpusMessage:
	message_id = f"<enquiry-{number}@{sender.split('@')[1]}>"
	headers = _headers(number, sender, name, own, subject or f"Quote request {number}", message_id)
	headers.append('Content-Type: text/plain; charset="utf-8"')
	return CorpusMessage(number, "new", _join(headers, _text_body(number)), sender, message_id)


def _reply(number, _sender, _name, own, parent: CorpusMessage) -> CorpusMessage:
	message_id = f"<reply-{number}@{parent.sender.split('@')[1]}>"
	headers = _headers(
		number,
		parent.sender,
		f"Customer {parent.number}",
		own,
		f"Re: Quote request {parent.number}",
		message_id,
	)
	headers += [
		f"In-Reply-To: {parent.message_id}",
		f"References: {parent.message_id}",
		'Content-Type: text/plain; charset="utf-8"',
	]
	body = f"Any news on this?\n\nOn Monday Customer {parent.number} wrote:\n> " + _text_body(
		parent.number
	).replace("\n", "\n> ")
	return CorpusMessage(number, "reply", _join(headers, body), parent.sender, message_id)


def _subject_reply(number, _sender, _name, own, parent: CorpusMessage) -> CorpusMessage:
	message = _new(
		number,
		parent.sender,
		f"Customer {parent.number}",
		own,
		None,
		subject=f"RE: Quote request {parent.number}",
	)
	message.kind = "subject_reply"
	return message


def _html_inline(number, sender, name, own, _parent) -> CorpusMessage:
	message_id = f"<html-{number}@{sender.split('@')[1]}>"
	headers = _headers(number, sender, name, own, f"Quote request {number} (with logo)", message_id)
	headers.append('Content-Type: multipart/related; boundary="rel"')
	html = f'<html><body><p>Hello, please quote <b>{number}</b> units.</p><img src="cid:logo{number}@x"><script>alert(1)</script></body></html>'
	body = (
		'--rel\nContent-Type: text/html; charset="utf-8"\n\n' + html + "\n"
		f"--rel\nContent-Type: image/png\nContent-Transfer-Encoding: base64\nContent-ID: <logo{number}@x>\n"
		'Content-Disposition: inline; filename="logo.png"\n\n'
		+ base64.b64encode(PIXEL_PNG).decode()
		+ "\n--rel--\n"
	)
	return CorpusMessage(number, "html_inline", _join(headers, body), sender, message_id)


def _attachment(number, sender, name, own, _parent) -> CorpusMessage:
	message_id = f"<attach-{number}@{sender.split('@')[1]}>"
	headers = _headers(number, sender, name, own, f"Quote request {number} (drawing attached)", message_id)
	headers.append('Content-Type: multipart/mixed; boundary="mix"')
	document = ("%PDF-1.4\n% drawing " + str(number) + "\n" + "0" * 6000).encode()
	body = (
		'--mix\nContent-Type: text/plain; charset="utf-8"\n\n' + _text_body(number) + "\n"
		"--mix\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
		f'Content-Disposition: attachment; filename="drawing-{number}.pdf"\n\n'
		+ base64.encodebytes(document).decode()
		+ "--mix--\n"
	)
	return CorpusMessage(number, "attachment", _join(headers, body), sender, message_id)


def _latin1(number, sender, _name, own, _parent) -> CorpusMessage:
	message_id = f"<latin-{number}@{sender.split('@')[1]}>"
	headers = _headers(
		number,
		sender,
		"=?iso-8859-1?q?J=FCrgen_M=FCller?=",
		own,
		f"=?iso-8859-1?q?Anfrage_f=FCr_{number}_St=FCck?=",
		message_id,
	)
	headers += ['Content-Type: text/plain; charset="iso-8859-1"', "Content-Transfer-Encoding: 8bit"]
	raw = _join(headers, "")
	return CorpusMessage(
		number,
		"latin1",
		raw + f"Gr\xfc\xdfe, wir m\xf6chten {number} St\xfcck bestellen.\r\n".encode("latin-1"),
		sender,
		message_id,
	)


def _no_message_id(number, sender, name, own, _parent) -> CorpusMessage:
	headers = _headers(number, sender, name, own, f"Question {number}", None)
	headers.append('Content-Type: text/plain; charset="utf-8"')
	return CorpusMessage(number, "no_message_id", _join(headers, _text_body(number)), sender, None)


def _auto_reply(number, _sender, _name, own, parent: CorpusMessage) -> CorpusMessage:
	message_id = f"<ooo-{number}@{parent.sender.split('@')[1]}>"
	headers = _headers(
		number,
		parent.sender,
		f"Customer {parent.number}",
		own,
		f"Automatic reply: Quote request {parent.number}",
		message_id,
	)
	headers += [
		"Auto-Submitted: auto-replied",
		f"In-Reply-To: {parent.message_id}",
		'Content-Type: text/plain; charset="utf-8"',
	]
	return CorpusMessage(
		number,
		"auto_reply",
		_join(headers, "I am out of the office until Monday.\n"),
		parent.sender,
		message_id,
	)


def _bounce(number, _sender, _name, own, parent: CorpusMessage) -> CorpusMessage:
	message_id = f"<bounce-{number}@mx.acme.example>"
	headers = _headers(
		number,
		"mailer-daemon@mx.acme.example",
		"Mail Delivery System",
		own,
		"Undelivered Mail Returned to Sender",
		message_id,
	)
	headers += [
		"Return-Path: <>",
		'Content-Type: multipart/report; report-type=delivery-status; boundary="rep"',
	]
	body = (
		"--rep\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
		f"--rep\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.acme.example\n\nFinal-Recipient: rfc822; {parent.sender}\n"
		"Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"
		f"--rep\nContent-Type: text/rfc822-headers\n\nMessage-ID: {parent.message_id}\nSubject: Quote request {parent.number}\n--rep--\n"
	)
	return CorpusMessage(number, "bounce", _join(headers, body), "mailer-daemon@mx.acme.example", message_id)


def _list(number, _sender, _name, own, _parent) -> CorpusMessage:
	message_id = f"<news-{number}@lists.example.net>"
	headers = _headers(
		number, "news@lists.example.net", "Industry News", own, f"Industry newsletter #{number}", message_id
	)
	headers += [
		"Precedence: bulk",
		"List-Id: <industry.lists.example.net>",
		"List-Unsubscribe: <mailto:leave@lists.example.net>",
		'Content-Type: text/plain; charset="utf-8"',
	]
	return CorpusMessage(
		number,
		"list",
		_join(headers, "This week in the industry...\n" * 20),
		"news@lists.example.net",
		message_id,
	)


def _web_relay(number, sender, name, own, _parent) -> CorpusMessage:
	message_id = f"<form-{number}@www.acme.example>"
	headers = _headers(number, own, "Website", own, f"Website enquiry {number}", message_id)
	headers += [f"Reply-To: {name} <{sender}>", 'Content-Type: text/plain; charset="utf-8"']
	return CorpusMessage(
		number,
		"web_relay",
		_join(headers, f"Name: {name}\nEmail: {sender}\nMessage: please call me\n"),
		sender,
		message_id,
	)


def _own(number, _sender, _name, own, _parent) -> CorpusMessage:
	message_id = f"<own-{number}@acme.example>"
	headers = _headers(number, own, "Acme Sales", "someone@example.org", f"Our offer {number}", message_id)
	headers.append('Content-Type: text/plain; charset="utf-8"')
	return CorpusMessage(number, "own", _join(headers, "Please find our offer.\n"), own, message_id)


def _poison(number, _sender, _name, _own, _parent) -> CorpusMessage:
	# no header block at all: nothing can be parsed, the bytes must still be kept
	return CorpusMessage(
		number, "poison", b"not a mail " + str(number).encode() + b" \xff\xfe garbage\r\nmore\r\n", "", None
	)


_BUILDERS = {
	"new": _new,
	"reply": _reply,
	"subject_reply": _subject_reply,
	"html_inline": _html_inline,
	"attachment": _attachment,
	"latin1": _latin1,
	"no_message_id": _no_message_id,
	"auto_reply": _auto_reply,
	"bounce": _bounce,
	"list": _list,
	"web_relay": _web_relay,
	"own": _own,
	"poison": _poison,
}

"""Telling people's mail from machines' mail: auto-replies, bounces, list mail and our own sent mail.

The kind decides what the shell may do: our own mail ("own") must never be imported as inbound;
automatic mail (auto_reply, bounce) must never be answered automatically, or two robots will write
to each other forever; list mail is imported but is not a customer waiting. The reasons are in words
for the message's audit trail.

Kinds by precedence: own > bounce > auto_reply > list > normal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from message_center.core.mail_parse import ParsedMail
from message_center.core.mail_threading import Secrets, read_reply_token

MailKind = Literal["normal", "auto_reply", "bounce", "list", "own"]
_PRECEDENCE: tuple[MailKind, ...] = ("own", "bounce", "auto_reply", "list", "normal")

_MAIL_SYSTEM_LOCAL_PARTS = {"mailer-daemon", "mailerdaemon", "mail-daemon", "maildaemon", "postmaster"}
# Exchange sends its non-delivery reports from a system mailbox named like this.
_EXCHANGE_SYSTEM_MAILBOX = re.compile(r"^microsoftexchange[0-9a-f]{32}@")

# Out-of-office subjects of clients that send no Auto-Submitted header, in our users' languages.
_AUTO_REPLY_SUBJECT = re.compile(
	r"^\s*(?:automatic reply|auto(?:matic)?[ -]?(?:reply|response)|out of (?:the )?office|"
	r"automatische antwort|abwesenheitsnotiz|r[ée]ponse automatique|absence du bureau|"
	r"risposta automatica|fuori sede|respuesta autom[áa]tica|fuera de la oficina|"
	r"automatisch antwoord|afwezig)\b",
	re.I,
)
# Bounce subjects only count together with another sign of an automatic sender: a customer may well
# write "Undelivered parcel".
_BOUNCE_SUBJECT = re.compile(
	r"^\s*(?:undeliver(?:able|ed)|delivery status notification|delivery (?:has )?failed|mail delivery failed|"
	r"returned mail|failure notice|non remis|non distribuable|unzustellbar|non recapitabile|"
	r"no se puede entregar|mensaje no entregado)",
	re.I,
)


@dataclass(frozen=True)
class MailClass:
	kind: MailKind
	reasons: tuple[str, ...]  # every rule that matched, in words, e.g. "Auto-Submitted: auto-replied"

	@property
	def is_inbound(self) -> bool:
		"""False for our own sent mail, which must never be imported as a received message."""
		return self.kind != "own"

	@property
	def is_automatic(self) -> bool:
		"""Sent by a machine: never answer it automatically, and no person is waiting on it."""
		return self.kind in ("auto_reply", "bounce")

	@property
	def may_auto_respond(self) -> bool:
		"""Whether an automatic acknowledgement may be sent back (only to ordinary mail from people)."""
		return self.kind == "normal"


def classify_mail(
	parsed: ParsedMail,
	*,
	own_addresses: Iterable[str] = (),
	secret: Secrets | None = None,
	own_domains: Iterable[str] = (),
) -> MailClass:
	"""Classify a parsed mail from its headers and structure.

	own_addresses: our channel addresses (info@, enquiries@); mail from them is our own, unless it is a
	web-form relay (sent from our address with a customer's Reply-To).
	secret: the reply-token secret(s); a Message-ID signed with it was made by make_message_id.
	own_domains: domains used only in our own Message-IDs (the `domain` given to make_message_id).
	"""
	found: dict[MailKind, list[str]] = {kind: [] for kind in _PRECEDENCE}
	_own_rules(parsed, found["own"], own_addresses, secret, own_domains)
	_header_rules(parsed, found)
	_structure_rules(parsed, found)
	for kind in _PRECEDENCE:
		if found[kind]:
			reasons = [reason for matched in _PRECEDENCE for reason in found[matched]]
			return MailClass(kind, tuple(reasons))
	return MailClass("normal", ())


def _value(parsed: ParsedMail, name: str) -> str:
	return (parsed.header(name) or "").strip()


def _own_rules(
	parsed: ParsedMail,
	reasons: list[str],
	own_addresses: Iterable[str],
	secret: Secrets | None,
	own_domains: Iterable[str],
) -> None:
	ours = {address.strip().lower() for address in own_addresses if address}
	message_id = parsed.message_id or ""
	local_part, _, domain = message_id.rpartition("@")
	if secret and local_part and read_reply_token(local_part.split(".", 1)[0], secret) is not None:
		reasons.append("Message-ID was made by us (it carries our signed reply token)")
	elif domain and domain.lower() in {own.strip().lower() for own in own_domains}:
		reasons.append(f"Message-ID carries our own domain {domain.lower()}")
	sender = parsed.sender.address if parsed.sender else ""
	if sender in ours:
		outside = [
			person.address for person in parsed.reply_to if person.address and person.address not in ours
		]
		if not outside:
			reasons.append(f"sender {sender} is one of our own addresses")


def _header_rules(parsed: ParsedMail, found: dict[MailKind, list[str]]) -> None:
	auto_submitted = _value(parsed, "auto-submitted")
	if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
		found["auto_reply"].append(f"Auto-Submitted: {auto_submitted}")
	autoreply = _value(parsed, "x-autoreply")
	if parsed.header("x-autoreply") is not None and autoreply.lower() not in ("no", "false", "0"):
		found["auto_reply"].append(f"X-Autoreply: {autoreply}")
	if parsed.header("x-autorespond") is not None:
		found["auto_reply"].append(f"X-Autorespond: {_value(parsed, 'x-autorespond')}")
	suppress = _value(parsed, "x-auto-response-suppress")
	if suppress and suppress.lower() != "none":
		found["auto_reply"].append(f"X-Auto-Response-Suppress: {suppress}")
	precedence = _value(parsed, "precedence").lower()
	if precedence in ("bulk", "junk", "list"):
		found["list"].append(f"Precedence: {precedence}")
	elif precedence in ("auto_reply", "auto-reply"):
		found["auto_reply"].append(f"Precedence: {precedence}")
	for name, label in (("list-id", "List-Id"), ("list-unsubscribe", "List-Unsubscribe")):
		if parsed.header(name) is not None:
			found["list"].append(f"{label}: {_value(parsed, name)[:120]}")
	generated = _value(parsed, "x-ms-exchange-generated-message-source")
	if generated:
		found["auto_reply"].append(
			f"generated by Exchange (X-MS-Exchange-Generated-Message-Source: {generated})"
		)
	rules_loop = _value(parsed, "x-ms-exchange-inbox-rules-loop")
	if rules_loop:
		found["auto_reply"].append(
			f"sent on by an Exchange inbox rule (X-MS-Exchange-Inbox-Rules-Loop: {rules_loop})"
		)
	failed = _value(parsed, "x-failed-recipients")
	if failed:
		found["bounce"].append(f"X-Failed-Recipients: {failed}")


def _structure_rules(parsed: ParsedMail, found: dict[MailKind, list[str]]) -> None:
	sender = parsed.sender.address if parsed.sender else ""
	sender_is_mail_system = sender.split("@")[0] in _MAIL_SYSTEM_LOCAL_PARTS or bool(
		_EXCHANGE_SYSTEM_MAILBOX.match(sender)
	)
	if sender_is_mail_system:
		found["bounce"].append(f"sender {sender} is a mail system address")

	report_type = parsed.report.report_type if parsed.report else ""
	if parsed.content_type == "multipart/report" or parsed.report is not None:
		if report_type == "delivery-status":
			found["bounce"].append("delivery status report (multipart/report; report-type=delivery-status)")
		elif report_type == "disposition-notification":
			found["auto_reply"].append(
				"read receipt (multipart/report; report-type=disposition-notification)"
			)
		else:
			found["auto_reply"].append(
				f"automatic report (multipart/report; report-type={report_type or 'unknown'})"
			)

	return_paths = parsed.headers.get("return-path", [])
	null_return_path = bool(return_paths) and return_paths[0].replace(" ", "").strip("<>") == ""
	bounce_subject = bool(_BOUNCE_SUBJECT.match(parsed.subject))
	automatic_sign = (
		null_return_path or sender_is_mail_system or any(found[kind] for kind in ("auto_reply", "bounce"))
	)
	if null_return_path:
		kind: MailKind = "bounce" if bounce_subject or sender_is_mail_system else "auto_reply"
		found[kind].append("null Return-Path (<>): sent by an automatic system")
	if bounce_subject and automatic_sign:
		found["bounce"].append(f"subject reads as a delivery failure: {parsed.subject[:80]!r}")
	if _AUTO_REPLY_SUBJECT.match(parsed.subject):
		found["auto_reply"].append(f"subject reads as an automatic reply: {parsed.subject[:80]!r}")

"""Which conversation a received mail belongs to, and whether we have stored it already.

Threading looks, in this order, at In-Reply-To, at References (newest first), at the reply token we
put into our own Message-IDs and subjects, and at last at the normalised subject from the same person
within a time window. The database lookups are behind the ThreadIndex protocol, which the Frappe
shell implements with queries; everything here is pure.

Reply tokens are "mc1-<conversation id in base32>-<HMAC>" : they carry the conversation id, so a
token can be checked without a table, and a forged or altered one fails the HMAC.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as random_tokens
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from message_center.core.mail_identity import MessageIdentity, normalise_message_id
from message_center.core.mail_identity import message_identity as _identity_of_raw

if TYPE_CHECKING:
	from message_center.core.mail_parse import ParsedMail

ThreadMethod = Literal["in_reply_to", "references", "token", "subject"]
Secrets = str | Sequence[str]  # several while a secret is being rotated: the first one signs

_TOKEN_VERSION = "mc1"
_SIGNATURE_BYTES = 8  # 64 bits: forging needs ~2^63 tries, each one a mail sent to us
_TOKEN = re.compile(r"(?<![a-z0-9])mc1-([a-z2-7]{1,400})-([a-z2-7]{13})(?![a-z0-9])", re.I)
_MAX_REFERENCES = 30  # newest first; older ones add nothing but queries

# Reply and forward markers in the languages our users' correspondents write in, each followed by an
# optional counter (Re[2]:, RE(3):, Re^2:) and a colon, half- or full-width.
_REPLY_PREFIX = re.compile(
	r"^\s*(?:re|aw|sv|vs|antw|antwort|odp|ynt|rif|r|rv|res|fwd?|wg|tr|trs|enc|i|pd|fs|vl|doorst|"
	r"r[ée]f|回复|回覆|答复|转发|轉寄|返信|転送|ответ|отв)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*\.?\s*[:：]\s*",
	re.I,
)
_LEADING_TAG = re.compile(r"^\s*\[[^\[\]]{1,40}\]\s*")
_TOKEN_TAG = re.compile(r"\s*\[#?mc1-[a-z2-7]+-[a-z2-7]+\]", re.I)


# --- Reply tokens ------------------------------------------------------------------------------


def make_reply_token(conversation_id: str, secret: Secrets) -> str:
	"""A short signed token naming the conversation; safe in a Message-ID local part and in a subject."""
	secrets = _signing_secrets(secret)
	if not secrets:
		raise ValueError("a reply token secret is required")
	encoded = base64.b32encode(conversation_id.encode("utf-8")).decode("ascii").rstrip("=").lower()
	return f"{_TOKEN_VERSION}-{encoded}-{_signature(conversation_id, secrets[0])}"


def read_reply_token(token: str, secret: Secrets) -> str | None:
	"""The conversation id a token names, or None when it is malformed or its signature is wrong."""
	match = _TOKEN.fullmatch(token.strip()) if token else None
	if match is None:
		return None
	encoded, signature = match.group(1).upper(), match.group(2).lower()
	try:
		conversation_id = base64.b32decode(encoded + "=" * (-len(encoded) % 8)).decode("utf-8")
	except (binascii.Error, ValueError):
		return None
	for candidate in _signing_secrets(secret):
		if hmac.compare_digest(signature, _signature(conversation_id, candidate)):
			return conversation_id
	return None


def make_message_id(conversation_id: str, secret: Secrets, domain: str) -> str:
	"""A Message-ID header value (with angle brackets) for our outgoing mail, carrying the reply token
	so that replies thread even when the client drops In-Reply-To and References."""
	domain = domain.strip().strip(".").lower()
	if not re.fullmatch(r"[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?", domain):
		raise ValueError(f"not a usable Message-ID domain: {domain!r}")
	return f"<{make_reply_token(conversation_id, secret)}.{random_tokens.token_hex(6)}@{domain}>"


def tag_subject(subject: str, token: str) -> str:
	"""The subject with the token appended as "[#token]" (once), for clients that drop headers."""
	if token.lower() in subject.lower():
		return subject
	return f"{subject.rstrip()} [#{token}]"


def extract_reply_token(parsed: ParsedMail, secret: Secrets) -> str | None:
	"""The first validly signed token in In-Reply-To, References (newest first), the original of a
	delivery report, or the subject. Forged and altered tokens are ignored."""
	for text in _token_sources(parsed):
		for match in _TOKEN.finditer(text or ""):
			if read_reply_token(match.group(0), secret) is not None:
				return match.group(0).lower()
	return None


def _token_sources(parsed: ParsedMail) -> list[str]:
	sources = [parsed.in_reply_to or "", *reversed(parsed.references)]
	if parsed.report is not None and parsed.report.original_message_id:
		sources.append(parsed.report.original_message_id)
	return [*sources, parsed.subject]


def _signing_secrets(secret: Secrets) -> list[str]:
	"""The usable secrets, the signing one first; empty when none was configured."""
	return (
		[secret]
		if isinstance(secret, str) and secret
		else [value for value in secret or () if value and isinstance(value, str)]
	)


def _signature(conversation_id: str, secret: str) -> str:
	digest = hmac.new(
		secret.encode("utf-8"),
		b"message-center reply token\x00" + conversation_id.encode("utf-8"),
		hashlib.sha256,
	).digest()
	return base64.b32encode(digest[:_SIGNATURE_BYTES]).decode("ascii").rstrip("=").lower()


# --- Subjects ----------------------------------------------------------------------------------


def normalise_subject(subject: str, *, strip_tags: bool = True) -> str:
	"""The subject as threading compares it: reply/forward prefixes in many languages, leading list
	tags such as "[info]" (optional) and our "[#token]" removed; case, width and spacing folded."""
	text = unicodedata.normalize("NFKC", subject or "")
	text = _TOKEN_TAG.sub("", text)
	while True:
		shorter = _REPLY_PREFIX.sub("", text, count=1)
		if strip_tags:
			shorter = _LEADING_TAG.sub("", shorter, count=1)
		if shorter == text:
			break
		text = shorter
	return " ".join(text.split()).casefold()


# --- Threading ---------------------------------------------------------------------------------


class ThreadIndex(Protocol):
	"""What find_thread needs from the database. Each method returns a conversation id or None."""

	def by_message_ids(self, message_id_keys: Sequence[str]) -> str | None:
		"""The conversation of a stored message whose message_id_key is in the list; when several are
		known, the one earliest in the list wins (find_thread passes them newest first)."""
		...

	def by_token(self, token: str) -> str | None:
		"""The conversation a verified reply token names (read_reply_token gives its id), if it still
		exists; a merged conversation should answer with the one it was merged into."""
		...

	def by_subject_and_participant(
		self, normalised_subject: str, participant_address: str, since: datetime
	) -> str | None:
		"""The most recently active conversation with this normalise_subject() value, in which this
		address took part, with activity at or after `since`."""
		...


@dataclass(frozen=True)
class ThreadMatch:
	conversation_id: str | None
	method: ThreadMethod | None
	matched_on: str | None = None  # the In-Reply-To id, token or subject that matched (None for references)


def find_thread(
	parsed: ParsedMail,
	index: ThreadIndex,
	*,
	secret: Secrets,
	now: datetime,
	window: timedelta,
	own_addresses: Iterable[str] = (),
) -> ThreadMatch:
	"""The conversation a received mail continues, or ThreadMatch(None, None) for a new one.

	own_addresses (our channel addresses) are never used as the participant of a subject match:
	every conversation has them.
	"""
	own_key = message_id_key(parsed.message_id) if parsed.message_id else None
	in_reply_to_key = message_id_key(parsed.in_reply_to) if parsed.in_reply_to else None
	if in_reply_to_key and in_reply_to_key != own_key and (found := index.by_message_ids([in_reply_to_key])):
		return ThreadMatch(found, "in_reply_to", parsed.in_reply_to)

	referenced = list(reversed(parsed.references))[:_MAX_REFERENCES]
	if parsed.report is not None and parsed.report.original_message_id:
		referenced.append(parsed.report.original_message_id)  # a bounce points at what it returns
	keys = [key for key in dict.fromkeys(map(message_id_key, referenced)) if key and key != own_key]
	if keys and (found := index.by_message_ids(keys)):
		return ThreadMatch(found, "references", None)

	token = extract_reply_token(parsed, secret)
	if token and (found := index.by_token(token)):
		return ThreadMatch(found, "token", token)

	subject = normalise_subject(parsed.subject)
	if subject:
		ours = {address.lower() for address in own_addresses}
		people = ([parsed.sender] if parsed.sender else []) + list(parsed.reply_to)
		for address in dict.fromkeys(person.address for person in people if person.address):
			if address not in ours and (
				found := index.by_subject_and_participant(subject, address, now - window)
			):
				return ThreadMatch(found, "subject", subject)
	return ThreadMatch(None, None, None)


# --- Identity ----------------------------------------------------------------------------------


def message_id_key(message_id: str) -> str | None:
	"""How a Message-ID is stored and looked up, as mail_identity keys it ("<id>", hashed when too long
	for an indexed column), or None when it holds no usable id. ThreadIndex.by_message_ids receives
	these keys, so the shell can look them up in the column the import dedupes on."""
	return normalise_message_id(message_id)


def message_identity(raw: bytes, parsed: ParsedMail | None = None) -> MessageIdentity:
	"""mail_identity.message_identity, the one identity the IMAP import dedupes on: the Message-ID key
	(or "sha256:<content hash>" without one) and a content hash that ignores transport headers.

	`parsed` is accepted for callers that have it, and deliberately unused: the identity must come
	out the same whether or not the mail could be parsed. Never raises.
	"""
	try:
		return _identity_of_raw(bytes(raw or b""))
	except Exception:  # documented never to raise; keep that promise even for a future regression
		content_hash = hashlib.sha256(bytes(raw or b"")).hexdigest()
		return MessageIdentity(f"sha256:{content_hash}", content_hash)

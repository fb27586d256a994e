"""Inbox search text: what a conversation is found by, and how a typed query becomes a FULLTEXT query.

The shell keeps one row per conversation (names, addresses, subject, recent message text) under a
MariaDB FULLTEXT index and asks it with `boolean_query()`, so a keystroke costs an index lookup
instead of a scan of every message. InnoDB indexes words of 3+ characters split at punctuation,
so phone numbers are stored in the forms people type (with country code, national, last 7 digits)
and the query keeps only words the index can answer.
"""

from __future__ import annotations

import re

import phonenumbers

from message_center.core.phone import SUFFIX_LENGTH, digits_only, parse_number

# InnoDB's default innodb_ft_min_token_size: shorter words are not in the index.
MIN_WORD_LENGTH = 3
# InnoDB's default stopwords (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD) of 3+ letters: a required
# stopword, even as a prefix ("+com*"), makes a BOOLEAN MODE query match nothing, so they are left out.
STOPWORDS = frozenset(
	"about are com for from how that the this was what when where who will with und www".split()
)
# Message text kept per conversation: enough for every recent message, bounded for the index.
BODY_LIMIT = 20_000

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def phone_forms(address: str | None) -> list[str]:
	"""The digit strings a phone number is typed as: E.164 digits, national number, last 7 digits."""
	digits = digits_only(address)
	if len(digits) < SUFFIX_LENGTH:
		return []
	forms = [digits]
	number = parse_number(address if (address or "").startswith("+") else "+" + digits, None, strict=False)
	if number is not None:
		forms.append(str(number.national_number))
		national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
		forms.extend(digits_only(part) for part in re.split(r"[\s\-()]+", national) if len(digits_only(part)) >= MIN_WORD_LENGTH)
	forms.append(digits[-SUFFIX_LENGTH:])
	return list(dict.fromkeys(form for form in forms if form))


def header_text(*, name: str, party_name: str | None, party_address: str | None, subject: str | None, other_names=()) -> str:
	"""Everything a conversation is looked up by, other than message text."""
	parts = [name, party_name or "", party_address or "", subject or "", *[other or "" for other in other_names]]
	if party_address and "@" not in party_address:
		parts.extend(phone_forms(party_address))
	return _SPACES.sub(" ", " ".join(parts)).strip()


def append_body(existing: str | None, text: str, limit: int = BODY_LIMIT) -> str:
	"""Existing body text plus a new message, keeping the most recent `limit` characters."""
	combined = f"{existing or ''} {_SPACES.sub(' ', text or '')}".strip()
	return combined[-limit:] if len(combined) > limit else combined


def query_words(text: str | None) -> list[str]:
	"""The words of a typed query the index can answer, in order, without duplicates."""
	words = []
	for word in _WORD.findall((text or "").lower()):
		if len(word) >= MIN_WORD_LENGTH and word not in STOPWORDS and word not in words:
			words.append(word)
	return words


def boolean_query(text: str | None) -> str | None:
	"""A BOOLEAN MODE query requiring every usable word as a prefix ("+mar* +exa*"), or None when
	the text has no word the index can answer (the caller then searches names and addresses only)."""
	words = query_words(text)
	if not words:
		return None
	return " ".join(f"+{word}*" for word in words)


def like_pattern(text: str | None) -> str | None:
	"""A LIKE prefix pattern for a short query the FULLTEXT index cannot answer ("al" → "al%")."""
	cleaned = (text or "").strip().replace("\\", "").replace("%", "").replace("_", "")
	return f"{cleaned}%" if cleaned else None

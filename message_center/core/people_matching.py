"""Who wrote to us: ranking the Contacts, Leads and Customers an enquiry may come from.

An exact email address outranks everything, then an exact phone number (compared in E.164), then
the similarity of names and companies (accents, case and legal forms such as "GmbH" ignored). Only
an unambiguous exact match is linked automatically; everything else is offered to the agent as a
suggestion with its reasons in words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

from message_center.core.phone import normalise_e164

NAME_THRESHOLD = 0.75  # below this two names are different people, not a typo or a reordering
COMPANY_THRESHOLD = 0.85

# Legal forms and filler that say nothing about which company it is.
_COMPANY_NOISE = {
	"ab", "ag", "aps", "as", "bv", "co", "company", "corp", "corporation", "eg", "gmbh", "inc",
	"ev", "kg", "kgaa", "limited", "llc", "llp", "ltd", "mbh", "nv", "ohg", "oy", "plc", "pty", "sa",
	"sarl", "sas", "sl", "spa", "srl", "the", "ug",
}  # fmt: skip

# A shared domain says nothing when everybody has an address there.
_PUBLIC_MAIL_DOMAINS = {
	"163.com", "aol.com", "free.fr", "gmail.com", "gmx.at", "gmx.de", "gmx.net", "googlemail.com",
	"hotmail.co.uk", "hotmail.com", "hotmail.fr", "hotmail.it", "icloud.com", "libero.it", "live.com",
	"mac.com", "mail.ru", "me.com", "msn.com", "orange.fr", "outlook.com", "outlook.fr", "proton.me",
	"protonmail.com", "qq.com", "sfr.fr", "t-online.de", "tiscali.it", "virgilio.it", "wanadoo.fr",
	"web.de", "yahoo.co.uk", "yahoo.com", "yahoo.es", "yahoo.fr", "yahoo.it", "yandex.ru",
}  # fmt: skip


@dataclass(frozen=True)
class SenderDetails:
	"""What an enquiry tells us about its author."""

	email: str | None = None
	phone: str | None = None  # E.164 preferred; free text is normalised with the same normaliser
	name: str | None = None
	company: str | None = None


@dataclass(frozen=True)
class Candidate:
	doctype: str  # "Contact", "Lead", "Customer", ...
	name: str  # the document name (its id)
	display_name: str = ""  # the person's or customer's name as shown
	emails: Sequence[str] = ()
	phones: Sequence[str] = ()  # E.164 or free text
	company: str | None = None  # the organisation: a Lead's company_name, a Customer's customer_name


@dataclass(frozen=True)
class Suggestion:
	doctype: str
	name: str
	display_name: str
	score: float  # 0–100; exact email > exact phone > similarity, whatever the similarity
	reasons: tuple[str, ...]  # e.g. ("same email", "similar name (0.91)")
	same_email: bool
	same_phone: bool


def rank_candidates(
	known: SenderDetails,
	candidates: Iterable[Candidate],
	*,
	normalise_phone: Callable[[str], str | None] | None = None,
	default_region: str | None = None,
	limit: int = 10,
) -> list[Suggestion]:
	"""Candidates that may be the sender, best first; unrelated candidates are left out.

	normalise_phone turns a stored phone into E.164; the default is phone.normalise_e164 with
	default_region, accepting any plausible number (stored numbers may predate new ranges).
	"""
	normalise = normalise_phone or (lambda phone: normalise_e164(phone, default_region, strict=False))
	email = _normalise_email(known.email)
	phone = _safe_normalise(normalise, known.phone) if known.phone else None
	suggestions = [
		suggestion
		for candidate in candidates
		if (suggestion := _score(candidate, email, phone, known.name, known.company, normalise)) is not None
	]
	suggestions.sort(key=lambda suggestion: (-suggestion.score, suggestion.doctype, suggestion.name))
	return suggestions[:limit]


def auto_link(
	suggestions: Sequence[Suggestion],
	*,
	by: Literal["email", "phone"] = "email",
	doctype_priority: Sequence[str] = ("Contact", "Lead", "Customer"),
) -> Suggestion | None:
	"""The one suggestion to link without asking: the single exact email match (mail) or exact phone
	match (SMS, calls), or None when there is none or it is ambiguous.

	Doctypes are tried in doctype_priority order, so a Contact wins over the Lead it was converted
	from; two matches of the same doctype are ambiguous. Pass doctype_priority=() to require a single
	exact match across all doctypes.
	"""
	exact = [
		suggestion
		for suggestion in suggestions
		if (suggestion.same_email if by == "email" else suggestion.same_phone)
	]
	ranked_doctypes = [[doctype] for doctype in doctype_priority]
	others = [suggestion.doctype for suggestion in exact if suggestion.doctype not in doctype_priority]
	levels = (
		[*ranked_doctypes, list(dict.fromkeys(others))] if doctype_priority else [list(dict.fromkeys(others))]
	)
	for doctypes in levels:
		matches = [suggestion for suggestion in exact if suggestion.doctype in doctypes]
		if len(matches) == 1:
			return matches[0]
		if len(matches) > 1:
			return None
	return None


def name_similarity(first: str | None, second: str | None) -> float:
	"""0–1, ignoring accents, case, punctuation and word order ("Müller, Hans" ~ "hans muller")."""
	return _similarity(_fold(first), _fold(second))


def company_similarity(first: str | None, second: str | None) -> float:
	"""Like name_similarity, also ignoring legal forms ("ACME S.p.A." ~ "Acme")."""
	return _similarity(_company_key(first), _company_key(second))


def _score(
	candidate: Candidate,
	email: str | None,
	phone: str | None,
	name: str | None,
	company: str | None,
	normalise: Callable[[str], str | None],
) -> Suggestion | None:
	candidate_emails = {_normalise_email(address) for address in candidate.emails} - {None}
	same_email = email is not None and email in candidate_emails
	same_phone = phone is not None and any(
		_safe_normalise(normalise, number) == phone for number in candidate.phones
	)
	reasons = [
		reason for reason, matched in (("same email", same_email), ("same phone", same_phone)) if matched
	]

	name_score = _similar(name, candidate.display_name, _fold, NAME_THRESHOLD)
	if name_score:
		reasons.append("same name" if name_score >= 0.995 else f"similar name ({name_score:.2f})")
	company_score = _similar(company, candidate.company, _company_key, COMPANY_THRESHOLD)
	if company_score:
		reasons.append("same company" if company_score >= 0.995 else f"similar company ({company_score:.2f})")
	domain = _shared_company_domain(email, candidate_emails) if not same_email else None
	if domain:
		reasons.append(f"same email domain ({domain})")

	secondary = 0.65 * name_score + 0.35 * max(company_score, 0.9 if domain else 0.0)
	if same_email and same_phone:
		score = 90 + 10 * secondary
	elif same_email:
		score = 80 + 10 * secondary
	elif same_phone:
		score = 60 + 15 * secondary
	elif secondary > 0:
		score = 55 * secondary
	else:
		return None
	return Suggestion(
		doctype=candidate.doctype,
		name=candidate.name,
		display_name=candidate.display_name,
		score=round(score, 2),
		reasons=tuple(reasons),
		same_email=same_email,
		same_phone=same_phone,
	)


def _safe_normalise(normalise: Callable[[str], str | None], phone: str) -> str | None:
	try:
		return normalise(phone) if phone else None
	except Exception:  # a shell-supplied normaliser must not break the ranking over one odd number
		return None


def _normalise_email(address: str | None) -> str | None:
	text = (address or "").strip().strip("<>").lower().removeprefix("mailto:")
	return text if "@" in text else None


def _shared_company_domain(email: str | None, candidate_emails: set[str]) -> str | None:
	if not email:
		return None
	domain = email.rpartition("@")[2]
	if domain in _PUBLIC_MAIL_DOMAINS:
		return None
	return domain if any(address.rpartition("@")[2] == domain for address in candidate_emails) else None


@lru_cache(maxsize=4096)  # the same people's names are folded again for every sender ranked
def _fold(text: str | None) -> str:
	decomposed = unicodedata.normalize("NFKD", text or "")
	without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
	return " ".join(re.sub(r"[\W_]+", " ", without_accents.casefold()).split())


def _company_key(text: str | None) -> str:
	words = _fold(re.sub(r"(?<=\w)\.(?=\w)", "", text or "")).split()  # "S.p.A." -> "spa"
	meaningful = [word for word in words if word not in _COMPANY_NOISE]
	return " ".join(meaningful or words)


def _similar(first: str | None, second: str | None, key: Callable[[str], str], threshold: float) -> float:
	"""How alike the two are once keyed, or 0 when either is missing or they are less alike than threshold."""
	return _similarity(key(first), key(second), at_least=threshold) if first and second else 0.0


@lru_cache(maxsize=65536)  # a sender writing again is ranked against the same people
def _similarity(first: str, second: str, *, at_least: float = 0.0) -> float:
	"""The better of the two orders' ratios; 0 when it is below at_least (decided on upper bounds of
	ratio before the costly ratio itself: the length ratio, then quick_ratio, which the word-sorted
	pair shares with the pair as given, since sorting words keeps every character)."""
	if not first or not second:
		return 0.0
	if first == second:
		return 1.0
	resorted = (" ".join(sorted(first.split())), " ".join(sorted(second.split())))
	if (len(resorted[0]), len(resorted[1])) != (len(first), len(second)):  # spacing not normalised
		return _similarity_of_both_orders(first, second, resorted, at_least)
	total = len(first) + len(second)
	if 2.0 * min(len(first), len(second)) / total < at_least:
		return 0.0
	upper = 2.0 * sum((Counter(first) & Counter(second)).values()) / total  # SequenceMatcher.quick_ratio
	if upper < at_least:
		return 0.0
	# The matching blocks behind ratio form a common subsequence, so 2 * LCS / total bounds it too,
	# far more tightly than quick_ratio for two different names spelt with much the same letters.
	best = 0.0
	if 2.0 * _common_subsequence_length(first, second) / total >= at_least:
		best = SequenceMatcher(None, first, second).ratio()
	# the word-sorted pair can only matter if it may reach at_least and beat best
	if (
		resorted != (first, second)
		and upper >= at_least
		and upper > best
		and (bound := 2.0 * _common_subsequence_length(*resorted) / total) >= at_least
		and bound > best
	):
		best = max(best, SequenceMatcher(None, *resorted).ratio())
	return best if best >= at_least else 0.0


def _common_subsequence_length(first: str, second: str) -> int:
	"""Length of the longest common subsequence (bit-parallel, Hyyrö 2004)."""
	masks: dict[str, int] = {}
	for position, char in enumerate(first):
		masks[char] = masks.get(char, 0) | 1 << position
	full = (1 << len(first)) - 1
	row = full
	for char in second:
		matched = row & masks.get(char, 0)
		row = ((row + matched) | (row - matched)) & full
	return len(first) - row.bit_count()


def _similarity_of_both_orders(first: str, second: str, resorted: tuple[str, str], at_least: float) -> float:
	best = 0.0
	for pair in ((first, second), resorted):
		matcher = SequenceMatcher(None, *pair)
		if matcher.quick_ratio() >= max(at_least, best):
			best = max(best, matcher.ratio())
	return best if best >= at_least else 0.0

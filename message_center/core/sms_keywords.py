"""Twilio's standard opt-out, opt-in and help keywords.

Twilio acts on these itself (it blocks further messages after STOP and answers HELP), so the inbox
must record the same decision: a message matches only when the whole body is the keyword, ignoring
case, surrounding whitespace and surrounding punctuation. "Stop!" opts out; "please stop" does not.
"""

import unicodedata
from dataclasses import dataclass
from typing import Literal

KeywordAction = Literal["opt_out", "opt_in", "help", "none"]

OPT_OUT: KeywordAction = "opt_out"
OPT_IN: KeywordAction = "opt_in"
HELP: KeywordAction = "help"
NONE: KeywordAction = "none"

OPT_OUT_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
OPT_IN_KEYWORDS = ("START", "UNSTOP", "YES")
HELP_KEYWORDS = ("HELP", "INFO")

KEYWORD_ACTIONS: dict[str, KeywordAction] = {
	**{keyword: OPT_OUT for keyword in OPT_OUT_KEYWORDS},
	**{keyword: OPT_IN for keyword in OPT_IN_KEYWORDS},
	**{keyword: HELP for keyword in HELP_KEYWORDS},
}


@dataclass(frozen=True)
class KeywordMatch:
	action: KeywordAction
	keyword: str | None  # the canonical keyword, e.g. "STOP", or None when action is "none"

	@property
	def is_keyword(self) -> bool:
		return self.action != NONE


def _is_trimmable(character: str) -> bool:
	# Punctuation (P*), separators/whitespace (Z*) and control characters (C*, e.g. newlines and
	# zero-width marks) around the word do not change what the sender meant.
	return unicodedata.category(character)[0] in "PZC"


def normalise_keyword_text(body: str) -> str:
	"""Upper-case body with surrounding whitespace and punctuation removed (inner text untouched)."""
	# NFKC folds full-width and compatibility forms ("ＳＴＯＰ") onto plain letters.
	text = unicodedata.normalize("NFKC", body or "")
	start, end = 0, len(text)
	while start < end and _is_trimmable(text[start]):
		start += 1
	while end > start and _is_trimmable(text[end - 1]):
		end -= 1
	return text[start:end].upper()


def match_keyword(body: str | None) -> KeywordMatch:
	"""Classify an inbound SMS body as opt-out, opt-in, help or an ordinary message."""
	candidate = normalise_keyword_text(body or "")
	action = KEYWORD_ACTIONS.get(candidate)
	if action is None:
		return KeywordMatch(action=NONE, keyword=None)
	return KeywordMatch(action=action, keyword=candidate)

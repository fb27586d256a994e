import pytest

from message_center.core.sms_keywords import (
	HELP,
	NONE,
	OPT_IN,
	OPT_OUT,
	KeywordMatch,
	match_keyword,
)

KEYWORD_TABLE = [
	("STOP", OPT_OUT),
	("STOPALL", OPT_OUT),
	("UNSUBSCRIBE", OPT_OUT),
	("CANCEL", OPT_OUT),
	("END", OPT_OUT),
	("QUIT", OPT_OUT),
	("REVOKE", OPT_OUT),
	("OPTOUT", OPT_OUT),
	("START", OPT_IN),
	("UNSTOP", OPT_IN),
	("YES", OPT_IN),
	("HELP", HELP),
	("INFO", HELP),
]


@pytest.mark.parametrize(("keyword", "action"), KEYWORD_TABLE)
def test_every_keyword_in_every_case(keyword, action):
	for variant in (keyword, keyword.lower(), keyword.capitalize(), keyword.swapcase()):
		assert match_keyword(variant) == KeywordMatch(action=action, keyword=keyword)


@pytest.mark.parametrize(("keyword", "action"), KEYWORD_TABLE)
@pytest.mark.parametrize(
	"template", ["{}!", " {}. ", "{}\n", '"{}"', "...{}?!", "\t{}\r\n", "({})", "{}\u200b"]
)
def test_surrounding_whitespace_and_punctuation_are_ignored(keyword, action, template):
	assert match_keyword(template.format(keyword.lower())).action == action


@pytest.mark.parametrize(
	("body", "expected"),
	[
		("Stop!", KeywordMatch(OPT_OUT, "STOP")),
		(" stop. ", KeywordMatch(OPT_OUT, "STOP")),
		("ＳＴＯＰ", KeywordMatch(OPT_OUT, "STOP")),  # full-width letters from some keyboards
		("Help?", KeywordMatch(HELP, "HELP")),
		("yes!!!", KeywordMatch(OPT_IN, "YES")),
	],
)
def test_common_variants(body, expected):
	assert match_keyword(body) == expected


@pytest.mark.parametrize(
	"body",
	[
		"please stop texting me",
		"stop it",
		"Stop, who is this?",
		"STOP STOP",
		"stopp",
		"s top",
		"nonstop",
		"Yes please",
		"yes, Tuesday works",
		"I need help with my order",
		"more info",
		"the end",
		"",
		"   ",
		"!!!",
		None,
	],
)
def test_sentences_are_not_keywords(body):
	match = match_keyword(body)
	assert match.action == NONE
	assert match.keyword is None
	assert not match.is_keyword

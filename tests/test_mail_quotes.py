"""The reply-header search of core.mail_quotes gives exactly the library's own result, faster."""

from pathlib import Path

import pytest
from mailparser_reply.parser import EmailMessage

from message_center.core import mail_quotes
from message_center.core.mail_parse import parse_mail
from message_center.testing.mail_corpus import build_corpus

SAMPLES = Path(__file__).parent / "mail_samples"

HEADERS = [
	"Hi\n\nOn Mon, 3 Jun 2024 at 10:00, Ana <a@b.es> wrote:\n> hello",
	"Hej\n-----Oprindelig meddelelse-----\nFra: x\nSendt: y\nTil: z\n\nold",
	"Tak. -----Oprindelig meddelelse-----\nFra: x\nSendt: y\nTil: z\n\nold",
	"Danke\n\nVon: a\nGesendet: b\nAn: c\nBetreff: d\n\nalt",
	"Merci\n\nLe lun. 3 juin 2024 à 10:00, Ana a écrit :\n> x",
	"好的\n2024年6月3日 10:00 Ana 写道：\n> x",
	"Ano\nDne 3. 6. 2024 v 10:00 Ana napsal(a):\n> x",
	"Fine\n-----Original Message-----\nFrom: a\nSent: b\nTo: c\n\nold",
	"\n\n\nFrom: a\nTo: b\n",
	"Yes\n> From: a\n> Sent: b\n> To: c\n",
	"no header at all\njust text: with a colon\n",
	"",
]


def _texts() -> list[str]:
	corpus = build_corpus(400, own_address="info@acme.example")
	texts = [parse_mail(message.raw, max_attachment_bytes=10**7).text for message in corpus.messages]
	for path in sorted(SAMPLES.glob("*.eml")):
		texts.append(parse_mail(path.read_bytes(), max_attachment_bytes=10**7).text)
	return [text for text in texts if text] + HEADERS


def _replies(message_class, text: str) -> list[tuple]:
	languages = list(mail_quotes._REPLY_LANGUAGES)
	message = message_class(text=text, languages=languages, keep_hyphen_lists=True)
	replies = message.read().replies
	return [(reply.content, reply.headers, reply.signatures, reply.disclaimers) for reply in replies]


@pytest.mark.parametrize("text", _texts())
def test_header_search_from_line_starts_equals_the_library(text):
	assert _replies(mail_quotes._EmailMessage, text) == _replies(EmailMessage, text)

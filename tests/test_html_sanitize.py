import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from message_center.core.html_sanitize import html_to_text, sanitize_html

ALLOWED_URL_PREFIXES = ("http:", "https:", "mailto:", "tel:", "cid:", "data:image/")
FORBIDDEN_TAGS = {
	"script",
	"style",
	"iframe",
	"frame",
	"object",
	"embed",
	"form",
	"input",
	"button",
	"base",
	"meta",
	"link",
	"svg",
	"math",
	"textarea",
	"select",
}


class _Inventory(HTMLParser):
	def __init__(self) -> None:
		super().__init__(convert_charrefs=True)
		self.tags: list[tuple[str, dict]] = []

	def handle_starttag(self, tag, attrs):
		self.tags.append((tag, dict(attrs)))

	handle_startendtag = handle_starttag


def inventory(html: str) -> list[tuple[str, dict]]:
	parser = _Inventory()
	parser.feed(html)
	parser.close()
	return parser.tags


def assert_safe(cleaned: str) -> None:
	for tag, attributes in inventory(cleaned):
		assert tag not in FORBIDDEN_TAGS, cleaned
		for name, value in attributes.items():
			assert not name.startswith("on"), cleaned
			assert name not in ("id", "name", "class", "srcset", "formaction", "action", "background"), (
				cleaned
			)
			if name in ("href", "src"):
				compact = re.sub(r"[\x00-\x20]", "", value or "").lower()
				assert compact.startswith(ALLOWED_URL_PREFIXES), cleaned
				assert not compact.startswith("data:image/svg"), cleaned
			if name == "style":
				assert not re.search(
					r"expression|url\(|javascript|position|behavior|binding", value or "", re.I
				), cleaned
	assert "<script" not in cleaned.lower()  # as text it would be escaped: "&lt;script"


# Payloads from the usual XSS filter evasion lists, and the ones seen in phishing mail.
XSS_PAYLOADS = [
	"<script>alert(1)</script>",
	"<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
	"<IMG SRC=\"javascript:alert('XSS');\">",
	"<IMG SRC=JaVaScRiPt:alert('XSS')>",
	"<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
	'<a onmouseover="alert(document.cookie)">xxs link</a>',
	'<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
	'<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
	"<img src=x onerror=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
	"<IMG SRC=\"jav\tascript:alert('XSS');\">",
	"<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
	"<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
	'<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>',
	'<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
	'<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
	"<SCRIPT SRC=http://xss.example/xss.js?< B >",
	"<iframe src=http://xss.example/scriptlet.html <",
	'</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
	'<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
	"<BODY BACKGROUND=\"javascript:alert('XSS')\">",
	"<IMG DYNSRC=\"javascript:alert('XSS')\">",
	"<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
	"<svg/onload=alert('XSS')>",
	'<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
	'<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
	'<META HTTP-EQUIV="refresh" CONTENT="0; URL=http://;URL=javascript:alert(\'XSS\');">',
	"<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TR><TD BACKGROUND=\"javascript:alert('XSS')\">x</TD></TR></TABLE>",
	"<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
	"<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\\0073\\0063\\0072\\0069\\0070\\0074\\003a\\0061\\006c\\0065\\0072\\0074\\0028.1027\\0058.1053\\0053\\0027\\0029'\\0029\">",
	"<DIV STYLE=\"width: expression(alert('XSS'));\">",
	"<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
	"<BASE HREF=\"javascript:alert('XSS');//\">",
	'<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>',
	'<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==" type="image/svg+xml" AllowScriptAccess="always"></EMBED>',
	'<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
	'<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
	'<a href="vbscript:msgbox(1)">vb</a>',
	'<form action="https://phish.example/login"><input name="password" type="password"><button>Sign in</button></form>',
	'<button formaction="javascript:alert(1)">x</button>',
	"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
	'<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
	'<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">entity</a>',
	'<a href="/api/method/logout">relative</a><img src="/api/method/logout">',
	'<a href="//phish.example/x">protocol relative</a>',
	'<div id="frappe" class="btn-primary" name="csrf_token">clobber</div>',
	'<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999">overlay</div>',
	"<details open ontoggle=alert(1)>",
	'<video><source onerror="alert(1)"></video>',
	'<object data="javascript:alert(1)">',
	'<img srcset="javascript:alert(1) 1x">',
	"<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
	"<xml><i><b>&lt;img src=1 onerror=alert(1)&gt;</b></i></xml>",
	"<template><script>alert(1)</script></template>",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_are_neutralised(payload):
	cleaned = sanitize_html(payload)
	assert_safe(cleaned)
	assert "alert(" not in "".join(
		value or "" for _, attributes in inventory(cleaned) for value in attributes.values()
	)


def test_ordinary_formatting_tables_images_and_links_survive():
	source = (
		'<p style="color: #333; font-size: 14px">Dear <b>John</b>, <i>thanks</i>!</p>'
		'<table border="1" cellpadding="4"><tr><th>Item</th><td align="right">20</td></tr></table>'
		"<ul><li>one</li></ul><blockquote>quoted</blockquote>"
		'<img src="https://cdn.example/logo.png" alt="Logo" width="120"><img src="cid:part1@x">'
		'<a href="https://acme.example/quote?id=1&amp;x=2">quote</a> <a href="mailto:info@acme.example">mail</a>'
	)
	cleaned = sanitize_html(source)
	assert '<p style="color:#333;font-size:14px">Dear <b>John</b>, <i>thanks</i>!</p>' in cleaned
	assert '<td align="right">20</td>' in cleaned and '<table border="1" cellpadding="4">' in cleaned
	assert "<li>one</li>" in cleaned and "<blockquote>quoted</blockquote>" in cleaned
	assert 'src="https://cdn.example/logo.png"' in cleaned and 'src="cid:part1@x"' in cleaned
	assert (
		'<a href="https://acme.example/quote?id=1&amp;x=2" target="_blank" rel="noopener noreferrer">quote</a>'
		in cleaned
	)
	assert 'href="mailto:info@acme.example"' in cleaned


def test_links_always_open_in_a_new_tab_without_opener():
	cleaned = sanitize_html('<a href="https://x.example" target="_self" rel="opener">x</a>')
	assert cleaned == '<a href="https://x.example" target="_blank" rel="noopener noreferrer">x</a>'


def test_raster_data_images_are_kept_only_in_img_src():
	png = "data:image/png;base64,iVBORw0KGgo="
	assert f'src="{png}"' in sanitize_html(f'<img src="{png}">')
	assert "href" not in sanitize_html(f'<a href="{png}">x</a>')


def test_style_blocks_and_head_are_removed_with_their_content():
	cleaned = sanitize_html(
		"<html><head><title>T</title><style>body{display:none}</style></head><body><p>Hi</p></body></html>"
	)
	assert cleaned == "<p>Hi</p>"


def test_html_to_text_keeps_the_lines_of_a_plain_text_mail_shown_in_a_pre_wrap_div():
	# how a plain-text mail is stored as HTML; quote stripping needs its lines back
	html = (
		'<div class="mc-plain-text" style="white-space: pre-wrap;">Friday works.\n\n'
		"On Mon, Ann &lt;ann@example.com&gt; wrote:\n&gt; Can you come?</div>"
		'<div><p class="mc-mail-note"><em>A note</em></p></div>'
	)
	assert html_to_text(html) == "Friday works.\n\nOn Mon, Ann <ann@example.com> wrote:\n> Can you come?\nA note"
	assert html_to_text("<div>one\ntwo</div>") == "one two"  # an ordinary div still flows


def test_html_to_text_lays_out_blocks_lists_and_quotes():
	html = (
		"<html><head><style>p{}</style></head><body><p>Hello &amp; welcome</p><div>Line<br>two</div>"
		"<ul><li>one</li><li>two</li></ul><blockquote><p>quoted</p></blockquote><pre>  keep\n  this</pre></body></html>"
	)
	assert html_to_text(html) == "Hello & welcome\n\nLine\ntwo\n\n- one\n- two\n> quoted\n\n  keep\n  this"


HTML_PIECES = st.sampled_from(
	list("<>/=\"' abcxyz:;&#()")
	+ [
		"<script>",
		"</script>",
		"<img ",
		"<a ",
		" href=",
		" src=",
		" onerror=",
		" style=",
		"javascript:",
		"data:",
	]
	+ [
		"<svg",
		"<style>",
		"expression(",
		"url(",
		"<iframe",
		"<!--",
		"-->",
		"&#x6a;",
		"<form",
		"<base ",
		"<meta ",
	]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(HTML_PIECES, max_size=40).map("".join))
def test_sanitized_output_is_safe_for_any_input(fragment):
	cleaned = sanitize_html(fragment)
	for tag, attributes in inventory(cleaned):
		assert tag not in FORBIDDEN_TAGS
		assert not any(name.startswith("on") for name in attributes)
		for name in ("href", "src"):
			if name in attributes:
				assert (
					re.sub(r"[\x00-\x20]", "", attributes[name] or "")
					.lower()
					.startswith(ALLOWED_URL_PREFIXES)
				)
	html_to_text(fragment)  # must not raise either

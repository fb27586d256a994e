"""Making the HTML of a received mail safe to show inside the desk, and turning it into plain text.

The sanitised HTML is rendered in the same page as the desk, so besides the usual XSS vectors it must
not restyle the page (<style> blocks, positioning), reach the desk's own URLs (relative links and
image sources would be requested with the agent's session, e.g. a logout or an API call), or clobber
the DOM (id/name/class attributes). Remote http(s) images are kept: blocking them is a display choice.
"""

from __future__ import annotations

import html as html_module
import re
from html.parser import HTMLParser

import nh3

_ALLOWED_TAGS = {
	"a", "abbr", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite",
	"code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
	"font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
	"pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td",
	"tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
}  # fmt: skip

# Removed together with everything inside them; anything else not allowed keeps its text.
_REMOVED_WITH_CONTENT = {
	"script", "style", "title", "template", "noscript", "iframe", "frame", "frameset", "object",
	"embed", "applet", "svg", "math", "select", "textarea", "button", "head", "xml",
}  # fmt: skip

_PRESENTATION_ATTRIBUTES = {"align", "valign", "bgcolor", "width", "height", "dir", "lang", "title", "style"}

_ALLOWED_ATTRIBUTES = {
	"*": _PRESENTATION_ATTRIBUTES,
	"a": {"href"},
	"img": {"src", "alt", "border", "hspace", "vspace"},
	"table": {"border", "cellpadding", "cellspacing", "summary"},
	"td": {"colspan", "rowspan", "nowrap"},
	"th": {"colspan", "rowspan", "nowrap", "scope"},
	"col": {"span"},
	"colgroup": {"span"},
	"font": {"color", "face", "size"},
	"ol": {"start", "type", "reversed"},
	"ul": {"type"},
	"li": {"value"},
	"hr": {"noshade", "size"},
}

# Layout-affecting properties such as position, z-index or float are left out: a mail must not be
# able to lay itself over the desk's own controls.
_ALLOWED_STYLE_PROPERTIES = {
	"background", "background-color", "border", "border-bottom", "border-bottom-color",
	"border-bottom-style", "border-bottom-width", "border-collapse", "border-color", "border-left",
	"border-left-color", "border-left-style", "border-left-width", "border-radius", "border-right",
	"border-right-color", "border-right-style", "border-right-width", "border-spacing", "border-style",
	"border-top", "border-top-color", "border-top-style", "border-top-width", "border-width", "color",
	"direction", "font", "font-family", "font-size", "font-style", "font-variant", "font-weight",
	"height", "letter-spacing", "line-height", "list-style-type", "margin", "margin-bottom",
	"margin-left", "margin-right", "margin-top", "max-width", "min-width", "padding", "padding-bottom",
	"padding-left", "padding-right", "padding-top", "table-layout", "text-align", "text-decoration",
	"text-indent", "text-transform", "vertical-align", "white-space", "width", "word-break",
	"word-wrap",
}  # fmt: skip

# Values that can run code (old IE expression/behaviour, Mozilla bindings), load URLs (tracking or
# javascript:) or hide either from a naive reader (CSS escapes, comments).
_UNSAFE_STYLE_VALUE = re.compile(
	r"expression|url\s*\(|javascript|vbscript|behavior|binding|@import|\\|/\*|<", re.I
)

_URL_ATTRIBUTES = {"href", "src"}
_SAFE_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
# Raster images only: an SVG data URL is a document of its own.
_SAFE_DATA_IMAGE = re.compile(r"data:image/(?:png|jpe?g|gif|webp|bmp);base64,[a-z0-9+/=\s]*\Z", re.I)
_URL_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.I)
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")  # browsers skip these when reading a scheme


def _safe_url(element: str, attribute: str, value: str) -> str | None:
	compact = _IGNORED_IN_URLS.sub("", value)
	scheme = _URL_SCHEME.match(compact)
	if scheme is None:
		return None  # relative URLs would point into the desk itself
	scheme_name = scheme.group(1).lower()
	if scheme_name in _SAFE_URL_SCHEMES:
		return value.strip()
	if scheme_name == "data" and element == "img" and attribute == "src" and _SAFE_DATA_IMAGE.match(compact):
		return compact
	return None


def _safe_style(value: str) -> str | None:
	declarations = []
	for declaration in value.split(";"):
		name, separator, declared_value = declaration.partition(":")
		name = name.strip().lower()
		if (
			not separator
			or name not in _ALLOWED_STYLE_PROPERTIES
			or _UNSAFE_STYLE_VALUE.search(declared_value)
		):
			continue
		declarations.append(f"{name}:{declared_value.strip()}")
	return ";".join(declarations) or None


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
	if attribute in _URL_ATTRIBUTES:
		return _safe_url(element, attribute, value)
	if attribute == "style":
		return _safe_style(value)
	return value


_cleaner = nh3.Cleaner(
	tags=_ALLOWED_TAGS,
	clean_content_tags=_REMOVED_WITH_CONTENT,
	attributes=_ALLOWED_ATTRIBUTES,
	attribute_filter=_filter_attribute,
	strip_comments=True,  # also drops Outlook's conditional comments
	link_rel="noopener noreferrer",
	set_tag_attribute_values={"a": {"target": "_blank"}, "img": {"referrerpolicy": "no-referrer"}},
	url_schemes=_SAFE_URL_SCHEMES | {"data"},  # data: is narrowed to raster images by _safe_url
	filter_style_properties=_ALLOWED_STYLE_PROPERTIES,
)


def sanitize_html(html: str) -> str:
	"""HTML that is safe to insert into the desk page: formatting, tables, images and links survive;
	scripts, event handlers, forms, frames, <base>, <meta>, <style> and unsafe URLs do not."""
	if not html:
		return ""
	return _cleaner.clean(html)


# --- HTML to plain text -------------------------------------------------------------------------

_BLOCK_TAGS = {
	"address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "figcaption",
	"figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
	"nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead", "tr", "ul",
}  # fmt: skip
_SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript", "xml"}
_VOID_TAGS = {
	"area",
	"base",
	"br",
	"col",
	"embed",
	"hr",
	"img",
	"input",
	"link",
	"meta",
	"source",
	"track",
	"wbr",
}


class _TextExtractor(HTMLParser):
	"""Collects readable text: blocks on their own lines, list items as "- ", and blockquotes
	prefixed with "> " like a plain-text reply, so quote stripping works on HTML-only mail too."""

	def __init__(self) -> None:
		super().__init__(convert_charrefs=True)
		self.lines: list[str] = []
		self.current: list[str] = []
		self.quote_depth = 0
		self.skip_depth = 0
		self.pre_depth = 0
		self.preformatted_divs: list[bool] = []  # per open <div>: does it keep its line breaks?

	def _break(self) -> None:
		line = "".join(self.current)
		if self.pre_depth == 0:
			line = re.sub(r"[ \t\r\n\f\u00a0]+", " ", line).strip()
		self.lines.append(("> " * self.quote_depth) + line if line else "")
		self.current = []

	def handle_starttag(self, tag: str, attrs: list) -> None:
		if tag in _SKIPPED_TAGS:
			if tag not in _VOID_TAGS:
				self.skip_depth += 1
			return
		if tag == "br":
			self._break()
		elif tag in _BLOCK_TAGS:
			if self.current:
				self._break()
			if tag == "blockquote":
				self.quote_depth += 1
			elif tag == "pre":
				self.pre_depth += 1
			elif tag == "div":
				# a plain-text mail shown as HTML: <div style="white-space: pre-wrap">
				style = (dict(attrs).get("style") or "").replace(" ", "").lower()
				preformatted = "white-space:pre" in style
				self.preformatted_divs.append(preformatted)
				self.pre_depth += preformatted
			elif tag == "li":
				self.current.append("- ")
		elif tag in ("td", "th") and self.current:
			self.current.append("\t")

	def handle_endtag(self, tag: str) -> None:
		if tag in _SKIPPED_TAGS:
			self.skip_depth = max(0, self.skip_depth - 1)
			return
		if tag in _BLOCK_TAGS:
			if self.current:
				self._break()
			if tag == "blockquote":
				self.quote_depth = max(0, self.quote_depth - 1)
			elif tag == "pre" or (tag == "div" and self.preformatted_divs and self.preformatted_divs.pop()):
				self.pre_depth = max(0, self.pre_depth - 1)
			elif tag in ("p", "div", "table", "blockquote", "h1", "h2", "h3"):
				self.lines.append("")

	def handle_data(self, data: str) -> None:
		if self.skip_depth:
			return
		if self.pre_depth:
			for index, chunk in enumerate(data.split("\n")):
				if index:
					self._break()
				self.current.append(chunk)
		else:
			self.current.append(data)

	def text(self) -> str:
		if self.current:
			self._break()
		return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in self.lines)).strip()


def html_to_text(html: str) -> str:
	"""Readable plain text of an HTML mail, for mail without a text part and for search."""
	if not html:
		return ""
	extractor = _TextExtractor()
	try:
		extractor.feed(html)
		extractor.close()
		return extractor.text()
	except Exception:  # html.parser has had crash bugs on bogus markup declarations
		stripped = nh3.clean(html, tags=set(), clean_content_tags=_REMOVED_WITH_CONTENT)
		return html_module.unescape(stripped).strip()

"""What a mail carries besides its text: its attachments, kept or skipped with a note for people."""

from __future__ import annotations

import re
from dataclasses import dataclass

from message_center.core.mail_charset import clean_text


@dataclass(frozen=True)
class Attachment:
	filename: str  # safe to use as a file name: no directories, no control characters
	content_type: str
	content: bytes
	size: int
	content_id: str | None  # without angle brackets
	is_inline: bool  # an image the HTML shows through a cid: URL


@dataclass(frozen=True)
class SkippedAttachment:
	filename: str
	content_type: str
	size: int
	note: str  # for people, e.g. "report.pdf (12.3 MB) skipped: larger than the 10 MB limit"


@dataclass
class PendingAttachment:
	filename: str
	content_type: str
	content: bytes
	content_id: str | None

	def finish(self, *, is_inline: bool) -> Attachment:
		return Attachment(
			filename=self.filename,
			content_type=self.content_type,
			content=self.content,
			size=len(self.content),
			content_id=self.content_id,
			is_inline=is_inline and self.content_id is not None,
		)


def format_size(size: int) -> str:
	"""Sizes as people read them: "12.3 MB", "10 MB", "512 KB", "40 bytes"."""
	for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
		if size >= factor:
			return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
	return f"{size} bytes"


def safe_filename(name: str, max_length: int = 150) -> str:
	"""A file name without directories, control characters or leading dots, of reasonable length."""
	name = re.split(r"[\\/]", clean_text(name))[-1]
	name = " ".join(re.sub(r"[\x00-\x1f\x7f]", "", name).split()).strip(". ")
	if len(name) > max_length:
		stem, dot, extension = name.rpartition(".")
		extension = extension if dot and stem and len(extension) <= 10 else ""
		name = name[: max_length - len(extension) - 1].rstrip(". ") + ("." + extension if extension else "")
	return name

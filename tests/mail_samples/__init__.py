"""Raw mail for the core tests: real-looking .eml files in this folder, and a builder for the odd
cases (bogus charsets, broken MIME) that are clearer written next to their test."""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent


def sample(name: str) -> bytes:
	return (SAMPLES_DIR / name).read_bytes()


def all_samples() -> dict[str, bytes]:
	return {path.name: path.read_bytes() for path in sorted(SAMPLES_DIR.glob("*.eml"))}


def build_mail(
	headers: list[tuple[str, str | bytes]], body: bytes = b"Hello\n", *, crlf: bool = False
) -> bytes:
	"""Raw bytes from (name, value) headers and a body; values may be bytes to put 8-bit data in headers."""
	lines = [
		name.encode("ascii") + b": " + (value if isinstance(value, bytes) else value.encode("utf-8"))
		for name, value in headers
	]
	raw = b"\n".join(lines) + b"\n\n" + body
	return raw.replace(b"\n", b"\r\n") if crlf else raw


def simple_headers(**overrides: str | None) -> list[tuple[str, str]]:
	"""The headers of an ordinary mail from a customer to info@, with overrides by lowercase name."""
	headers = {
		"from": "Jane Customer <jane@customer.example>",
		"to": "info@acme.example",
		"subject": "Question about delivery",
		"date": "Wed, 05 Jun 2024 10:00:00 +0200",
		"message-id": "<question-1@customer.example>",
		"mime-version": "1.0",
		"content-type": 'text/plain; charset="utf-8"',
	}
	headers.update({name.replace("_", "-"): value for name, value in overrides.items()})
	return [
		(name.title() if name != "message-id" else "Message-ID", value)
		for name, value in headers.items()
		if value is not None
	]

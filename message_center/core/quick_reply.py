"""Quick replies: short canned texts written as Jinja templates over a small, safe context.

Templates render in Jinja's immutable sandbox with only the variables below, so a template can
neither reach Python objects nor change data. Unknown variables are refused when the template is
saved (a typo should not reach a customer); a value we lack renders as an empty string.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Variable name -> what it means, shown to the person writing the template.
VARIABLES: dict[str, str] = {
	"first_name": "Contact's first name",
	"last_name": "Contact's last name",
	"full_name": "Contact's full name",
	"agent_name": "Your full name",
	"agent_first_name": "Your first name",
	"company": "Your company",
	"channel": "The channel the conversation came in on",
}

_environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class QuickReplyError(ValueError):
	pass


@dataclass(frozen=True)
class RenderContext:
	first_name: str = ""
	last_name: str = ""
	agent_name: str = ""
	company: str = ""
	channel: str = ""

	def as_variables(self) -> dict[str, str]:
		full_name = " ".join(part for part in (self.first_name, self.last_name) if part)
		return {
			"first_name": self.first_name or "",
			"last_name": self.last_name or "",
			"full_name": full_name,
			"agent_name": self.agent_name or "",
			"agent_first_name": (self.agent_name or "").split(" ")[0],
			"company": self.company or "",
			"channel": self.channel or "",
		}


def validate_template(body: str) -> list[str]:
	"""Return the variables the template uses; raise QuickReplyError for bad syntax or unknown names."""
	try:
		parsed = _environment.parse(body or "")
	except TemplateSyntaxError as error:
		raise QuickReplyError(f"Line {error.lineno}: {error.message}") from error
	used = sorted(meta.find_undeclared_variables(parsed))
	unknown = [name for name in used if name not in VARIABLES]
	if unknown:
		allowed = ", ".join(VARIABLES)
		raise QuickReplyError(f"Unknown variable(s): {', '.join(unknown)}. You can use: {allowed}.")
	return used


def render(body: str, context: RenderContext) -> str:
	validate_template(body)
	try:
		return _environment.from_string(body or "").render(context.as_variables()).strip()
	except (SecurityError, UndefinedError) as error:
		raise QuickReplyError(str(error)) from error

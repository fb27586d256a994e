import pytest

from message_center.core.quick_reply import QuickReplyError, RenderContext, render, validate_template

CONTEXT = RenderContext(first_name="Maria", last_name="Rossi", agent_name="Ann Lee", company="Acme Roofing")


def test_renders_the_small_context():
	body = "Hi {{ first_name }}, {{ agent_first_name }} from {{ company }} here."
	assert render(body, CONTEXT) == "Hi Maria, Ann from Acme Roofing here."


def test_missing_values_render_empty_and_defaults_work():
	body = "Hello {{ first_name or 'there' }}!"
	assert render(body, RenderContext()) == "Hello there!"
	assert render("Dear {{ full_name }}", RenderContext(first_name="Jo")) == "Dear Jo"


def test_unknown_variables_are_refused_with_the_allowed_list():
	with pytest.raises(QuickReplyError, match="Unknown variable\\(s\\): frappe"):
		validate_template("{{ frappe.db.sql('select 1') }}")


def test_syntax_errors_say_where():
	with pytest.raises(QuickReplyError, match="Line 1"):
		validate_template("Hi {{ first_name ")


@pytest.mark.parametrize(
	"template",
	[
		"{{ first_name.__class__.__mro__ }}",
		"{{ first_name.__class__.__base__.__subclasses__() }}",
		"{{ company.format.__globals__ }}",
	],
)
def test_the_sandbox_blocks_attribute_escapes(template):
	with pytest.raises(QuickReplyError):
		render(template, CONTEXT)


def test_immutable_sandbox_blocks_mutation():
	with pytest.raises(QuickReplyError):
		render("{% set x = [] %}{{ x.append(1) }}", CONTEXT)

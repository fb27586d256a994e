"""Bench commands of the Message Center app."""

import json

import click
from frappe.commands import get_site, pass_context


@click.command("message-center-demo")
@click.option("--conversations", default=200, show_default=True, help="How many demo conversations the site should hold.")
@click.option("--password", default=None, help="Password for the demo agents and manager (none: they cannot log in).")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed gives the same demo.")
@pass_context
def message_center_demo(context, conversations, password, seed):
	"""Fill a site with a demo team, channels, quick replies and conversations in every state."""
	import frappe

	from message_center.demo import create_demo

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		summary = create_demo(conversations=conversations, password=password, seed=seed)
	finally:
		frappe.destroy()
	click.echo(json.dumps(summary, indent=1))


commands = [message_center_demo]

"""Channel actions for the desk: every method checks permission on the channel first."""

import frappe
from frappe import _


def load_channel(name: str, ptype: str = "read"):
	if not name or not frappe.db.exists("Channel", name):
		frappe.throw(_("Channel {0} not found").format(name), frappe.DoesNotExistError)
	channel = frappe.get_doc("Channel", name)
	channel.check_permission(ptype)
	return channel


@frappe.whitelist(methods=["POST"])
def sync_now(channel: str):
	"""Queue the same deduplicated sync job the 5-minute schedule queues, for an admin of the channel."""
	from message_center.email_sync import enqueue_sync

	doc = load_channel(channel, "write")
	if doc.kind != "Email":
		frappe.throw(_("Only Email channels sync a mailbox."))
	if not doc.enabled:
		frappe.throw(_("Enable the channel first."))
	queued = enqueue_sync(doc.name)
	return {
		"queued": queued,
		"sync_status": frappe.db.get_value("Channel", doc.name, "sync_status"),
		"message": _("Sync queued.") if queued else _("A sync of this channel is already queued or running."),
	}


@frappe.whitelist(methods=["POST"])
def test_connection(channel: str):
	"""Sign in to the channel's mailbox with its saved settings and look for each folder to watch,
	changing nothing there or on the channel: what an admin checks before the first sync."""
	from dataclasses import asdict

	from message_center.core.imap_connection import MailboxCheck, SyncErrorKind, check_mailbox
	from message_center.email_config import ImapTokenUnavailable, imap_config

	doc = load_channel(channel, "write")
	if doc.kind != "Email":
		frappe.throw(_("Only Email channels have a mailbox to test."))
	try:
		config = imap_config(doc)
	except ImapTokenUnavailable as error:
		check = MailboxCheck(False, SyncErrorKind.LOGIN, str(error))
	else:
		check = check_mailbox(config)
	result = asdict(check)
	result["error_kind"] = check.error_kind.value if check.error_kind else None
	return result

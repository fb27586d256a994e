"""The write floor of mail ingest on this machine, for reading site_ingest_msgs_per_s against it.

One received mail that opens a thread becomes a Conversation, an Enquiry, a Channel Message and a
Communication with a timeline link. Here those rows are written with Frappe's bare row insert
(`db_insert`: naming only; no validation, hooks, notifications, realtime events, search row or
assignment) and committed one mail at a time, as the sync contract requires. Nothing is parsed,
threaded or matched. An ingest that keeps Frappe's document layer, or even one that writes around
it, cannot be faster than this.
"""

from __future__ import annotations

import time

import frappe

CONTENT = "<p>" + "We would like a quote for 12 units, delivered soon. " * 20 + "</p>"


def measure_write_floor(channel: str, count: int = 500) -> float:
	"""Mails a second; the rows are left on `channel` for the benchmark's purge."""
	for number in range(20):  # warm the naming series, the statement cache and the buffer pool
		_write_mail(channel, f"warm-{number}")
	started = time.perf_counter()
	for number in range(count):
		_write_mail(channel, str(number))
	return count / (time.perf_counter() - started)


def _write_mail(channel: str, key: str) -> None:
	address = f"floor-{key}-{frappe.generate_hash(length=6)}@example.com"
	conversation = _insert(
		{
			"doctype": "Conversation",
			"channel": channel,
			"medium": "Email",
			"status": "Open",
			"party_address": address,
			"party_name": "Floor Sender",
			"subject": "Quote for 12 units",
		}
	)
	_insert(
		{
			"doctype": "Enquiry",
			"channel": channel,
			"conversation": conversation,
			"source": "Email",
			"message": CONTENT,
		}
	)
	_insert(
		{
			"doctype": "Channel Message",
			"channel": channel,
			"direction": "Inbound",
			"conversation": conversation,
			"dedupe_key": frappe.generate_hash(length=64),
		}
	)
	_insert(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Received",
			"subject": "Quote for 12 units",
			"sender": address,
			"content": CONTENT,
			"reference_doctype": "Conversation",
			"reference_name": conversation,
			"timeline_links": [{"link_doctype": "Conversation", "link_name": conversation}],
		}
	)
	frappe.db.commit()


def _insert(values: dict) -> str:
	doc = frappe.get_doc(values)
	doc.set_new_name()
	doc.set_parent_in_children()
	doc.db_insert()
	for child in doc.get_all_children():
		child.db_insert()
	return doc.name

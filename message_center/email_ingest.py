"""Storing received mail: the store callback sync_mailbox hands every fetched message to.

core.mail_intake decides (parse, classify, thread, match the sender); this module carries the
decision out in the database and commits each message on its own, as the sync contract requires:
- a message seen before (same Message-ID key and content hash on this channel) is a DUPLICATE; one
  of a conversation an agent deleted (a tombstone) is SKIPPED, and so is our own sent mail;
- a new thread of ordinary mail starts a Conversation and an Enquiry (source Email) with the sender
  linked when exactly one person has that address, otherwise marked unmatched with suggestions;
- a reply goes to its conversation through the conversation rules (messages.record_inbound); an
  auto-reply, bounce or list mail is stored there as automatic mail, flagged with its kind;
- attachments become private Files on the Communication (inline cid: images rewritten to them),
  an oversize one is left out with a note on the message;
- mail that cannot be parsed, or whose import fails for a reason other than the database being
  unavailable, is kept raw as a private .eml File on a Channel Message flagged for review, so one
  bad message never blocks a mailbox; mail that parses with damage is imported as far as it reads
  and its Channel Message flagged for review, with the raw .eml beside it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime, timezone

import frappe
from frappe.utils import validate_email_address

from message_center import messages, people
from message_center.core.imap_sync import FetchedMessage, StoreOutcome
from message_center.core.mail_identity import MessageIdentity as MailIdentity
from message_center.core.mail_intake import IntakeAction, IntakePlan, plan_intake
from message_center.core.mail_parse import rewrite_cid_urls
from message_center.core.mail_threading import message_identity, normalise_subject, read_reply_token
from message_center.email_config import intake_settings, to_system_time
from message_center.enquiries import open_channel_enquiry

SUBJECT_KEY_LENGTH = 140  # Conversation.thread_subject is a Data field


def channel_identity(channel: str, mail: MailIdentity, **extra) -> messages.MessageIdentity:
	"""The Channel Message identity of a received mail: Message-ID key plus content hash, per channel
	(a re-used Message-ID with other content is another mail; the same mail on two channels is two)."""
	return messages.MessageIdentity(
		channel=channel,
		key=f"{mail.message_id_key}\x00{mail.content_hash}",
		external_id=mail.message_id_key,
		content_hash=mail.content_hash,
		extra=extra,
	)


def thread_subject(subject: str | None) -> str:
	return normalise_subject(subject or "")[:SUBJECT_KEY_LENGTH]


class DbThreadIndex:
	"""core.mail_threading.ThreadIndex over this channel's Channel Messages and Conversations."""

	def __init__(self, channel: str, secret: str):
		self.channel = channel
		self.secret = secret

	def by_message_ids(self, message_id_keys: Sequence[str]) -> str | None:
		if not message_id_keys:
			return None
		found = dict(
			frappe.db.sql(
				"""select external_id, conversation from `tabChannel Message`
				where channel=%s and external_id in %s and tombstone=0 and ifnull(conversation, '')!=''""",
				(self.channel, tuple(message_id_keys)),
			)
		)
		return next((found[key] for key in message_id_keys if key in found), None)

	def by_token(self, token: str) -> str | None:
		conversation = read_reply_token(token, self.secret)
		if not conversation:
			return None
		found = frappe.db.sql(
			"select name from `tabConversation` where name=%s and channel=%s", (conversation, self.channel)
		)
		return found[0][0] if found else None

	def by_subject_and_participant(
		self, normalised_subject: str, participant_address: str, since: datetime
	) -> str | None:
		found = frappe.db.sql(
			"""select name from `tabConversation` where thread_subject=%s and channel=%s and party_address=%s
			and last_message_at >= %s order by last_message_at desc limit 1""",
			(
				normalised_subject[:SUBJECT_KEY_LENGTH],
				self.channel,
				participant_address,
				to_system_time(since),
			),
		)
		return found[0][0] if found else None


class DbPeopleDirectory:
	"""core.mail_intake.PeopleDirectory over the site's Contacts, Leads and Customers.

	One directory serves one sync run: a sender who wrote several new threads in it is looked up once."""

	def __init__(self):
		self._found: dict[str, list] = {}

	def exact_email_candidates(self, email: str) -> list:
		key = email.lower()
		if key not in self._found:
			self._found[key] = people.exact_email_candidates(key)
		return list(self._found[key])


class ChannelIngest:
	"""The store callback of one sync run on one Email channel (settings read once per run)."""

	def __init__(self, channel):
		self.channel = channel
		self.settings = intake_settings()
		self.index = DbThreadIndex(channel.name, self.settings.secret)
		self.people = DbPeopleDirectory()

	def store(self, message: FetchedMessage) -> StoreOutcome:
		mail = message_identity(message.raw)
		identity = channel_identity(
			self.channel.name,
			mail,
			imap_folder=message.folder,
			imap_uidvalidity=str(message.uidvalidity),
			imap_uid=str(message.uid),
		)
		seen = frappe.db.sql(
			"""select dedupe_key=%(key)s, tombstone from `tabChannel Message`
			where dedupe_key=%(key)s or (channel=%(channel)s and external_id=%(external_id)s and tombstone=1)
			order by 1 desc limit 1""",
			{"key": identity.dedupe_key, "channel": self.channel.name, "external_id": mail.message_id_key},
		)
		if seen:
			same, tombstone = seen[0]
			# a tombstone: its conversation was deleted, never bring it back
			return StoreOutcome.SKIPPED if tombstone or not same else StoreOutcome.DUPLICATE
		try:
			now = datetime.now(timezone.utc)
			plan = plan_intake(
				message.raw,
				settings=self.settings,
				index=self.index,
				people=self.people,
				now=now,
				identity=mail,
			)
			outcome = self._carry_out(plan, message, identity, now)
			frappe.db.commit()
			return outcome
		except messages.DuplicateMessage:
			frappe.db.rollback()  # stored meanwhile by another path: the database said so
			return StoreOutcome.DUPLICATE
		except Exception as error:
			frappe.db.rollback()
			if _database_unavailable(error):
				raise  # storing is impossible now: the sync stops before this message and retries it
			reason = f"Import failed ({type(error).__name__}: {error}); kept raw for review."
			frappe.log_error(
				f"Message Center: mail UID {message.uid} kept raw",
				reference_doctype="Channel",
				reference_name=self.channel.name,
			)
			self._keep_raw(message, identity, reason)
			frappe.db.commit()
			return StoreOutcome.POISON_STORED

	# ---- carrying out a plan -------------------------------------------------------------------

	def _carry_out(self, plan: IntakePlan, message: FetchedMessage, identity, now: datetime) -> StoreOutcome:
		if plan.action is IntakeAction.SKIP_OWN:
			return StoreOutcome.SKIPPED
		if plan.action is IntakeAction.POISON:
			self._keep_raw(message, identity, f"Unreadable mail ({plan.reason}); kept raw for review.")
			return StoreOutcome.POISON_STORED
		at = to_system_time(min(message.internaldate or now, now))
		content = message_html(plan)
		if plan.action is IntakeAction.THREAD:
			conversation = frappe.get_doc("Conversation", plan.conversation_id)
		else:
			conversation = self._start(plan, at, opening_message=content if plan.customer_wrote else None)
		values = communication_values(plan)
		values["preview_text"] = plan.parsed.new_text  # the list shows what is new, not the quoted history
		channel_message = {
			"kind": plan.kind,
			"review_note": "\n".join(plan.notes)[:2000] or None,
			"needs_review": int(plan.needs_review),
		}
		if plan.customer_wrote:
			started = conversation.name
			conversation, communication = messages.record_inbound(
				conversation,
				content=content,
				at=at,
				identity=identity,
				channel_message=channel_message,
				**values,
			)
			if conversation.name != started:  # a reply to a closed conversation started a new one (the rules)
				frappe.db.set_value(
					"Conversation",
					conversation.name,
					"thread_subject",
					thread_subject(conversation.subject),
					update_modified=False,
				)
		else:
			communication = messages.record_automatic(
				conversation,
				content=content,
				at=at,
				identity=identity,
				channel_message=channel_message,
				**values,
			)
		self._save_attachments(plan, communication)
		if plan.needs_review:  # damaged: what could be read is in, the bytes as they came beside it
			self._attach_raw(frappe.db.get_value("Channel Message", {"dedupe_key": identity.dedupe_key}), message)
		return StoreOutcome.STORED

	def _start(self, plan: IntakePlan, at, opening_message: str | None):
		party = plan.party
		match = plan.sender_match
		links = _links_for(match.link) if match and match.link else {}
		conversation = messages.start_conversation(
			self.channel.name,
			party.address if party else "",
			subject=plan.parsed.subject or None,
			party_name=(party.name or party.address) if party else frappe._("Unknown sender"),
			medium="Email",
			links=links,
			at=at,
			opening_message=opening_message,
			preview_text=plan.parsed.new_text,
			closed=not plan.customer_wrote,  # machine mail asks nothing of the team: kept, out of the queues
		)
		updates = {"thread_subject": thread_subject(conversation.subject)}
		if match and match.unmatched:
			updates["unmatched"] = 1
			updates["match_suggestions"] = frappe.as_json(
				[people.as_dict(suggestion) for suggestion in match.suggestions], indent=None
			)
		if plan.opens_enquiry:
			updates["enquiry"] = self._open_enquiry(plan, conversation, links)
		frappe.db.set_value("Conversation", conversation.name, updates, update_modified=False)
		conversation.update(updates)
		return conversation

	def _open_enquiry(self, plan: IntakePlan, conversation, links: dict) -> str:
		party = plan.party
		link = plan.sender_match.link if plan.sender_match else None
		return open_channel_enquiry(
			conversation,
			self.channel,
			source="Email",
			message=plan.parsed.new_text or plan.parsed.text or "",
			person=(link.doctype, link.name) if link else None,
			links=links,
			person_name=(party.name or party.address)[:140] if party else None,
			email_id=party.address if party else None,
		)

	def _save_attachments(self, plan: IntakePlan, communication) -> None:
		if not plan.parsed.attachments:
			return
		urls, failures = {}, []
		for number, attachment in enumerate(plan.parsed.attachments, start=1):
			try:
				file = frappe.get_doc(
					{
						"doctype": "File",
						"file_name": attachment.filename or f"attachment-{number}",
						"attached_to_doctype": "Communication",
						"attached_to_name": communication.name,
						"is_private": 1,
						"content": attachment.content,
					}
				).insert(ignore_permissions=True)
			except Exception as error:  # one unsaveable file must not cost the message: say so on it
				failures.append(f"{attachment.filename or number} could not be saved: {error}")
				continue
			if attachment.content_id:
				urls[attachment.content_id] = file.file_url
		content = rewrite_cid_urls(communication.content, urls) if urls else communication.content
		if failures:
			content += _notes_html(failures)
		if content != communication.content:
			frappe.db.set_value(
				"Communication", communication.name, "content", content, update_modified=False
			)

	def _keep_raw(self, message: FetchedMessage, identity, reason: str) -> str:
		"""Store the bytes as they came, on a Channel Message flagged for review."""
		row = messages.claim_identity(
			identity, "Inbound", status="Received", kind="Normal", needs_review=1, review_note=reason[:2000]
		)
		self._attach_raw(row, message)
		return row

	def _attach_raw(self, row: str, message: FetchedMessage) -> None:
		"""The mail's bytes as they came, as a private .eml File on its Channel Message."""
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": f"mail-{message.folder}-{message.uidvalidity}-{message.uid}.eml".replace(
					"/", "_"
				),
				"attached_to_doctype": "Channel Message",
				"attached_to_name": row,
				"is_private": 1,
				"content": message.raw,
			}
		).insert(ignore_permissions=True)


def message_html(plan: IntakePlan) -> str:
	parsed = plan.parsed
	body = parsed.html or text_html(parsed.text)
	return body + (_notes_html(plan.notes) if plan.notes else "")


def text_html(text: str) -> str:
	return '<div class="mc-plain-text" style="white-space: pre-wrap">' + html.escape(text or "") + "</div>"


def _notes_html(notes: list[str]) -> str:
	return "".join(f'<p class="mc-mail-note"><em>{html.escape(note)}</em></p>' for note in notes)


_NOTE = re.compile(r'<p class="mc-mail-note"><em>(.*?)</em></p>', re.DOTALL)


def import_notes(content: str) -> list[str]:
	"""The notes _notes_html() added to a message's content (skipped attachments, damage)."""
	return [html.unescape(note) for note in _NOTE.findall(content or "")]


def communication_values(plan: IntakePlan) -> dict:
	parsed, party = plan.parsed, plan.party
	return {
		"subject": (parsed.subject or "")[:1000] or None,
		"sender": party.address if party and validate_email_address(party.address) else None,
		"sender_full_name": (party.name or party.address) if party else None,
		"recipients": _valid_addresses(parsed.to),
		"cc": _valid_addresses(parsed.cc),
		"message_id": parsed.message_id,
		"text_content": parsed.new_text,
	}


def _valid_addresses(people) -> str:
	# Frappe validates every address on a Communication; mail headers carry oddities ("undisclosed-recipients:;")
	return ", ".join(person.address for person in people if validate_email_address(person.address))


def _links_for(link) -> dict:
	"""contact/lead/customer of the linked person (a Contact brings its Customer and Lead along)."""
	return {field: value for field, value in people.links_for(link.doctype, link.name).items() if value}


def _database_unavailable(error: Exception) -> bool:
	"""Errors that say the database cannot take writes now (gone, locked), not that this mail is bad."""
	db = frappe.db
	if db.is_interface_error(error) or db.is_deadlocked(error) or db.is_timedout(error):
		return True
	return isinstance(error, db.OperationalError) and bool(error.args) and error.args[0] in (2003, 2006, 2013)

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, now_datetime

from message_center.core import conversation_rules as rules
from message_center.permissions import is_manager

# Fields owned by the state machine: they change only through apply_event(), never by a plain edit.
RULE_FIELDS = (
	"status",
	"team",
	"claimed_by",
	"opted_out",
	"unclaimed_since",
	"waiting_since",
	"first_response_at",
	"last_inbound_at",
	"last_outbound_at",
	"message_count",
)
_DATETIME_FIELDS = {"unclaimed_since", "waiting_since", "first_response_at", "last_inbound_at", "last_outbound_at"}


class ConversationRuleError(frappe.ValidationError):
	"""A conversation action the rules refuse; `code` is stable for the desk and the tests."""

	def __init__(self, code: str, message: str):
		super().__init__(message)
		self.code = code


def _comparable(value) -> str:
	# REST payloads send 0/"0"/None interchangeably, and datetimes as strings.
	if value in (None, "", 0, "0"):
		return ""
	return str(get_datetime(value)) if hasattr(value, "year") else str(value)


def actor_for(user: str | None = None) -> rules.Actor:
	user = user or frappe.session.user
	return rules.Actor(user=user, is_manager=is_manager(user))


class Conversation(Document):
	def validate(self):
		self.set_defaults_from_channel()
		self.normalise_party_address()
		self.refuse_rule_fields_edited_directly()

	def before_insert(self):
		if not self.flags.via_rules:
			start = rules.new_conversation(rules.Medium(self.medium), now_datetime(), team=self.team)
			self._write_rule_state(start)

	def set_defaults_from_channel(self):
		if not self.channel:
			return
		channel = frappe.get_cached_doc("Channel", self.channel)
		if self.is_new():
			self.team = self.team or channel.team
			self.medium = self.medium or {"Email": "Email", "SMS": "SMS", "Web Form": "Web Form"}.get(channel.kind, "Phone")

	def normalise_party_address(self):
		address = (self.party_address or "").strip()
		self.party_address = address.lower() if "@" in address else address
		if not self.party_name:
			self.party_name = self.party_address

	def refuse_rule_fields_edited_directly(self):
		if self.is_new() or self.flags.via_rules:
			return
		before = self.get_doc_before_save()
		if not before:
			return
		changed = [field for field in RULE_FIELDS if _comparable(before.get(field)) != _comparable(self.get(field))]
		if changed:
			frappe.throw(
				_("Use the conversation's actions (claim, assign, transfer, close…) to change {0}.").format(
					", ".join(self.meta.get_label(field) for field in changed)
				),
				frappe.PermissionError,
			)

	def on_communication_update(self, communication):
		# Our clocks and counters move through apply_event(); this hook only stops Frappe's
		# generic "set parent status on communication" from touching the conversation.
		pass

	# -- state machine bridge ---------------------------------------------------------------

	def rule_state(self) -> rules.ConversationState:
		def when(field):
			value = self.get(field)
			return get_datetime(value) if value else None

		return rules.ConversationState(
			medium=rules.Medium(self.medium),
			status=rules.Status(self.status or "Open"),
			team=self.team,
			claimed_by=self.claimed_by or None,
			opted_out=bool(self.opted_out),
			unclaimed_since=when("unclaimed_since"),
			waiting_since=when("waiting_since"),
			first_response_at=when("first_response_at"),
			last_inbound_at=when("last_inbound_at"),
			last_outbound_at=when("last_outbound_at"),
			message_count=self.message_count or 0,
		)

	def _write_rule_state(self, state: rules.ConversationState):
		self.status = state.status.value
		self.team = state.team
		self.claimed_by = state.claimed_by
		self.opted_out = int(state.opted_out)
		for field in _DATETIME_FIELDS:
			self.set(field, getattr(state, field))
		self.message_count = state.message_count

	def check_action(self, action: rules.Action, actor: rules.Actor | None = None, **details) -> rules.Decision:
		return rules.check(self.rule_state(), action, actor, **details)

	def apply_event(
		self,
		action: rules.Action,
		actor: rules.Actor | None = None,
		at=None,
		assignee: str | None = None,
		team: str | None = None,
		warm: bool = False,
	) -> rules.Transition:
		"""Apply one event through the rules and copy the resulting state onto the document (unsaved)."""
		event = rules.Event(rules.Action(action), at or now_datetime(), actor, assignee=assignee, team=team, warm=warm)
		try:
			transition = rules.apply(self.rule_state(), event)
		except rules.RuleViolation as violation:
			raise ConversationRuleError(violation.code, _(violation.reason)) from violation
		self._write_rule_state(transition.state)
		self.flags.via_rules = True
		return transition

	def save_via_rules(self, *, ignore_version: bool | None = None):
		"""ignore_version=True when the change is a message arriving: the message is in the history
		already, a Version row for each one would only bury the agents' own changes."""
		self.flags.via_rules = True
		self.save(ignore_permissions=True, ignore_version=ignore_version)

	# -- links ------------------------------------------------------------------------------

	def timeline_links(self) -> list[tuple[str, str]]:
		"""Where this conversation's messages must show: the linked people and the enquiry's opportunity."""
		links = [(doctype, self.get(field)) for doctype, field in (("Contact", "contact"), ("Lead", "lead"), ("Customer", "customer"))]
		if self.enquiry:
			opportunity = frappe.db.get_value("Enquiry", self.enquiry, "opportunity")
			links.append(("Opportunity", opportunity))
		return [(doctype, name) for doctype, name in links if name]

	def on_trash(self):
		from message_center.messages import delete_conversation_messages

		delete_conversation_messages(self)


def on_doctype_update():
	"""Composite indexes for the inbox views (message_center.inbox_query): each view reads its page
	straight off an index in last-activity order instead of sorting every matching conversation."""
	frappe.db.add_index("Conversation", ["status", "last_message_at"])
	frappe.db.add_index("Conversation", ["status", "claimed_by", "last_message_at"])
	frappe.db.add_index("Conversation", ["team", "status", "last_message_at"])
	frappe.db.add_index("Conversation", ["channel", "status", "last_message_at"])
	frappe.db.add_index("Conversation", ["party_name"])

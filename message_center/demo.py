"""Demo data: a believable team, channels, quick replies and ~200 conversations in several states.

`bench --site SITE message-center-demo` (message_center/commands.py). Every record goes through the
same functions real traffic uses (start_conversation, record_inbound/outbound, the conversation
rules, enquiry intake), with timestamps spread over the last ten days, so the inbox shows unclaimed
and waiting alerts, claimed and closed work, notes, SMS delivery states and enquiries at once.
Nothing is sent: demo channels point at no mailbox and no Twilio account.
"""

from __future__ import annotations

import random
from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from message_center import demo_content as words
from message_center import messages
from message_center.core import conversation_rules as rules
from message_center.message_center.doctype.conversation.conversation import actor_for
from message_center.permissions import AGENT_ROLE, MANAGER_ROLE, clear_team_cache

CHANNELS = {
	# name: (kind, team, extra values)
	"Sales Inbox": ("Email", "Sales", {"email_address": "sales@example.com"}),
	"Service Inbox": ("Email", "Service", {"email_address": "service@example.com"}),
	"Sales Texts": ("SMS", "Sales", {"sms_from_number": "+15005550006"}),
	"Service Texts": ("SMS", "Service", {"sms_from_number": "+15005550007"}),
	"Website Enquiries": ("Web Form", "Sales", {}),
	"Phone & Fax": ("Manual", "Sales", {}),
}
# Share of conversations per channel (the rest of the mix comes from the threads).
CHANNEL_WEIGHTS = {"Sales Inbox": 20, "Service Inbox": 14, "Sales Texts": 22, "Service Texts": 14, "Website Enquiries": 18, "Phone & Fax": 12}


def ensure_user(email: str, first: str, last: str, roles: list[str], password: str | None) -> str:
	"""A System User with these roles (and this password, if given), created when missing."""
	if not frappe.db.exists("User", email):
		frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": first, "last_name": last, "send_welcome_email": 0, "user_type": "System User"}
		).insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	missing = [role for role in roles if role not in {row.role for row in user.roles}]
	if missing:
		user.add_roles(*missing)
	if password:
		from frappe.utils.password import update_password

		update_password(email, password)
	return email


def create_people(password: str | None) -> dict[str, list[str]]:
	teams = {}
	for team, agents in words.AGENTS.items():
		teams[team] = [ensure_user(email, first, last, [AGENT_ROLE, "Sales User"], password) for email, first, last in agents]
	ensure_user(*words.MANAGER, [MANAGER_ROLE, "Sales User", "Sales Manager"], password)
	for team, members in teams.items():
		ensure_team(team, members, description=f"Demo {team.lower()} team")
	return teams


def ensure_team(name: str, members: list[str], description: str | None = None) -> str:
	"""A Message Center Team holding (at least) these members, created when missing."""
	if frappe.db.exists("Message Center Team", name):
		doc = frappe.get_doc("Message Center Team", name)
	else:
		doc = frappe.get_doc({"doctype": "Message Center Team", "team_name": name, "description": description})
	present = {row.user for row in doc.members}
	for user in members:
		if user not in present:
			doc.append("members", {"user": user})
	doc.save(ignore_permissions=True)
	clear_team_cache()
	return doc.name


def create_channels():
	for name, (kind, team, extra) in CHANNELS.items():
		if frappe.db.exists("Channel", name):
			continue
		values = {"doctype": "Channel", "channel_name": name, "kind": kind, "team": team, **extra}
		if kind == "Email":
			# No mailbox behind the demo: disabled, so the 5-minute sync leaves it alone.
			values.update(enabled=0, imap_host="imap.example.com", imap_port=993, imap_ssl=1, imap_username=extra["email_address"], imap_folders="INBOX")
		if kind == "SMS":
			values.update(twilio_account_sid="AC" + "d" * 32, twilio_auth_token="demo-not-a-real-token")
		frappe.get_doc(values).insert(ignore_permissions=True)


def create_quick_replies():
	for title, shortcut, medium, scope, body in words.QUICK_REPLIES:
		if frappe.db.exists("Quick Reply", {"title": title}):
			continue
		kind, _, target = scope.partition(":")
		values = {"doctype": "Quick Reply", "title": title, "shortcut": shortcut, "medium": medium, "scope": kind, "body": body}
		if kind == "Team":
			values["team"] = target
		elif kind == "Channel":
			values["channel"] = target
		frappe.get_doc(values).insert(ignore_permissions=True)


class DemoInbox:
	"""Builds conversations one by one with a seeded random generator (the same demo every time)."""

	def __init__(self, teams: dict[str, list[str]], seed: int = 7):
		self.teams = teams
		self.random = random.Random(seed)
		self.now = now_datetime()
		self.used_numbers: set[str] = set()
		# States in shuffled rounds of 20 (3 new, 5 waiting, 6 answered, 6 closed): any 20 conversations
		# in a row show every state, however few the demo adds.
		self.state_round: list[str] = []

	def person(self, index: int) -> dict:
		first, last = self.random.choice(words.FIRST_NAMES), self.random.choice(words.LAST_NAMES)
		number = f"+1510555{1000 + index:04d}"
		return {
			"first": first,
			"last": last,
			"name": f"{first} {last}",
			"email": f"{first}.{last}{index}@example.com".lower(),
			"phone": number,
			"company": self.random.choice(words.COMPANIES),
			"address": f"{self.random.randint(10, 999)} {self.random.choice(words.STREETS)}, {self.random.choice(words.CITIES)}",
		}

	def contact_for(self, person: dict) -> str:
		contact = frappe.get_doc({"doctype": "Contact", "first_name": person["first"], "last_name": person["last"]})
		contact.add_email(person["email"], is_primary=1)
		contact.add_phone(person["phone"], is_primary_mobile_no=1)
		contact.insert(ignore_permissions=True)
		return contact.name

	def build(self, index: int, channel: str):
		kind, team, _ = CHANNELS[channel]
		person = self.person(index)
		matched = self.random.random() < 0.6
		links = {"contact": self.contact_for(person)} if matched else {}
		state = self.next_state()
		started = self.start_time(state)
		agent = self.random.choice(self.teams[team])
		if kind in ("Web Form", "Manual"):
			conversation = self.enquiry_conversation(channel, kind, person, started)
		else:
			conversation = self.message_conversation(channel, kind, team, person, links, started)
		self.play(conversation, kind, team, person, state, agent, started)

	def next_state(self) -> str:
		if not self.state_round:
			self.state_round = ["new"] * 3 + ["claimed_waiting"] * 5 + ["answered"] * 6 + ["closed"] * 6
			self.random.shuffle(self.state_round)
		return self.state_round.pop()

	def start_time(self, state: str):
		if state == "new":
			# Some just arrived (no alert yet), most have waited long enough to flash.
			minutes = self.random.choice([1, 2, 3]) if self.random.random() < 0.3 else self.random.randint(6, 600)
			return self.now - timedelta(minutes=minutes)
		return self.now - timedelta(minutes=self.random.randint(30, 10 * 24 * 60))

	def thread(self, team: str):
		return self.random.choice(words.SERVICE_THREADS if team == "Service" else words.SALES_THREADS)

	def message_conversation(self, channel, kind, team, person, links, started):
		address = person["email"] if kind == "Email" else person["phone"]
		subject = self.thread(team)[0] if kind == "Email" else None
		conversation = messages.start_conversation(channel, address, subject=subject, party_name=person["name"] if links else None, links=links, at=started)
		return conversation

	def enquiry_conversation(self, channel, kind, person, started):
		source = "Web Form" if kind == "Web Form" else self.random.choice(["Phone", "Phone", "Fax"])
		text = self.random.choice(words.WEB_FORM_MESSAGES if source == "Web Form" else words.PHONE_MESSAGES)
		fields = {
			"person_name": person["name"],
			"email_id": person["email"],
			"phone": person["phone"],
			"company_name": person["company"] or None,
			"address": person["address"],
			"message": text,
			"potential_lead": self.random.choice(["Yes", "Yes", "No", ""]) or None,
		}
		from message_center import enquiries

		enquiry = enquiries.intake(channel, {key: value for key, value in fields.items() if value}, source=source)
		conversation = frappe.get_doc("Conversation", frappe.db.get_value("Enquiry", enquiry.name, "conversation"))
		self.shift(conversation, started - conversation.creation)
		return frappe.get_doc("Conversation", conversation.name)

	def shift(self, conversation, delta: timedelta):
		"""Move a just-created conversation (and its first message) back to when the demo says it began."""
		fields = ("creation", "last_message_at", "last_inbound_at", "waiting_since", "unclaimed_since")
		values = {field: conversation.get(field) + delta for field in fields if conversation.get(field)}
		frappe.db.set_value("Conversation", conversation.name, values, update_modified=False)
		frappe.db.sql(
			"""update `tabCommunication` set communication_date = communication_date + interval %s second,
			creation = creation + interval %s second where reference_doctype = 'Conversation' and reference_name = %s""",
			(delta.total_seconds(), delta.total_seconds(), conversation.name),
		)

	def play(self, conversation, kind, team, person, state, agent, started):
		at = started
		subject, opening, follow_ups, replies = self.thread(team)
		if kind == "SMS":
			opening = self.random.choice(words.SMS_OPENERS)
			follow_ups = self.random.sample(words.SMS_FOLLOW_UPS, k=2)
			replies = [reply.format(first=person["first"]) for reply in self.random.sample(words.SMS_REPLIES, k=2)]
		if kind in ("Email", "SMS"):
			content = f"<p>{opening}</p>" if kind == "Email" else opening
			conversation, _ = messages.record_inbound(conversation, content=content, at=at, sender=person["email"] if kind == "Email" else None, sender_full_name=person["name"])
		if state == "new":
			return
		at += timedelta(minutes=self.random.randint(2, 40))
		conversation.apply_event(rules.Action.CLAIM, actor=actor_for(agent), at=at)
		conversation.save_via_rules()
		if self.random.random() < 0.25:
			self.note(conversation, agent, at + timedelta(minutes=1))
		exchanges = 1 if state == "claimed_waiting" else self.random.randint(1, 2)
		for turn in range(exchanges):
			if state == "claimed_waiting" and turn == exchanges - 1:
				break
			at += timedelta(minutes=self.random.randint(3, 90))
			conversation = self.reply(conversation, kind, agent, replies[turn % len(replies)], at)
			if follow_ups and (turn < exchanges - 1 or state == "claimed_waiting" or self.random.random() < 0.4):
				at += timedelta(minutes=self.random.randint(5, 300))
				conversation, _ = messages.record_inbound(conversation, content=follow_ups[turn % len(follow_ups)], at=min(at, self.now))
		if state == "claimed_waiting" and follow_ups:
			at += timedelta(minutes=self.random.randint(5, 120))
			conversation, _ = messages.record_inbound(conversation, content=follow_ups[-1], at=min(at, self.now))
		if state == "closed":
			conversation.reload()
			if kind == "SMS" and self.random.random() < 0.15:
				conversation.apply_event(rules.Action.OPT_OUT, at=at + timedelta(minutes=5))
			else:
				conversation.apply_event(rules.Action.CLOSE, actor=actor_for(agent), at=at + timedelta(minutes=5))
			conversation.save_via_rules()

	def reply(self, conversation, kind, agent, text, at):
		conversation.reload()
		identity = None
		if kind == "SMS":
			identity = messages.MessageIdentity(conversation.channel, key=f"demo-{conversation.name}-{at.timestamp()}", extra={"segments": 1})
		_, _, row = messages.record_outbound(conversation, content=text, actor=actor_for(agent), at=min(at, self.now), identity=identity)
		if row:
			status = self.random.choices(["Delivered", "Sent", "Undelivered"], weights=[85, 10, 5])[0]
			error = {"error_code": "30003", "error_message": "Unreachable destination handset"} if status == "Undelivered" else {}
			frappe.db.set_value("Channel Message", row, {"status": status, **error})
		conversation.reload()
		return conversation

	def note(self, conversation, agent, at):
		frappe.set_user(agent)
		try:
			comment = messages.add_note(conversation, self.random.choice(words.NOTES), actor_for(agent))
		finally:
			frappe.set_user("Administrator")
		frappe.db.set_value("Comment", comment.name, "creation", min(at, self.now), update_modified=False)


def create_demo(conversations: int = 200, password: str | None = None, seed: int = 7, commit: bool = True) -> dict:
	"""Fill the site; safe to run again (people, channels and replies are reused, conversations are
	added only up to `conversations` on the demo channels). commit=False leaves committing to the
	caller (the tests roll it back)."""
	frappe.set_user("Administrator")
	teams = create_people(password)
	create_channels()
	create_quick_replies()
	existing = frappe.db.count("Conversation", {"channel": ["in", [*CHANNELS]]})
	inbox = DemoInbox(teams, seed=seed + existing)
	names, weights = zip(*CHANNEL_WEIGHTS.items(), strict=True)
	for index in range(existing, conversations):
		inbox.build(index, inbox.random.choices(names, weights=weights)[0])
		if commit and index % 20 == 19:
			frappe.db.commit()
	if commit:
		frappe.db.commit()
	return {
		"conversations": frappe.db.count("Conversation", {"channel": ["in", [*CHANNELS]]}),
		"agents": [user for members in teams.values() for user in members],
		"manager": words.MANAGER[0],
	}

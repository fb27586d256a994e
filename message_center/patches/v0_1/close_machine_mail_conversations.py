"""Close the conversations only machine mail ever wrote to.

List mail, an out-of-office or a bounce that answered none of a team's conversations used to open an
Open, unclaimed conversation that waited in Open and Unassigned for nobody. Such mail now starts a
closed conversation (email_ingest); this closes the ones opened before, the same way: kept, shown
under Closed, and reopenable. A conversation anyone touched (claimed, assigned, answered, noted, an
enquiry) or that holds any other message is left as it is.
"""

import frappe

from message_center.core import conversation_rules as rules

MACHINE_KINDS = ("Auto Reply", "Bounce", "List")


def execute():
	for name in machine_mail_conversations():
		conversation = frappe.get_doc("Conversation", name)
		# closed when its last mail came, as if it had been imported today
		conversation.apply_event(rules.Action.CLOSE, at=conversation.last_message_at)
		conversation.save_via_rules(ignore_version=True)


def machine_mail_conversations() -> list[str]:
	kinds = ", ".join(frappe.db.escape(kind) for kind in MACHINE_KINDS)
	return frappe.db.sql_list(
		f"""
		select c.name from `tabConversation` c
		where c.medium = 'Email' and c.status = 'Open'
			and ifnull(c.claimed_by, '') = '' and ifnull(c.enquiry, '') = ''
			and c.last_outbound_at is null and c.first_response_at is null
			and ifnull(c._assign, '') in ('', '[]')
			and exists (
				select 1 from `tabCommunication` m
				where m.reference_doctype = 'Conversation' and m.reference_name = c.name)
			and not exists (
				select 1 from `tabCommunication` m
				where m.reference_doctype = 'Conversation' and m.reference_name = c.name
					and not exists (
						select 1 from `tabChannel Message` r
						where r.communication = m.name and r.direction = 'Inbound' and r.kind in ({kinds})))
			and not exists (
				select 1 from `tabComment` n
				where n.reference_doctype = 'Conversation' and n.reference_name = c.name
					and n.comment_type = 'Comment')
		"""
	)

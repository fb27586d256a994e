"""Twilio's webhooks: incoming texts and delivery status callbacks (guest endpoints).

Each request is verified first (message_center.webhook_guard: the channel's configured URL, the
posted form, X-Twilio-Signature); a missing, forged or tampered signature gets 403 and writes
nothing. Twilio gets empty TwiML at once: replies are sent through the API, never in the answer.
"""

import frappe

from message_center import sms_delivery, sms_inbound, webhook_guard
from message_center.messages import DuplicateMessage

DEADLOCK_RETRIES = 2


def _committed(work):
	"""Run `work` and commit; roll back on any error. Retries a deadlock (the database chose this
	transaction as the victim, so nothing of it was kept)."""
	for attempt in range(DEADLOCK_RETRIES + 1):
		try:
			result = work()
			frappe.db.commit()
			return result
		except Exception as error:
			frappe.db.rollback()
			if attempt < DEADLOCK_RETRIES and _lost_a_lock(error):
				continue
			raise


def _lost_a_lock(error: Exception) -> bool:
	return isinstance(error, frappe.QueryDeadlockError | frappe.QueryTimeoutError)


@frappe.whitelist(allow_guest=True, methods=["POST"])
def incoming():
	"""A text (SMS/MMS) to the channel's number: accepted once, whatever Twilio retries, and answered
	at once; filing it on its conversation happens in a job right after (sms_inbound.process)."""
	channel = webhook_guard.request_channel()
	refusal = webhook_guard.check_request(channel, channel and channel.webhook_url)
	if refusal:
		return refusal
	form = frappe.request.form
	number = sms_inbound.sender_number(form.get("From"))
	if number and webhook_guard.over_limit(f"incoming:{channel.name}", number):
		return webhook_guard.refuse(429, "Too many messages from this number")
	try:
		row = _committed(lambda: sms_inbound.accept(channel, form))
	except DuplicateMessage:
		return webhook_guard.twiml()  # Twilio retried a message we already have: acknowledge it again
	except sms_inbound.InvalidWebhook as error:
		return webhook_guard.refuse(400, str(error))
	# Accepted and committed: a job files it on its conversation (the sweep catches a lost job).
	sms_inbound.enqueue_processing(row)
	return webhook_guard.twiml()


@frappe.whitelist(allow_guest=True, methods=["POST"])
def status():
	"""A status callback for a text we sent; moves its status forward only."""
	channel = webhook_guard.request_channel()
	row = frappe.request.args.get("message")
	url = (sms_delivery.status_callback_url(channel, row) if row else channel.status_callback_url) if channel else None
	refusal = webhook_guard.check_request(channel, url)
	if refusal:
		return refusal
	form = frappe.request.form
	message_sid = form.get("MessageSid") or form.get("SmsSid")
	if webhook_guard.over_limit(f"status:{channel.name}", message_sid or row or ""):
		return webhook_guard.refuse(429, "Too many callbacks for this message")
	_committed(
		lambda: sms_delivery.apply_status_callback(
			channel.name,
			message_sid=message_sid,
			status=form.get("MessageStatus") or form.get("SmsStatus"),
			error_code=(form.get("ErrorCode") or "")[:20] or None,
			error_message=(form.get("ErrorMessage") or "")[:500] or None,
			row_name=row,
		)
	)
	return webhook_guard.twiml()

"""The JSON endpoint external landing pages post enquiries to (guest).

POST /api/method/message_center.api.web_form.submit?channel=<Web Form channel>
with a JSON object: name, email, phone, company, address, message, utm_source, utm_medium,
utm_campaign (and any other simple fields, kept in the message). A request is accepted when it
carries the channel's shared secret in the X-Message-Center-Secret header, or comes from one of the
channel's allowed origins (browsers; CORS preflight answered by add_cors_headers). Each visitor may
submit Settings.web_form_rate_limit times an hour (then 429). A filled honeypot field (`_gotcha`,
hidden from people) is answered like a success and stored nowhere. Nothing in the payload can set
a status, an owner, an assignee or a link: the intake takes only the fields above.
"""

from __future__ import annotations

import hmac
import time

import frappe
from frappe import _

from message_center import enquiries

SECRET_HEADER = "X-Message-Center-Secret"
HONEYPOT_FIELD = "_gotcha"
ENDPOINT = "message_center.api.web_form.submit"
ALIASES = {
	"person_name": ("name", "full_name", "person_name"),
	"email_id": ("email", "email_id"),
	"phone": ("phone", "mobile", "phone_number"),
	"company_name": ("company", "company_name"),
	"address": ("address",),
	"message": ("message", "enquiry", "comments"),
	"utm_source": ("utm_source",),
	"utm_medium": ("utm_medium",),
	"utm_campaign": ("utm_campaign",),
}
MAX_EXTRA_FIELDS = 30
DEFAULT_RATE_LIMIT = 20  # per visitor per hour, when the settings leave it empty
RECEIVED = {"status": "received"}


class SubmissionRefused(frappe.PermissionError):
	pass


@frappe.whitelist(allow_guest=True, methods=["POST"], xss_safe=True)
def submit(**payload):
	"""Store one submission as an Enquiry with its conversation. Answers {"status": "received"}."""
	payload.pop("cmd", None)
	channel = _web_form_channel(frappe.request.args.get("channel") if frappe.request else None)
	check_rate_limit()
	_authenticate(channel)
	if payload.get(HONEYPOT_FIELD):
		return RECEIVED  # a bot: look like success, keep nothing
	fields, extra = split_payload(payload)
	enquiries.intake(channel.name, fields, source="Web Form", extra=extra)
	return RECEIVED


def _web_form_channel(name: str | None):
	if not name or not frappe.db.exists("Channel", name):
		frappe.throw(_("Unknown channel: post to the channel's Submission Endpoint."), SubmissionRefused)
	channel = frappe.get_cached_doc("Channel", name)
	if channel.kind != "Web Form" or not channel.enabled:
		frappe.throw(_("This channel does not accept web submissions."), SubmissionRefused)
	return channel


def allowed_origins(channel) -> set[str]:
	return {line.strip().rstrip("/").lower() for line in (channel.allowed_origins or "").splitlines() if line.strip()}


def _authenticate(channel):
	secret = channel.get_password("web_form_secret", raise_exception=False)
	sent = frappe.get_request_header(SECRET_HEADER)
	if sent:
		if secret and hmac.compare_digest(sent.encode(), secret.encode()):
			return
		frappe.throw(_("Wrong shared secret."), SubmissionRefused)
	origin = (frappe.get_request_header("Origin") or "").rstrip("/").lower()
	if origin and origin in allowed_origins(channel):
		return
	frappe.throw(_("Send the channel's shared secret, or post from one of its allowed origins."), SubmissionRefused)


def split_payload(payload: dict) -> tuple[dict, dict]:
	"""Known fields by their aliases, and the other simple fields (kept only as text in the message)."""
	if not isinstance(payload, dict) or "data" in payload and isinstance(payload["data"], list):
		frappe.throw(_("Send one JSON object."), enquiries.InvalidEnquiry)
	fields, used = {}, {HONEYPOT_FIELD, "channel"}
	for field, names in ALIASES.items():
		for name in names:
			if payload.get(name) not in (None, ""):
				fields[field] = payload[name]
				used.add(name)
				break
		used.update(names)
	reserved = {df.fieldname for df in frappe.get_meta("Enquiry").fields} | {"owner", "assignee", "assign_to", "claimed_by", "doctype", "name"}
	extra = {
		key: value
		for key, value in payload.items()
		if key not in used and key not in reserved and isinstance(value, str | int | float) and not isinstance(value, bool)
	}
	return fields, dict(list(extra.items())[:MAX_EXTRA_FIELDS])


# -- rate limit ------------------------------------------------------------------------------


def visitor() -> str:
	return getattr(frappe.local, "request_ip", None) or "local"


def rate_limit_key(who: str, now: float | None = None) -> str:
	hour = int((now or time.time()) // 3600)
	return frappe.cache.make_key(f"message_center:web_form:{who}:{hour}")


def check_rate_limit():
	"""Count this submission against the visitor's hourly allowance; 429 beyond it."""
	limit = frappe.db.get_single_value("Message Center Settings", "web_form_rate_limit")
	limit = DEFAULT_RATE_LIMIT if limit is None else int(limit)
	if limit <= 0:
		return
	key = rate_limit_key(visitor())
	count = frappe.cache.incr(key)
	if count == 1:
		frappe.cache.expire(key, 3600)
	if count > limit:
		frappe.throw(_("Too many submissions: please try again later."), frappe.TooManyRequestsError)


# -- CORS --------------------------------------------------------------------------------------


def add_cors_headers(response=None, request=None):
	"""after_request: CORS for the channel's allowed origins on the submission endpoint only
	(the site-wide allow_cors setting stays untouched)."""
	if response is None or request is None or not request.path.endswith("/" + ENDPOINT):
		return
	origin = (request.headers.get("Origin") or "").rstrip("/")
	name = request.args.get("channel")
	if not origin or not name or not frappe.db.exists("Channel", name):
		return
	if origin.lower() not in allowed_origins(frappe.get_cached_doc("Channel", name)):
		return
	response.headers["Access-Control-Allow-Origin"] = origin
	response.headers["Vary"] = "Origin"
	if request.method == "OPTIONS":
		response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
		response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {SECRET_HEADER}"
		response.headers["Access-Control-Max-Age"] = "600"

"""Who gets a copy of a reply to a customer's mail: reply-all, as a mail client does it.

Everyone the customer's latest mail went to or came from (its sender, To and Cc) stays on the
reply, except the customer (the reply's To) and our own shared inboxes: a copy to another inbox of
ours would come back in as a new enquiry.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable

MAX_COPIES = 20  # Frappe's Email Queue sends one mail per recipient; a longer list is a mailing


def reply_all_copies(
	written: Iterable[str | None],
	*,
	customer: str,
	own_addresses: Iterable[str | None] = (),
	limit: int | None = MAX_COPIES,
) -> list[str]:
	"""The addresses to copy on a reply, each once, in the order the latest mail named them.

	`written`: the latest mail's sender, To and Cc header values, or what an agent typed on the Cc
	line (any mix of "Name <a@b>" and comma-separated lists); `customer`: the address the reply
	goes to; `limit`: None to keep them all (to refuse a list that is too long rather than cut it)."""
	skip = {_key(address) for address in (customer, *own_addresses) if address}
	copies: list[str] = []
	for _name, address in email.utils.getaddresses([value for value in written if value]):
		key = _key(address)
		if "@" not in key or key in skip:
			continue
		skip.add(key)
		copies.append(address.strip())
	return copies if limit is None else copies[:limit]


def _key(address: str) -> str:
	return address.strip().lower()

from mail_samples import build_mail, simple_headers

from message_center.core.mail_parse import parse_mail
from message_center.core.reply_recipients import MAX_COPIES, reply_all_copies

OURS = ("info@acme.example", "sales@acme.example")


def test_the_customers_colleagues_stay_on_the_reply_and_our_inboxes_and_the_customer_do_not():
	copies = reply_all_copies(
		[
			"Jane <jane@customer.example>",
			"info@acme.example, Bob <bob@customer.example>",
			"SALES@acme.example, carol@customer.example",
		],
		customer="jane@customer.example",
		own_addresses=OURS,
	)
	assert copies == ["bob@customer.example", "carol@customer.example"]


def test_a_colleague_who_wrote_the_latest_mail_is_copied_and_the_customer_is_not_twice():
	# Bob answered for Jane, copying her: the reply goes to Jane (the conversation's address), Bob in copy.
	copies = reply_all_copies(
		["Bob <bob@customer.example>", "info@acme.example", "Jane@Customer.example"],
		customer="jane@customer.example",
		own_addresses=OURS,
	)
	assert copies == ["bob@customer.example"]


def test_each_address_once_in_the_order_written_whatever_its_case_and_names():
	copies = reply_all_copies(
		[
			"jane@customer.example",
			"Bob <bob@customer.example>, Dan <dan@customer.example>",
			"BOB@customer.example",
		],
		customer="jane@customer.example",
		own_addresses=OURS,
	)
	assert copies == ["bob@customer.example", "dan@customer.example"]


def test_nothing_to_copy_on_a_mail_only_to_us_and_no_address_is_made_up():
	assert (
		reply_all_copies(
			["jane@customer.example", "info@acme.example", None],
			customer="jane@customer.example",
			own_addresses=OURS,
		)
		== []
	)
	assert (
		reply_all_copies(
			["undisclosed-recipients:;", "", "mailer-daemon"],
			customer="jane@customer.example",
			own_addresses=OURS,
		)
		== []
	)


def test_a_long_list_is_cut_to_a_reply_not_a_mailing():
	many = ", ".join(f"person{number}@customer.example" for number in range(MAX_COPIES + 5))
	copies = reply_all_copies([many], customer="jane@customer.example", own_addresses=OURS)
	assert copies == [f"person{number}@customer.example" for number in range(MAX_COPIES)]
	# what an agent typed is kept whole, for the desk to refuse rather than cut
	typed = reply_all_copies([many], customer="jane@customer.example", limit=None)
	assert len(typed) == MAX_COPIES + 5


def test_the_headers_of_a_parsed_mail_give_its_copies():
	raw = build_mail(
		simple_headers(
			to='info@acme.example, "Müller, Hans" <hans@customer.example>',
			cc="=?utf-8?q?Zo=C3=AB?= <zoe@customer.example>, sales@acme.example",
		)
	)
	parsed = parse_mail(raw, max_attachment_bytes=1 << 20)
	written = [
		str(parsed.sender),
		*(str(person) for person in parsed.to),
		*(str(person) for person in parsed.cc),
	]
	copies = reply_all_copies(written, customer=parsed.sender.address, own_addresses=OURS)
	assert copies == ["hans@customer.example", "zoe@customer.example"]

import pytest

from message_center.core.people_matching import (
	Candidate,
	SenderDetails,
	auto_link,
	company_similarity,
	name_similarity,
	rank_candidates,
)

JANE_CONTACT = Candidate(
	"Contact",
	"CONT-0001",
	"Jane Doe",
	emails=["Jane.Doe@Customer.example"],
	phones=["+44 20 7946 0001"],
	company="Customer Ltd",
)
JANE_LEAD = Candidate(
	"Lead", "CRM-LEAD-0007", "Jane Doe", emails=["jane.doe@customer.example"], company="Customer Limited"
)
PHONE_ONLY = Candidate("Contact", "CONT-0002", "J. D.", phones=["020 7946 0002"])
NAMESAKE = Candidate("Contact", "CONT-0003", "Jane Doé", emails=["jd@elsewhere.example"])
CUSTOMER = Candidate(
	"Customer", "Customer Ltd", "Customer Ltd", emails=["accounts@customer.example"], company="Customer Ltd"
)
STRANGER = Candidate(
	"Contact", "CONT-0099", "Bob Builder", emails=["bob@builders.example"], phones=["+33 1 23 45 67 89"]
)


def rank(known: SenderDetails, candidates, **options):
	options.setdefault("default_region", "GB")
	return rank_candidates(known, candidates, **options)


def test_exact_email_ranks_first_then_phone_then_similarity():
	known = SenderDetails(
		email="jane.doe@customer.example", phone="+442079460002", name="Jane Doe", company="Customer Ltd"
	)
	ranked = rank(known, [STRANGER, NAMESAKE, PHONE_ONLY, CUSTOMER, JANE_CONTACT])
	assert [suggestion.name for suggestion in ranked] == [
		"CONT-0001",
		"CONT-0002",
		"CONT-0003",
		"Customer Ltd",
	]
	best = ranked[0]
	assert best.same_email and best.reasons == ("same email", "same name", "same company")
	assert ranked[1].reasons == ("same phone",)
	assert ranked[2].reasons == ("same name",)  # accents and case do not matter
	assert ranked[3].reasons == ("same company", "same email domain (customer.example)")
	assert ranked[0].score > ranked[1].score > ranked[2].score > ranked[3].score


def test_exact_phone_outranks_a_perfect_name_and_company():
	known = SenderDetails(phone="+442079460002", name="Jane Doe", company="Customer Ltd")
	ranked = rank(known, [JANE_LEAD, PHONE_ONLY])
	assert [suggestion.name for suggestion in ranked] == ["CONT-0002", "CRM-LEAD-0007"]


def test_similar_names_and_companies_are_explained_with_their_score():
	known = SenderDetails(name="Jon Doe", company="ACME S.p.A.")
	candidate = Candidate("Lead", "LEAD-1", "John Doe", company="Acme")
	[suggestion] = rank(known, [candidate])
	assert suggestion.reasons == (
		f"similar name ({name_similarity('Jon Doe', 'John Doe'):.2f})",
		"same company",
	)
	assert 0 < suggestion.score < 60


def test_company_email_domain_is_a_hint_but_public_domains_are_not():
	ranked = rank(SenderDetails(email="new.person@customer.example"), [CUSTOMER])
	assert ranked[0].reasons == ("same email domain (customer.example)",)
	gmail_customer = Candidate("Customer", "Someone", "Someone", emails=["someone@gmail.com"])
	assert rank(SenderDetails(email="other@gmail.com"), [gmail_customer]) == []


def test_unrelated_candidates_are_left_out():
	assert rank(SenderDetails(email="jane.doe@customer.example", name="Jane Doe"), [STRANGER]) == []
	assert rank(SenderDetails(), [JANE_CONTACT]) == []


def test_auto_link_takes_the_single_exact_email_match():
	ranked = rank(SenderDetails(email="JANE.DOE@customer.example"), [JANE_CONTACT, STRANGER])
	assert auto_link(ranked).name == "CONT-0001"


def test_two_contacts_with_the_same_email_are_ambiguous():
	twin = Candidate("Contact", "CONT-0004", "Jane D.", emails=["jane.doe@customer.example"])
	ranked = rank(SenderDetails(email="jane.doe@customer.example"), [JANE_CONTACT, twin])
	assert len(ranked) == 2 and auto_link(ranked) is None


def test_a_contact_wins_over_the_lead_it_was_converted_from_unless_strict():
	ranked = rank(SenderDetails(email="jane.doe@customer.example"), [JANE_LEAD, JANE_CONTACT])
	assert auto_link(ranked).doctype == "Contact"
	assert auto_link(ranked, doctype_priority=()) is None


def test_auto_link_by_phone_for_sms():
	ranked = rank(SenderDetails(phone="+442079460001"), [JANE_CONTACT, STRANGER])
	assert auto_link(ranked, by="phone").name == "CONT-0001"
	assert auto_link(ranked, by="email") is None


def test_similarity_alone_never_auto_links():
	ranked = rank(SenderDetails(email="jd@other.example", name="Jane Doe"), [JANE_CONTACT])
	assert ranked and auto_link(ranked) is None


def test_a_custom_phone_normaliser_is_used_for_stored_numbers():
	stored = Candidate("Contact", "CONT-9", "Anna", phones=["ext. 42"])
	ranked = rank_candidates(
		SenderDetails(phone="+15550000042"),
		[stored],
		normalise_phone=lambda text: "+15550000042" if "42" in text else None,
	)
	assert ranked[0].same_phone


def test_a_failing_normaliser_does_not_break_ranking():
	def explode(text: str) -> str:
		raise RuntimeError("bad number")

	assert rank_candidates(SenderDetails(phone="+441234"), [JANE_CONTACT], normalise_phone=explode) == []


@pytest.mark.parametrize(
	("typed", "region"),
	[
		("020 7946 0002", "GB"),
		("+44 20 7946 0002", None),
		("0044 20 7946 0002", None),
		("+44 (0)20 7946-0002", "FR"),
	],
)
def test_stored_phones_typed_in_any_format_match_the_e164_sender(typed, region):
	stored = Candidate("Contact", "CONT-5", "Sam", phones=[typed])
	[suggestion] = rank_candidates(SenderDetails(phone="+442079460002"), [stored], default_region=region)
	assert suggestion.same_phone and suggestion.reasons == ("same phone",)


def test_unreadable_phones_never_match():
	stored = Candidate("Contact", "CONT-6", "Sam", phones=["call me", ""])
	assert rank_candidates(SenderDetails(phone="not a number"), [stored], default_region="GB") == []


def test_similarity_ignores_accents_case_order_and_legal_forms():
	assert name_similarity("Müller, Hans", "hans muller") == 1.0
	assert name_similarity("Jane Doe", "Bob Builder") < 0.5
	assert company_similarity("Kunde GmbH & Co. KG", "KUNDE") == 1.0
	assert company_similarity("Dupont S.A.R.L.", "Dupont SARL") == 1.0
	assert company_similarity(None, "Acme") == 0.0


def _reference_similarity(first: str, second: str, at_least: float) -> float:
	"""Both orders' difflib ratios, each tried when its quick_ratio allows: what the bounds must equal."""
	from difflib import SequenceMatcher

	if not first or not second:
		return 0.0
	if first == second:
		return 1.0
	best = 0.0
	for pair in ((first, second), (" ".join(sorted(first.split())), " ".join(sorted(second.split())))):
		matcher = SequenceMatcher(None, *pair)
		if matcher.quick_ratio() >= max(at_least, best):
			best = max(best, matcher.ratio())
	return best if best >= at_least else 0.0


def test_similarity_bounds_never_change_a_score():
	import random

	from message_center.core.people_matching import _fold, _similarity

	names = [
		"Jane Doe", "Doe Jane", "Jane Doé", "John Doe", "Hans Müller", "Müller, Hans", "Customer 1",
		"Customer 13", "Customer 31", "Ana María García", "Garcia Ana", "Bob Builder", "Acme", "ACME Ltd",
		"J. D.", "Jean-Luc Picard", "Picard Jean Luc", "Ola Nordmann", "Kari Nordmann", "a  b ", "b a",
	]  # fmt: skip
	rng = random.Random(7)
	names += ["".join(rng.choice("abcde ") for _ in range(rng.randint(1, 14))) for _ in range(150)]
	for first in names:
		for second in names:
			for threshold in (0.0, 0.75, 0.85):
				pair = (_fold(first), _fold(second)) if rng.random() < 0.5 else (first, second)
				assert _similarity(*pair, at_least=threshold) == _reference_similarity(*pair, threshold), pair

"""crm.normalise: examples for each normaliser, and properties proved with hypothesis."""
from __future__ import annotations

import re
import string
from datetime import date, datetime

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from crm.normalise import (
    POSTCODE_RE,
    FieldError,
    _email_fast,
    mobile_fast_path,
    mobile_via_phonenumbers,
    normalise_email,
    normalise_membership_number,
    normalise_mobile,
    normalise_name,
    normalise_postcode,
    parse_date,
    parse_payment_method,
    parse_status,
    postcode_outward,
    split_full_name,
)
from crm.vocabulary import ContactStatus, PaymentMethod

# The suite's autouse fixtures give every test an app context; these tests do not use it.
def quick(examples: int):
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------------------------
# Mobile numbers

@pytest.mark.parametrize("typed", [
    "07400 123456", "07400123456", "07400-123-456", "07400 123 456", "0740 012 3456", "(07400) 123456",
    "+44 7400 123456", "+447400123456", "+44 (0)7400 123456", "+44 07400 123456", "447400123456",
    "0044 7400 123456", "0044 07400 123456", "07400.123.456", " 07400 123456 ", "7400123456",
    7400123456, 7400123456.0,
])
def test_common_uk_mobile_shapes_become_e164(typed):
    assert normalise_mobile(typed) == "+447400123456"


@pytest.mark.parametrize("typed", ["07400 123456", "+44 7400 123456", "447400123456", "(07400) 123456",
                                   "0044 7400 123456", "07400-123-456", "7400123456"])
def test_common_uk_mobile_shapes_take_the_fast_path(typed):
    assert mobile_fast_path(typed) == "+447400123456"


@pytest.mark.parametrize("typed", [None, "", "   ", float("nan")])
def test_a_blank_mobile_is_none(typed):
    assert normalise_mobile(typed) is None


def test_an_international_mobile_is_accepted_through_phonenumbers():
    assert mobile_fast_path("+33 6 12 34 56 78") is None
    assert normalise_mobile("+33 6 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize("typed", ["07797 123456", "07911 123456", "07624 123456"])  # Jersey, Guernsey, Man
def test_crown_dependency_mobiles_are_left_to_phonenumbers_and_accepted(typed):
    assert mobile_fast_path(typed) is None
    assert normalise_mobile(typed) == "+44" + typed[1:].replace(" ", "")


def test_a_landline_in_the_mobile_column_is_named_as_a_landline():
    with pytest.raises(FieldError, match=r"^mobile '0151 706 2000' is a landline, not a mobile number$"):
        normalise_mobile("0151 706 2000")


@pytest.mark.parametrize("typed", ["07123", "07911 12345", "07700 900123", "phone me", "+44 7911 1234567"])
def test_an_invalid_mobile_is_refused_in_plain_words(typed):
    with pytest.raises(FieldError, match=rf"^mobile '{re.escape(typed)}' is not a valid UK mobile number$"):
        normalise_mobile(typed)


def test_a_freephone_number_is_not_a_mobile():
    with pytest.raises(FieldError, match="is not a mobile number"):
        normalise_mobile("0800 123 4567")


def test_the_fast_path_agrees_with_phonenumbers_for_every_07xxx_prefix():
    """Exhaustive over the 10,000 five-digit 07xxx prefixes, with three tails each."""
    accepted = 0
    for prefix in range(70000, 80000):
        for tail in ("00000", "54321", "99999"):
            typed = f"0{prefix}{tail}"
            fast = mobile_fast_path(typed)
            try:
                slow = mobile_via_phonenumbers(typed)
            except FieldError:
                slow = None
            if fast is not None:
                accepted += 1
                assert fast == slow, typed
            elif slow is not None:
                # Only numbers of the Crown dependencies (Jersey, Guernsey, Isle of Man) may fall back.
                region = phonenumbers.region_code_for_number(phonenumbers.parse(typed, "GB"))
                assert region in ("JE", "GG", "IM"), typed
    assert accepted > 20000


_PREFIXES = ["", "0", "+44", "+44 ", "+44 (0)", "+44(0) ", "+44 0", "44", "44 ", "440", "0044 ", "0044",
             "00440", "00 44 ", "+", "00", "(+44) ", "+440", "4", "044", "+0", "0 "]
_SEPARATORS = ["", " ", "  ", "-", ".", "(", ")", " - ", "/", "\t", "\u00a0", "–"]


@st.composite
def uk_mobile_strings(draw):
    """UK-mobile-like strings in many shapes: valid, and invalid by prefix, length or digit."""
    digits = "7" + "".join(draw(st.lists(st.sampled_from(string.digits), min_size=9, max_size=9)))
    if draw(st.booleans()):
        digits = draw(st.sampled_from(["7", "1", "2", "3", "8"])) + digits[1:]
    mutation = draw(st.sampled_from(["none", "none", "none", "drop", "add"]))
    if mutation == "drop":
        at = draw(st.integers(0, len(digits) - 1))
        digits = digits[:at] + digits[at + 1:]
    elif mutation == "add":
        at = draw(st.integers(0, len(digits)))
        digits = digits[:at] + draw(st.sampled_from(string.digits)) + digits[at:]
    cuts = sorted(draw(st.lists(st.integers(1, len(digits) - 1), max_size=4)))
    out, last = [], 0
    for cut in cuts:
        out.append(digits[last:cut])
        out.append(draw(st.sampled_from(_SEPARATORS)))
        last = cut
    out.append(digits[last:])
    body = "".join(out)
    prefix = draw(st.sampled_from(_PREFIXES))
    lead = draw(st.sampled_from(["", " ", "(", "-"]))
    trail = draw(st.sampled_from(["", " ", ")", "."]))
    return f"{lead}{prefix}{body}{trail}"


def _slow_or_none(typed: str) -> str | None:
    try:
        return mobile_via_phonenumbers(typed)
    except FieldError:
        return None


@quick(1500)
@given(uk_mobile_strings())
@example("+44 (0)7400 123456")
@example("0044 07400 123456")
@example("4407400123456")
@example("+4407400123456")
@example("07400) 123456")
def test_the_fast_path_accepts_nothing_phonenumbers_would_not(typed):
    fast = mobile_fast_path(typed)
    if fast is not None:
        assert fast == _slow_or_none(typed)


@quick(500)
@given(st.text(alphabet=st.sampled_from("0123456789 +-.()/x7#4"), max_size=24) | st.text(max_size=30))
def test_the_fast_path_agrees_with_phonenumbers_on_arbitrary_text(typed):
    fast = mobile_fast_path(typed)
    if fast is not None:
        assert fast == _slow_or_none(typed)


# ---------------------------------------------------------------------------------------------
# Email addresses

@pytest.mark.parametrize("typed, canonical", [
    ("jo.smith@nhs.net", "jo.smith@nhs.net"),
    ("  Jo.Smith@NHS.Net ", "Jo.Smith@nhs.net"),
    ("JO@GMAIL.COM", "JO@gmail.com"),
    ("jo+unison@liverpool.gov.uk", "jo+unison@liverpool.gov.uk"),
    ("Postmaster@Example.org", "postmaster@example.org"),  # RFC 2142 role mailboxes are case-blind
    ("zoë@example.org", "zoë@example.org"),
])
def test_emails_keep_the_local_part_and_lower_case_the_domain(typed, canonical):
    assert normalise_email(typed) == canonical


@pytest.mark.parametrize("typed", ["jo@", "jo", "jo@nhs", "two@@signs.org", "jo smith@nhs.net", "@nhs.net",
                                   "jo..smith@nhs.net", "jo@localhost", "jo@server.local", "jo@x.123"])
def test_an_invalid_email_is_refused_in_plain_words(typed):
    with pytest.raises(FieldError, match=rf"^email '{re.escape(typed)}' is not a valid email address$"):
        normalise_email(typed)


def test_a_blank_email_is_none():
    assert normalise_email("  ") is None
    assert normalise_email(None) is None


def _validator(text: str) -> str | None:
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


@quick(800)
@given(st.emails() | st.text(alphabet=st.sampled_from("aZ0.-_+@'xn"), max_size=30)
       | st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=10), st.text(max_size=12)))
@example("a@b.c-d")
@example("a@b.-c")
@example("a@xn--pple-43d.com")
@example("info@x.com")
@example("a@b.ab--c")
def test_the_email_fast_check_accepts_nothing_email_validator_rejects(typed):
    fast = _email_fast(typed.strip())
    if fast is not None:
        assert fast == _validator(typed.strip())


# ---------------------------------------------------------------------------------------------
# Postcodes

@pytest.mark.parametrize("typed, canonical", [
    ("sw1a1aa", "SW1A 1AA"), ("  L3 8EN ", "L3 8EN"), ("l38en", "L3 8EN"), ("M1   1AE", "M1 1AE"),
    ("ch41 1aa", "CH41 1AA"), ("W1A 0AX", "W1A 0AX"), ("EC1A1BB", "EC1A 1BB"), ("gir0aa", "GIR 0AA"),
    ("L 3 8 E N", "L3 8EN"),
])
def test_postcodes_are_put_in_canonical_form(typed, canonical):
    assert normalise_postcode(typed) == canonical


@pytest.mark.parametrize("typed", ["XYZ", "L3", "12345", "SW1A 1A", "SW1A 1AAA", "L3 8CI", "GIR 1AA", "L3-8EN"])
def test_an_invalid_postcode_is_refused_in_plain_words(typed):
    with pytest.raises(FieldError, match=rf"^postcode '{re.escape(typed)}' is not a valid UK postcode$"):
        normalise_postcode(typed)


def test_the_outward_code_is_the_part_before_the_space():
    assert postcode_outward("sw1a1aa") == "SW1A"
    assert postcode_outward("") is None


@quick(500)
@given(st.from_regex(r"\A\s?[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s{0,3}[0-9][A-Za-z]{2}\s?\Z") | st.text(max_size=12))
def test_normalising_a_postcode_is_idempotent_and_canonical(typed):
    try:
        canonical = normalise_postcode(typed)
    except FieldError:
        return
    assume(canonical is not None)
    assert POSTCODE_RE.fullmatch(canonical)
    assert normalise_postcode(canonical) == canonical


# ---------------------------------------------------------------------------------------------
# Names

@pytest.mark.parametrize("typed, expected", [
    ("  jo   smith ", "Jo Smith"),
    ("O'BRIEN", "O'Brien"),
    ("o’connor", "O’Connor"),
    ("MCDONALD", "McDonald"),
    ("SMITH-JONES", "Smith-Jones"),
    ("JAN VAN DER BERG", "Jan van der Berg"),
    ("DE SOUZA", "De Souza"),
    ("McKenzie-smith", "McKenzie-smith"),  # mixed case: kept as typed
    ("de Souza", "de Souza"),
    ("ZOË", "Zoë"),
    ("", ""),
    (None, ""),
])
def test_names_are_trimmed_and_shouting_is_put_in_name_case(typed, expected):
    assert normalise_name(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("Jo Smith", ("Jo", "Smith")),
    ("SMITH, JO", ("Jo", "Smith")),
    ("Mr Jan van der Berg", ("Jan", "van der Berg")),
    ("Mary Ann O'Brien", ("Mary Ann", "O'Brien")),
    ("Cher", ("", "Cher")),
    ("", ("", "")),
])
def test_a_full_name_is_split_into_first_and_last(typed, expected):
    assert split_full_name(typed) == expected


@quick(800)
@given(st.text(max_size=40) | st.text(alphabet=st.sampled_from("abcMCOD'’- ßİıſǅ"), max_size=20))
def test_normalising_a_name_is_idempotent(typed):
    once = normalise_name(typed)
    assert normalise_name(once) == once


# ---------------------------------------------------------------------------------------------
# Dates

@pytest.mark.parametrize("typed", [
    "2024-03-01", "01/03/2024", "1/3/24", "01-03-2024", "01.03.2024", "1 Mar 2024", "1 March 2024",
    "1st March 2024", "01-Mar-2024", "2024-03-01 00:00:00", "2024-03-01T09:30:00", "01/03/2024 00:00",
    45352, 45352.0, 45352.75, "45352", datetime(2024, 3, 1, 9, 30), date(2024, 3, 1),
])
def test_dates_in_every_export_shape_are_read_day_first(typed):
    assert parse_date(typed) == date(2024, 3, 1)


def test_two_digit_years_are_never_in_the_future():
    assert parse_date("1/3/65") == date(1965, 3, 1)


def test_excel_serials_follow_the_1900_date_system():
    assert parse_date(1) == date(1900, 1, 1)
    assert parse_date(59) == date(1900, 2, 28)
    assert parse_date(61) == date(1900, 3, 1)
    with pytest.raises(FieldError, match="is not a real date"):
        parse_date(60)  # Excel's fictitious 29 February 1900


@pytest.mark.parametrize("typed", ["31/02/2024", "29/02/2023", "00/01/2020", "2019-13-01", "32 Jan 2020"])
def test_an_impossible_date_is_refused_as_not_a_real_date(typed):
    with pytest.raises(FieldError, match=rf"^date '{re.escape(typed)}' is not a real date$"):
        parse_date(typed)


@pytest.mark.parametrize("typed", ["yesterday", "2024/03", "90000", True, "1 Smarch 2024"])
def test_an_unrecognised_date_is_refused(typed):
    with pytest.raises(FieldError, match=r"is not a date in a format we recognise \(like 31/01/2024\)$"):
        parse_date(typed)


def test_a_blank_date_is_none():
    assert parse_date("") is None
    assert parse_date(None) is None


# ---------------------------------------------------------------------------------------------
# Payment method, status, membership number

@pytest.mark.parametrize("typed", ["DOCAS", "docas", "Check-off", "check off", "Payroll", "Salary deduction"])
def test_payroll_deduction_in_any_words_is_docas(typed):
    assert parse_payment_method(typed) is PaymentMethod.DOCAS


@pytest.mark.parametrize("typed", ["DD", "dd", "Direct Debit", "direct debit", "direct_debit"])
def test_direct_debit_in_any_words_is_direct_debit(typed):
    assert parse_payment_method(typed) is PaymentMethod.DIRECT_DEBIT


def test_an_unknown_payment_method_is_refused():
    with pytest.raises(FieldError, match=r"^payment method 'Cash' is not one we recognise"):
        parse_payment_method("Cash")
    assert parse_payment_method(" ") is None


@pytest.mark.parametrize("typed, status", [
    ("Member", ContactStatus.MEMBER), ("current", ContactStatus.MEMBER), ("Active", ContactStatus.MEMBER),
    ("Full Member", ContactStatus.MEMBER), ("Lapsed", ContactStatus.LAPSED), ("ceased", ContactStatus.LAPSED),
    ("Resigned", ContactStatus.LAPSED), ("left", ContactStatus.LAPSED), ("Supporter", ContactStatus.SUPPORTER),
])
def test_status_words_map_to_contact_statuses(typed, status):
    assert parse_status(typed) is status


def test_an_unknown_status_is_refused():
    with pytest.raises(FieldError, match=r"^status 'Deceased' is not one we recognise"):
        parse_status("Deceased")


@pytest.mark.parametrize("typed, number", [
    (" 12345678 ", "12345678"), ("00012345", "00012345"), (12345678, "12345678"), (12345678.0, "12345678"),
    ("12345678.0", "12345678"), ("ab123456", "AB123456"), ("", None), (None, None),
])
def test_membership_numbers_are_trimmed_and_lose_excels_point_zero(typed, number):
    assert normalise_membership_number(typed) == number


@pytest.mark.parametrize("typed", ["1234 5678", "12345678.5", 12345678.5, "1.2345678E+7", "-123", -123,
                                   "1" * 21, "12AB", "N/A", True])
def test_anything_else_is_not_a_membership_number(typed):
    with pytest.raises(FieldError, match="is not a valid membership number$"):
        normalise_membership_number(typed)


# ---------------------------------------------------------------------------------------------
# No normaliser raises anything but FieldError

_NORMALISERS = [normalise_mobile, normalise_email, normalise_postcode, postcode_outward, normalise_name,
                split_full_name, parse_date, parse_payment_method, parse_status, normalise_membership_number]


@quick(300)
@given(st.text(max_size=60) | st.integers() | st.floats() | st.none() | st.booleans() | st.dates())
def test_no_normaliser_raises_anything_but_field_error(value):
    for normaliser in _NORMALISERS:
        try:
            normaliser(value)
        except FieldError as exc:
            message = str(exc)
            assert message and "\n" not in message

import pytest

from crm.admin.service import normalise_branch_code, normalise_email_address, normalise_postcode


@pytest.mark.parametrize("typed, canonical", [
    ("sw1a1aa", "SW1A 1AA"),
    ("  L3 8EN ", "L3 8EN"),
    ("l38en", "L3 8EN"),
    ("M1   1AE", "M1 1AE"),
    ("ch41 1aa", "CH41 1AA"),
    ("W1A 0AX", "W1A 0AX"),
    ("EC1A1BB", "EC1A 1BB"),
    ("gir0aa", "GIR 0AA"),
])
def test_postcodes_are_normalised_to_the_canonical_form(typed, canonical):
    assert normalise_postcode(typed) == canonical


@pytest.mark.parametrize("typed", ["", "   ", "L3", "12345", "SW1A 1A", "SW1A 1AAA", "Q1 1AA1", "L3 8CI", "GIR 1AA", "L3-8EN"])
def test_things_that_are_not_postcodes_are_refused_in_plain_words(typed):
    with pytest.raises(ValueError) as excinfo:
        normalise_postcode(typed)
    assert "postcode" in str(excinfo.value)


def test_branch_codes_are_upper_cased_and_limited_to_letters_digits_and_hyphens():
    assert normalise_branch_code(" nw-0123 ") == "NW-0123"
    for bad in ["", "NW 0123", "NW_0123", "-NW", "NW--1", "NW/1", "X" * 21]:
        with pytest.raises(ValueError):
            normalise_branch_code(bad)


def test_email_addresses_are_checked_for_format_without_a_dns_look_up():
    assert normalise_email_address(" ceo@liverpoolft.nhs.uk ") == "ceo@liverpoolft.nhs.uk"
    for bad in ["ceo", "ceo@", "ceo@nhs", "two@@signs.org"]:
        with pytest.raises(ValueError):
            normalise_email_address(bad)

"""crm.imports.mapping: export headers → Branchline fields."""
from __future__ import annotations

import pytest

from crm.imports.exportgen import HEADERS as GENERATED_HEADERS
from crm.imports.mapping import (
    ALIASES,
    FIELD_LABELS,
    FIELDS,
    IGNORED_HEADERS,
    REQUIRED_ANY_OF,
    Duplicate,
    apply_overrides,
    guess_mapping,
    header_signature,
    mapping_notes,
    mapping_problems,
    normalise_header,
)


def test_headers_are_compared_without_case_or_punctuation():
    assert normalise_header("Tel (Mobile)") == "telmobile"
    assert normalise_header(" membership_number ") == "membershipnumber"
    assert normalise_header("E-mail") == normalise_header("EMAIL") == "email"
    assert normalise_header(None) == ""


@pytest.mark.parametrize("header, fieldname", [
    ("Membership No", "membership_number"), ("Membership Number", "membership_number"),
    ("membership_number", "membership_number"), ("Mem No", "membership_number"),
    ("Member ID", "membership_number"), ("Person No", "membership_number"), ("MEMBERSHIP NO.", "membership_number"),
    ("Forename", "first_name"), ("First Name", "first_name"), ("Given name", "first_name"),
    ("Surname", "last_name"), ("Last name", "last_name"), ("Family name", "last_name"),
    ("Full Name", "full_name"), ("Name", "full_name"),
    ("Mobile", "mobile"), ("Mobile Phone", "mobile"), ("Tel (Mobile)", "mobile"), ("Mobile No", "mobile"),
    ("Mobile Number", "mobile"), ("Cell", "mobile"),
    ("Email", "email"), ("E-mail", "email"), ("Email Address", "email"), ("Home Email", "email"),
    ("Postcode", "postcode"), ("Post Code", "postcode"), ("Home Postcode", "postcode"), ("Zip", "postcode"),
    ("Branch", "branch_code"), ("Branch Code", "branch_code"), ("Br Code", "branch_code"),
    ("Employer", "employer"), ("Employer Name", "employer"),
    ("Workplace", "workplace"), ("Work Location", "workplace"), ("Site", "workplace"),
    ("Workplace Name", "workplace"),
    ("Job Title", "job_title"), ("Occupation", "job_title"), ("Role", "job_title"),
    ("Status", "status"), ("Membership Status", "status"),
    ("Payment Method", "payment_method"), ("Pay Method", "payment_method"), ("Payment Type", "payment_method"),
    ("Method of Payment", "payment_method"),
    ("Join Date", "joined_on"), ("Date Joined", "joined_on"), ("Joined", "joined_on"),
    ("Lapsed Date", "left_on"), ("Date Left", "left_on"), ("Left", "left_on"),
    ("DOCAS End Date", "docas_ended_on"), ("Check-off End", "docas_ended_on"),
    ("Payroll End Date", "docas_ended_on"),
])
def test_national_export_aliases_map_to_fields(header, fieldname):
    mapping = guess_mapping(["Something Else", header])
    assert mapping.fields == {1: fieldname}
    assert mapping.unknown == ["Something Else"]


@pytest.mark.parametrize("header", ["DOB", "Date of Birth", "Title", "Gender", "Home Phone", "Address 1",
                                    "Address 5", "Town", "County"])
def test_known_personal_columns_are_ignored_unless_mapped(header):
    mapping = guess_mapping(["Membership No", header])
    assert mapping.fields == {0: "membership_number"}
    assert mapping.ignored == [header]
    assert mapping.unknown == []


def test_no_alias_is_claimed_by_two_fields():
    seen: dict[str, str] = {}
    for fieldname, aliases in ALIASES.items():
        for alias in aliases:
            key = normalise_header(alias)
            assert seen.setdefault(key, fieldname) == fieldname, alias
    assert not {normalise_header(h) for h in IGNORED_HEADERS} & set(seen), "an alias is also ignored"


def test_every_field_has_a_label_and_the_identity_fields_are_fields():
    assert set(ALIASES) == set(FIELD_LABELS) == set(FIELDS)
    assert set(REQUIRED_ANY_OF) <= set(FIELDS)


def test_the_generated_export_maps_completely():
    mapping = guess_mapping(GENERATED_HEADERS)
    assert set(mapping.fields.values()) == {
        "membership_number", "first_name", "last_name", "email", "mobile", "postcode", "branch_code",
        "employer", "workplace", "job_title", "status", "payment_method", "joined_on", "docas_ended_on",
    }
    assert mapping.unknown == []
    assert mapping_problems(mapping) == []


def test_a_second_column_for_the_same_field_is_reported_and_the_first_kept():
    mapping = guess_mapping(["Mobile", "Email", "Mobile Phone"])
    assert mapping.fields == {0: "mobile", 1: "email"}
    assert mapping.duplicates == [Duplicate(column=2, header="Mobile Phone", field="mobile", kept_column=0)]
    assert mapping.columns == {"mobile": 0, "email": 1}
    assert "Column 'Mobile Phone' also looks like mobile; using column 'Mobile' instead." in mapping_notes(mapping)


def test_blank_headers_are_neither_mapped_nor_reported():
    mapping = guess_mapping(["Membership No", "", None, "  "])
    assert mapping.fields == {0: "membership_number"}
    assert mapping.unknown == mapping.ignored == []


def test_overrides_correct_the_guess_by_header_text():
    headers = ["Mem No", "Phone", "Notes", "Email"]
    mapping = apply_overrides(headers, {"Phone": "mobile", "Email": None})
    assert mapping.fields == {0: "membership_number", 1: "mobile"}
    assert "Email" in mapping.ignored
    assert "Notes" in mapping.ignored


def test_an_override_takes_a_field_from_the_guessed_column():
    mapping = apply_overrides(["Mobile", "Mobile Phone"], {"Mobile Phone": "mobile"})
    assert mapping.fields == {1: "mobile"}
    assert [d.column for d in mapping.duplicates] == [0]


def test_exact_overrides_are_the_whole_mapping():
    headers = ["Membership No", "Forename", "Mystery"]
    mapping = apply_overrides(headers, {"Membership No": "membership_number"}, exact=True)
    assert mapping.fields == {0: "membership_number"}
    assert mapping.ignored == ["Forename"]
    assert mapping.unknown == ["Mystery"]


def test_overrides_match_headers_loosely_when_not_exactly():
    assert apply_overrides(["Tel (Mobile)"], {"tel mobile": "mobile"}).fields == {0: "mobile"}


def test_an_override_to_an_unknown_field_or_header_is_refused():
    with pytest.raises(ValueError, match="'shoe_size' is not a field"):
        apply_overrides(["A"], {"A": "shoe_size"})
    with pytest.raises(ValueError, match="no column headed 'B'"):
        apply_overrides(["A"], {"B": "email"})


def test_the_header_signature_is_stable_and_ignores_case_and_punctuation():
    a = header_signature(["Membership No", "Forename", "E-mail"])
    assert a == header_signature(["MEMBERSHIP NO.", "forename", "Email"])
    assert a != header_signature(["Forename", "Membership No", "E-mail"])
    assert a != header_signature(["Membership No", "Forename"])
    assert len(a) == 32 and a == header_signature(["Membership No", "Forename", "E-mail"])


def test_a_mapping_without_identity_is_a_problem():
    mapping = guess_mapping(["Forename", "Surname", "Postcode"])
    assert mapping_problems(mapping) == [
        "No column holds the membership number, email or mobile: nothing can identify a person."
    ]


@pytest.mark.parametrize("identity", ["Membership No", "Email", "Mobile"])
def test_any_one_identity_column_is_enough(identity):
    assert mapping_problems(guess_mapping(["Forename", identity])) == []


def test_notes_tell_the_user_about_missing_names_ignored_and_unknown_columns():
    notes = mapping_notes(guess_mapping(["Email", "DOB", "Shoe Size"]))
    assert "No column holds a name: people will be imported without names." in notes
    assert "Ignored unless you map it: 'DOB'." in notes
    assert "Not recognised, so not imported: 'Shoe Size'." in notes

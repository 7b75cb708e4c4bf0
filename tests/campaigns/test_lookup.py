"""Postcode → constituency → MP: every outcome, and the optional postcodes.io fallback over real HTTP."""
from __future__ import annotations

import logging

import pytest

from crm.campaigns import loaders
from crm.campaigns.lookup import LookupStatus, constituency_names, current_generation, find_constituency, representative_for
from tests.fakes import error, sleep
from tests.fakes.postcodes_io import FakePostcodesIo, garbage

from .test_loaders import nspl_row, write_mps, write_nspl


@pytest.fixture
def boundaries(tmp_path):
    loaders.load_postcodes(write_nspl(tmp_path / "nspl.csv", [
        nspl_row("L8 7SS", "E14001345"), nspl_row("L1 8JQ", "E14001346"), nspl_row("L9 1AE", "E14001347"),
    ]), generation="2024", label="2024 constituencies")
    loaders.load_representatives(write_mps(tmp_path / "mps.csv", [
        ["E14001345", "Liverpool Riverside", "Jo Example", "Harbour Party", "jo.example@example.org"],
        ["E14001346", "Liverpool Central", "Sam Example", "Moorland Alliance", "sam.example@example.org"],
        ["E14001347", "Liverpool Walton", "", "", ""],
        ["E14001348", "", "Ash Example", "Independent", "ash.example@example.org"],
    ]))


@pytest.fixture
def postcodes_io(app, monkeypatch):
    fake = FakePostcodesIo().start()
    monkeypatch.setitem(app.config, "POSTCODES_API_URL", fake.url)
    monkeypatch.setitem(app.config, "POSTCODES_API_TIMEOUT_SECONDS", 0.5)
    yield fake
    fake.stop()


def test_a_known_postcode_in_any_spelling_finds_the_constituency_and_mp(boundaries):
    result = find_constituency("  l87ss ")

    assert result.status is LookupStatus.FOUND and result.found and result.reason is None
    assert result.postcode == "L8 7SS"
    assert (result.constituency.code, result.constituency.name) == ("E14001345", "Liverpool Riverside")
    rep = result.representative
    assert (rep.name, rep.party, rep.email, rep.title) == ("Jo Example", "Harbour Party", "jo.example@example.org", "MP")
    assert result.generation == "2024" and result.source == "table"
    assert result.message == "Your MP is Jo Example MP, the MP for Liverpool Riverside."


@pytest.mark.parametrize("typed", ["", "   ", None, "hello", "L8", "12345", "SW1A 1AAA", "75008 Paris"])
def test_something_that_is_not_a_uk_postcode_is_invalid(boundaries, typed):
    result = find_constituency(typed)

    assert result.status is LookupStatus.INVALID and result.reason == "invalid"
    assert result.postcode is None and result.constituency is None
    assert "for example L8 7SS" in result.message


def test_an_empty_box_and_a_wrong_postcode_get_different_messages():
    assert find_constituency("").message == "Enter your postcode, for example L8 7SS."
    assert "Enter a full UK postcode" in find_constituency("75008").message


@pytest.mark.parametrize("typed", ["GY1 1AA", "je2 3ab", "IM1 1AE"])
def test_crown_dependencies_are_explained(boundaries, postcodes_io, typed):
    result = find_constituency(typed)

    assert result.status is LookupStatus.CROWN_DEPENDENCY and result.reason == "crown_dependency"
    assert result.message == "Guernsey, Jersey and the Isle of Man don't have MPs in the UK Parliament."
    assert postcodes_io.lookups == []  # nothing to ask anyone


def test_a_well_formed_postcode_we_do_not_hold_is_not_found(boundaries):
    result = find_constituency("SW1A 1AA")

    assert result.status is LookupStatus.NOT_FOUND and result.postcode == "SW1A 1AA"
    assert "couldn't find the constituency for SW1A 1AA" in result.message


def test_a_constituency_without_an_mp_says_so(boundaries):
    result = find_constituency("L9 1AE")

    assert result.status is LookupStatus.NO_REPRESENTATIVE and result.representative is None
    assert result.constituency.name == "Liverpool Walton"
    assert result.message.startswith("Liverpool Walton has no MP at the moment")


def test_before_any_postcodes_are_loaded_everything_is_not_found():
    assert find_constituency("L8 7SS").status is LookupStatus.NOT_FOUND
    assert current_generation() is None and representative_for("E14001345") is None


def test_representatives_and_names_by_constituency_code(boundaries):
    assert representative_for("E14001346").name == "Sam Example"
    assert representative_for("E14001347") is None
    assert constituency_names(["E14001345", "E14009999"]) == {"E14001345": "Liverpool Riverside",
                                                             "E14009999": "E14009999"}
    assert current_generation().code == "2024"


# ------------------------------------------------------------------------------ the HTTP fallback

def test_the_service_answers_what_the_table_does_not(boundaries, postcodes_io):
    postcodes_io.add("L1 9ZZ", "E14001346", "Liverpool Central (API)")

    result = find_constituency("l19zz")

    assert result.found and result.source == "api"
    assert result.constituency.code == "E14001346"
    assert result.constituency.name == "Liverpool Central"  # our name wins over the service's
    assert result.representative.name == "Sam Example"
    assert postcodes_io.lookups == ["L1 9ZZ"]


def test_a_constituency_only_the_service_knows_has_no_mp_here(boundaries, postcodes_io):
    postcodes_io.add("SW1A 1AA", "E14001172", "Cities of London and Westminster")

    result = find_constituency("SW1A 1AA")

    assert result.status is LookupStatus.NO_REPRESENTATIVE and result.source == "api"
    assert result.constituency.name == "Cities of London and Westminster"


def test_the_service_is_not_asked_when_the_table_answers(boundaries, postcodes_io):
    assert find_constituency("L8 7SS").source == "table"
    assert find_constituency("L9 1AE").source == "table"
    assert postcodes_io.lookups == []


def test_the_service_is_not_asked_for_older_boundaries(boundaries, postcodes_io):
    assert find_constituency("SW1A 1AA", generation="2024").status is LookupStatus.NOT_FOUND
    assert postcodes_io.lookups == []


def test_a_404_from_the_service_is_not_found(boundaries, postcodes_io):
    result = find_constituency("SW1A 1AA")

    assert result.status is LookupStatus.NOT_FOUND
    assert postcodes_io.lookups == ["SW1A 1AA"]


@pytest.mark.parametrize("behaviour", [sleep(2), error(500), error(429), garbage()],
                         ids=["timeout", "server-error", "rate-limited", "not-json"])
def test_a_failing_service_is_not_found_with_a_warning_that_holds_no_postcode(boundaries, postcodes_io, caplog,
                                                                              behaviour):
    postcodes_io.add("SW1A 1AA", "E14001172", "Cities of London and Westminster").then(behaviour)

    with caplog.at_level(logging.WARNING, logger="crm.campaigns.lookup"):
        result = find_constituency("sw1a 1aa")

    assert result.status is LookupStatus.NOT_FOUND
    warnings = [r.getMessage() for r in caplog.records if r.name == "crm.campaigns.lookup"]
    assert len(warnings) == 1 and "treating the postcode as not found" in warnings[0]
    assert "SW1A" not in warnings[0].upper() and postcodes_io.url not in warnings[0]


def test_an_unreachable_service_is_not_found(boundaries, app, monkeypatch, caplog):
    fake = FakePostcodesIo().start()
    url = fake.url
    fake.stop()  # nothing listens there now: connection refused
    monkeypatch.setitem(app.config, "POSTCODES_API_URL", url)

    with caplog.at_level(logging.WARNING, logger="crm.campaigns.lookup"):
        assert find_constituency("SW1A 1AA").status is LookupStatus.NOT_FOUND
    assert "ConnectionError" in caplog.text


def test_the_service_answering_a_pseudo_code_is_not_found(boundaries, postcodes_io):
    postcodes_io.add("SW1A 1AA", "L99999999", "")

    assert find_constituency("SW1A 1AA").status is LookupStatus.NOT_FOUND


# ------------------------------------------------------------------------------ the demo region

def test_every_demo_contact_and_workplace_postcode_finds_a_fictional_mp(db):
    from sqlalchemy import select

    from crm.contacts.models import Contact
    from crm.demo.sample_postcodes import DEMO_GENERATION, demo_constituencies
    from crm.demo.service import build_demo_region
    from crm.region.models import Workplace

    build_demo_region(members=400, seed=3)

    postcodes = set(db.session.execute(select(Contact.postcode).where(Contact.postcode.is_not(None))).scalars())
    postcodes |= set(db.session.execute(select(Workplace.postcode)).scalars())
    assert len(postcodes) > 300
    codes = {c.code for c in demo_constituencies()}
    for postcode in postcodes:
        result = find_constituency(postcode)
        assert result.found, (postcode, result.status)
        assert result.constituency.code in codes and result.constituency.name
        assert result.representative.email.endswith("@example.org")
    assert current_generation().code == DEMO_GENERATION
    # The sample has the real file's other rows too: terminated postcodes and the Crown dependencies.
    assert find_constituency("GY1 1AA").status is LookupStatus.CROWN_DEPENDENCY
    assert current_generation().skipped_terminated > 0 and current_generation().skipped_no_constituency == 2


def test_demo_constituencies_have_unique_codes_names_and_cover_every_demo_district():
    from crm.demo import data
    from crm.demo.sample_postcodes import demo_constituencies

    constituencies = demo_constituencies()
    assert len({c.code for c in constituencies}) == len({c.name for c in constituencies}) == len(constituencies)
    covered = [d for c in constituencies for d in c.districts]
    assert sorted(covered) == sorted(d for _, districts in data.AREAS.values() for d in districts)
    assert all(c.code.startswith("E149") and c.email.endswith(".mp@example.org") for c in constituencies)


def test_an_older_demo_database_gets_the_samples_once_and_a_real_one_never(db, make):
    from crm.demo.sample_postcodes import ensure_demo_lookups
    from crm.demo.service import DEMO_EMAIL_DOMAIN

    branch = make.branch()
    make.contact(branch, postcode="L8 7SS")
    assert ensure_demo_lookups() is False  # no demo users: a real installation
    make.user("admin", email=f"admin@{DEMO_EMAIL_DOMAIN}")
    db.session.commit()

    assert ensure_demo_lookups() is True
    assert find_constituency("L8 7SS").found
    assert ensure_demo_lookups() is False

"""Exports of the filtered set: CSV and XLSX, formula-safe, self-organised groups never included, audited."""
import csv
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.contacts.export import HEADERS, safe_cell
from crm.contacts.models import ContactSelfOrganisedGroup
from crm.vocabulary import ActivistRoleKind, ContactStatus, SelfOrganisedGroup

from .helpers import filter_key, search


@pytest.fixture
def export_world(make, db, login_as):
    home, away = make.branch(code="HOME"), make.branch(code="AWAY")
    trust = make.employer(name="Mersey Trust", branches=[home])
    ward = make.workplace(trust, name="Ward Block")
    evil = make.contact(home, first_name="=HYPERLINK(\"http://x\")", last_name="+Cmd", job_title="-2+3",
                        email="@risk@example.org", mobile="+447911123456", employer=trust, workplace=ward,
                        membership_number="10000001", joined_on=date(2024, 2, 1))
    evil.job_title = "\tTabbed"
    plain = make.contact(home, first_name="Ada", last_name="Lovelace", membership_number="10000002",
                         employer=trust, workplace=ward, job_title="Nurse")
    make.activist_role(plain, ActivistRoleKind.STEWARD)
    make.activist_role(plain, ActivistRoleKind.HEALTH_AND_SAFETY)
    make.activist_role(plain, ActivistRoleKind.LEARNING, ended_on=date(2025, 6, 1))
    plain.tags.extend([make.tag("Strike ballot"), make.tag("Holiday pay")])
    db.session.add(ContactSelfOrganisedGroup(contact=plain, group=SelfOrganisedGroup.LGBT))
    make.contact(home, last_name="Lapsed", status=ContactStatus.LAPSED)
    make.contact(away, last_name="Away")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    login_as(officer)
    db.session.commit()
    return {"officer": officer, "plain": plain, "evil": evil}


def _export(client, fmt, key=""):
    return client.post("/contacts/export", data={"f": key, "format": fmt})


def _csv_rows(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_export_of_the_filtered_set_with_roles_and_tags(client, export_world):
    key = filter_key(search(client, status="member"))
    response = _export(client, "csv", key)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == HEADERS
    by_number = {r[0]: dict(zip(HEADERS, r)) for r in rows[1:]}
    assert set(by_number) == {"10000001", "10000002"}  # members of HOME only: not lapsed, not AWAY
    ada = by_number["10000002"]
    assert ada["Last name"] == "Lovelace" and ada["Branch code"] == "HOME"
    assert ada["Employer"] == "Mersey Trust" and ada["Workplace"] == "Ward Block" and ada["Status"] == "Member"
    assert ada["Current activist roles"] == "Health & safety rep; Steward (rep)"
    assert ada["Tags"] == "Holiday pay; Strike ballot"
    assert ada["Joined"] == "2024-01-15"


def test_csv_export_never_holds_self_organised_groups(client, export_world):
    text = _export(client, "csv").get_data(as_text=True)
    assert "LGBT" not in text and "self-organised" not in text.lower()


def test_csv_cells_that_could_run_as_formulas_are_quoted(client, export_world):
    rows = _csv_rows(_export(client, "csv"))
    evil = next(dict(zip(HEADERS, r)) for r in rows[1:] if r[0] == "10000001")
    assert evil["First name"] == "'=HYPERLINK(\"http://x\")"
    assert evil["Last name"] == "'+Cmd"
    assert evil["Email"] == "'@risk@example.org"
    assert evil["Job title"] == "'\tTabbed"
    assert evil["Mobile"] == "'+447911123456"


def test_xlsx_export_opens_in_openpyxl_with_safe_cells_and_no_formulas(client, export_world):
    response = _export(client, "xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook["Contacts"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    evil = next(dict(zip(HEADERS, r)) for r in rows[1:] if r[0] == "10000001")
    assert evil["First name"] == "'=HYPERLINK(\"http://x\")" and evil["Last name"] == "'+Cmd"
    assert evil["Joined"].date() == date(2024, 2, 1)
    ada = next(dict(zip(HEADERS, r)) for r in rows[1:] if r[0] == "10000002")
    assert ada["Tags"] == "Holiday pay; Strike ballot" and "LGBT" not in str(rows)
    assert len(rows) == 1 + 3  # HOME's three contacts, never AWAY's


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_export_is_audited_with_format_rows_and_filter_fields(client, db, export_world, fmt):
    key = filter_key(search(client, q="Lovelace", status="member"))
    response = _export(client, fmt, key)
    response.get_data()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contacts.export")).scalar_one()
    assert event.user_id == export_world["officer"].id
    assert event.detail == f"format={fmt} rows=1 filter=q=<search text> status=member"
    assert "Lovelace" not in event.detail


def test_a_set_filtered_by_self_organised_group_cannot_be_exported(client, db, export_world):
    key = filter_key(search(client, sog="lgbt"))
    response = _export(client, "csv", key)
    assert response.status_code == 302
    assert "special-category" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "contacts.export")).first() is None


def test_export_with_an_expired_search_exports_nothing(client, db, export_world):
    response = _export(client, "csv", "expired-key")
    assert response.status_code == 302
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "contacts.export")).first() is None


def test_campaign_lead_cannot_export_and_is_told_why(client, make, db, login_as, export_world):
    login_as(make.user(Role.CAMPAIGN_LEAD))
    db.session.commit()
    assert _export(client, "csv").status_code == 404
    assert "Exporting and tagging contacts needs a branch officer" in client.get("/contacts/").get_data(as_text=True)


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+44", "'+44"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Plain", "Plain"), ("a=b", "a=b"), ("", ""), (None, None), (5, 5),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected

"""Subject access: one click gives everything held about a person, and nothing about anyone else."""
import json

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.extensions import db as _db
from crm.privacy import subject_access
from crm.privacy.registry import contact_tables

BOB_VALUES = ("Bartholomew", "Zebedee", "bart.z@example.org", "+447700900222", "55500022", "Radiographer", "BOBMARK")


def test_the_export_covers_every_table_that_refers_to_a_contact(db, people):
    doc = subject_access.build(people["anna"])
    tables = {t.name for t in contact_tables(_db.metadata)}
    assert tables <= set(doc["records"]), "a contact table is missing from the export"
    # The fixture must fill every contact table (except the erasure marker), so the export is proved on
    # real rows: a table added later fails here until tests/privacy/conftest.py:populate fills it.
    assert tables - {"contact_erasure"} == people["filled"], "add a row for the new table to populate()"
    for name in people["filled"]:
        assert doc["records"][name]["rows"], f"no {name} rows in the export"
    text = json.dumps(doc, ensure_ascii=False)
    for expected in ("Annabel", "annabel.q@example.org", "+447700900111", "55500011", "Theatre Nurse",
                     "note ANNAMARK", "meeting ANNAMARK", "Count me in ANNAMARK", "my story ANNAMARK",
                     "tag-ANNAMARK", "Porter → ANNAMARK Supervisor", "Ward ANNAMARK"):
        assert expected in text, expected
    assert doc["imports"] and doc["imports"][0]["import"] == people["run"].id


def test_the_export_contains_nothing_about_anyone_else(db, people):
    text = json.dumps(subject_access.build(people["anna"]))
    for value in BOB_VALUES:
        assert value not in text, value
    doc = subject_access.build(people["anna"])
    for name, section in doc["records"].items():
        for row in section["rows"]:
            assert row.get("contact_id") in (None, people["anna"].id), name


def test_an_unmatched_text_from_their_mobile_is_included(db, make, people):
    from crm.messaging.models import InboundMessage

    db.session.add(InboundMessage(provider="log", provider_id="SMloose", from_address="+447700900111", body="who is this"))
    db.session.add(InboundMessage(provider="log", provider_id="SMother", from_address="+447700900999", body="not hers"))
    db.session.commit()
    text = json.dumps(subject_access.build(people["anna"]))
    assert "who is this" in text and "not hers" not in text


def test_audit_entries_about_them_are_included_with_staff_shown_by_role(client, login_as, db, people):
    login_as(people["admin"])
    client.get(f"/contacts/{people['anna'].id}")
    doc = subject_access.build(people["anna"])
    views = [a for a in doc["audit"] if a["action"] == "contact.view"]
    assert views and views[0]["by"] == "Regional admin"
    assert "Ada Admin" not in json.dumps(doc)


def test_admin_gets_a_readable_page_and_a_json_download_both_audited(client, login_as, db, people):
    login_as(people["admin"])
    anna = people["anna"]
    page = client.get(f"/admin/privacy/contacts/{anna.id}/subject-access")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Everything we hold about Annabel Quartermaine" in html
    assert "note ANNAMARK" in html and "BOBMARK" not in html
    download = client.post(f"/admin/privacy/contacts/{anna.id}/subject-access.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.get_data())["details"]["email"] == "annabel.q@example.org"
    events = db.session.execute(select(AuditEvent.detail).where(AuditEvent.action == "contact.subject_access",
                                                                AuditEvent.object_id == anna.id)).scalars().all()
    assert len(events) == 2 and {e.split()[0] for e in events} == {"format=html", "format=json"}


def test_staff_without_the_privacy_permission_get_a_404(client, login_as, make, db, people):
    organiser = make.user(Role.ORGANISER)
    db.session.commit()
    login_as(organiser)
    assert client.get(f"/admin/privacy/contacts/{people['anna'].id}/subject-access").status_code == 404
    assert client.post(f"/admin/privacy/contacts/{people['anna'].id}/erase").status_code == 404

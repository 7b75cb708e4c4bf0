"""The contact timeline: everything that happened with a contact, newest first, from pluggable providers."""
import re
from datetime import UTC, date, datetime

from sqlalchemy import insert

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.contacts import timeline
from crm.contacts.models import contact_tag
from crm.imports.models import ChangeKind, ImportChange, ImportSeen, ImportStatus
from crm.vocabulary import ActivistRoleKind


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _story(make, db, tmp_path):
    """A member created in January, seen in three imports, edited, made a steward, tagged, opted out."""
    home = make.branch(code="HOME")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home], name="Sam Secretary")
    contact = make.contact(home, first_name="Ada", last_name="Lovelace")
    contact.created_at = at(2025, 1, 10, 9, 0)
    runs = []
    for month, change in ((1, (ChangeKind.JOINER, None)), (2, None), (3, (ChangeKind.CHANGE, "job title: Nurse → Sister"))):
        run = make.import_run(home, str(tmp_path / f"m{month}.csv"), status=ImportStatus.COMPLETED,
                              finished_at=at(2025, month, 10, 12, 0))
        db.session.add(ImportSeen(run_id=run.id, contact_id=contact.id))
        if change:
            db.session.add(ImportChange(run_id=run.id, contact_id=contact.id, branch_id=home.id,
                                        kind=change[0], detail=change[1]))
        runs.append(run)
    dry = make.import_run(home, str(tmp_path / "dry.csv"), dry_run=True, finished_at=at(2025, 4, 1))
    db.session.add(ImportSeen(run_id=dry.id, contact_id=contact.id))
    db.session.add(AuditEvent(action="contact.update", user_id=officer.id, object_type="contact",
                              object_id=contact.id, detail="changed: mobile, job_title", at=at(2025, 4, 2, 10, 0)))
    db.session.add(AuditEvent(action="contact.view", user_id=officer.id, object_type="contact",
                              object_id=contact.id, at=at(2025, 4, 3, 10, 0)))
    role = make.activist_role(contact, ActivistRoleKind.STEWARD, started_on=date(2025, 5, 1),
                              ended_on=date(2025, 8, 31))
    db.session.add(AuditEvent(action="contact.role_add", user_id=officer.id, object_type="contact",
                              object_id=contact.id, detail=f"role_id={role.id} role=steward started_on=2025-05-01",
                              at=at(2025, 5, 2, 9, 0)))
    tag = make.tag("Strike ballot")
    db.session.execute(insert(contact_tag).values(contact_id=contact.id, tag_id=tag.id,
                                                  added_at=at(2025, 6, 1, 8, 0), added_by_id=officer.id))
    db.session.add(AuditEvent(action="contact.consent", user_id=officer.id, object_type="contact",
                              object_id=contact.id, detail="channel=sms from=granted to=withdrawn",
                              at=at(2025, 7, 1, 16, 0)))
    db.session.commit()
    return contact, officer, runs


def test_timeline_gathers_everything_newest_first(make, db, tmp_path):
    contact, officer, runs = _story(make, db, tmp_path)
    entries = timeline.gather(contact, officer)
    assert [(e.kind, e.title) for e in entries] == [
        ("role", "Stopped being Steward (rep)"),
        ("consent", "SMS: opted out"),
        ("tag", "Tagged ‘Strike ballot’"),
        ("role", "Became Steward (rep)"),
        ("edit", "Details edited"),
        ("import", f"Changed in import #{runs[2].id}"),
        ("import", f"In import #{runs[1].id}"),
        ("import", f"New joiner in import #{runs[0].id}"),
        ("created", "Added to Branchline"),
    ]
    by_title = {e.title: e for e in entries}
    assert by_title["Details edited"].detail == "Changed: mobile, job title."
    assert by_title["Details edited"].by == "Sam Secretary"
    assert by_title["Became Steward (rep)"].by == "Sam Secretary" and by_title["Became Steward (rep)"].all_day
    assert by_title["Tagged ‘Strike ballot’"].by == "Sam Secretary"
    assert by_title["SMS: opted out"].detail == "Was: agreed."
    assert by_title[f"Changed in import #{runs[2].id}"].detail == "job title: Nurse → Sister"
    assert by_title[f"Changed in import #{runs[2].id}"].endpoint == "imports.show"
    assert by_title[f"Changed in import #{runs[2].id}"].params == {"run_id": runs[2].id}


def test_contact_page_shows_the_timeline_in_order(client, make, db, tmp_path, login_as):
    contact, officer, runs = _story(make, db, tmp_path)
    login_as(officer)
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    section = page[page.index('id="timeline-title"'):]
    titles = re.findall(r"<strong>(?:<a [^>]*>)?([^<]+)", section)
    assert titles[0] == "Stopped being Steward (rep)" and titles[-1] == "Added to Branchline"
    assert titles.index("Details edited") < titles.index(f"In import #{runs[1].id}")


def test_campaign_lead_sees_the_timeline_without_links_to_imports(make, db, tmp_path):
    contact, _officer, _runs = _story(make, db, tmp_path)
    lead = make.user(Role.CAMPAIGN_LEAD)
    assert all(e.endpoint is None for e in timeline.gather(contact, lead))


def test_other_areas_add_entries_through_a_provider(make, db, tmp_path, monkeypatch):
    contact, officer, _runs = _story(make, db, tmp_path)
    monkeypatch.setattr(timeline, "PROVIDERS", list(timeline.PROVIDERS))

    @timeline.provider
    def calls(contact_, viewer):
        yield timeline.TimelineEntry(at=at(2026, 1, 5, 11, 0), kind="call", title="Called: answered", by="A caller")

    timeline.provider(calls)  # registering twice is harmless
    entries = timeline.gather(contact, officer)
    assert entries[0].title == "Called: answered"
    assert sum(e.kind == "call" for e in entries) == 1
    only_calls = timeline.gather(contact, officer, providers=[calls])
    assert [e.title for e in only_calls] == ["Called: answered"]


def test_edits_made_through_the_pages_appear_on_the_timeline(client, make, db, login_as):
    home = make.branch()
    contact = make.contact(home, mobile="+447911123456", job_title="Nurse")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home], name="Pat Officer")
    login_as(officer)
    db.session.commit()
    client.post(f"/contacts/{contact.id}/roles", data={"kind": "learning", "started_on": "2025-02-03"})
    client.post(f"/contacts/{contact.id}/consent", data={"channel": "email", "status": "withdrawn"})
    client.post("/contacts/bulk-tag", data={"f": "", "tag": "Bus strike", "action": "add", "confirm": "yes"})
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    for text in ("Became Union learning rep (ULR)", "Email: opted out", "Tagged ‘Bus strike’", "by Pat Officer"):
        assert text in page, text

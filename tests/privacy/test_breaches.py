"""The breach log: incidents recorded with their scope and the ICO's 72-hour clock."""
from datetime import timedelta

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.database import utcnow
from crm.privacy.models import Breach, BreachRisk


def _form(**overrides):
    data = {"title": "Call list emailed to the wrong branch", "discovered_at": "2026-11-20T09:30",
            "description": "A list of 40 members was sent to another branch's secretary.",
            "data_involved": "Names and mobiles; union membership", "people_affected": "40",
            "branches_affected": "LIVH", "consequences": "", "measures": "Asked the recipient to delete it.",
            "risk": "risk", "status": "open", "reported_to_ico_at": "", "ico_reference": "", "people_told_at": "",
            "decision_notes": ""}
    data.update(overrides)
    return data


def test_a_breach_is_recorded_with_its_72_hour_deadline_and_audited(client, login_as, make, db):
    admin = make.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    response = client.post("/admin/privacy/breaches/new", data=_form())
    assert response.status_code == 302
    breach = db.session.execute(select(Breach)).scalar_one()
    # 09:30 UK time in November is 09:30 UTC; the clock runs 72 hours from then.
    assert breach.discovered_at.hour == 9 and breach.notify_by - breach.discovered_at == timedelta(hours=72)
    assert breach.needs_ico_report and breach.people_affected == 40
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The 72 hours have passed" in page or "hours left to tell the ICO" in page
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "breach")).scalar_one() == "breach.create"


def test_the_clock_counts_down_and_a_late_report_needs_reasons(client, login_as, make, db):
    admin = make.user(Role.ADMIN)
    breach = make.breach(discovered_at=utcnow() - timedelta(hours=10))
    db.session.commit()
    assert 61 < breach.hours_left() < 63
    login_as(admin)
    listing = client.get("/admin/privacy/breaches/").get_data(as_text=True)
    assert "h left" in listing
    late = _form(title=breach.title, discovered_at="2026-11-01T09:00", reported_to_ico_at="2026-11-05T09:00")
    refused = client.post(f"/admin/privacy/breaches/{breach.id}", data=late)
    assert refused.status_code == 422 and "record the reasons for the delay" in refused.get_data(as_text=True)
    late["decision_notes"] = "The scope was only found on 4 November."
    assert client.post(f"/admin/privacy/breaches/{breach.id}", data=late).status_code == 302
    db.session.expire_all()
    breach = db.session.get(Breach, breach.id)
    assert breach.reported_late and not breach.needs_ico_report


def test_an_unlikely_risk_needs_the_reason_it_is_not_reported(client, login_as, make, db):
    admin = make.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    refused = client.post("/admin/privacy/breaches/new", data=_form(risk="unlikely"))
    assert refused.status_code == 422 and "unlikely to result in a risk" in refused.get_data(as_text=True)
    ok = client.post("/admin/privacy/breaches/new", data=_form(risk="unlikely", decision_notes="Encrypted laptop."))
    assert ok.status_code == 302
    assert db.session.execute(select(Breach.risk)).scalar_one() is BreachRisk.UNLIKELY


def test_bad_input_gets_clear_messages(client, login_as, make, db):
    admin = make.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    response = client.post("/admin/privacy/breaches/new", data=_form(title="", discovered_at="yesterday",
                                                                      occurred_at="2026-11-21T09:00"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Enter a short title." in html and "There is a problem" in html


def test_only_admins_see_the_breach_log(client, login_as, make, db):
    breach = make.breach()
    for role in (Role.ORGANISER, Role.BRANCH_OFFICER, Role.CAMPAIGN_LEAD):
        user = make.user(role, branches=[make.branch()] if role is Role.BRANCH_OFFICER else [])
        db.session.commit()
        login_as(user)
        assert client.get("/admin/privacy/breaches/").status_code == 404
        assert client.get(f"/admin/privacy/breaches/{breach.id}").status_code == 404

"""The audit trail is append-only and hash-chained: any change, removal or reordering shows."""
import threading

import pytest
from sqlalchemy import func, select, text

from crm.audit import service as audit
from crm.audit.chain import AuditTamperingRefused
from crm.audit.models import AuditEvent
from crm.auth.roles import Role


def _events(db, n=3, user=None):
    for i in range(n):
        audit.record(f"test.event{i}", user=user, detail=f"n={i}")
    db.session.commit()


def test_each_event_is_chained_to_the_one_before(db):
    _events(db, 3)
    rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    assert [e.seq for e in rows] == [1, 2, 3]
    assert rows[0].prev_hash == "" and rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert len({e.hash for e in rows}) == 3
    assert audit.verify_chain().ok


def test_events_recorded_in_separate_transactions_continue_the_chain(db):
    _events(db, 2)
    _events(db, 2)
    result = audit.verify_chain()
    assert result.ok and result.checked == 4 and result.last_seq == 4


@pytest.mark.parametrize("tamper, expected", [
    ("UPDATE audit_event SET detail = 'n=9' WHERE seq = 2", "contents were changed"),
    ("UPDATE audit_event SET user_id = NULL, action = 'login.success' WHERE seq = 1", "contents were changed"),
    ("DELETE FROM audit_event WHERE seq = 2", "missing or reordered"),
    ("DELETE FROM audit_event WHERE seq = 3", "most recent events were removed"),
])
def test_tampering_outside_the_app_is_detected(db, tamper, expected):
    _events(db, 3)
    with db.engine.begin() as conn:
        conn.execute(text(tamper))
    result = audit.verify_chain()
    assert not result.ok
    assert any(expected in p for p in result.problems), result.problems


def test_an_event_rewritten_with_a_fresh_hash_still_breaks_the_next_link(db):
    _events(db, 3)
    from crm.audit.chain import event_hash

    ev = db.session.execute(select(AuditEvent).where(AuditEvent.seq == 2)).scalar_one()
    forged = event_hash(2, ev.prev_hash, at=ev.at, user_id=None, action=ev.action, object_type=None, object_id=None,
                        ip=None, detail="forged")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET detail = 'forged', hash = :h WHERE seq = 2"), {"h": forged})
    result = audit.verify_chain()
    assert any("does not link" in p and "#3" in p for p in result.problems)


def test_the_orm_refuses_to_change_or_delete_an_event(db):
    _events(db, 1)
    ev = db.session.execute(select(AuditEvent)).scalar_one()
    ev.detail = "changed"
    with pytest.raises(AuditTamperingRefused):
        db.session.flush()
    db.session.rollback()
    ev = db.session.execute(select(AuditEvent)).scalar_one()
    db.session.delete(ev)
    with pytest.raises(AuditTamperingRefused):
        db.session.flush()
    db.session.rollback()


def test_concurrent_writers_never_chain_onto_the_same_event(app, db):
    _events(db, 1)
    errors = []

    def writer(k):
        try:
            with app.app_context():
                for i in range(5):
                    audit.record("test.concurrent", detail=f"w{k} {i}")
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = audit.verify_chain()
    assert result.ok and result.checked == 21


def test_cli_verify_reports_intact_and_broken_chains(runner, db):
    _events(db, 2)
    ok = runner.invoke(args=["crm", "audit", "verify"])
    assert ok.exit_code == 0 and "intact: 2 entries" in ok.output
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET detail = 'x' WHERE seq = 1"))
    broken = runner.invoke(args=["crm", "audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN" in broken.output


def test_pruning_old_events_keeps_the_rest_verifiable(db):
    from datetime import timedelta

    from crm.database import utcnow

    _events(db, 3)
    old = utcnow() - timedelta(days=3000)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET at = :at WHERE seq <= 2"), {"at": old.replace(tzinfo=None) if
                     db.engine.dialect.name == "sqlite" else old})
    # Re-chain nothing: the changed timestamps are exactly what verify must flag before the prune.
    assert not audit.verify_chain().ok
    removed = audit.prune_before(utcnow() - timedelta(days=365), apply=True)
    db.session.commit()
    assert removed == 2
    result = audit.verify_chain()
    assert result.ok, result.problems
    assert result.first_seq == 3
    assert db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)).scalar() == "audit.prune"


def test_admin_filters_and_downloads_the_trail_and_the_download_is_audited(client, login_as, make, db):
    admin = make.user(Role.ADMIN)
    officer = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    audit.record("login.success", user=officer)
    audit.record("login.failure")
    audit.record("contacts.export", user=officer, detail="rows=3")
    db.session.commit()
    login_as(admin)
    page = client.get("/admin/audit/?action=login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "login.failure" in html and "<code>contacts.export</code>" not in html
    csv = client.get("/admin/audit/export.csv?action=login")
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("seq,at_utc,user_id") and len(lines) == 3
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "audit.export")).scalar_one()
    assert event.user_id == admin.id and "action=login" in event.detail and "rows=2" in event.detail


def test_bad_filter_values_get_a_clear_message(client, login_as, make, db):
    login_as(make.user(Role.ADMIN))
    db.session.commit()
    response = client.get("/admin/audit/?since=2026-05-02&until=2026-05-01")
    assert response.status_code == 422 and "must be on or after" in response.get_data(as_text=True)


def test_only_admins_see_the_trail(client, login_as, make, db):
    login_as(make.user(Role.ORGANISER))
    db.session.commit()
    assert client.get("/admin/audit/").status_code == 404
    assert client.get("/admin/audit/export.csv").status_code == 404


def test_probing_another_branchs_contact_is_audited_but_looks_missing(client, login_as, make, db):
    home, other = make.branch(), make.branch()
    theirs = make.contact(other)
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    db.session.commit()
    login_as(officer)
    probed = client.get(f"/contacts/{theirs.id}")
    missing = client.get("/contacts/987654")
    assert probed.status_code == missing.status_code == 404
    assert probed.get_data() == missing.get_data()
    rows = db.session.execute(select(AuditEvent).where(AuditEvent.action == "authz.denied")).scalars().all()
    assert [(e.user_id, e.object_type, e.object_id) for e in rows] == [(officer.id, "contact", theirs.id)]
    assert audit.verify_chain().ok


def test_probing_another_branchs_call_list_or_reply_is_audited_but_looks_missing(client, login_as, make, db):
    home, other = make.branch(), make.branch()
    their_list = make.call_list([other])
    their_reply = make.inbound_message(make.contact(other))
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    db.session.commit()
    login_as(officer)
    for probed_url, missing_url in ((f"/calls/lists/{their_list.id}", "/calls/lists/987654"),
                                    (f"/messages/replies/{their_reply.id}", "/messages/replies/987654")):
        probed, missing = client.get(probed_url), client.get(missing_url)
        assert probed.status_code == missing.status_code == 404
        assert probed.get_data() == missing.get_data()
    rows = db.session.execute(select(AuditEvent).where(AuditEvent.action == "authz.denied")
                              .order_by(AuditEvent.id)).scalars().all()
    assert [(e.user_id, e.object_type, e.object_id) for e in rows] == [
        (officer.id, "call_list", their_list.id), (officer.id, "inbound_message", their_reply.id)]


def test_viewing_a_contact_and_signing_in_are_audited(client, login_as, make, db):
    from ..factories import PASSWORD

    branch = make.branch()
    person = make.contact(branch)
    officer = make.user(Role.BRANCH_OFFICER, branches=[branch])
    db.session.commit()
    client.post("/login", data={"email": officer.email, "password": "wrong wrong wrong"})
    client.post("/login", data={"email": officer.email, "password": PASSWORD})
    client.get(f"/contacts/{person.id}")
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert actions == ["login.failure", "login.success", "contact.view"]
    assert db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.hash.is_(None))).scalar_one() == 0

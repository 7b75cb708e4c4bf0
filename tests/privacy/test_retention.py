"""Retention: a dry run by default; applying empties or erases only what is past its period."""
from datetime import date, timedelta

from sqlalchemy import select, text

from crm.audit import service as audit
from crm.audit.models import AuditEvent
from crm.calls.models import CallAttempt, Outcome
from crm.contacts.models import Contact
from crm.database import utcnow
from crm.messaging.models import Message, MessageState, Purpose
from crm.privacy import retention
from crm.privacy.identity import get_settings
from crm.privacy.models import ContactErasure
from crm.vocabulary import Channel, ContactStatus


def _world(db, make):
    branch = make.branch()
    admin = make.user("admin")
    old_member = make.contact(branch, status=ContactStatus.LAPSED, left_on=date.today() - timedelta(days=7 * 365))
    recent_leaver = make.contact(branch, status=ContactStatus.LAPSED, left_on=date.today() - timedelta(days=30))
    member = make.contact(branch)
    call_list = make.call_list([branch])
    entry = make.call_entry(call_list, member)
    long_ago = utcnow() - timedelta(days=1000)
    db.session.add_all([
        CallAttempt(entry_id=entry.id, list_id=call_list.id, contact_id=member.id, outcome=Outcome.ANSWERED,
                    note="old note", at=long_ago),
        CallAttempt(entry_id=entry.id, list_id=call_list.id, contact_id=member.id, outcome=Outcome.ANSWERED,
                    note="fresh note"),
    ])
    send = make.send(admin)
    db.session.add_all([
        Message(dedupe_key="old", send_id=send.id, contact_id=member.id, channel=Channel.SMS, purpose=Purpose.BULK,
                state=MessageState.DELIVERED, body="old body", to_address=member.mobile, queued_at=long_ago),
        Message(dedupe_key="new", send_id=send.id, contact_id=member.id, channel=Channel.SMS, purpose=Purpose.BULK,
                state=MessageState.DELIVERED, body="new body", to_address=member.mobile),
    ])
    db.session.commit()
    return {"old_member": old_member, "recent_leaver": recent_leaver, "member": member, "admin": admin}


def _due(lines):
    return {line.kind: line.due for line in lines}


def test_the_plan_counts_what_is_due_and_changes_nothing(db, make):
    _world(db, make)
    due = _due(retention.plan())
    assert due["call_notes"] == 1 and due["message_bodies"] == 1 and due["lapsed_members"] == 1
    assert db.session.execute(select(CallAttempt.note).where(CallAttempt.note == "old note")).scalar_one()


def test_applying_empties_old_notes_and_bodies_and_erases_long_lapsed_members(db, make):
    w = _world(db, make)
    retention.apply(by=w["admin"])
    db.session.commit()
    notes = db.session.execute(select(CallAttempt.note).order_by(CallAttempt.id)).scalars().all()
    assert notes == [None, "fresh note"]
    bodies = db.session.execute(select(Message.body).order_by(Message.id)).scalars().all()
    assert not bodies[0] and bodies[1] == "new body"
    assert db.session.get(ContactErasure, w["old_member"].id) is not None
    assert db.session.get(ContactErasure, w["recent_leaver"].id) is None
    assert db.session.get(Contact, w["old_member"].id).email is None
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "retention.apply")).scalar_one()
    assert "call_notes=1" in event.detail and "lapsed_members=1" in event.detail
    assert _due(retention.plan()) == {"call_notes": 0, "message_bodies": 0, "letters": 0, "lapsed_members": 0, "audit": 0}


def test_a_period_of_zero_keeps_that_kind_for_ever(db, make):
    w = _world(db, make)
    retention.update_periods(by=w["admin"], call_notes_days=0)
    db.session.commit()
    retention.apply()
    db.session.commit()
    assert db.session.execute(select(CallAttempt.note).where(CallAttempt.note == "old note")).scalar_one()
    assert get_settings().call_notes_days == 0


def test_old_audit_entries_are_removed_and_the_chain_still_verifies(db, make):
    audit.record("test.old")
    audit.record("test.new")
    db.session.commit()
    old = utcnow() - timedelta(days=8 * 365)
    # Re-chain the first event with its old date, as if it had been written then.
    from crm.audit.chain import hash_of

    first = db.session.execute(select(AuditEvent).where(AuditEvent.seq == 1)).scalar_one()
    first.__dict__["at"] = old
    new_hash = hash_of(first, 1, "")
    db.session.expunge_all()
    stamp = old.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else old
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET at = :at, hash = :h WHERE seq = 1"), {"at": stamp, "h": new_hash})
        conn.execute(text("UPDATE audit_event SET prev_hash = :h WHERE seq = 2"), {"h": new_hash})
    from crm.audit.chain import event_hash

    second = db.session.execute(select(AuditEvent).where(AuditEvent.seq == 2)).scalar_one()
    h2 = event_hash(2, new_hash, at=second.at, user_id=None, action=second.action, object_type=None, object_id=None,
                    ip=second.ip, detail=second.detail)
    db.session.expunge_all()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET hash = :h WHERE seq = 2"), {"h": h2})
        conn.execute(text("UPDATE audit_chain_head SET hash = :h"), {"h": h2})
    assert audit.verify_chain().ok
    assert _due(retention.plan())["audit"] == 1
    retention.apply()
    db.session.commit()
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert actions == ["test.new", "retention.apply", "audit.prune"]
    assert audit.verify_chain().ok


def test_cli_shows_a_dry_run_unless_told_to_apply(runner, db, make):
    _world(db, make)
    dry = runner.invoke(args=["crm", "retention"])
    assert dry.exit_code == 0 and "Dry run" in dry.output and "Call notes" in dry.output
    assert db.session.execute(select(CallAttempt.note).where(CallAttempt.note == "old note")).scalar_one()
    done = runner.invoke(args=["crm", "retention", "--apply"])
    assert done.exit_code == 0 and "Applied" in done.output
    db.session.expire_all()
    assert db.session.execute(select(CallAttempt.note).where(CallAttempt.note == "old note")).first() is None


def test_the_nightly_run_is_scheduled_in_rq_and_reschedules_itself(app, db, make):
    from datetime import datetime, timezone

    from rq.registry import ScheduledJobRegistry

    from crm.privacy.schedule import JOB_ID, next_run, schedule_retention
    from crm.queue import get_queue

    assert next_run(datetime(2026, 7, 1, 1, 0, tzinfo=timezone.utc)) == datetime(2026, 7, 1, 2, 15, tzinfo=timezone.utc)
    assert next_run(datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)) == datetime(2026, 12, 2, 3, 15, tzinfo=timezone.utc)
    schedule_retention()
    schedule_retention()  # a second worker starting: still one scheduled run
    registry = ScheduledJobRegistry(queue=get_queue())
    assert registry.get_job_ids() == [JOB_ID]
    _world(db, make)
    from jobs.privacy import apply_retention

    assert apply_retention()["call_notes"] == 1
    assert registry.get_job_ids() == [JOB_ID]


def test_admin_changes_periods_and_applies_them_from_the_page(client, login_as, db, make):
    w = _world(db, make)
    login_as(w["admin"])
    page = client.get("/admin/privacy/retention")
    assert page.status_code == 200 and "Past their period" in page.get_data(as_text=True)
    bad = client.post("/admin/privacy/retention", data={"call_notes_days": "-1", "message_bodies_days": "365",
                                                         "letters_days": "365", "lapsed_members_days": "2190",
                                                         "audit_days": "2555"})
    assert bad.status_code == 422 and "from 0 to 36500" in bad.get_data(as_text=True)
    ok = client.post("/admin/privacy/retention", data={"call_notes_days": "2000", "message_bodies_days": "365",
                                                        "letters_days": "365", "lapsed_members_days": "2190",
                                                        "audit_days": "2555"})
    assert ok.status_code == 302
    client.post("/admin/privacy/retention/apply")
    db.session.expire_all()
    assert db.session.execute(select(CallAttempt.note).where(CallAttempt.note == "old note")).scalar_one()
    assert not db.session.execute(select(Message.body).where(Message.dedupe_key == "old")).scalar_one()

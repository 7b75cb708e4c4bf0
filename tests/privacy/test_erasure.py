"""Erasure: personal data gone, anonymous counts kept, salted hashes stop the person coming back."""
import json

import pytest
from sqlalchemy import func, select

from crm.audit import service as audit
from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.calls.models import CallAttempt, CallEntry
from crm.campaigns.models import Letter, Submission
from crm.contacts.models import Consent, Contact, ContactSelfOrganisedGroup, contact_tag
from crm.imports.models import ImportIssue
from crm.messaging.models import InboundMessage, Message, Suppression
from crm.privacy import erasure, subject_access
from crm.privacy.models import ContactErasure, ErasedIdentity
from crm.queue import get_queue, get_redis

ANNA_VALUES = ("Annabel", "Quartermaine", "annabel.q@example.org", "+447700900111", "55500011", "Theatre Nurse",
               "ANNAMARK")


def _erase(db, person, by=None):
    result = erasure.erase(person, by=by, reason=erasure.ErasureReason.REQUEST)
    db.session.commit()
    return result


def test_erasure_empties_everything_personal_and_keeps_counts(db, people):
    anna, bob = people["anna"], people["bob"]
    _erase(db, anna, by=people["admin"])
    db.session.expire_all()
    anna = db.session.get(Contact, anna.id)
    assert (anna.first_name, anna.last_name) == ("Erased", "contact")
    assert anna.email is anna.mobile is anna.membership_number is anna.postcode is anna.job_title is None
    assert anna.branch_id == people["branch"].id and anna.do_not_call  # still counted in its branch
    # Rows describing the person are gone; rows counted by reports stay, emptied.
    for model in (Consent, ContactSelfOrganisedGroup):
        assert db.session.execute(select(func.count()).select_from(model).where(model.contact_id == anna.id)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(contact_tag)
                              .where(contact_tag.c.contact_id == anna.id)).scalar_one() == 0
    attempt = db.session.execute(select(CallAttempt).where(CallAttempt.contact_id == anna.id)).scalar_one()
    assert attempt.note is None and attempt.answers == {} and attempt.outcome is not None
    assert db.session.execute(select(func.count()).select_from(CallEntry).where(CallEntry.contact_id == anna.id)).scalar_one() == 1
    message = db.session.execute(select(Message).where(Message.contact_id == anna.id)).scalar_one()
    assert not message.body and not message.to_address and message.state.value == "delivered"
    inbound = db.session.execute(select(InboundMessage).where(InboundMessage.contact_id == anna.id)).scalar_one()
    assert not inbound.body and not inbound.from_address
    submission = db.session.execute(select(Submission).where(Submission.contact_id == anna.id)).scalar_one()
    assert not submission.email and not submission.first_name and not submission.mobile
    letter = db.session.execute(select(Letter).where(Letter.contact_id == anna.id)).scalar_one()
    assert not letter.body and letter.state.value == "queued"
    assert db.session.execute(select(Suppression).where(Suppression.address == "annabel.q@example.org")).first() is None
    # Nothing of hers is left anywhere in her record, and Bob's is untouched.
    text = json.dumps(subject_access.build(anna), ensure_ascii=False)
    for value in ANNA_VALUES:
        assert value not in text, value
    bob_text = json.dumps(subject_access.build(bob), ensure_ascii=False)
    assert "BOBMARK" in bob_text and "bart.z@example.org" in bob_text


def test_only_salted_hashes_of_the_identifiers_are_kept(db, people):
    _erase(db, people["anna"])
    rows = db.session.execute(select(ErasedIdentity)).scalars().all()
    assert {r.kind.value for r in rows} == {"email", "mobile", "membership_number"}
    for row in rows:
        assert len(row.digest) == 64 and all(v not in row.digest for v in ANNA_VALUES)
    from hashlib import sha256

    assert sha256(b"email:annabel.q@example.org").hexdigest() not in {r.digest for r in rows}  # salted


def test_erasure_is_audited_without_personal_data(db, people):
    _erase(db, people["anna"], by=people["admin"])
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contact.erase")).scalar_one()
    assert event.user_id == people["admin"].id and event.object_id == people["anna"].id
    assert "reason=request" in event.detail and "call_attempt=1" in event.detail
    assert not any(v in event.detail for v in ANNA_VALUES)
    assert audit.verify_chain().ok
    assert db.session.get(ContactErasure, people["anna"].id).by_id == people["admin"].id


def test_erasing_twice_is_refused(db, people):
    _erase(db, people["anna"])
    with pytest.raises(erasure.ErasureRefused):
        erasure.erase(people["anna"], by=None, reason=erasure.ErasureReason.REQUEST)


def test_a_later_import_never_brings_the_person_back(db, people, tmp_path):
    from crm.imports import service as imports
    from crm.imports.models import ImportScope

    _erase(db, people["anna"])
    path = tmp_path / "march.csv"
    path.write_text("Membership No,Forename,Surname,Email,Mobile,Branch Code\n"
                    "55500011,Annabel,Quartermaine,annabel.q@example.org,07700 900111,LIVH\n"
                    ",Annabel,Q,Annabel.Q@example.org,,LIVH\n"
                    "55500033,Carys,Jones,carys@example.org,07700 900333,LIVH\n")
    run = imports.create_run(path, path.name, by=None, scope=ImportScope.REGION, branch=None)
    imports.confirm_run(run, scope=ImportScope.REGION, branch=None, by=None)
    db.session.commit()
    run = imports.execute_run(run)
    assert (run.imported, run.rejected) == (1, 2)
    names = db.session.execute(select(Contact.first_name).order_by(Contact.id)).scalars().all()
    assert "Annabel" not in names and "Carys" in names
    issues = db.session.execute(select(ImportIssue).where(ImportIssue.run_id == run.id)).scalars().all()
    rejected = [i for i in issues if i.kind.value == "rejected"]
    assert len(rejected) == 2 and all(i.original == [] and "erased at their request" in i.reason for i in rejected)
    assert not any("nnabel" in json.dumps(i.original) for i in issues)


def test_import_report_rows_that_quote_the_person_are_emptied(db, people):
    run = people["run"]
    db.session.add(ImportIssue(run_id=run.id, line_no=7, kind="warning", field="mobile", reason="bad mobile",
                               original=["55500011", "Annabel", "Quartermaine", "annabel.q@example.org"]))
    db.session.add(ImportIssue(run_id=run.id, line_no=8, kind="warning", field="mobile", reason="bad mobile",
                               original=["55500022", "Bartholomew", "Zebedee", "bart.z@example.org"]))
    db.session.commit()
    result = _erase(db, people["anna"])
    assert result.changed["import_issue"] == 1
    originals = dict(db.session.execute(select(ImportIssue.line_no, ImportIssue.original)).all())
    assert originals[7] == [] and originals[8][0] == "55500022"


def test_erasure_removes_their_data_from_redis_job_registries(db, people):
    from rq.job import Job
    from rq.registry import FailedJobRegistry
    from rq.results import Result
    from rq.serializers import JSONSerializer

    queue = get_queue()
    theirs = queue.enqueue("jobs.system.record_heartbeat")
    other = queue.enqueue("jobs.system.record_heartbeat")
    registry = FailedJobRegistry(queue=queue)
    for job, text in ((theirs, "ValueError: rejected address annabel.q@example.org"),
                      (other, "ValueError: rejected address bart.z@example.org")):
        # What a worker records when a job fails: a failure result holding the traceback text.
        queue.remove(job)
        Result.create_failure(job, ttl=600, exc_string=text)
        registry.add(job, exc_string=text)
    result = _erase(db, people["anna"])
    assert result.purge_job_registries(get_redis()) == 1
    assert registry.get_job_ids() == [other.id]
    assert Job.fetch_many([theirs.id], connection=get_redis(), serializer=JSONSerializer) == [None]


def test_erasure_needs_a_confirmed_reason_and_shows_what_will_happen(client, login_as, db, people):
    login_as(people["admin"])
    anna = people["anna"]
    page = client.get(f"/admin/privacy/contacts/{anna.id}/erase")
    assert page.status_code == 200 and "This cannot be undone" in page.get_data(as_text=True)
    refused = client.post(f"/admin/privacy/contacts/{anna.id}/erase", data={"reason": "request"})
    assert refused.status_code == 422 and "Tick the box" in refused.get_data(as_text=True)
    assert db.session.get(ContactErasure, anna.id) is None
    done = client.post(f"/admin/privacy/contacts/{anna.id}/erase", data={"reason": "request", "confirm": "y"})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "has been erased" in shown and "Erased contact" in shown and "annabel.q@example.org" not in shown


def test_the_contact_page_offers_subject_access_and_erasure_only_to_admins(client, login_as, make, db, people):
    login_as(people["admin"])
    html = client.get(f"/contacts/{people['anna'].id}").get_data(as_text=True)
    assert "Subject access export" in html and ">Erase<" in html
    officer = make.user(Role.BRANCH_OFFICER, branches=[people["branch"]])
    db.session.commit()
    login_as(officer)
    html = client.get(f"/contacts/{people['anna'].id}").get_data(as_text=True)
    assert "Subject access export" not in html

"""What each outcome does to the entry and the member, and how imports fill the lists."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.calls import claims, scripts, service
from crm.calls.models import CallAttempt, CallEntry, CallList, CallListKind, DoneRule, EntryStatus, Outcome
from crm.database import utcnow
from crm.imports import service as imports
from crm.imports.models import ImportScope
from crm.vocabulary import PaymentMethod


@pytest.fixture
def calling(make, db):
    branch = make.branch(code="LIVH")
    caller = make.user(Role.CALLER, branches=[branch])
    lst = make.call_list([branch], kind=CallListKind.DOCAS_LEAVER, callers=[caller])
    contact = make.contact(branch, mobile="+447811234567", payment_method=PaymentMethod.DOCAS)
    make.call_entry(lst, contact)
    db.session.commit()
    entry = claims.claim_next(lst, caller)
    return {"entry": entry, "caller": caller, "contact": contact, "list": lst}


@pytest.mark.parametrize("outcome, status, reached", [
    (Outcome.ANSWERED, EntryStatus.DONE, True),
    (Outcome.RETAINED, EntryStatus.DONE, True),
    (Outcome.LEFT_EMPLOYER, EntryStatus.DONE, True),
    (Outcome.RETIRED, EntryStatus.DONE, True),
    (Outcome.NOT_RENEWING, EntryStatus.DONE, True),
    (Outcome.DO_NOT_CALL, EntryStatus.DONE, True),
    (Outcome.WRONG_NUMBER, EntryStatus.DONE, False),
    (Outcome.NO_ANSWER, EntryStatus.PENDING, False),
    (Outcome.VOICEMAIL, EntryStatus.PENDING, False),
    (Outcome.BUSY, EntryStatus.PENDING, False),
])
def test_each_outcome_moves_the_entry_on(calling, db, outcome, status, reached):
    service.record_outcome(calling["entry"], outcome, by=calling["caller"], note="spoke briefly", answers={"rep": "yes"})
    db.session.commit()
    entry = db.session.get(CallEntry, calling["entry"].id)
    assert (entry.status, entry.reached, entry.last_outcome, entry.lease_user_id) == (status, reached, outcome, None)
    attempt = db.session.execute(select(CallAttempt)).scalar_one()
    assert (attempt.note, attempt.answers, attempt.user_id) == ("spoke briefly", {"rep": "yes"}, calling["caller"].id)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "call.outcome")).scalar_one().detail.endswith(outcome.value)


def test_retained_moves_the_member_to_direct_debit(calling, db):
    service.record_outcome(calling["entry"], Outcome.RETAINED, by=calling["caller"])
    db.session.commit()
    db.session.refresh(calling["contact"])
    assert calling["contact"].payment_method is PaymentMethod.DIRECT_DEBIT


def test_do_not_call_and_wrong_number_mark_the_member(calling, db, make):
    service.record_outcome(calling["entry"], Outcome.DO_NOT_CALL, by=calling["caller"])
    db.session.commit()
    db.session.refresh(calling["contact"])
    assert calling["contact"].do_not_call is True
    other = make.contact(calling["contact"].branch, mobile="+447811234568")
    make.call_entry(calling["list"], other)
    db.session.commit()
    entry = claims.claim_next(calling["list"], calling["caller"])
    service.record_outcome(entry, Outcome.WRONG_NUMBER, by=calling["caller"])
    db.session.commit()
    db.session.refresh(other)
    assert other.phone_flagged_at is not None


def test_call_back_needs_a_future_time(calling, db):
    with pytest.raises(service.CallRefused, match="Choose when"):
        service.record_outcome(calling["entry"], Outcome.CALL_BACK, by=calling["caller"])
    with pytest.raises(service.CallRefused, match="future"):
        service.record_outcome(calling["entry"], Outcome.CALL_BACK, by=calling["caller"], callback_at=utcnow() - timedelta(hours=1))


def test_an_outcome_cannot_be_recorded_twice_or_by_someone_else(calling, db, make):
    intruder = make.user(Role.CALLER, branches=[calling["contact"].branch])
    db.session.commit()
    with pytest.raises(service.CallRefused, match="Someone else"):
        service.record_outcome(calling["entry"], Outcome.ANSWERED, by=intruder)
    service.record_outcome(calling["entry"], Outcome.ANSWERED, by=calling["caller"])
    with pytest.raises(service.CallRefused, match="already"):
        service.record_outcome(calling["entry"], Outcome.ANSWERED, by=calling["caller"])


def test_any_outcome_rule_closes_after_one_call(calling, db):
    calling["list"].done_rule = DoneRule.ANY_OUTCOME
    service.record_outcome(calling["entry"], Outcome.NO_ANSWER, by=calling["caller"])
    assert calling["entry"].status is EntryStatus.DONE


def test_script_merge_fields_are_filled_and_html_is_not_run(make, db):
    html = scripts.render_script("Hi **{{ first_name }}** at {{ workplace }} <script>alert(1)</script>",
                                 {"first_name": "Amara", "workplace": "Royal Infirmary"})
    assert "<strong>Amara</strong>" in html and "Royal Infirmary" in html and "<script>" not in html
    assert scripts.render_script("Hi {{ first_name ", {"first_name": "A"}).startswith("<p>Hi {{ first_name")
    assert scripts.script_problem("Hi {{ first_name ") and scripts.script_problem("Hi {{ first_name }}") is None


def test_imports_put_joiners_and_leavers_on_their_branch_lists(tmp_path, make, db):
    make.branch(code="LIVH")
    make.branch(code="WIRH")
    db.session.commit()
    header = "Membership No,Forename,Surname,Mobile,Branch Code,Payment Method,Join Date"
    first = tmp_path / "m1.csv"
    first.write_text("\n".join([header, "10000001,A,One,07811 234561,LIVH,DOCAS,01/01/2020",
                                "10000002,B,Two,07811 234562,WIRH,DOCAS,01/01/2020"]) + "\n")
    second = tmp_path / "m2.csv"
    second.write_text("\n".join([header, "10000001,A,One,07811 234561,LIVH,Direct Debit,01/01/2020",
                                 f"10000003,C,Three,07811 234563,WIRH,DOCAS,{date.today():%d/%m/%Y}"]) + "\n")
    for path in (first, second):
        run = imports.create_run(path, path.name, by=None, scope=ImportScope.REGION)
        imports.confirm_run(run, scope=ImportScope.REGION, branch=None, by=None)
        db.session.commit()
        imports.execute_run(run)
    lists = {(lst.kind, lst.branches[0].code): lst for lst in db.session.execute(select(CallList)).scalars()}
    assert set(lists) == {(CallListKind.NEW_JOINER, "WIRH"), (CallListKind.DOCAS_LEAVER, "LIVH"),
                          (CallListKind.DOCAS_LEAVER, "WIRH")}
    joiner_list = lists[(CallListKind.NEW_JOINER, "WIRH")]
    entry = db.session.execute(select(CallEntry).where(CallEntry.list_id == joiner_list.id)).scalar_one()
    assert entry.contact.membership_number == "10000003" and entry.due_by == date.today() + timedelta(days=7)
    assert "welcome to the union" in joiner_list.script
    # Importing the same month again adds nobody twice.
    run = imports.create_run(second, "again.csv", by=None, scope=ImportScope.REGION)
    imports.confirm_run(run, scope=ImportScope.REGION, branch=None, by=None)
    db.session.commit()
    imports.execute_run(run)
    assert db.session.query(CallEntry).count() == 3

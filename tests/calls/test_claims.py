"""Claiming: one contact to one caller at a time, in the right order, never the wrong contacts."""
import threading
from collections import Counter
from datetime import date, timedelta

import pytest

from crm.auth.roles import Role
from crm.calls import claims, service
from crm.calls.models import CallAttempt, CallEntry, EntryStatus, Outcome
from crm.database import utcnow


@pytest.fixture
def setup(make, db):
    branch = make.branch(code="LIVH")
    other = make.branch(code="WIRH")
    caller = make.user(Role.CALLER, branches=[branch])
    second = make.user(Role.CALLER, branches=[branch])
    lst = make.call_list([branch, other], callers=[caller, second], cooldown_hours=4, max_attempts=2)
    db.session.commit()
    return {"branch": branch, "other": other, "caller": caller, "second": second, "list": lst}


def add(make, lst, branch, **kw):
    contact = make.contact(branch, mobile=kw.pop("mobile", "+447811234567"), **{k: v for k, v in kw.items() if k in ("do_not_call", "last_name")})
    return make.call_entry(lst, contact, **{k: v for k, v in kw.items() if k not in ("do_not_call", "last_name")})


def test_two_callers_never_get_the_same_member(setup, make, db, app):
    lst = setup["list"]
    entries = [add(make, lst, setup["branch"]).id for _ in range(60)]
    callers = [make.user(Role.CALLER, branches=[setup["branch"]]) for _ in range(8)]
    db.session.commit()
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(user_id):
        try:
            with app.app_context():
                from crm.auth.models import User
                from crm.extensions import db as tdb

                user = tdb.session.get(User, user_id)
                mine = tdb.session.get(type(lst), lst.id)
                while True:
                    entry = claims.claim_next(mine, user)
                    if entry is None:
                        break
                    with lock:
                        claimed.append(entry.id)
                    service.record_outcome(entry, Outcome.ANSWERED, by=user)
                    tdb.session.commit()
                tdb.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u.id,)) for u in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert Counter(claimed).most_common(1)[0][1] == 1, "a member was given to two callers"
    assert sorted(claimed) == sorted(entries)


def test_a_caller_gets_back_the_contact_they_already_hold(setup, make, db):
    add(make, setup["list"], setup["branch"])
    add(make, setup["list"], setup["branch"])
    db.session.commit()
    first = claims.claim_next(setup["list"], setup["caller"])
    again = claims.claim_next(setup["list"], setup["caller"])
    assert first.id == again.id
    assert claims.claim_next(setup["list"], setup["second"]).id != first.id


def test_an_expired_lease_goes_back_to_the_pool(setup, make, db):
    add(make, setup["list"], setup["branch"])
    db.session.commit()
    held = claims.claim_next(setup["list"], setup["caller"])
    assert claims.claim_next(setup["list"], setup["second"]) is None
    later = utcnow() + timedelta(minutes=11)
    taken = claims.claim_next(setup["list"], setup["second"], now=later)
    assert taken.id == held.id and taken.lease_user_id == setup["second"].id


def test_callbacks_due_come_first_then_oldest_due_date(setup, make, db):
    lst, branch = setup["list"], setup["branch"]
    late = add(make, lst, branch, due_by=date.today() + timedelta(days=5))
    early = add(make, lst, branch, due_by=date.today() - timedelta(days=2))
    callback = add(make, lst, branch, due_by=date.today() + timedelta(days=9),
                   callback_at=utcnow() - timedelta(minutes=1), next_attempt_at=utcnow() - timedelta(minutes=1),
                   callback_user_id=setup["caller"].id)
    db.session.commit()
    order = []
    for _ in range(3):
        entry = claims.claim_next(lst, setup["caller"])
        order.append(entry.id)
        service.record_outcome(entry, Outcome.ANSWERED, by=setup["caller"])
        db.session.commit()
    assert order == [callback.id, early.id, late.id]


def test_a_callback_waits_for_the_caller_who_arranged_it(setup, make, db):
    entry = add(make, setup["list"], setup["branch"])
    db.session.commit()
    claimed = claims.claim_next(setup["list"], setup["caller"])
    when = utcnow() + timedelta(hours=2)
    service.record_outcome(claimed, Outcome.CALL_BACK, by=setup["caller"], callback_at=when)
    db.session.commit()
    at_time = when + timedelta(minutes=1)
    assert claims.claim_next(setup["list"], setup["second"], now=at_time) is None
    assert claims.claim_next(setup["list"], setup["caller"], now=at_time).id == entry.id


def test_never_offers_do_not_call_no_phone_flagged_or_other_branch(setup, make, db):
    lst, branch = setup["list"], setup["branch"]
    add(make, lst, branch, do_not_call=True)
    add(make, lst, branch, mobile=None)
    flagged = add(make, lst, branch)
    flagged.contact.phone_flagged_at = utcnow()
    add(make, lst, setup["other"])  # the list spans WIRH, but this caller covers only LIVH
    db.session.commit()
    assert claims.claim_next(lst, setup["caller"]) is None
    reason = service.why_empty(lst, setup["caller"])
    assert "no usable mobile" in reason.detail


def test_cross_list_cooldown_keeps_a_just_called_member_off_other_lists(setup, make, db):
    lst, branch = setup["list"], setup["branch"]
    entry = add(make, lst, branch)
    other_list = make.call_list([branch], callers=[setup["caller"]])
    twin = make.call_entry(other_list, entry.contact)
    db.session.commit()
    claimed = claims.claim_next(lst, setup["caller"])
    service.record_outcome(claimed, Outcome.NO_ANSWER, by=setup["caller"])
    db.session.commit()
    assert claims.claim_next(other_list, setup["caller"]) is None
    assert claims.claim_next(other_list, setup["caller"], now=utcnow() + timedelta(hours=25)).id == twin.id


def test_no_answer_rests_then_gives_up_after_the_maximum(setup, make, db):
    entry = add(make, setup["list"], setup["branch"])
    db.session.commit()
    claimed = claims.claim_next(setup["list"], setup["caller"])
    service.record_outcome(claimed, Outcome.NO_ANSWER, by=setup["caller"])
    db.session.commit()
    assert claims.claim_next(setup["list"], setup["caller"]) is None
    reason = service.why_empty(setup["list"], setup["caller"])
    assert "resting between attempts" in reason.detail
    again = claims.claim_next(setup["list"], setup["caller"], now=utcnow() + timedelta(hours=5))
    service.record_outcome(again, Outcome.VOICEMAIL, by=setup["caller"])
    db.session.commit()
    db.session.refresh(entry)
    assert entry.status is EntryStatus.GAVE_UP and entry.attempts == 2
    assert service.why_empty(setup["list"], setup["caller"]).reason.startswith("Everyone on this list has been called")


def test_other_branches_entries_are_invisible_in_progress(setup, make, db):
    add(make, setup["list"], setup["branch"])
    add(make, setup["list"], setup["other"])
    db.session.commit()
    assert service.progress(setup["list"], setup["caller"]).total == 1
    organiser = make.user(Role.ORGANISER)
    db.session.commit()
    assert service.progress(setup["list"], organiser).total == 2
    assert db.session.query(CallAttempt).count() == 0
    assert db.session.query(CallEntry).count() == 2


def test_skip_offers_someone_else_next(setup, make, db):
    first = add(make, setup["list"], setup["branch"])
    second = add(make, setup["list"], setup["branch"])
    db.session.commit()
    claimed = claims.claim_next(setup["list"], setup["caller"])
    assert claimed.id == first.id
    claims.release(claimed, setup["caller"])
    db.session.commit()
    assert claims.claim_next(setup["list"], setup["caller"]).id == second.id


def test_a_closed_list_offers_nobody(setup, make, db):
    add(make, setup["list"], setup["branch"])
    setup["list"].is_active = False
    db.session.commit()
    assert claims.claim_next(setup["list"], setup["caller"]) is None

"""The caller's screens: lists, call next, the entry screen, outcomes, skip, and what stays hidden."""
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.auth.roles import Role
from crm.calls.models import CallAttempt, CallEntry, CallListKind, EntryStatus, Outcome
from crm.database import utcnow
from crm.vocabulary import PaymentMethod

UK = ZoneInfo("Europe/London")
SCRIPT = ("Hi **{{ first_name }}**, my name is {{ caller_first_name }} from {{ branch }}.\n\n"
          "You work at {{ workplace }} as {{ job_title }}.")
QUESTIONS = [
    {"key": "rep", "text": "Would you like to become a rep?", "type": "yes_no"},
    {"key": "shift", "text": "Which shift do you work?", "type": "choice", "choices": ["Days", "Nights", "Both"]},
    {"key": "issue", "text": "Any issue at work?", "type": "text"},
]


@pytest.fixture
def calls(make, db, login_as):
    home = make.branch(code="LIVH", name="Liverpool Health")
    other = make.branch(code="WIRH", name="Wirral Health")
    trust = make.employer("Mersey Hospitals NHS FT", branches=[home])
    site = make.workplace(trust, "Royal Infirmary")
    caller = make.user(Role.CALLER, branches=[home], name="Cara Caller")
    lst = make.call_list([home], callers=[caller], name="New joiners – LIVH", script=SCRIPT,
                         questions=QUESTIONS, cooldown_hours=20)
    amara = make.contact(home, first_name="Amara", last_name="Okafor", employer=trust, workplace=site,
                         job_title="Staff Nurse", mobile="+447700900123")
    liam = make.contact(home, first_name="Liam", last_name="Byrne", employer=trust, mobile="+447700900456")
    first = make.call_entry(lst, amara, due_by=date(2025, 1, 10))
    second = make.call_entry(lst, liam, due_by=date(2025, 1, 11))
    db.session.commit()
    login_as(caller)
    return {"home": home, "other": other, "caller": caller, "list": lst, "amara": amara, "liam": liam,
            "first": first, "second": second}


def _next(client, lst):
    return client.post(f"/calls/lists/{lst.id}/next")


def _entry_url(lst, entry_id):
    return f"/calls/lists/{lst.id}/entries/{entry_id}"


def _claim(client, lst) -> str:
    """Call next and return the entry screen's path."""
    response = _next(client, lst)
    assert response.status_code == 302
    return response.headers["Location"]


def _reload(db, entry) -> CallEntry:
    db.session.expire_all()
    return db.session.get(CallEntry, entry.id)


def _attempts(db, entry) -> list[CallAttempt]:
    db.session.expire_all()
    return db.session.execute(select(CallAttempt).where(CallAttempt.entry_id == entry.id)).scalars().all()


def _future_uk(days=2, hour=18, minute=30) -> datetime:
    return datetime.combine(datetime.now(UK).date() + timedelta(days=days), datetime.min.time()).replace(
        hour=hour, minute=minute)


# ---------------------------------------------------------------- lists


def test_calls_page_shows_each_list_with_waiting_progress_and_call_next(client, calls):
    page = client.get("/calls/").get_data(as_text=True)
    assert "New joiners – LIVH" in page and "New joiners" in page
    assert re.search(r'class="stat">2</span>\s*<span class="stat-label">waiting for you now', page)
    assert "0 of 2 done" in page and "2 overdue" in page
    assert f'action="/calls/lists/{calls["list"].id}/next"' in page and "Call next" in page


def test_calls_page_offers_back_to_the_member_already_held(client, calls):
    _claim(client, calls["list"])
    page = client.get("/calls/").get_data(as_text=True)
    assert "Back to Amara" in page
    assert f'href="{_entry_url(calls["list"], calls["first"].id)}"' in page


def test_calls_page_leaves_out_closed_lists_and_lists_of_others(client, calls, make, db):
    make.call_list([calls["home"]], callers=[calls["caller"]], name="Closed list", is_active=False)
    make.call_list([calls["home"]], name="Not assigned to me")
    db.session.commit()
    page = client.get("/calls/").get_data(as_text=True)
    assert "Closed list" not in page and "Not assigned to me" not in page


def test_list_page_shows_progress_and_my_calls_today(client, calls, db):
    entry_path = _claim(client, calls["list"])
    client.post(entry_path + "/outcome", data={"outcome": "no_answer"})
    page = client.get(f"/calls/lists/{calls['list'].id}").get_data(as_text=True)
    assert "You have made 1 call on this list today." in page
    assert "Amara Okafor" in page and "No answer" in page
    assert "Back to Liam" in page  # the next one was claimed straight away


# ---------------------------------------------------------------- call next and the entry screen


def test_call_next_opens_the_entry_screen_with_name_phone_script_and_questions(client, calls):
    entry_path = _claim(client, calls["list"])
    assert entry_path == _entry_url(calls["list"], calls["first"].id)
    page = client.get(entry_path).get_data(as_text=True)
    assert "<h1>Amara Okafor</h1>" in page
    assert "Royal Infirmary" in page and "Staff Nurse" in page and "Liverpool Health" in page
    assert "Member" in page and "DOCAS" in page
    assert 'href="tel:+447700900123"' in page and "07700 900123" in page
    assert "Hi <strong>Amara</strong>, my name is Cara from Liverpool Health." in page
    assert "You work at Royal Infirmary as Staff Nurse." in page
    assert "Would you like to become a rep?" in page and 'name="q_0" type="radio" value="yes"' in page
    assert 'name="q_1" type="radio" value="Nights"' in page and 'name="q_2" type="text"' in page
    assert 'name="note"' in page and 'type="datetime-local"' in page
    assert re.search(r"Reserved for you for another (9|10) minutes", page)
    assert f'action="{entry_path}/release"' in page


def test_entry_screen_shows_earlier_calls_and_notes(client, calls, make, db):
    other_caller = make.user(Role.CALLER, branches=[calls["home"]], name="Olu Other")
    db.session.add(CallAttempt(entry_id=calls["first"].id, list_id=calls["list"].id, contact_id=calls["amara"].id,
                               user_id=other_caller.id, at=utcnow() - timedelta(days=2), outcome=Outcome.VOICEMAIL,
                               note="Works nights, call after 4pm", answers={"rep": "no"}))
    db.session.commit()
    page = client.get(_claim(client, calls["list"])).get_data(as_text=True)
    assert "Earlier calls" in page and "Olu Other" in page and "Left voicemail" in page
    assert "Works nights, call after 4pm" in page and "Would you like to become a rep?" in page


def test_joiner_lists_have_no_leaver_outcomes_and_leaver_lists_do(client, calls, make, db):
    page = client.get(_claim(client, calls["list"])).get_data(as_text=True)
    for value in ("answered", "no_answer", "voicemail", "busy", "wrong_number", "do_not_call", "call_back"):
        assert f'name="outcome" value="{value}"' in page
    assert 'value="retained"' not in page
    leavers = make.call_list([calls["home"]], kind=CallListKind.DOCAS_LEAVER, callers=[calls["caller"]])
    make.call_entry(leavers, make.contact(calls["home"], first_name="Lee"))
    db.session.commit()
    page = client.get(_claim(client, leavers)).get_data(as_text=True)
    for value in ("retained", "left_employer", "retired", "not_renewing"):
        assert f'name="outcome" value="{value}"' in page


def test_empty_queue_call_next_goes_to_the_list_page_with_the_reason(client, calls, make, db):
    empty = make.call_list([calls["home"]], callers=[calls["caller"]], name="Empty")
    db.session.commit()
    response = _next(client, empty)
    assert response.status_code == 302 and response.headers["Location"] == f"/calls/lists/{empty.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "There is nobody on this list yet." in page
    assert "New joiners and DOCAS leavers arrive with each membership import." in page


# ---------------------------------------------------------------- outcomes


@pytest.mark.parametrize("outcome", ["answered", "no_answer", "voicemail", "busy", "wrong_number", "do_not_call"])
def test_each_outcome_is_saved_and_goes_straight_to_the_next_contact(client, calls, db, outcome):
    entry_path = _claim(client, calls["list"])
    response = client.post(entry_path + "/outcome", data={"outcome": outcome})
    assert response.status_code == 302
    assert response.headers["Location"] == _entry_url(calls["list"], calls["second"].id)
    [attempt] = _attempts(db, calls["first"])
    assert attempt.outcome == Outcome(outcome) and attempt.user_id == calls["caller"].id
    assert _reload(db, calls["second"]).lease_user_id == calls["caller"].id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    said = {"no_answer": "no answer", "wrong_number": "wrong number", "do_not_call": "do not call"}.get(outcome, outcome)
    assert f"Saved: {said} for Amara. Next: Liam." in page


@pytest.mark.parametrize("outcome", ["retained", "left_employer", "retired", "not_renewing"])
def test_leaver_outcomes_are_saved_on_leaver_lists(client, calls, make, db, outcome):
    leavers = make.call_list([calls["home"]], kind=CallListKind.DOCAS_LEAVER, callers=[calls["caller"]])
    lee = make.contact(calls["home"], first_name="Lee", payment_method=PaymentMethod.DOCAS)
    entry = make.call_entry(leavers, lee)
    db.session.commit()
    response = client.post(_claim(client, leavers) + "/outcome", data={"outcome": outcome})
    assert response.status_code == 302 and response.headers["Location"] == f"/calls/lists/{leavers.id}"
    assert [a.outcome for a in _attempts(db, entry)] == [Outcome(outcome)]
    assert _reload(db, entry).status is EntryStatus.DONE


def test_the_last_outcome_lands_on_the_list_page_saying_why_it_is_empty(client, calls):
    for _ in range(2):
        client.post(_claim(client, calls["list"]) + "/outcome", data={"outcome": "answered"})
    response = _next(client, calls["list"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Everyone on this list has been called. Thank you!" in page
    assert "Call next" not in page


def test_answers_and_note_are_saved_on_the_call_attempt(client, calls, db):
    entry_path = _claim(client, calls["list"])
    client.post(entry_path + "/outcome", data={
        "outcome": "answered", "q_0": "yes", "q_1": "Nights", "q_2": "  Rota changes  ", "note": "Keen to help",
    })
    [attempt] = _attempts(db, calls["first"])
    assert attempt.answers == {"rep": "yes", "shift": "Nights", "issue": "Rota changes"}
    assert attempt.note == "Keen to help"


def test_unanswered_questions_are_left_out_of_the_answers(client, calls, db):
    client.post(_claim(client, calls["list"]) + "/outcome", data={"outcome": "no_answer", "q_2": "  "})
    [attempt] = _attempts(db, calls["first"])
    assert attempt.answers == {} and attempt.note is None


def test_an_outcome_must_be_chosen_and_must_be_one_of_the_lists(client, calls, db):
    entry_path = _claim(client, calls["list"])
    response = client.post(entry_path + "/outcome", data={"note": "Rang"})
    assert response.status_code == 422
    assert "Choose what happened on the call." in response.get_data(as_text=True)
    response = client.post(entry_path + "/outcome", data={"outcome": "retained", "note": "Rang"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose one of the outcomes shown." in page and "Rang</textarea>" in page  # nothing typed is lost
    assert _attempts(db, calls["first"]) == []


def test_an_invalid_answer_is_refused_and_keeps_the_note(client, calls, db):
    response = client.post(_claim(client, calls["list"]) + "/outcome",
                           data={"outcome": "answered", "q_0": "maybe", "note": "Said maybe"})
    assert response.status_code == 422
    assert "Said maybe</textarea>" in response.get_data(as_text=True)
    assert _attempts(db, calls["first"]) == []


# ---------------------------------------------------------------- call back


def test_call_back_without_a_time_is_refused_next_to_the_picker(client, calls, db):
    response = client.post(_claim(client, calls["list"]) + "/outcome",
                           data={"outcome": "call_back", "note": "Driving", "q_0": "yes"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#callback_at">Enter the date and time to call back.</a>' in page  # the error summary
    assert re.search(r'<p id="callback_at-error" class="field-error">.*Enter the date and time to call back\.</p>\s*'
                     r'<input aria-describedby="callback_at-hint callback_at-error" aria-invalid="true"', page, re.DOTALL)
    assert "Driving</textarea>" in page and '<input checked id="q_0-0" name="q_0" type="radio" value="yes">' in page
    assert _attempts(db, calls["first"]) == []
    assert _reload(db, calls["first"]).lease_user_id == calls["caller"].id  # still theirs


@pytest.mark.parametrize("value, message", [
    ("2020-06-01T10:00", "The call-back time must be in the future."),
    ("tomorrow", "Enter the call-back time as a date and time"),
    ((datetime.now(UK) + timedelta(days=800)).strftime("%Y-%m-%dT10:00"), "within the next year"),
])
def test_call_back_time_must_be_a_sensible_future_time(client, calls, db, value, message):
    response = client.post(_claim(client, calls["list"]) + "/outcome", data={"outcome": "call_back", "callback_at": value})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _attempts(db, calls["first"]) == []


def test_call_back_time_is_read_as_uk_time_and_saved_in_utc(client, calls, db):
    local = _future_uk(days=3)
    response = client.post(_claim(client, calls["list"]) + "/outcome",
                           data={"outcome": "call_back", "callback_at": local.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    expected = local.replace(tzinfo=UK).astimezone(UTC)
    [attempt] = _attempts(db, calls["first"])
    assert attempt.outcome is Outcome.CALL_BACK and attempt.callback_at == expected
    entry = _reload(db, calls["first"])
    assert entry.callback_at == expected and entry.callback_user_id == calls["caller"].id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Saved: call back on {local.day} {local.strftime('%b')} at 18:30 for Amara. Next: Liam." in page


def test_a_half_typed_call_back_time_does_not_stop_another_outcome(client, calls, db):
    response = client.post(_claim(client, calls["list"]) + "/outcome", data={"outcome": "busy", "callback_at": "2025-"})
    assert response.status_code == 302
    assert [a.outcome for a in _attempts(db, calls["first"])] == [Outcome.BUSY]


# ---------------------------------------------------------------- skip


def test_skip_puts_the_member_back_on_the_list(client, calls, db):
    entry_path = _claim(client, calls["list"])
    response = client.post(entry_path + "/release")
    assert response.status_code == 302 and response.headers["Location"] == f"/calls/lists/{calls['list'].id}"
    entry = _reload(db, calls["first"])
    assert entry.status is EntryStatus.PENDING and entry.lease_user_id is None and entry.attempts == 0
    assert _attempts(db, calls["first"]) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Amara was put back on the list" in page
    assert client.get(entry_path).status_code == 404  # no longer theirs


# ---------------------------------------------------------------- who sees what


def test_a_caller_not_assigned_to_a_list_gets_404(client, calls, make, db, login_as):
    stranger = make.user(Role.CALLER, branches=[calls["home"]])
    db.session.commit()
    login_as(stranger)
    lst = calls["list"]
    assert client.get(f"/calls/lists/{lst.id}").status_code == 404
    assert _next(client, lst).status_code == 404
    assert client.get(_entry_url(lst, calls["first"].id)).status_code == 404
    assert client.post(_entry_url(lst, calls["first"].id) + "/outcome", data={"outcome": "answered"}).status_code == 404
    assert "New joiners – LIVH" not in client.get("/calls/").get_data(as_text=True)
    assert _reload(db, calls["first"]).lease_user_id is None


def test_another_branchs_list_and_entry_are_404(client, calls, make, db, login_as):
    wirral_officer = make.user(Role.BRANCH_OFFICER, branches=[calls["other"]])
    db.session.commit()
    login_as(wirral_officer)
    lst, entry = calls["list"], calls["first"]
    assert client.get(f"/calls/lists/{lst.id}").status_code == 404
    assert _next(client, lst).status_code == 404
    assert client.get(_entry_url(lst, entry.id)).status_code == 404
    assert client.post(_entry_url(lst, entry.id) + "/outcome", data={"outcome": "answered"}).status_code == 404
    assert client.post(_entry_url(lst, entry.id) + "/release").status_code == 404
    assert _attempts(db, entry) == []


def test_another_branchs_entry_on_a_shared_list_is_404(client, calls, make, db):
    shared = make.call_list([calls["home"], calls["other"]], callers=[calls["caller"]])
    wendy = make.call_entry(shared, make.contact(calls["other"], first_name="Wendy"))
    db.session.commit()
    assert client.get(_entry_url(shared, wendy.id)).status_code == 404
    assert client.post(_entry_url(shared, wendy.id) + "/outcome", data={"outcome": "answered"}).status_code == 404
    # Call next never offers her either: the queue is empty for this caller.
    assert _next(client, shared).headers["Location"] == f"/calls/lists/{shared.id}"


def test_an_entry_held_by_another_caller_is_404_to_me(client, calls, make, db):
    colleague = make.user(Role.CALLER, branches=[calls["home"]])
    calls["list"].callers.append(colleague)
    entry = calls["first"]
    entry.status, entry.lease_user_id = EntryStatus.IN_PROGRESS, colleague.id
    entry.lease_expires_at = utcnow() + timedelta(minutes=8)
    db.session.commit()
    assert client.get(_entry_url(calls["list"], entry.id)).status_code == 404
    assert client.post(_entry_url(calls["list"], entry.id) + "/release").status_code == 404
    assert _reload(db, entry).lease_user_id == colleague.id
    # And call next gives me the other member.
    assert _claim(client, calls["list"]) == _entry_url(calls["list"], calls["second"].id)


def test_a_caller_who_lost_the_call_is_told_it_was_passed_on_naming_nobody(client, calls, make, db):
    entry_path = _claim(client, calls["list"])
    colleague = make.user(Role.CALLER, branches=[calls["home"]])
    entry = _reload(db, calls["first"])
    # The lease ran out and a colleague was given the member.
    entry.lease_user_id, entry.lease_expires_at = colleague.id, utcnow() + timedelta(minutes=9)
    db.session.commit()
    response = client.post(entry_path + "/outcome", data={"outcome": "answered", "note": "Spoke about pay"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This member&#39;s call was passed on because it was open too long." in page
    assert "Spoke about pay" in page  # their note is given back to copy
    assert "Amara" not in page and "Okafor" not in page and "07700" not in page
    assert _attempts(db, calls["first"]) == []


def test_a_caller_whose_time_ran_out_can_still_save_if_nobody_took_the_member(client, calls, db):
    entry_path = _claim(client, calls["list"])
    entry = _reload(db, calls["first"])
    entry.lease_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(entry_path).get_data(as_text=True)
    assert "Your time on this call is up" in page
    assert client.post(entry_path + "/outcome", data={"outcome": "answered"}).status_code == 302
    assert [a.outcome for a in _attempts(db, calls["first"])] == [Outcome.ANSWERED]


def test_an_officer_cannot_record_a_call_someone_else_is_making(client, calls, make, db, login_as):
    entry = calls["first"]
    entry.status, entry.lease_user_id = EntryStatus.IN_PROGRESS, calls["caller"].id
    entry.lease_expires_at = utcnow() + timedelta(minutes=8)
    officer = make.user(Role.BRANCH_OFFICER, branches=[calls["home"]])
    db.session.commit()
    login_as(officer)
    page = client.get(_entry_url(calls["list"], entry.id)).get_data(as_text=True)
    assert "Cara Caller is calling Amara now." in page
    response = client.post(_entry_url(calls["list"], entry.id) + "/outcome", data={"outcome": "answered"})
    assert response.status_code == 422
    assert "Someone else is calling this member now." in response.get_data(as_text=True)
    assert _attempts(db, entry) == []


def test_a_second_tap_on_an_outcome_saves_the_call_once(client, calls, db):
    entry_path = _claim(client, calls["list"])
    assert client.post(entry_path + "/outcome", data={"outcome": "no_answer"}).status_code == 302
    again = client.post(entry_path + "/outcome", data={"outcome": "no_answer"})
    assert again.status_code == 302 and again.headers["Location"] == _entry_url(calls["list"], calls["second"].id)
    assert len(_attempts(db, calls["first"])) == 1
    assert "That call was already saved." in client.get(again.headers["Location"]).get_data(as_text=True)


def test_a_missing_entry_is_404_on_every_route(client, calls):
    lst = calls["list"]
    assert client.get(_entry_url(lst, 999999)).status_code == 404
    assert client.post(_entry_url(lst, 999999) + "/outcome", data={"outcome": "answered"}).status_code == 404
    assert client.post(_entry_url(lst, calls["first"].id + 999999) + "/release").status_code == 404
    assert client.get("/calls/lists/999999").status_code == 404


def test_people_without_the_calling_permission_get_404(client, calls, make, db, login_as):
    login_as(make.user(Role.CAMPAIGN_LEAD))
    db.session.commit()
    assert client.get("/calls/").status_code == 404
    assert client.get(f"/calls/lists/{calls['list'].id}").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(app, calls):
    response = app.test_client().get("/calls/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_closed_list_offers_nobody(client, calls, db):
    calls["list"].is_active = False
    db.session.commit()
    response = _next(client, calls["list"])
    assert response.headers["Location"] == f"/calls/lists/{calls['list'].id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This list has been closed" in page
    assert _reload(db, calls["first"]).lease_user_id is None


# ---------------------------------------------------------------- why the queue is empty


def test_empty_queue_says_everyone_has_been_called(client, calls, db):
    for entry in (calls["first"], calls["second"]):
        entry.status = EntryStatus.DONE
    db.session.commit()
    page = client.get(f"/calls/lists/{calls['list'].id}").get_data(as_text=True)
    assert "Everyone on this list has been called. Thank you!" in page


def test_empty_queue_says_nobody_right_now_and_when_they_rest_until(client, calls, db):
    until = datetime(2030, 6, 3, 17, 30, tzinfo=UTC)  # 18:30 in London (summer time)
    for entry in (calls["first"], calls["second"]):
        entry.next_attempt_at = until
    db.session.commit()
    page = client.get(f"/calls/lists/{calls['list'].id}").get_data(as_text=True)
    assert "There is nobody to call right now." in page
    assert "resting between attempts until 3" in page and "at 18:30" in page
    assert "Check again" in page


def test_empty_queue_says_nobody_is_on_the_list_yet(client, calls, make, db):
    empty = make.call_list([calls["home"]], callers=[calls["caller"]])
    db.session.commit()
    page = client.get(f"/calls/lists/{empty.id}").get_data(as_text=True)
    assert "There is nobody on this list yet." in page


def test_officers_are_told_when_no_callers_are_assigned(client, calls, make, db, login_as):
    unstaffed = make.call_list([calls["home"]], name="Unstaffed")
    officer = make.user(Role.BRANCH_OFFICER, branches=[calls["home"]])
    db.session.commit()
    login_as(officer)
    page = client.get(f"/calls/lists/{unstaffed.id}").get_data(as_text=True)
    assert "No callers are assigned to this list yet" in page
    page = client.get(f"/calls/lists/{calls['list'].id}").get_data(as_text=True)
    assert "No callers are assigned" not in page


# ---------------------------------------------------------------- forms are CSRF-protected


def test_call_next_outcome_and_skip_refuse_a_post_without_the_csrf_token(client, calls, app, monkeypatch, db):
    entry_path = _claim(client, calls["list"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert _next(client, calls["list"]).status_code == 400
    assert client.post(entry_path + "/outcome", data={"outcome": "answered"}).status_code == 400
    assert client.post(entry_path + "/release").status_code == 400
    assert _attempts(db, calls["first"]) == []


def test_every_caller_form_carries_the_csrf_token_and_it_is_accepted(client, calls, app, monkeypatch, db):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get(f"/calls/lists/{calls['list'].id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    entry_path = client.post(f"/calls/lists/{calls['list'].id}/next", data={"csrf_token": token}).headers["Location"]
    page = client.get(entry_path).get_data(as_text=True)
    forms = re.findall(r'<form method="post".*?</form>', page, re.DOTALL)
    assert len(forms) == 3  # sign out, outcome, skip
    assert all('name="csrf_token"' in f for f in forms)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(entry_path + "/outcome", data={"outcome": "answered", "csrf_token": token})
    assert response.status_code == 302
    assert [a.outcome for a in _attempts(db, calls["first"])] == [Outcome.ANSWERED]


def test_managers_find_list_management_from_the_calls_page(client, make, db, login_as):
    branch = make.branch()
    make.call_list([branch])
    login_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    db.session.commit()
    page = client.get("/calls/").get_data(as_text=True)
    assert 'href="/calls/lists/"' in page and 'href="/calls/progress"' in page


def test_regional_staff_see_only_lists_they_call_on_the_calls_page(client, make, db, login_as):
    branch = make.branch()
    organiser = make.user(Role.ORGANISER)
    make.call_list([branch], name="Not mine")
    make.call_list([branch], name="Mine to call", callers=[organiser])
    login_as(organiser)
    db.session.commit()
    page = client.get("/calls/").get_data(as_text=True)
    assert "Mine to call" in page and "Not mine" not in page

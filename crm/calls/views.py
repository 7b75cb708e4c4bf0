"""Caller screens: the lists, call next, the entry screen and its outcome.

Everything needs WORK_CALLS and goes through the service's scoped lookups: a list the caller is
not assigned to, another branch's list or entry, or an entry someone else is calling is a 404.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import phonenumbers
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ..auth.models import User
from ..auth.roles import Permission
from ..contacts.models import Contact
from ..database import utcnow
from ..extensions import db
from ..messaging import service as messaging
from ..scoping import branch_condition, require
from ..templating import UK
from . import bp, claims, scripts, service
from .forms import (
    ActionForm,
    OutcomeFormBase,
    outcome_form,
    outcomes_for,
    utc_to_uk_local,
)
from .models import (
    LEAVER_OUTCOMES,
    CallAttempt,
    CallEntry,
    CallList,
    CallListKind,
    EntryStatus,
    Outcome,
    call_list_caller,
)

WORK = Permission.WORK_CALLS


@dataclass(frozen=True)
class OutcomeButton:
    outcome: Outcome
    label: str
    key: str | None  # desktop keyboard shortcut
    style: str = ""


# What each one-tap button says, its shortcut, and how what was saved reads in the flash message.
BUTTONS = {
    Outcome.ANSWERED: OutcomeButton(Outcome.ANSWERED, "Answered", "a", "primary"),
    Outcome.RETAINED: OutcomeButton(Outcome.RETAINED, "Retained on direct debit", "r", "primary"),
    Outcome.LEFT_EMPLOYER: OutcomeButton(Outcome.LEFT_EMPLOYER, "Left employer", "l"),
    Outcome.RETIRED: OutcomeButton(Outcome.RETIRED, "Retired", "t"),
    Outcome.NOT_RENEWING: OutcomeButton(Outcome.NOT_RENEWING, "Not renewing", "x"),
    # No shortcut: it stops every future call, so it takes a deliberate tap.
    Outcome.DO_NOT_CALL: OutcomeButton(Outcome.DO_NOT_CALL, "Do not call", None, "danger"),
    Outcome.NO_ANSWER: OutcomeButton(Outcome.NO_ANSWER, "No answer", "n"),
    Outcome.VOICEMAIL: OutcomeButton(Outcome.VOICEMAIL, "Voicemail", "v"),
    Outcome.BUSY: OutcomeButton(Outcome.BUSY, "Busy", "b"),
    Outcome.WRONG_NUMBER: OutcomeButton(Outcome.WRONG_NUMBER, "Wrong number", "w", "warn"),
}
SAID = {
    Outcome.ANSWERED: "answered", Outcome.NO_ANSWER: "no answer", Outcome.VOICEMAIL: "voicemail",
    Outcome.BUSY: "busy", Outcome.WRONG_NUMBER: "wrong number", Outcome.DO_NOT_CALL: "do not call",
    Outcome.RETAINED: "retained on direct debit", Outcome.LEFT_EMPLOYER: "left the employer",
    Outcome.RETIRED: "retired", Outcome.NOT_RENEWING: "not renewing",
}
PASSED_ON = "This member's call was passed on because it was open too long."


@bp.app_template_filter("uk_time")
def uk_time(value: datetime | None) -> str:
    """A time of day in the UK ("18:30"), for lists of today's calls."""
    return value.astimezone(UK).strftime("%H:%M") if value else ""


def _me() -> User:
    return current_user._get_current_object()


def _active_lists(user: User) -> list[CallList]:
    stmt = service.lists_stmt(user).where(CallList.is_active.is_(True)).order_by(CallList.name)
    if user.region_wide:
        # Regional staff see every list under Manage; here, only the ones they call themselves.
        stmt = stmt.where(CallList.id.in_(select(call_list_caller.c.list_id).where(call_list_caller.c.user_id == user.id)))
    return db.session.execute(stmt).scalars().all()


def _manage_url(call_list: CallList) -> str | None:
    """The list's management page, for those who may manage it (once that page exists)."""
    if not _me().can(Permission.MANAGE_CALLS) or "calls.manage_list" not in current_app.view_functions:
        return None
    return url_for("calls.manage_list", list_id=call_list.id)


def phone_link(mobile: str | None) -> tuple[str, str] | None:
    """(tel: href in E.164, the number as people read it) for a stored mobile, or None."""
    if not mobile:
        return None
    try:
        number = phonenumbers.parse(mobile, "GB")
    except phonenumbers.NumberParseException:
        digits = "".join(ch for ch in mobile if ch.isdigit() or ch == "+")
        return ("tel:" + digits, mobile) if digits else None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 44
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return "tel:" + e164, phonenumbers.format_number(number, style)


def _uk_midnight_utc(now: datetime) -> datetime:
    today = now.astimezone(UK).date()
    return datetime.combine(today, time.min, tzinfo=UK).astimezone(UTC)


def my_calls_today(call_list: CallList, user: User, now: datetime | None = None, limit: int = 100) -> list:
    """This user's calls on this list since midnight UK time, newest first: (attempt, contact name) rows."""
    now = now or utcnow()
    return db.session.execute(
        select(CallAttempt, Contact.first_name, Contact.last_name)
        .join(Contact, Contact.id == CallAttempt.contact_id)
        .where(CallAttempt.list_id == call_list.id, CallAttempt.user_id == user.id,
               CallAttempt.at >= _uk_midnight_utc(now), branch_condition(user, Contact.branch_id))
        .order_by(CallAttempt.at.desc(), CallAttempt.id.desc()).limit(limit)
    ).all()


def _entry_in_scope(user: User, call_list: CallList, entry_id: int) -> CallEntry | None:
    """The entry if it is on this list in the user's branches, whoever holds it (never shown to them)."""
    return db.session.execute(select(CallEntry).where(
        CallEntry.id == entry_id, CallEntry.list_id == call_list.id,
        branch_condition(user, CallEntry.branch_id))).scalar_one_or_none()


def _just_saved_by(entry: CallEntry, user: User, now: datetime) -> bool:
    """True when this user recorded the entry's latest call moments ago (a second tap on a button)."""
    if entry.lease_user_id is not None and entry.lease_user_id != user.id:
        return False
    last = db.session.execute(select(CallAttempt).where(CallAttempt.entry_id == entry.id)
                              .order_by(CallAttempt.at.desc(), CallAttempt.id.desc()).limit(1)).scalar_one_or_none()
    lease = timedelta(minutes=current_app.config["CALL_LEASE_MINUTES"])
    return last is not None and last.user_id == user.id and last.at > now - lease


# ---------------------------------------------------------------- pages

@bp.get("/")
@require(WORK)
def index():
    me = _me()
    now = utcnow()
    cards = []
    for call_list in _active_lists(me):
        held = claims.held_entry(call_list, me, now)
        cards.append({
            "list": call_list, "held": held, "progress": service.progress(call_list, me),
            "waiting": service.waiting_count(call_list, me, now),
        })
    return render_template("calls/index.html", cards=cards, action_form=ActionForm())


def _list_page(call_list: CallList, *, status: int = 200, notice: str | None = None,
               unsaved_note: str | None = None):
    me = _me()
    now = utcnow()
    held = claims.held_entry(call_list, me, now) if call_list.is_active else None
    waiting = service.waiting_count(call_list, me, now) if call_list.is_active else 0
    empty = service.why_empty(call_list, me, now) if call_list.is_active and held is None and not waiting else None
    return render_template(
        "calls/list.html", call_list=call_list, held=held, waiting=waiting, empty=empty,
        progress=service.progress(call_list, me), today=my_calls_today(call_list, me, now),
        no_callers=not call_list.callers, manage_url=_manage_url(call_list), action_form=ActionForm(),
        notice=notice, unsaved_note=unsaved_note, is_leaver=call_list.kind is CallListKind.DOCAS_LEAVER,
    ), status


@bp.get("/lists/<int:list_id>")
@require(WORK)
def show_list(list_id: int):
    return _list_page(service.get_list_or_404(_me(), list_id))


@bp.post("/lists/<int:list_id>/next")
@require(WORK)
def next_entry(list_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not call_list.is_active:
        flash("This list has been closed: there is nobody to call on it.", "info")
        return redirect(url_for(".show_list", list_id=list_id))
    entry = claims.claim_next(call_list, me)
    if entry is None:
        return redirect(url_for(".show_list", list_id=list_id))
    return redirect(url_for(".entry", list_id=list_id, entry_id=entry.id))


def _entry_page(call_list: CallList, entry: CallEntry, form: OutcomeFormBase, status: int = 200):
    me = _me()
    now = utcnow()
    contact = entry.contact
    buttons = [BUTTONS[o] for o in outcomes_for(call_list) if o in BUTTONS]
    spoke = [b for b in buttons if b.outcome in (Outcome.ANSWERED, *LEAVER_OUTCOMES, Outcome.DO_NOT_CALL)]
    not_reached = [b for b in buttons if b not in spoke]
    mine = entry.lease_user_id == me.id and entry.status is EntryStatus.IN_PROGRESS
    lease_left = (entry.lease_expires_at - now).total_seconds() if mine and entry.lease_expires_at else None
    form.callback_at.render_kw = {"min": utc_to_uk_local(now)}
    form.callback_at.description = f"UK time. {contact.first_name} will be offered to you first at that time."
    question_text = {q.get("key"): q.get("text") for q in call_list.questions or [] if isinstance(q, dict)}
    return render_template(
        "calls/entry.html", call_list=call_list, entry=entry, contact=contact, form=form,
        now_date=now.astimezone(UK).date(), question_text=question_text,
        phone=phone_link(contact.mobile),
        script=scripts.render_script(call_list.script, service.merge_values(entry, me)),
        history=service.history(entry), spoke_buttons=spoke, other_buttons=not_reached,
        mine=mine, lease_left=lease_left, skip_form=ActionForm(),
        is_leaver=call_list.kind is CallListKind.DOCAS_LEAVER,
        manage_url=_manage_url(call_list), follow_up=messaging.follow_up_text(call_list, contact),
    ), status


@bp.get("/lists/<int:list_id>/entries/<int:entry_id>")
@require(WORK)
def entry(list_id: int, entry_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    found = service.get_entry_or_404(me, call_list, entry_id)
    return _entry_page(call_list, found, outcome_form(call_list, formdata=None))


@bp.post("/lists/<int:list_id>/entries/<int:entry_id>/outcome")
@require(WORK)
def record_outcome(list_id: int, entry_id: int):
    me = _me()
    now = utcnow()
    call_list = service.get_list_or_404(me, list_id)
    try:
        found = service.get_entry_or_404(me, call_list, entry_id)
    except NotFound:
        return _lost_entry(call_list, entry_id, now)
    form = outcome_form(call_list)
    if not form.validate_on_submit():
        return _entry_page(call_list, found, form, 422)
    outcome = form.chosen_outcome
    try:
        attempt = service.record_outcome(found, outcome, by=me, note=form.note.data, answers=form.answers(),
                                         callback_at=form.callback_at_utc, now=now)
    except service.CallRefused as refused:
        db.session.rollback()
        found = service.get_entry_or_404(me, call_list, entry_id)
        if outcome is Outcome.CALL_BACK:
            form.callback_at.errors = [*form.callback_at.errors, str(refused)]
        else:
            form.form_errors.append(str(refused))
        return _entry_page(call_list, found, form, 422)
    texted = None
    if form.send_follow_up.data:
        db.session.flush()  # the text is keyed by the attempt id: one follow-up per call at most
        # Queued in the same transaction as the outcome: both are saved, or neither.
        texted = messaging.queue_follow_up(call_list, found.contact, attempt, by=me)
    first_name = found.contact.first_name
    said = (f"call back on {form.callback_at_utc.astimezone(UK).strftime('%-d %b at %H:%M')}"
            if outcome is Outcome.CALL_BACK else SAID[outcome])
    if texted is not None:
        said += ", follow-up text on its way"
    db.session.commit()
    following = claims.claim_next(call_list, me) if call_list.is_active else None
    if following is None:
        flash(f"Saved: {said} for {first_name}.", "success")
        return redirect(url_for(".show_list", list_id=list_id))
    flash(f"Saved: {said} for {first_name}. Next: {following.contact.first_name}.", "success")
    return redirect(url_for(".entry", list_id=list_id, entry_id=following.id))


def _lost_entry(call_list: CallList, entry_id: int, now: datetime):
    """An outcome posted for an entry the caller no longer holds: say so, naming nobody."""
    me = _me()
    found = _entry_in_scope(me, call_list, entry_id)
    if found is None:
        abort(404)
    if _just_saved_by(found, me, now):
        # A second tap on an outcome button: the first one saved it; carry on to the next contact.
        flash("That call was already saved.", "info")
        held = claims.held_entry(call_list, me, now)
        if held is not None:
            return redirect(url_for(".entry", list_id=call_list.id, entry_id=held.id))
        return redirect(url_for(".show_list", list_id=call_list.id))
    form = outcome_form(call_list)
    note = (form.note.data or "").strip() or None
    return _list_page(call_list, status=409, notice=PASSED_ON, unsaved_note=note)


@bp.post("/lists/<int:list_id>/entries/<int:entry_id>/release")
@require(WORK)
def release_entry(list_id: int, entry_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    found = service.get_entry_or_404(me, call_list, entry_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    first_name = found.contact.first_name
    claims.release(found, me)
    db.session.commit()
    flash(f"{first_name} was put back on the list for someone to call later.", "info")
    return redirect(url_for(".show_list", list_id=list_id))

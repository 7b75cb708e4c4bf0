"""The public page, /act/<slug>: details → letters → check your answers → email link → sent.

No account. The browser's session holds only the id of the submission being written (signed
cookie); addresses and names never appear in a URL. Every answer is the same whether or not the
writer is a member. POSTs are rate-limited per address and per email, CSRF-protected, and carry
a honeypot field.
"""
from __future__ import annotations

import time
from datetime import date

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..auth.roles import Permission
from ..extensions import db, limiter
from ..formtools import choices
from ..normalise import FieldError, normalise_email
from ..scoping import covers_branch
from ..templating import UK
from . import act_bp, public, service
from .forms import CheckForm, ConfirmForm, DetailsForm, LettersForm, RepliesForm
from .models import Campaign, CampaignStatus, LetterState, ReplyStatus, Submission

SESSION_KEY = "act"
DONE_KEY = "act_done"


def _ip_limit() -> str:
    return current_app.config.get("ACT_RATE_LIMIT") or "40 per 10 minutes"


def _email_limit() -> str:
    return current_app.config.get("ACT_EMAIL_RATE_LIMIT") or "6 per hour"


def _email_key() -> str:
    raw = request.form.get("email", "")
    try:
        email = normalise_email(raw) or ""
    except FieldError:
        email = raw.strip()
    return "act-email:" + email.lower()


@act_bp.errorhandler(429)
def too_many(e):
    current = limiter.current_limit
    wait = max(1, round((current.reset_at - time.time()) / 60)) if current else 10
    return render_template("act/too_many.html", wait=wait), 429


@act_bp.errorhandler(CSRFError)
def expired(e):
    slug = (request.view_args or {}).get("slug")
    campaign = service.public_campaign(slug) if slug else None
    return render_template("act/expired.html", campaign=campaign), 400


def _today() -> date:
    from ..database import utcnow

    return utcnow().astimezone(UK).date()


def _may_preview(campaign: Campaign) -> bool:
    return (current_user.is_authenticated and current_user.can(Permission.MANAGE_CAMPAIGNS)
            and covers_branch(current_user, campaign.branch_id))


def _campaign(slug: str) -> tuple[Campaign, bool]:
    """The campaign at this address and whether it takes letters now; a draft is a 404 except to its staff."""
    campaign = service.public_campaign(slug)
    if campaign is None or (campaign.status is CampaignStatus.DRAFT and not _may_preview(campaign)):
        abort(404)
    return campaign, campaign.is_open_on(_today())


def _not_open(campaign: Campaign):
    return render_template("act/not_open.html", campaign=campaign, today=_today(),
                           preview=_may_preview(campaign)), 200


def _current(campaign: Campaign) -> Submission | None:
    submission_id = (session.get(SESSION_KEY) or {}).get(str(campaign.id))
    if not submission_id:
        return None
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.campaign_id != campaign.id:
        return None
    return submission


def _remember(campaign: Campaign, submission: Submission) -> None:
    current = dict(session.get(SESSION_KEY) or {})
    current[str(campaign.id)] = submission.id
    session[SESSION_KEY] = current


def _done(submission: Submission) -> None:
    done = [i for i in (session.get(DONE_KEY) or []) if i != submission.id][-19:]
    session[DONE_KEY] = [*done, submission.id]


def _employer_choices(campaign: Campaign):
    return choices([(str(e.id), e.name) for e in campaign.employers]
                   + [(str(public.EMPLOYER_NOT_LISTED), "My employer is not listed")], blank="Choose your employer")


def _details_page(campaign, form, *, open_now, status=200, notes=()):
    return render_template("act/details.html", campaign=campaign, form=form, open_now=open_now,
                           preview=campaign.status is CampaignStatus.DRAFT, notes=notes), status


@act_bp.route("/<slug>", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_email_limit, methods=["POST"], key_func=_email_key, deduct_when=lambda r: r.status_code == 302)
def details(slug: str):
    campaign, open_now = _campaign(slug)
    if not open_now and campaign.status is not CampaignStatus.DRAFT:
        return _not_open(campaign)
    form = DetailsForm()
    form.employer_id.choices = _employer_choices(campaign)
    current = _current(campaign)
    if request.method == "GET":
        if current is not None and current.submitted_at is None:
            form.first_name.data, form.last_name.data = current.first_name, current.last_name
            form.email.data, form.postcode.data = current.email, current.postcode
            form.employer_id.data = str(current.employer_id if current.employer_id else public.EMPLOYER_NOT_LISTED)
            form.workplace.data, form.membership_number.data = current.workplace, current.membership_number
        return _details_page(campaign, form, open_now=open_now)
    if not open_now:
        return _not_open(campaign)
    if form.website.data:
        # A bot filled the hidden field: it sees the usual next page, and nothing is kept.
        return render_template("act/check_email.html", campaign=campaign, submission=None)
    if form.validate_on_submit():
        raw_employer = form.employer_id.data or ""
        try:
            result = public.start(campaign, public.Details(
                first_name=form.first_name.data, last_name=form.last_name.data, email=form.email.data,
                postcode=form.postcode.data, employer_id=int(raw_employer) if raw_employer.isdigit() else None,
                workplace=form.workplace.data or "", membership_number=form.membership_number.data or ""),
                earlier=list(session.get(DONE_KEY) or []),
                carry_from=current if current is not None and current.submitted_at is None else None)
        except public.ActError as exc:
            db.session.rollback()
            _errors(form, exc)
        else:
            db.session.commit()
            _remember(campaign, result.submission)
            session["act_notes"] = result.notes
            return redirect(url_for(".letters", slug=campaign.slug))
    return _details_page(campaign, form, open_now=open_now, status=422)


def _errors(form, exc: public.ActError) -> None:
    for name, message in exc.errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def _draft_or_restart(slug: str):
    campaign, open_now = _campaign(slug)
    if not open_now:
        return campaign, None, _not_open(campaign)
    submission = _current(campaign)
    if submission is None:
        return campaign, None, redirect(url_for(".details", slug=campaign.slug))
    if submission.submitted_at is not None:
        return campaign, None, redirect(url_for(".sent", slug=campaign.slug))
    return campaign, submission, None


def _letters_page(campaign, submission, form, checks, status=200, errors=None):
    items = []
    for i, letter in enumerate(submission.letters):
        check = checks[i] if checks else None
        items.append({"index": i, "letter": letter, "template": public.template_text(letter),
                      "share": check.measured.template_pct if check else letter.template_share,
                      "nudge": check.nudge if check else None,
                      "error": (errors or {}).get(f"letters-{i}-body")})
    return render_template("act/letters.html", campaign=campaign, submission=submission, form=form, items=items,
                           notes=session.get("act_notes") or [], errors=errors or {},
                           nudged=any(item["nudge"] for item in items)), status


@act_bp.route("/<slug>/letters", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def letters(slug: str):
    campaign, submission, elsewhere = _draft_or_restart(slug)
    if elsewhere is not None:
        return elsewhere
    form = LettersForm()
    if request.method == "GET":
        return _letters_page(campaign, submission, form, None)
    if not form.validate_on_submit():
        return _letters_page(campaign, submission, form, None, 400,
                             {None: "This page had expired. Check your letters and press Continue again."})
    edits = [(request.form.get(f"letters-{i}-subject", ""), request.form.get(f"letters-{i}-body", ""))
             for i in range(len(submission.letters))]
    try:
        checks = public.edit_letters(submission, edits)
    except public.ActError as exc:
        # Keep what they typed on the page (nothing is saved until every letter is acceptable).
        db.session.rollback()
        for i, letter in enumerate(submission.letters):
            letter.subject, letter.body = edits[i][0] or letter.subject, edits[i][1]
        checks = [public.check_letter(letter, letter.subject, letter.body) for letter in submission.letters]
        return _letters_page(campaign, submission, form, checks, 422, exc.errors)
    db.session.commit()
    if any(check.nudge for check in checks) and request.form.get("action") != "anyway":
        return _letters_page(campaign, submission, form, checks)
    return redirect(url_for(".check", slug=campaign.slug))


@act_bp.route("/<slug>/check", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def check(slug: str):
    campaign, submission, elsewhere = _draft_or_restart(slug)
    if elsewhere is not None:
        return elsewhere
    form = CheckForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                public.submit(submission, public.Choices(
                    agreed_disclosure=bool(form.agree_disclosure.data), wants_email=bool(form.wants_email.data),
                    wants_sms=bool(form.wants_sms.data), mobile=form.mobile.data or "",
                    own_email=form.method.data == "own"))
            except public.ActError as exc:
                db.session.rollback()
                _errors(form, exc)
            else:
                db.session.commit()
                _done(submission)
                return redirect(url_for(".sent", slug=campaign.slug))
        status = 422
    return render_template("act/check.html", campaign=campaign, submission=submission, form=form), status


@act_bp.get("/<slug>/sent")
def sent(slug: str):
    campaign, _ = _campaign(slug)
    submission = _current(campaign)
    if submission is None or submission.submitted_at is None:
        return redirect(url_for(".details", slug=campaign.slug))
    if submission.own_email:
        links = [(letter, public.mailto_link(letter)) for letter in submission.letters
                 if letter.state in (LetterState.OWN_EMAIL, LetterState.DRAFT)]
        already = [letter for letter in submission.letters if letter.state is LetterState.DUPLICATE]
        return render_template("act/own_email.html", campaign=campaign, submission=submission, links=links,
                               already=already, share=_share(campaign))
    return render_template("act/check_email.html", campaign=campaign, submission=submission)


def _share(campaign: Campaign) -> dict:
    from urllib.parse import quote

    url = url_for(".details", slug=campaign.slug, _external=True)
    text = campaign.share_text or f"I've taken part in “{campaign.name}”. Will you?"
    return {"url": url, "text": text,
            "whatsapp": f"https://wa.me/?text={quote(text + ' ' + url, safe='')}",
            "email": f"mailto:?subject={quote(campaign.name, safe='')}&body={quote(text + chr(10) + chr(10) + url, safe='')}",
            "x": f"https://twitter.com/intent/tweet?text={quote(text, safe='')}&url={quote(url, safe='')}",
            "facebook": f"https://www.facebook.com/sharer/sharer.php?u={quote(url, safe='')}"}


@act_bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def confirm():
    token = request.values.get("t", "")
    found = public.read_confirm_token(token)
    if not isinstance(found, Submission):
        return render_template("act/link_problem.html", expired=found == "expired"), 404 if found is None else 410
    submission = found
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        outcome = public.confirm(submission)
        db.session.commit()
        return render_template("act/confirmed.html", campaign=submission.campaign, submission=submission,
                               outcome=outcome, share=_share(submission.campaign))
    if submission.confirmed_at is not None:
        outcome = public.confirm(submission)  # already done: says what happened, sends nothing more
        return render_template("act/confirmed.html", campaign=submission.campaign, submission=submission,
                               outcome=outcome, share=_share(submission.campaign))
    return render_template("act/confirm.html", campaign=submission.campaign, submission=submission, form=form,
                           token=token)


@act_bp.route("/reply", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def reply():
    token = request.values.get("t", "")
    found = public.read_reply_token(token)
    if not isinstance(found, Submission):
        return render_template("act/link_problem.html", expired=found == "expired"), 404 if found is None else 410
    submission = found
    form = RepliesForm()
    asked = [letter for letter in submission.letters if letter.state in (LetterState.QUEUED, LetterState.OWN_EMAIL)]
    if request.method == "POST" and form.validate_on_submit():
        answers = {}
        for letter in asked:
            value = request.form.get(f"reply-{letter.id}")
            if value in (ReplyStatus.REPLIED.value, ReplyStatus.NO_REPLY.value):
                answers[letter.id] = ReplyStatus(value)
        public.record_replies(submission, answers)
        db.session.commit()
        return render_template("act/reply_thanks.html", campaign=submission.campaign, count=len(answers))
    return render_template("act/reply.html", campaign=submission.campaign, letters=asked, form=form, token=token)

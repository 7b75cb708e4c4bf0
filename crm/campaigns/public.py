"""The public page's steps as plain operations: details → letters → check and consent → confirm.

No function here says whether someone is a member: contacts are only looked at when the email link
is clicked (or the writer sends from their own email), and every answer on the public page is the
same for members and non-members. Functions flush and never commit; the views commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..audit import service as audit
from ..contacts.models import Consent, Contact
from ..database import utcnow
from ..extensions import db
from ..messaging.models import Purpose
from ..messaging.outbox import queue_message
from ..messaging.tokens import public_url
from ..normalise import FieldError, normalise_email, normalise_membership_number, normalise_mobile, normalise_name
from ..queue import enqueue_after_commit
from ..region.models import Employer
from ..vocabulary import Channel, ConsentStatus, ContactStatus
from . import letters, similarity
from .lookup import LookupStatus, find_constituency
from .models import Campaign, Letter, LetterState, ReplyStatus, Submission, TargetKind

CONSENT_WORDING_VERSION = "act-2026-11"
CONFIRM_MAX_AGE = 7 * 24 * 3600
REPLY_MAX_AGE = 90 * 24 * 3600
DRAFT_DAYS = 7  # unconfirmed submissions (names, emails, letters) are deleted after this
OTHER_LETTERS_COMPARED = 200
REPLY_CHECK_DAYS = 14
EMPLOYER_NOT_LISTED = 0


class ActError(Exception):
    """What is wrong with what someone typed: field name (or None for the page) → plain words."""

    def __init__(self, errors: dict[str | None, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Details:
    first_name: str
    last_name: str
    email: str
    postcode: str
    employer_id: int | None  # EMPLOYER_NOT_LISTED for "my employer is not listed"
    workplace: str = ""
    membership_number: str = ""


@dataclass
class Target:
    kind: TargetKind
    key: str
    name: str
    title: str
    email: str


@dataclass
class StartResult:
    submission: Submission
    notes: list[str] = field(default_factory=list)  # targets we could not offer, and why


# ---------------------------------------------------------------------------------------------
# Step 1: who you are → the people to write to


def start(campaign: Campaign, details: Details, *, earlier: list[int] = (),
          carry_from: Submission | None = None) -> StartResult:
    """Check the writer's details, find their targets and draft one letter per target. Raises ActError.

    `earlier` are the submission ids this browser already made: letters already sent from them to
    the same target are not offered again. `carry_from` is the unsent draft being changed: letters
    the writer already edited keep their words.
    """
    errors: dict[str | None, str] = {}
    first = normalise_name(details.first_name or "")
    last = normalise_name(details.last_name or "")
    if not first:
        errors["first_name"] = "Enter your first name."
    if not last:
        errors["last_name"] = "Enter your last name."
    email = None
    if not (details.email or "").strip():
        errors["email"] = "Enter your email address, like name@example.com."
    else:
        try:
            email = normalise_email(details.email)
        except FieldError:
            errors["email"] = "Enter an email address in the right format, like name@example.com."
    number = None
    if campaign.ask_membership_number and (details.membership_number or "").strip():
        try:
            number = normalise_membership_number(details.membership_number)
        except FieldError:
            errors["membership_number"] = "Enter your membership number as it is on your card, or leave it empty."
    employer = None
    if campaign.target_employer:
        if details.employer_id is None:
            errors["employer_id"] = "Choose your employer, or ‘My employer is not listed’."
        elif details.employer_id != EMPLOYER_NOT_LISTED:
            employer = next((e for e in campaign.employers if e.id == details.employer_id), None)
            if employer is None:
                errors["employer_id"] = "Choose your employer from the list, or ‘My employer is not listed’."
    lookup = find_constituency(details.postcode)
    notes: list[str] = []
    if lookup.status in (LookupStatus.INVALID, LookupStatus.CROWN_DEPENDENCY):
        errors["postcode"] = lookup.message
    elif campaign.target_mp and lookup.status is LookupStatus.NOT_FOUND:
        errors["postcode"] = lookup.message
    elif campaign.target_mp and lookup.status is LookupStatus.NO_REPRESENTATIVE:
        notes.append(lookup.message)
    if errors:
        raise ActError(errors)

    targets = targets_for(campaign, lookup, employer, notes)
    already = _already_written(campaign, email, earlier)
    for target in [t for t in targets if t.key in already]:
        notes.append(f"You have already written to {target.name} in this campaign, so we have not offered that letter again.")
        targets.remove(target)
    if not targets:
        raise ActError({None: " ".join(notes) or "There is nobody for you to write to in this campaign."})

    submission = Submission(
        campaign=campaign, first_name=first, last_name=last, email=email, postcode=lookup.postcode,
        membership_number=number, employer=employer, workplace=" ".join((details.workplace or "").split())[:200],
        constituency_code=lookup.constituency.code if lookup.constituency else None,
        constituency_name=lookup.constituency.display_name if lookup.constituency else None)
    db.session.add(submission)
    values = _values(submission)
    for position, target in enumerate(targets):
        template = campaign.template_for(target.kind)
        merged = {**values, "target_name": target.name, "target_title": target.title}
        body = letters.fill(template.body if template else "", merged)
        submission.letters.append(Letter(
            campaign_id=campaign.id, position=position, target_kind=target.kind, target_key=target.key,
            target_name=target.name[:160], target_title=target.title[:200], target_email=target.email,
            subject=letters.fill_subject(template.subject if template else campaign.name, merged)[:200], body=body,
            template_share=100, employer_id=employer.id if employer else None,
            constituency_name=submission.constituency_name))
    edited = {letter.target_key: letter for letter in (carry_from.letters if carry_from else [])
              if letter.template_share < 100}
    for letter in submission.letters:
        if letter.target_key in edited:
            letter.subject, letter.body = edited[letter.target_key].subject, edited[letter.target_key].body
            letter.template_share = edited[letter.target_key].template_share
    db.session.flush()
    _schedule_purge()
    return StartResult(submission, notes)


def _schedule_purge() -> None:
    # One job (a fixed id) at the next 03:00 UTC: every submission that day points at the same job,
    # so drafts are tidied nightly while the page is in use, without a job per submission.
    now = utcnow()
    at = now.replace(hour=3, minute=0, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    enqueue_after_commit("jobs.campaigns.purge_stale_drafts", at=at, job_id="campaigns-purge-drafts")


def targets_for(campaign: Campaign, lookup, employer: Employer | None, notes: list[str]) -> list[Target]:
    """Whom this writer writes to: their MP, their employer's chief executive, the campaign's named people."""
    targets = []
    if campaign.target_mp and lookup.status is LookupStatus.FOUND:
        rep = lookup.representative
        targets.append(Target(TargetKind.MP, f"mp:{lookup.constituency.code}", rep.display_name,
                              f"Member of Parliament for {lookup.constituency.display_name}", rep.email))
    if campaign.target_employer:
        if employer is None:
            notes.append("As your employer is not on our list, there is no chief executive letter for you to send.")
        elif not employer.chief_executive_email:
            notes.append(f"We don't have an email address for the chief executive of {employer.name} yet, "
                         "so there is no letter to them.")
        else:
            targets.append(Target(TargetKind.EMPLOYER, f"employer:{employer.id}",
                                  employer.chief_executive_name or f"The Chief Executive, {employer.name}",
                                  f"Chief Executive, {employer.name}", employer.chief_executive_email))
    for custom in campaign.targets:
        targets.append(Target(TargetKind.CUSTOM, f"custom:{custom.id}", custom.name, custom.role, custom.email))
    return targets


def _already_written(campaign: Campaign, email: str | None, earlier) -> set[str]:
    if not earlier or not email:
        return set()
    rows = db.session.execute(
        select(Letter.target_key).join(Submission, Submission.id == Letter.submission_id).where(
            Submission.id.in_(list(earlier)), Submission.campaign_id == campaign.id,
            func.lower(Submission.email) == email.lower(),
            Letter.state.in_([LetterState.QUEUED, LetterState.OWN_EMAIL, LetterState.DUPLICATE])))
    return set(rows.scalars())


def _values(submission: Submission) -> dict[str, str]:
    return {
        "name": submission.full_name, "first_name": submission.first_name, "postcode": submission.postcode or "",
        "constituency": submission.constituency_name or "", "employer": submission.employer.name if submission.employer else "",
        "workplace": submission.workplace or "", "personal_story": "",
    }


# ---------------------------------------------------------------------------------------------
# Step 2: the letters, edited


@dataclass
class LetterCheck:
    letter: Letter
    measured: similarity.Similarity
    nudge: str | None = None


def template_text(letter: Letter) -> str:
    """The letter as the template wrote it for this writer (what 'still the template' compares with)."""
    campaign = letter.submission.campaign
    template = campaign.template_for(letter.target_kind)
    values = {**_values(letter.submission), "target_name": letter.target_name, "target_title": letter.target_title}
    return letters.fill(template.body if template else "", values)


def _others(letter: Letter) -> list[str]:
    return list(db.session.scalars(
        select(Letter.body).where(Letter.campaign_id == letter.campaign_id, Letter.target_key == letter.target_key,
                                  Letter.state == LetterState.QUEUED, Letter.id != letter.id)
        .order_by(Letter.id.desc()).limit(OTHER_LETTERS_COMPARED)))


def check_letter(letter: Letter, subject: str, body: str) -> LetterCheck:
    """Measure one edited letter against the template and other letters to the same person."""
    measured = similarity.measure(letters.without_prompt(body), template_text(letter), _others(letter))
    return LetterCheck(letter, measured)


def edit_letters(submission: Submission, edits: list[tuple[str, str]]) -> list[LetterCheck]:
    """Save the writer's edits; raises ActError when a letter is empty or must be more their own."""
    campaign = submission.campaign
    errors: dict[str | None, str] = {}
    checks = []
    for i, (letter, (subject, body)) in enumerate(zip(submission.letters, edits)):
        subject = " ".join((subject or "").split())[:200]
        body = (body or "").replace("\r\n", "\n").strip()
        key = f"letters-{i}-body"
        letter.subject = subject or letter.subject
        letter.body = body
        check = check_letter(letter, subject, body)
        checks.append(check)
        letter.template_share = check.measured.template_pct
        to = letter.target_name
        if not letters.without_prompt(body):
            errors[key] = f"Write your letter to {to}, or go back and start again."
        elif campaign.require_personal and (letters.has_prompt(body) or check.measured.own_words < 15):
            errors[key] = (f"Add a few sentences in your own words to your letter to {to}: replace the line in "
                           "square brackets with what this means for you.")
        elif check.measured.highest >= campaign.similarity_threshold:
            said = _similar_words(check.measured, to)
            if campaign.block_identical:
                errors[key] = (f"{said}. This campaign asks everyone to write in their own words: change or add "
                               "to it before sending.")
            else:
                check.nudge = f"{said}. Letters in your own words are far more likely to be read and answered."
    if errors:
        raise ActError(errors)
    db.session.flush()
    return checks


def _similar_words(measured: similarity.Similarity, to: str) -> str:
    if measured.copied_pct > measured.template_pct:
        return f"Your letter to {to} repeats {measured.copied_pct}% of what another writer put in their own words"
    return f"Your letter to {to} is still {measured.template_pct}% the template"


# ---------------------------------------------------------------------------------------------
# Step 3: consent and how to send


@dataclass
class Choices:
    agreed_disclosure: bool
    wants_email: bool
    wants_sms: bool
    mobile: str = ""
    own_email: bool = False


def submit(submission: Submission, choices: Choices) -> None:
    """Record the writer's choices and either send the confirmation email or, for their own email,
    record the letters as sent from it. Raises ActError."""
    campaign = submission.campaign
    errors: dict[str | None, str] = {}
    if campaign.letters_say_member and not choices.agreed_disclosure:
        errors["agree_disclosure"] = ("Tick the box to agree that your letters say you are a union member, "
                                      "or go back and change the letters.")
    mobile = None
    if choices.wants_sms:
        try:
            mobile = normalise_mobile(choices.mobile)
        except FieldError:
            mobile = None
        if mobile is None:
            errors["mobile"] = "Enter a UK mobile number, like 07700 900123, for text updates, or untick the box."
    if errors:
        raise ActError(errors)
    submission.agreed_disclosure = bool(choices.agreed_disclosure)
    submission.wants_email = bool(choices.wants_email)
    submission.wants_sms = bool(choices.wants_sms)
    submission.mobile = mobile
    submission.own_email = bool(choices.own_email)
    submission.submitted_at = utcnow()
    for letter in submission.letters:
        letter.body = letters.without_prompt(letter.body)
    if choices.own_email:
        # The writer's own mailbox is their proof of who they are: nothing waits for a link,
        # but any updates they asked for are only recorded once they confirm their email.
        contact = _match_or_create(submission)
        for letter in submission.letters:
            _record_sent(letter, contact, LetterState.OWN_EMAIL)
        if any(letter.state is LetterState.OWN_EMAIL for letter in submission.letters):
            _schedule_reply_check(submission)
        if choices.wants_email or choices.wants_sms:
            _queue_confirmation(submission)
    else:
        _queue_confirmation(submission)
    db.session.flush()


def mailto_link(letter: Letter) -> str:
    """A mailto: link that opens the writer's mail client with this letter filled in."""
    body = letter.body + letters.sign_off(letter.submission.full_name, letter.submission.postcode,
                                          letter.submission.campaign.name).replace(
        "Reply to this email to answer them directly.", "").rstrip()
    return (f"mailto:{quote(letter.target_email, safe='@')}?subject={quote(letter.subject, safe='')}"
            f"&body={quote(body, safe='')}")


# ---------------------------------------------------------------------------------------------
# Signed links: they hold a submission id, never an address


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def confirm_token(submission_id: int) -> str:
    return _serializer("branchline-act-confirm").dumps(submission_id)


def reply_token(submission_id: int) -> str:
    return _serializer("branchline-act-reply").dumps(submission_id)


def _read(token: str, salt: str, max_age: int) -> int | None | str:
    try:
        value = _serializer(salt).loads(token or "", max_age=max_age)
    except SignatureExpired:
        return "expired"
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def read_confirm_token(token: str) -> Submission | str | None:
    """The submission a confirmation link names; "expired" for an old link; None for anything else."""
    value = _read(token, "branchline-act-confirm", CONFIRM_MAX_AGE)
    if isinstance(value, int):
        return db.session.get(Submission, value)
    return value


def read_reply_token(token: str) -> Submission | str | None:
    value = _read(token, "branchline-act-reply", REPLY_MAX_AGE)
    if isinstance(value, int):
        return db.session.get(Submission, value)
    return value


def _queue_confirmation(submission: Submission) -> None:
    link = public_url(f"/act/confirm?t={confirm_token(submission.id)}")
    campaign = submission.campaign
    waiting = [letter for letter in submission.letters if letter.state is LetterState.DRAFT]
    if waiting:
        listing = "\n".join(f"- {letter.target_name}, {letter.target_title}" for letter in waiting)
        ask = f"You asked to send letters to:\n\n{listing}\n\nTo send them, open this link:"
        subject = f"Confirm your letters: {campaign.name}"
    else:
        ask = "You asked us to keep you updated about the campaign. To confirm, open this link:"
        subject = f"Confirm your updates: {campaign.name}"
    body = (f"Hello {submission.first_name},\n\nThank you for taking part in “{campaign.name}”.\n\n{ask}\n\n{link}\n\n"
            "The link works for 7 days. If you didn't ask for this, ignore this email: nothing will be sent.")
    queue_message(channel=Channel.EMAIL, purpose=Purpose.TRANSACTIONAL, dedupe_key=f"act-confirm:{submission.id}",
                  to_address=submission.email, subject=subject, body=body)


# ---------------------------------------------------------------------------------------------
# Confirmation: the email link was opened and the button pressed


@dataclass
class Confirmed:
    sent: list[Letter]
    already: list[Letter]
    own_email: list[Letter]


def confirm(submission: Submission) -> Confirmed:
    """Send the confirmed letters (once), record consent and the contact's participation."""
    first_time = submission.confirmed_at is None
    if first_time:
        submission.confirmed_at = utcnow()
        contact = _match_or_create(submission)
        _record_consents(submission, contact)
        waiting = [letter for letter in submission.letters if letter.state is LetterState.DRAFT]
        for letter in waiting:
            _record_sent(letter, contact, LetterState.QUEUED)
        if any(letter.state is LetterState.QUEUED for letter in waiting):
            _schedule_reply_check(submission)
        db.session.flush()
    by_state = {state: [letter for letter in submission.letters if letter.state is state] for state in LetterState}
    return Confirmed(sent=by_state[LetterState.QUEUED], already=by_state[LetterState.DUPLICATE],
                     own_email=by_state[LetterState.OWN_EMAIL])


def _schedule_reply_check(submission: Submission) -> None:
    if submission.campaign.ask_about_replies:
        enqueue_after_commit("jobs.campaigns.send_reply_check", submission.id,
                             at=utcnow() + timedelta(days=REPLY_CHECK_DAYS), job_id=f"act-reply-check-{submission.id}")


def _record_sent(letter: Letter, contact: Contact, state: LetterState) -> None:
    submission = letter.submission
    key = f"{letter.campaign_id}:{contact.id}:{letter.target_key}"
    letter.contact_id = contact.id
    letter.branch_id = contact.branch_id
    if db.session.scalar(select(Letter.id).where(Letter.sent_key == key)):
        letter.state = LetterState.DUPLICATE
        return
    try:
        with db.session.begin_nested():
            letter.sent_key = key
            letter.state = state
            letter.sent_at = utcnow()
            db.session.flush()
    except IntegrityError:  # a second confirmation racing this one took the key first
        letter.sent_key = None
        letter.state = LetterState.DUPLICATE
        letter.sent_at = None
        return
    if state is LetterState.QUEUED:
        body = letter.body + letters.sign_off(submission.full_name, submission.postcode, submission.campaign.name)
        message = queue_message(
            channel=Channel.EMAIL, purpose=Purpose.LETTER, dedupe_key=f"letter:{letter.id}:{letter.target_key}",
            to_address=letter.target_email, reply_to=submission.email, cc=submission.email,
            subject=letter.subject, body=body, contact=contact)
        letter.message_id = message.id


def _match_or_create(submission: Submission) -> Contact:
    """The contact this writer is: by email, or by membership number with the same last name; else a new supporter."""
    if submission.contact_id:
        return db.session.get(Contact, submission.contact_id)
    contact = db.session.scalars(
        select(Contact).where(func.lower(Contact.email) == submission.email.lower())
        .order_by((Contact.status == ContactStatus.MEMBER).desc(), Contact.id.desc()).limit(1)).first()
    if contact is None and submission.membership_number:
        by_number = db.session.scalars(select(Contact).where(
            Contact.membership_number == submission.membership_number)).first()
        # A number alone could be anyone's (it is printed on cards): the name must agree too.
        if by_number is not None and (by_number.last_name or "").lower() == submission.last_name.lower():
            contact = by_number
    if contact is None:
        contact = Contact(first_name=submission.first_name, last_name=submission.last_name, email=submission.email,
                          postcode=submission.postcode, branch_id=submission.campaign.branch_id,
                          employer_id=submission.employer_id, status=ContactStatus.SUPPORTER)
        db.session.add(contact)
        db.session.flush()
    if submission.mobile and not contact.mobile:
        contact.mobile = submission.mobile
    submission.contact_id = contact.id
    return contact


def _record_consents(submission: Submission, contact: Contact) -> None:
    """Record the update boxes ticked; an unticked box changes nothing (never an opt-out, never a default)."""
    source = f"campaign: {submission.campaign.slug}"[:120]
    for channel, wanted in ((Channel.EMAIL, submission.wants_email), (Channel.SMS, submission.wants_sms)):
        if not wanted:
            continue
        consent = db.session.scalars(select(Consent).where(Consent.contact_id == contact.id,
                                                           Consent.channel == channel)).first()
        before = consent.status.value if consent else "none"
        if consent is None:
            consent = Consent(contact_id=contact.id, channel=channel)
            db.session.add(consent)
        consent.status = ConsentStatus.GRANTED
        consent.source = source
        consent.wording_version = CONSENT_WORDING_VERSION
        consent.recorded_at = utcnow()
        # On the contact's timeline like a consent told to staff, with no user: they ticked it themselves.
        audit.record("contact.consent", obj=contact,
                     detail=f"channel={channel.value} from={before} to=granted wording={CONSENT_WORDING_VERSION} "
                            f"source=campaign:{submission.campaign.slug}")


# ---------------------------------------------------------------------------------------------
# Two weeks on: did they reply?


def send_reply_check(submission: Submission) -> bool:
    """Email the writer once to ask whether their targets replied; False when there is nothing to ask."""
    if submission.reply_check_sent_at is not None or not submission.campaign.ask_about_replies:
        return False
    asked = [letter for letter in submission.letters
             if letter.state in (LetterState.QUEUED, LetterState.OWN_EMAIL) and letter.reply_status is None]
    if not asked:
        return False
    link = public_url(f"/act/reply?t={reply_token(submission.id)}")
    listing = "\n".join(f"- {letter.target_name}, {letter.target_title}" for letter in asked)
    body = (f"Hello {submission.first_name},\n\nTwo weeks ago you wrote to:\n\n{listing}\n\n"
            f"Did they reply? Tell us in a few seconds here:\n\n{link}\n\n"
            f"Knowing who answers helps “{submission.campaign.name}” decide what to do next. Thank you.")
    queue_message(channel=Channel.EMAIL, purpose=Purpose.TRANSACTIONAL, dedupe_key=f"act-reply-check:{submission.id}",
                  to_address=submission.email, subject=f"Did they reply? {submission.campaign.name}", body=body)
    submission.reply_check_sent_at = utcnow()
    db.session.flush()
    return True


def record_replies(submission: Submission, answers: dict[int, ReplyStatus]) -> int:
    """Record, per letter id, whether the target replied; returns how many answers were recorded."""
    count = 0
    for letter in submission.letters:
        status = answers.get(letter.id)
        if status is not None and letter.state in (LetterState.QUEUED, LetterState.OWN_EMAIL):
            letter.reply_status = status
            letter.reply_recorded_at = utcnow()
            count += 1
    db.session.flush()
    return count


def purge_stale_drafts(now: datetime | None = None) -> int:
    """Delete submissions never confirmed or sent after DRAFT_DAYS: their names and letters are not kept."""
    cutoff = (now or utcnow()) - timedelta(days=DRAFT_DAYS)
    stale = select(Submission.id).where(Submission.confirmed_at.is_(None), Submission.created_at < cutoff,
                                        ~Submission.letters.any(Letter.state != LetterState.DRAFT))
    ids = list(db.session.scalars(stale))
    if ids:
        db.session.execute(delete(Letter).where(Letter.submission_id.in_(ids)))
        db.session.execute(delete(Submission).where(Submission.id.in_(ids)))
    return len(ids)

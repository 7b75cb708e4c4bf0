"""What the API does beyond reading: sign-ups from external forms, taggings, call outcomes from dialers.

Functions take models and plain values, flush and audit; the views commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..audit import service as audit
from ..auth.models import User
from ..calls.forms import CALLBACK_HORIZON, outcomes_for
from ..calls.models import CallList, Outcome
from ..contacts.models import Consent, Contact, Tag, contact_tag
from ..contacts.service import ContactError, clean_tag_name, find_tag
from ..database import utcnow
from ..extensions import db
from ..normalise import (
    FieldError,
    normalise_email,
    normalise_membership_number,
    normalise_mobile,
    normalise_name,
    normalise_postcode,
)
from ..region.models import Branch
from ..scoping import branch_condition, covers_branch
from ..vocabulary import Channel, ConsentStatus, ContactStatus
from .hal import invalid
from .inputs import parse_datetime, text
from .models import ApiToken

MAX_TAGS = 20
SUBSCRIBED = {"subscribed": ConsentStatus.GRANTED, "unsubscribed": ConsentStatus.WITHDRAWN}


@dataclass
class Signup:
    """A checked person_signup_helper request."""

    given_name: str
    family_name: str
    email: str | None
    mobile: str | None
    postcode: str | None
    membership_number: str | None
    branch_code: str | None
    consents: dict[Channel, ConsentStatus] = field(default_factory=dict)
    wording_version: str | None = None
    add_tags: list[str] = field(default_factory=list)


def _first(items, path: str) -> dict | None:
    if items is None:
        return None
    if not isinstance(items, list):
        raise invalid(path, "Give this as a list.")
    if len(items) > 1:
        raise invalid(path, "Give at most one.")
    if not items:
        return None
    if not isinstance(items[0], dict):
        raise invalid(f"{path}[0]", "Give this as an object.")
    return items[0]


def _normalised(fn, value, path: str):
    try:
        return fn(value)
    except FieldError as exc:
        reason = str(exc)
        raise invalid(path, reason[:1].upper() + reason[1:] + ".") from None


def _status(entry: dict, path: str) -> ConsentStatus | None:
    raw = entry.get("status")
    if raw is None:
        return None  # not said: consent is never assumed, and nothing changes
    if raw not in SUBSCRIBED:
        raise invalid(f"{path}.status", "Use ‘subscribed’ (they agreed) or ‘unsubscribed’ (they opted out), "
                                        "or leave it out.")
    return SUBSCRIBED[raw]


def read_signup(body: dict) -> Signup:
    """Check an OSDI person_signup_helper body; raises a 422 ApiError naming the first bad field."""
    person = body.get("person")
    if not isinstance(person, dict):
        raise invalid("person", "Give the person as an object.")
    given = text(person.get("given_name"), "person.given_name", 100) or ""
    family = text(person.get("family_name"), "person.family_name", 100) or ""
    email_entry = _first(person.get("email_addresses"), "person.email_addresses")
    phone_entry = _first(person.get("phone_numbers"), "person.phone_numbers")
    address_entry = _first(person.get("postal_addresses"), "person.postal_addresses")
    email = mobile = postcode = None
    consents: dict[Channel, ConsentStatus] = {}
    if email_entry is not None:
        path = "person.email_addresses[0]"
        raw = text(email_entry.get("address"), f"{path}.address", 254)
        email = _normalised(normalise_email, raw, f"{path}.address")
        if (status := _status(email_entry, path)) is not None:
            consents[Channel.EMAIL] = status
    if phone_entry is not None:
        path = "person.phone_numbers[0]"
        raw = text(phone_entry.get("number"), f"{path}.number", 40)
        mobile = _normalised(normalise_mobile, raw, f"{path}.number")
        if (status := _status(phone_entry, path)) is not None:
            consents[Channel.SMS] = status
    if address_entry is not None:
        raw = text(address_entry.get("postal_code"), "person.postal_addresses[0].postal_code", 12)
        postcode = _normalised(normalise_postcode, raw, "person.postal_addresses[0].postal_code")
    number = _normalised(normalise_membership_number,
                         text(person.get("membership_number"), "person.membership_number", 20),
                         "person.membership_number")
    for channel in consents:
        if (email if channel is Channel.EMAIL else mobile) is None:
            where = "email_addresses[0].address" if channel is Channel.EMAIL else "phone_numbers[0].number"
            raise invalid(f"person.{where}", "Give the address the consent is for.")
    if not (email or mobile or number):
        raise invalid("person.email_addresses", "Give an email address, a mobile number or a membership number.")
    if not (given or family):
        raise invalid("person.family_name", "Give the person's name.")
    wording = text(body.get("consent_wording_version"), "consent_wording_version", 40)
    if ConsentStatus.GRANTED in consents.values() and not wording:
        raise invalid("consent_wording_version", "Give the version of the consent wording the person agreed to, "
                                                 "like 2025-01: it is the evidence of what they were told.")
    tags_raw = body.get("add_tags")
    tags: list[str] = []
    if tags_raw is not None:
        if not isinstance(tags_raw, list) or len(tags_raw) > MAX_TAGS:
            raise invalid("add_tags", f"Give up to {MAX_TAGS} tag names as a list.")
        for i, raw in enumerate(tags_raw):
            name = text(raw, f"add_tags[{i}]", 200, required=True)
            try:
                tags.append(clean_tag_name(name))
            except ContactError as exc:
                raise invalid(f"add_tags[{i}]", next(iter(exc.errors.values()))) from None
    branch = text(body.get("branch"), "branch", 20)
    return Signup(given_name=normalise_name(given), family_name=normalise_name(family), email=email, mobile=mobile,
                  postcode=postcode, membership_number=number, branch_code=branch, consents=consents,
                  wording_version=wording, add_tags=list(dict.fromkeys(tags)))


def _branch_for_new(user: User, code: str | None) -> Branch:
    if code:
        branch = db.session.scalar(select(Branch).where(func.upper(Branch.code) == code.upper()))
        if branch is None or not covers_branch(user, branch.id):
            raise invalid("branch", "There is no branch with that code among yours.")
        return branch
    if not user.region_wide and len(user.branches) == 1:
        return user.branches[0]
    raise invalid("branch", "Give the code of the branch a new contact belongs to.")


def _match(user: User, signup: Signup) -> Contact | None:
    """The contact this person is, among those the user may see: by email, else by membership number
    with the same family name (a number alone could be anyone's: it is printed on cards)."""
    scope = branch_condition(user, Contact.branch_id)
    if signup.email:
        found = db.session.scalars(
            select(Contact).where(func.lower(Contact.email) == signup.email.lower(), scope)
            .order_by((Contact.status == ContactStatus.MEMBER).desc(), Contact.id.desc()).limit(1)).first()
        if found is not None:
            return found
    if signup.membership_number:
        found = db.session.scalars(select(Contact).where(
            Contact.membership_number == signup.membership_number, scope)).first()
        if found is not None and (found.last_name or "").lower() == signup.family_name.lower():
            return found
    return None


@dataclass
class SignupResult:
    contact: Contact
    created: bool
    changed: list[str]


def person_signup(user: User, token: ApiToken, signup: Signup) -> SignupResult:
    """Match the person to a contact the user may see, or add them as a supporter; fill only blanks,
    record exactly the consents given, add the tags; audited. Flushes."""
    contact = _match(user, signup)
    created = contact is None
    changed: list[str] = []
    if created:
        branch = _branch_for_new(user, signup.branch_code)
        # The membership number only matches: numbers come from the national membership system's export.
        contact = Contact(first_name=signup.given_name, last_name=signup.family_name, email=signup.email,
                          mobile=signup.mobile, postcode=signup.postcode, branch_id=branch.id,
                          status=ContactStatus.SUPPORTER)
        db.session.add(contact)
        db.session.flush()
    else:
        for name, value in (("email", signup.email), ("mobile", signup.mobile), ("postcode", signup.postcode)):
            if value and not getattr(contact, name):
                setattr(contact, name, value)
                changed.append(name)
    source = f"api: {token.name}"[:120]
    for channel, status in signup.consents.items():
        consent = db.session.scalar(select(Consent).where(Consent.contact_id == contact.id,
                                                          Consent.channel == channel))
        before = consent.status.value if consent else "none"
        if consent is None:
            consent = Consent(contact_id=contact.id, channel=channel)
            db.session.add(consent)
        consent.status = status
        consent.source = source
        consent.wording_version = signup.wording_version if status is ConsentStatus.GRANTED else None
        consent.recorded_at = utcnow()
        changed.append(f"consent_{channel.value}")
        audit.record("contact.consent", user=user, obj=contact,
                     detail=f"channel={channel.value} from={before} to={status.value}"
                            + (f" wording={signup.wording_version}" if status is ConsentStatus.GRANTED else "")
                            + f" source=api token={token.id}")
    for name in signup.add_tags:
        t = _tag(name, user)
        if add_tagging(t, contact, user):
            changed.append(f"tag:{t.id}")
    db.session.flush()
    audit.record("api.person_signup", user=user, obj=contact,
                 detail=f"token={token.id} {'created' if created else 'matched'} "
                        f"changed={','.join(changed) or '-'}")
    db.session.expire(contact)
    return SignupResult(contact, created, changed)


def _existing_tag(name: str) -> Tag | None:
    # find_tag ignores case through SQL lower(), which SQLite applies to ASCII letters only: the exact
    # name is looked for too, so "Équipe" is found however the engine folds case.
    return find_tag(name) or db.session.scalar(select(Tag).where(Tag.name == name))


def _tag(name: str, user: User) -> Tag:
    found = _existing_tag(name)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            found = Tag(name=name)
            db.session.add(found)
            db.session.flush()
    except IntegrityError:  # made by another request a moment ago
        return _existing_tag(name)
    audit.record("tag.create", user=user, obj=found, detail=f"name={name}")
    return found


def create_tag(name: str, user: User) -> tuple[Tag, bool]:
    """The tag with this name, made if new; returns (tag, created). Raises a 422 for an unusable name."""
    try:
        clean = clean_tag_name(name)
    except ContactError as exc:
        raise invalid("name", next(iter(exc.errors.values()))) from None
    existing = _existing_tag(clean)
    return (existing, False) if existing else (_tag(clean, user), True)


def add_tagging(tag: Tag, contact: Contact, user: User) -> bool:
    """Put the tag on the contact (once); False when it was already there. Audited. Flushes."""
    exists = db.session.execute(select(contact_tag.c.contact_id).where(
        contact_tag.c.contact_id == contact.id, contact_tag.c.tag_id == tag.id)).first()
    if exists:
        return False
    db.session.execute(insert(contact_tag).values(contact_id=contact.id, tag_id=tag.id, added_at=utcnow(),
                                                  added_by_id=user.id))
    audit.record("contact.tag", user=user, obj=contact, detail=f"tag={tag.name} action=add via=api")
    return True


def remove_tagging(tag: Tag, contact: Contact, user: User) -> None:
    """Take the tag off the contact; audited. Flushes."""
    db.session.execute(delete(contact_tag).where(contact_tag.c.contact_id == contact.id,
                                                 contact_tag.c.tag_id == tag.id))
    audit.record("contact.tag", user=user, obj=contact, detail=f"tag={tag.name} action=remove via=api")


def record_export(user: User, token: ApiToken, resource: str, page: int, rows: int, filter_summary: str) -> None:
    """Audit one page of member data read through the API (never the filter's values)."""
    audit.record("api.export", user=user,
                 detail=f"token={token.id} resource={resource} page={page} rows={rows} filter={filter_summary or '-'}")


# ---------------------------------------------------------------------------------------------
# Reading request bodies for taggings and call outcomes


def person_id_from(body: dict) -> int:
    """The person a tagging names: `person_id`, or OSDI's _links.osdi:person.href, or an identifier."""
    if "person_id" in body:
        value = body["person_id"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid("person_id", "Give the person's id as a whole number.")
        return value
    links = body.get("_links")
    href = None
    if isinstance(links, dict) and isinstance(links.get("osdi:person"), dict):
        href = text(links["osdi:person"].get("href"), "_links.osdi:person.href", 500)
    if href is None:
        identifiers = body.get("identifiers")
        if isinstance(identifiers, list) and identifiers:
            href = text(identifiers[0], "identifiers[0]", 100)
    if href:
        tail = href.rstrip("/").rsplit("/", 1)[-1].removeprefix("branchline:")
        if tail.isascii() and tail.isdigit() and len(tail) <= 10:
            return int(tail)
        raise invalid("_links.osdi:person.href", "Link to a person like /api/people/123 or give branchline:123.")
    raise invalid("person_id", "Say who to tag: person_id, or _links.osdi:person.href.")


@dataclass
class OutcomeInput:
    outcome: Outcome
    note: str | None
    answers: dict[str, str]
    callback_at: datetime | None


def read_outcome(body: dict, call_list: CallList) -> OutcomeInput:
    """Check a call outcome sent by a dialer against the list's outcomes and questions; 422 naming the field."""
    raw = text(body.get("outcome"), "outcome", 32, required=True)
    allowed = outcomes_for(call_list)
    if raw not in {o.value for o in allowed}:
        raise invalid("outcome", f"Use one of: {', '.join(o.value for o in allowed)}.")
    outcome = Outcome(raw)
    note = text(body.get("note"), "note", 2000, multiline=True)
    answers = _answers(body.get("answers"), call_list)
    callback_at = None
    if outcome is Outcome.CALL_BACK:
        callback_at = parse_datetime(text(body.get("callback_date"), "callback_date", 40, required=True),
                                     "callback_date")
        now = utcnow()
        if callback_at <= now:
            raise invalid("callback_date", "The call-back time must be in the future.")
        if callback_at > now + CALLBACK_HORIZON:
            raise invalid("callback_date", "The call-back time must be within the next year.")
    return OutcomeInput(outcome, note, answers, callback_at)


def _answers(raw, call_list: CallList) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid("answers", "Give the answers as an object keyed by question key.")
    questions = {str(q.get("key")): q for q in call_list.questions or [] if isinstance(q, dict)}
    answers = {}
    for key, value in raw.items():
        path = f"answers.{key[:40]}"
        if key not in questions:
            raise invalid(path, f"This list has no question ‘{key[:40]}’. Its questions: "
                                f"{', '.join(questions) or 'none'}.")
        value = text(value, path, 2000, multiline=True)
        if value is None:
            continue
        question = questions[key]
        if question.get("type") == "yes_no" and value not in ("yes", "no"):
            raise invalid(path, "Answer yes or no.")
        if question.get("type") == "choice" and value not in [str(c) for c in question.get("choices") or []]:
            raise invalid(path, "Answer with one of the question's choices.")
        answers[key] = value
    return answers

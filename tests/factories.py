"""Test factories: each adds and flushes (tests commit when a request must see the rows)."""
from __future__ import annotations

import itertools
from datetime import date

from crm.auth.models import User
from crm.auth.passwords import hash_password
from crm.auth.roles import Role
from crm.contacts.models import ActivistRole, Consent, Contact, Tag
from crm.extensions import db
from crm.region.models import Branch, Employer, ServiceGroup, Workplace
from crm.vocabulary import ActivistRoleKind, Channel, ConsentStatus, ContactStatus, EmployerKind, PaymentMethod

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def service_group(name: str | None = None) -> ServiceGroup:
    group = ServiceGroup(name=name or f"Service group {_n()}")
    db.session.add(group)
    db.session.flush()
    return group


def branch(code: str | None = None, name: str | None = None, group: ServiceGroup | None = None) -> Branch:
    n = _n()
    obj = Branch(code=code or f"B{n:04d}", name=name or f"Branch {n}", service_group=group or service_group())
    db.session.add(obj)
    db.session.flush()
    return obj


def employer(name: str | None = None, kind: EmployerKind = EmployerKind.NHS_TRUST, branches=(), **kw) -> Employer:
    obj = Employer(name=name or f"Employer {_n()}", kind=kind, branches=list(branches), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def workplace(employer_: Employer | None = None, name: str | None = None, **kw) -> Workplace:
    obj = Workplace(employer=employer_ or employer(), name=name or f"Workplace {_n()}", **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def contact(branch_: Branch | None = None, **kw) -> Contact:
    n = _n()
    values = dict(
        membership_number=f"{n:08d}", first_name=f"First{n}", last_name=f"Last{n}",
        email=f"member{n}@example.org", mobile=f"+4477009{n % 100000:05d}", postcode="L1 8JQ",
        status=ContactStatus.MEMBER, payment_method=PaymentMethod.DOCAS, joined_on=date(2024, 1, 15),
    )
    values.update(kw)
    obj = Contact(branch=branch_ or branch(), **values)
    db.session.add(obj)
    db.session.flush()
    return obj


def consent(contact_: Contact, channel: Channel = Channel.SMS, status: ConsentStatus = ConsentStatus.GRANTED) -> Consent:
    obj = Consent(contact=contact_, channel=channel, status=status, source="test", wording_version="v1")
    db.session.add(obj)
    db.session.flush()
    return obj


def activist_role(contact_: Contact, role: ActivistRoleKind = ActivistRoleKind.STEWARD, **kw) -> ActivistRole:
    obj = ActivistRole(contact=contact_, role=role, branch_id=kw.pop("branch_id", contact_.branch_id),
                       started_on=kw.pop("started_on", date(2025, 4, 1)), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def tag(name: str | None = None) -> Tag:
    obj = Tag(name=name or f"tag-{_n()}")
    db.session.add(obj)
    db.session.flush()
    return obj


def user(role: Role | str = Role.BRANCH_OFFICER, branches=(), email: str | None = None, **kw) -> User:
    n = _n()
    obj = User(email=email or f"user{n}@example.org", name=kw.pop("name", f"User {n}"), role=Role(role),
               password_hash=_PASSWORD_HASH, branches=list(branches), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def import_run(branch_: Branch | None, stored_path: str, **kw):
    from crm.imports.models import ImportRun, ImportScope, ImportStatus

    values = dict(filename="export.csv", file_sha256="0" * 64, scope=ImportScope.BRANCH if branch_ else ImportScope.REGION,
                  status=ImportStatus.UPLOADED, headers=["Membership No", "Surname"],
                  mapping={"0": "membership_number", "1": "last_name"})
    values.update(kw)
    obj = ImportRun(branch_id=branch_.id if branch_ else None, stored_path=stored_path, **values)
    db.session.add(obj)
    db.session.flush()
    return obj


def call_list(branches=(), kind=None, callers=(), **kw):
    from crm.calls.models import CallList, CallListKind

    obj = CallList(name=kw.pop("name", f"List {_n()}"), kind=kind or CallListKind.NEW_JOINER,
                   branches=list(branches), callers=list(callers), script=kw.pop("script", "Hi {{ first_name }}"), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def call_entry(list_, contact_, **kw):
    from crm.calls.models import CallEntry

    obj = CallEntry(list_id=list_.id, contact_id=contact_.id, branch_id=contact_.branch_id, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def message_template(channel: Channel = Channel.SMS, **kw):
    from crm.messaging.models import MessageTemplate

    values = dict(name=f"Template {_n()}", body="Hi {{ first_name }}, branch meeting Thursday 6pm.")
    if channel is Channel.EMAIL:
        values.update(subject="News for {{ first_name }}", body="Dear {{ first_name }},\n\nOur news.")
    values.update(kw)
    obj = MessageTemplate(channel=channel, **values)
    db.session.add(obj)
    db.session.flush()
    return obj


def send(created_by: User, channel: Channel = Channel.SMS, audience_kind: str = "contacts", audience=None, **kw):
    """A draft send; by default to every contact its author may see."""
    from crm.messaging.models import Send

    values = dict(name=f"Send {_n()}", body="Hi {{ first_name }}, branch meeting Thursday 6pm.",
                  audience_label="Everyone", respect_quiet_hours=False)
    if channel is Channel.EMAIL:
        values.update(subject="News for {{ first_name }}", body="Dear {{ first_name }},\n\nOur news.")
    values.update(kw)
    obj = Send(channel=channel, audience_kind=audience_kind, audience=audience if audience is not None else {},
               created_by=created_by, **values)
    db.session.add(obj)
    db.session.flush()
    return obj


# --- Campaigns ---------------------------------------------------------------------------------

MP_TEMPLATE = ("Dear {{ target_name }},\n\nAs your constituent in {{ constituency }} I ask you to support bringing "
               "all NHS services at our hospitals back in-house, so that every worker is employed on the same "
               "terms and patients get the care they deserve.\n\n{{ personal_story }}\n\nYours sincerely,\n{{ name }}\n"
               "{{ postcode }}")
CEO_TEMPLATE = ("Dear {{ target_name }},\n\nI am writing about the outsourced staff at {{ employer }}. Cleaners, "
                "porters and catering staff do vital work and should be employed directly by the trust on NHS terms "
                "and conditions.\n\n{{ personal_story }}\n\nYours sincerely,\n{{ name }}")


def mp_for(postcode: str, code: str = "E14001234", constituency: str = "Liverpool Riverside",
           name: str = "Alex Example", email: str = "alex.example.mp@example.org", generation: str = "2024"):
    """A current boundary generation (made once) with this postcode in a constituency and its MP."""
    from sqlalchemy import select

    from crm.campaigns.geography import (
        BoundaryGeneration,
        Constituency,
        GenerationStatus,
        PostcodeConstituency,
        Representative,
    )

    gen = db.session.scalars(select(BoundaryGeneration).where(BoundaryGeneration.code == generation)).first()
    if gen is None:
        gen = BoundaryGeneration(code=generation, label=f"{generation} constituencies", status=GenerationStatus.READY,
                                 is_current=True)
        db.session.add(gen)
        db.session.flush()
    if not db.session.scalars(select(Constituency).where(Constituency.generation_id == gen.id,
                                                         Constituency.code == code)).first():
        db.session.add(Constituency(generation_id=gen.id, code=code, name=constituency))
        if name:
            db.session.add(Representative(generation_id=gen.id, constituency_code=code, name=name, party="Example",
                                          email=email))
    db.session.add(PostcodeConstituency(generation_id=gen.id, postcode=postcode, constituency_code=code))
    db.session.flush()
    return gen


def campaign(branch_: Branch | None = None, employers=(), **kw):
    """An open campaign writing to the MP and the employer's chief executive."""
    from crm.campaigns.models import Campaign, CampaignStatus, LetterTemplate, TargetKind

    n = _n()
    values = dict(name=f"Campaign {n}", slug=f"campaign-{n}", summary="Bring our hospital services back in-house.",
                  status=CampaignStatus.OPEN, target_mp=True, target_employer=True, similarity_threshold=85)
    values.update(kw)
    obj = Campaign(branch=branch_ or branch(), employers=list(employers), **values)
    obj.templates = [
        LetterTemplate(target_kind=TargetKind.MP, subject="Bring NHS services in-house, {{ target_name }}",
                       body=MP_TEMPLATE),
        LetterTemplate(target_kind=TargetKind.EMPLOYER, subject="Bring our colleagues in-house", body=CEO_TEMPLATE),
        LetterTemplate(target_kind=TargetKind.CUSTOM, subject="A letter from {{ name }}",
                       body="Dear {{ target_name }},\n\n{{ personal_story }}\n\nYours,\n{{ name }}"),
    ]
    db.session.add(obj)
    db.session.flush()
    return obj


def inbound_message(contact_=None, body: str = "Yes please, count me in", **kw):
    """A text someone sent us; a reply from the contact's mobile by default."""
    from crm.messaging.models import InboundKind, InboundMessage

    n = _n()
    values = dict(provider="log", provider_id=f"SMin{n:08d}", from_address=contact_.mobile if contact_ else
                  f"+4474009{n % 100000:05d}", to_address="+447400000000", body=body, kind=InboundKind.REPLY,
                  contact_id=contact_.id if contact_ else None, branch_id=contact_.branch_id if contact_ else None)
    values.update(kw)
    obj = InboundMessage(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


# --- Data protection ---------------------------------------------------------------------------

_user_without_training = user


def user(role: Role | str = Role.BRANCH_OFFICER, branches=(), email: str | None = None, **kw) -> User:
    """A user whose data-protection training is current (pass trained_on=None for one who never did it)."""
    kw.setdefault("trained_on", date.today())
    return _user_without_training(role, branches, email, **kw)


def breach(**kw):
    from crm.database import utcnow
    from crm.privacy.models import Breach

    values = dict(title=f"Breach {_n()}", discovered_at=utcnow(), description="A call list was emailed to the wrong person.")
    values.update(kw)
    obj = Breach(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


# --- API ---------------------------------------------------------------------------------------

def api_token(user_: User, name: str = "Integration", days: int = 90):
    """A live API token for the user; returns (token row, secret). The secret exists only here."""
    from crm.api.tokens import create_token

    made = create_token(user_, name, days)
    return made.token, made.secret


# --- Reports ---------------------------------------------------------------------------------


def sent_letter(campaign_, contact_, sent_at, target_kind=None, **kw):
    """A letter a contact sent in a campaign (with its submission), as the campaigns area records it."""
    from crm.campaigns.models import Letter, LetterState, Submission, TargetKind

    n = _n()
    kind = target_kind or TargetKind.MP
    submission = Submission(campaign_id=campaign_.id, first_name=contact_.first_name, last_name=contact_.last_name,
                            email=contact_.email or f"writer{n}@example.org", postcode=contact_.postcode or "L1 8JQ",
                            contact_id=contact_.id, submitted_at=sent_at, confirmed_at=sent_at)
    db.session.add(submission)
    db.session.flush()
    values = dict(submission_id=submission.id, campaign_id=campaign_.id, target_kind=kind,
                  target_key=f"{kind.value}:{n}", target_name=f"Target {n}", target_email=f"target{n}@example.org",
                  state=LetterState.QUEUED, sent_key=f"sent:{n}", sent_at=sent_at, contact_id=contact_.id,
                  branch_id=contact_.branch_id, employer_id=contact_.employer_id)
    values.update(kw)
    obj = Letter(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def import_change(run, contact_, kind):
    """A joiner, leaver or change an import found for a contact."""
    from crm.imports.models import ImportChange

    obj = ImportChange(run_id=run.id, contact_id=contact_.id, branch_id=contact_.branch_id, kind=kind)
    db.session.add(obj)
    db.session.flush()
    return obj


def call_attempt(entry, user_, outcome, at, **kw):
    """One call made on a call-list entry."""
    from crm.calls.models import CallAttempt

    obj = CallAttempt(entry_id=entry.id, list_id=entry.list_id, contact_id=entry.contact_id,
                      user_id=user_.id if user_ else None, outcome=outcome, at=at, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj

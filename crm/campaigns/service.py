"""Campaign set-up for staff: create, edit, scope, preview. The public page's steps live in public.py."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask import abort
from sqlalchemy import Select, func, select

from ..audit import service as audit
from ..auth.models import User
from ..extensions import db
from ..normalise import FieldError, normalise_email
from ..region.models import Branch, Employer
from ..scoping import branch_condition, covers_branch, note_probe
from . import letters
from .models import Campaign, CampaignStatus, CampaignTarget, LetterTemplate, TargetKind

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
MAX_CUSTOM_TARGETS = 5

DEFAULT_TEMPLATES = {
    TargetKind.MP: (
        "A letter from your constituent in {{ constituency }}",
        "Dear {{ target_name }},\n\nI am writing to you as a constituent in {{ constituency }} about …\n\n"
        "{{ personal_story }}\n\nI would be grateful if you would …\n\nYours sincerely,\n{{ name }}",
    ),
    TargetKind.EMPLOYER: (
        "A letter from {{ name }}",
        "Dear {{ target_name }},\n\nI work at {{ workplace }} and I am writing to you about …\n\n"
        "{{ personal_story }}\n\nYours sincerely,\n{{ name }}",
    ),
    TargetKind.CUSTOM: (
        "A letter from {{ name }}",
        "Dear {{ target_name }},\n\nI am writing to you about …\n\n{{ personal_story }}\n\nYours sincerely,\n{{ name }}",
    ),
}


class CampaignError(Exception):
    """Why a campaign cannot be saved: field name → plain-words message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class CustomTarget:
    name: str
    role: str
    email: str


@dataclass
class CampaignSettings:
    name: str
    slug: str
    summary: str = ""
    goal: str = ""
    status: CampaignStatus = CampaignStatus.DRAFT
    opens_on: date | None = None
    closes_on: date | None = None
    branch_id: int | None = None
    service_group_id: int | None = None
    target_mp: bool = True
    target_employer: bool = True
    custom_targets: list[CustomTarget] = field(default_factory=list)
    employer_ids: list[int] = field(default_factory=list)
    # target kind → (subject, body)
    templates: dict[TargetKind, tuple[str, str]] = field(default_factory=dict)
    require_personal: bool = False
    ask_membership_number: bool = False
    letters_say_member: bool = False
    block_identical: bool = False
    similarity_threshold: int = 85
    ask_about_replies: bool = False
    thank_you_text: str = ""
    share_text: str = ""


def campaigns_stmt(user: User) -> Select:
    """The campaigns a user may manage: region-wide staff see all, others their branches' campaigns."""
    return select(Campaign).where(branch_condition(user, Campaign.branch_id))


def get_campaign_or_404(user: User, campaign_id: int) -> Campaign:
    """One campaign the user may manage, else 404 (another branch's looks like a missing one)."""
    campaign = db.session.execute(campaigns_stmt(user).where(Campaign.id == campaign_id)).scalar_one_or_none()
    if campaign is None:
        note_probe(Campaign, campaign_id, user)
        abort(404)
    return campaign


def public_campaign(slug: str) -> Campaign | None:
    """The campaign at a public address (any status: the view decides who may see a draft)."""
    return db.session.execute(select(Campaign).where(Campaign.slug == (slug or "").lower())).scalar_one_or_none()


def slug_from(name: str) -> str:
    """A suggested public address from a campaign's name ("Bring NHS services in-house" → "bring-nhs-services-in-house")."""
    slug = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")
    return slug[:60].rstrip("-")


def _check(settings: CampaignSettings, campaign: Campaign | None, user: User) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not settings.name:
        errors["name"] = "Enter the campaign's name."
    if not SLUG.match(settings.slug or ""):
        errors["slug"] = ("Enter the public address using lower-case letters, numbers and hyphens only, "
                          "like nhs-in-house.")
    else:
        clash = db.session.scalar(select(Campaign.id).where(Campaign.slug == settings.slug))
        if clash and (campaign is None or clash != campaign.id):
            errors["slug"] = "Another campaign already uses that public address. Choose a different one."
    if settings.branch_id is None or db.session.get(Branch, settings.branch_id) is None \
            or not covers_branch(user, settings.branch_id):
        errors["branch_id"] = "Choose the branch that runs the campaign."
    if settings.opens_on and settings.closes_on and settings.closes_on < settings.opens_on:
        errors["closes_on"] = "The closing date must be on or after the opening date."
    if not (settings.target_mp or settings.target_employer or settings.custom_targets):
        errors["target_mp"] = "Choose at least one target: the member's MP, their employer's chief executive, or someone else."
    if settings.target_employer and not settings.employer_ids:
        errors["employer_ids"] = "Choose the employers whose chief executives members can write to."
    for i, target in enumerate(settings.custom_targets, start=1):
        try:
            email = normalise_email(target.email)
        except FieldError:
            email = None
        if not target.name or not email:
            errors[f"custom_{i}"] = f"Other target {i}: enter a name and a valid email address."
        else:
            target.email = email
    if not 50 <= settings.similarity_threshold <= 100:
        errors["similarity_threshold"] = "Enter a percentage between 50 and 100."
    for kind in _kinds(settings):
        subject, body = settings.templates.get(kind, ("", ""))
        key = kind.value
        if not subject.strip():
            errors[f"{key}_subject"] = "Enter the letter's subject."
        elif problem := letters.template_problem(subject):
            errors[f"{key}_subject"] = problem
        if not body.strip():
            errors[f"{key}_body"] = "Enter the letter."
        elif problem := letters.template_problem(body):
            errors[f"{key}_body"] = problem
        elif settings.require_personal and "personal_story" not in body:
            errors[f"{key}_body"] = ("The campaign asks for a personal paragraph: put {{ personal_story }} "
                                     "where the writer's own words should go.")
    return errors


def _kinds(settings: CampaignSettings) -> list[TargetKind]:
    kinds = []
    if settings.target_mp:
        kinds.append(TargetKind.MP)
    if settings.target_employer:
        kinds.append(TargetKind.EMPLOYER)
    if settings.custom_targets:
        kinds.append(TargetKind.CUSTOM)
    return kinds


def _apply(campaign: Campaign, settings: CampaignSettings) -> None:
    for name in ("name", "slug", "summary", "goal", "status", "opens_on", "closes_on", "branch_id", "service_group_id",
                 "target_mp", "target_employer", "require_personal", "ask_membership_number", "letters_say_member",
                 "block_identical", "similarity_threshold", "ask_about_replies", "thank_you_text", "share_text"):
        setattr(campaign, name, getattr(settings, name))
    campaign.employers = list(db.session.scalars(select(Employer).where(Employer.id.in_(settings.employer_ids or [0]))))
    # Custom targets are replaced in place by position, so earlier letters keep their target keys.
    existing = list(campaign.targets)
    for i, target in enumerate(settings.custom_targets):
        if i < len(existing):
            existing[i].name, existing[i].role, existing[i].email = target.name, target.role, target.email
        else:
            campaign.targets.append(CampaignTarget(name=target.name, role=target.role, email=target.email))
    for extra in existing[len(settings.custom_targets):]:
        campaign.targets.remove(extra)
    for kind, (subject, body) in settings.templates.items():
        template = campaign.template_for(kind)
        if template is None:
            template = LetterTemplate(target_kind=kind)
            campaign.templates.append(template)
        template.subject = " ".join(subject.split())
        template.body = body.replace("\r\n", "\n").strip()


def create_campaign(settings: CampaignSettings, *, by: User) -> Campaign:
    """Create a campaign from checked settings; audited. Raises CampaignError."""
    errors = _check(settings, None, by)
    if errors:
        raise CampaignError(errors)
    campaign = Campaign(created_by_id=by.id)
    _apply(campaign, settings)
    db.session.add(campaign)
    db.session.flush()
    audit.record("campaign.create", user=by, obj=campaign, detail=f"slug={campaign.slug}")
    return campaign


def update_campaign(campaign: Campaign, settings: CampaignSettings, *, by: User) -> None:
    """Save changed settings; audited. Raises CampaignError."""
    errors = _check(settings, campaign, by)
    if errors:
        raise CampaignError(errors)
    _apply(campaign, settings)
    db.session.flush()
    audit.record("campaign.update", user=by, obj=campaign, detail=f"slug={campaign.slug} status={campaign.status.value}")


def settings_of(campaign: Campaign) -> CampaignSettings:
    """A campaign's current settings (to fill the edit form)."""
    return CampaignSettings(
        name=campaign.name, slug=campaign.slug, summary=campaign.summary, goal=campaign.goal, status=campaign.status,
        opens_on=campaign.opens_on, closes_on=campaign.closes_on, branch_id=campaign.branch_id,
        service_group_id=campaign.service_group_id, target_mp=campaign.target_mp,
        target_employer=campaign.target_employer,
        custom_targets=[CustomTarget(t.name, t.role, t.email) for t in campaign.targets],
        employer_ids=[e.id for e in campaign.employers],
        templates={t.target_kind: (t.subject, t.body) for t in campaign.templates},
        require_personal=campaign.require_personal, ask_membership_number=campaign.ask_membership_number,
        letters_say_member=campaign.letters_say_member, block_identical=campaign.block_identical,
        similarity_threshold=campaign.similarity_threshold, ask_about_replies=campaign.ask_about_replies,
        thank_you_text=campaign.thank_you_text, share_text=campaign.share_text)


def employer_choices(user: User) -> list[Employer]:
    """Employers a campaign may name: those of the branches the user covers (all for region-wide staff)."""
    from ..region.models import branch_employer

    stmt = select(Employer).order_by(Employer.name)
    if not user.region_wide:
        stmt = stmt.where(Employer.id.in_(select(branch_employer.c.employer_id)
                                          .where(branch_condition(user, branch_employer.c.branch_id))))
    return list(db.session.scalars(stmt))


def letter_counts(campaign_ids: list[int], user: User) -> dict[int, int]:
    """Letters sent per campaign, counting only the branches the user covers."""
    from .models import Letter, LetterState

    if not campaign_ids:
        return {}
    rows = db.session.execute(
        select(Letter.campaign_id, func.count()).where(
            Letter.campaign_id.in_(campaign_ids), Letter.state.in_([LetterState.QUEUED, LetterState.OWN_EMAIL]),
            branch_condition(user, Letter.branch_id)).group_by(Letter.campaign_id))
    return dict(rows.all())


def sample_letters(campaign: Campaign) -> list[dict]:
    """Each template filled in for a made-up member, as the public page would show it."""
    out = []
    sample = dict(letters.SAMPLE)
    for kind in (TargetKind.MP, TargetKind.EMPLOYER, TargetKind.CUSTOM):
        template = campaign.template_for(kind)
        if template is None or not _targets_kind(campaign, kind):
            continue
        values = dict(sample)
        if kind is TargetKind.EMPLOYER:
            values.update(target_name="Chris Example", target_title="Chief Executive, " + sample["employer"])
        elif kind is TargetKind.CUSTOM:
            first = campaign.targets[0]
            values.update(target_name=first.name, target_title=first.role)
        out.append({"kind": kind, "to": f"{values['target_name']}, {values['target_title']}",
                    "subject": letters.fill_subject(template.subject, values),
                    "body": letters.fill(template.body, values)})
    return out


def _targets_kind(campaign: Campaign, kind: TargetKind) -> bool:
    return {TargetKind.MP: campaign.target_mp, TargetKind.EMPLOYER: campaign.target_employer,
            TargetKind.CUSTOM: bool(campaign.targets)}[kind]

"""Staff pages: the campaigns, setting one up, previewing it and reading who took part.

Everything needs MANAGE_CAMPAIGNS and loads campaigns through service.get_campaign_or_404, so a
campaign of a branch the user does not cover is a 404 exactly like a missing id.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Permission
from ..extensions import db
from ..formtools import choices, show_errors
from ..region.models import ServiceGroup
from ..scoping import require, visible_branches_stmt
from . import bp, letters, participation, service
from .forms import CampaignForm
from .models import Campaign, CampaignStatus, TargetKind
from .service import CampaignError, CampaignSettings, CustomTarget

MANAGE = Permission.MANAGE_CAMPAIGNS
KINDS = (TargetKind.MP, TargetKind.EMPLOYER, TargetKind.CUSTOM)


def _me() -> User:
    return current_user._get_current_object()


@bp.get("/")
@require(MANAGE)
def index():
    me = _me()
    campaigns = db.session.execute(service.campaigns_stmt(me).order_by(Campaign.created_at.desc())).scalars().all()
    counts = service.letter_counts([c.id for c in campaigns], me)
    return render_template("campaigns/index.html", campaigns=campaigns, counts=counts)


def _form_choices(form: CampaignForm, me: User) -> None:
    form.branch_id.choices = choices(((b.id, str(b)) for b in db.session.scalars(visible_branches_stmt(me))),
                                     blank="Choose a branch")
    groups = db.session.scalars(select(ServiceGroup).order_by(ServiceGroup.name))
    form.service_group_id.choices = choices(((g.id, g.name) for g in groups), blank="None")
    form.employer_ids.choices = choices((e.id, e.name) for e in service.employer_choices(me))


def _settings(form: CampaignForm) -> CampaignSettings:
    return CampaignSettings(
        name=" ".join((form.name.data or "").split()), slug=(form.slug.data or "").strip().lower(),
        summary=(form.summary.data or "").strip(), goal=(form.goal.data or "").strip(),
        status=CampaignStatus(form.status.data or "draft"), opens_on=form.opens_on.data, closes_on=form.closes_on.data,
        branch_id=form.branch_id.data or None, service_group_id=form.service_group_id.data or None,
        target_mp=bool(form.target_mp.data), target_employer=bool(form.target_employer.data),
        custom_targets=[CustomTarget(" ".join((row.form.name.data or "").split()), " ".join((row.form.role.data or "").split()),
                                     (row.form.email.data or "").strip())
                        for row in form.custom_targets if any((row.form.name.data, row.form.role.data, row.form.email.data))],
        employer_ids=list(form.employer_ids.data or []),
        templates={kind: (getattr(form, f"{kind.value}_subject").data or "", getattr(form, f"{kind.value}_body").data or "")
                   for kind in KINDS},
        require_personal=bool(form.require_personal.data), ask_membership_number=bool(form.ask_membership_number.data),
        letters_say_member=bool(form.letters_say_member.data), block_identical=bool(form.block_identical.data),
        similarity_threshold=form.similarity_threshold.data or 0, ask_about_replies=bool(form.ask_about_replies.data),
        thank_you_text=(form.thank_you_text.data or "").strip(), share_text=" ".join((form.share_text.data or "").split()))


def _show(form: CampaignForm, exc: CampaignError) -> None:
    rename = {f"custom_{i}": "custom_targets" for i in range(1, 10)}
    show_errors(form, exc.errors, rename)


def _page(form, campaign, status=200):
    return render_template("campaigns/form.html", form=form, campaign=campaign, merge_fields=letters.LETTER_FIELDS,
                           kinds=KINDS), status


@bp.route("/new", methods=["GET", "POST"])
@require(MANAGE)
def new():
    me = _me()
    form = CampaignForm()
    _form_choices(form, me)
    if request.method == "GET":
        form.target_mp.data = form.target_employer.data = True
        for kind in KINDS:
            subject, body = service.DEFAULT_TEMPLATES[kind]
            getattr(form, f"{kind.value}_subject").data = subject
            getattr(form, f"{kind.value}_body").data = body
        branches = form.branch_id.choices
        if len(branches) == 2:
            form.branch_id.data = int(branches[1].value)
        return _page(form, None)
    if form.validate_on_submit():
        try:
            campaign = service.create_campaign(_settings(form), by=me)
        except CampaignError as exc:
            db.session.rollback()
            _show(form, exc)
        else:
            db.session.commit()
            flash(f"Campaign ‘{campaign.name}’ created. Preview it, then set it to open when you are ready.", "success")
            return redirect(url_for(".show", campaign_id=campaign.id))
    return _page(form, None, 422)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def edit(campaign_id: int):
    me = _me()
    campaign = service.get_campaign_or_404(me, campaign_id)
    if request.method == "GET":
        settings = service.settings_of(campaign)
        form = CampaignForm(obj=settings, data={"status": campaign.status.value})
        _form_choices(form, me)
        for i, target in enumerate(settings.custom_targets):
            row = form.custom_targets[i].form
            row.name.data, row.role.data, row.email.data = target.name, target.role, target.email
        for kind in KINDS:
            subject, body = settings.templates.get(kind, service.DEFAULT_TEMPLATES[kind])
            getattr(form, f"{kind.value}_subject").data = subject
            getattr(form, f"{kind.value}_body").data = body
        form.employer_ids.data = settings.employer_ids
        return _page(form, campaign)
    form = CampaignForm()
    _form_choices(form, me)
    if form.validate_on_submit():
        try:
            service.update_campaign(campaign, _settings(form), by=me)
        except CampaignError as exc:
            db.session.rollback()
            _show(form, exc)
        else:
            db.session.commit()
            flash("Changes saved.", "success")
            return redirect(url_for(".show", campaign_id=campaign.id))
    return _page(form, campaign, 422)


@bp.get("/<int:campaign_id>")
@require(MANAGE)
def show(campaign_id: int):
    me = _me()
    campaign = service.get_campaign_or_404(me, campaign_id)
    figures = participation.figures(campaign, me)
    recent = participation.recent_letters(campaign, me)
    public_url = url_for("act.details", slug=campaign.slug, _external=True)
    peak = max((n for _, n in figures.by_week), default=0)
    return render_template("campaigns/show.html", campaign=campaign, figures=figures, recent=recent,
                           public_url=public_url, peak=peak, can_message=me.can(Permission.SEND_MESSAGES))


@bp.get("/<int:campaign_id>/preview")
@require(MANAGE)
def preview(campaign_id: int):
    campaign = service.get_campaign_or_404(_me(), campaign_id)
    return render_template("campaigns/preview.html", campaign=campaign, samples=service.sample_letters(campaign))

"""Who took part in a campaign: letters over time, by target, branch, employer and constituency; the
campaign audience for messaging; and each contact's letters on their timeline.

Every figure counts only letters from contacts in the branches the viewer covers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select

from ..auth.models import User
from ..contacts.models import Contact
from ..contacts.timeline import TimelineEntry, provider
from ..extensions import db
from ..messaging.audiences import audience
from ..messaging.models import Message, MessageState
from ..region.models import Branch, Employer
from ..scoping import branch_condition
from ..templating import UK
from .models import Campaign, Letter, LetterState, ReplyStatus, TargetKind
from .service import campaigns_stmt

SENT_STATES = (LetterState.QUEUED, LetterState.OWN_EMAIL)
TOP = 10


@dataclass
class Figures:
    letters: int
    writers: int
    own_email: int
    personalised_pct: int
    replied: int
    no_reply: int
    by_week: list[tuple[date, int]]
    by_kind: list[tuple[str, int]]
    by_branch: list[tuple[str, int]]
    by_employer: list[tuple[str, int]]
    by_constituency: list[tuple[str, int]]
    top_mps: list[tuple[str, int, int]]  # name, letters, replies
    top_employers: list[tuple[str, int, int]]
    by_message_state: list[tuple[str, int]]


def _sent(campaign: Campaign, user: User) -> list:
    return [Letter.campaign_id == campaign.id, Letter.state.in_(SENT_STATES), branch_condition(user, Letter.branch_id)]


def _counted(stmt: Select) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(stmt).all()]


def figures(campaign: Campaign, user: User) -> Figures:
    """The campaign's participation as this user may see it."""
    where = _sent(campaign, user)
    letters, writers, own, personalised, replied, no_reply = db.session.execute(select(
        func.count(), func.count(func.distinct(Letter.contact_id)),
        func.count().filter(Letter.state == LetterState.OWN_EMAIL),
        func.count().filter(Letter.template_share < 100),
        func.count().filter(Letter.reply_status == ReplyStatus.REPLIED),
        func.count().filter(Letter.reply_status == ReplyStatus.NO_REPLY)).where(*where)).one()
    weeks: dict[date, int] = {}
    for (sent_at,) in db.session.execute(select(Letter.sent_at).where(*where)):
        day = sent_at.astimezone(UK).date()
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + 1
    by_week = _fill_weeks(weeks)
    kinds = dict(_counted(select(Letter.target_kind, func.count()).where(*where).group_by(Letter.target_kind)))
    by_kind = [(kind.label, kinds.get(kind, 0)) for kind in TargetKind if kinds.get(kind)]
    count = func.count().label("n")
    by_branch = _counted(select(Branch.name, count).select_from(Letter).join(Branch, Branch.id == Letter.branch_id).where(*where)
                         .group_by(Branch.name).order_by(count.desc(), Branch.name).limit(TOP))
    by_employer = _counted(select(Employer.name, count).select_from(Letter).join(Employer, Employer.id == Letter.employer_id).where(*where)
                           .group_by(Employer.name).order_by(count.desc(), Employer.name).limit(TOP))
    by_constituency = _counted(select(Letter.constituency_name, count).where(*where, Letter.constituency_name.is_not(None))
                               .group_by(Letter.constituency_name).order_by(count.desc(), Letter.constituency_name)
                               .limit(TOP))
    replies = func.count().filter(Letter.reply_status == ReplyStatus.REPLIED)
    top_mps = _counted(select(Letter.target_name, count, replies).where(*where, Letter.target_kind == TargetKind.MP)
                       .group_by(Letter.target_name).order_by(count.desc(), Letter.target_name).limit(TOP))
    top_employers = _counted(
        select(Letter.target_title, count, replies).where(*where, Letter.target_kind == TargetKind.EMPLOYER)
        .group_by(Letter.target_title).order_by(count.desc(), Letter.target_title).limit(TOP))
    states = dict(_counted(select(Message.state, func.count()).select_from(Message).join(Letter, Letter.message_id == Message.id)
                           .where(*where).group_by(Message.state)))
    by_message_state = [(state.label, states[state]) for state in MessageState if states.get(state)]
    return Figures(letters=letters, writers=writers, own_email=own,
                   personalised_pct=round(100 * personalised / letters) if letters else 0,
                   replied=replied, no_reply=no_reply, by_week=by_week, by_kind=by_kind, by_branch=by_branch,
                   by_employer=by_employer, by_constituency=by_constituency, top_mps=top_mps,
                   top_employers=top_employers, by_message_state=by_message_state)


def _fill_weeks(weeks: dict[date, int]) -> list[tuple[date, int]]:
    if not weeks:
        return []
    first, last = min(weeks), max(weeks)
    out = []
    week = first
    while week <= last:
        out.append((week, weeks.get(week, 0)))
        week += timedelta(days=7)
    return out[-26:]  # half a year of weeks is as much as a bar chart on a phone can say


@dataclass
class LetterRow:
    id: int
    sent_at: datetime | None
    writer: str
    contact_id: int | None
    branch: str
    to: str
    kind: TargetKind
    template_share: int
    state: LetterState
    message_state: MessageState | None
    reply_status: ReplyStatus | None


def recent_letters(campaign: Campaign, user: User, limit: int = 50) -> list[LetterRow]:
    """The latest letters sent, with where each outbox message has got to."""
    rows = db.session.execute(
        select(Letter, Contact.first_name, Contact.last_name, Branch.code, Message.state)
        .outerjoin(Contact, Contact.id == Letter.contact_id).outerjoin(Branch, Branch.id == Letter.branch_id)
        .outerjoin(Message, Message.id == Letter.message_id)
        .where(*_sent(campaign, user)).order_by(Letter.sent_at.desc(), Letter.id.desc()).limit(limit))
    return [LetterRow(letter.id, letter.sent_at, f"{first or ''} {last or ''}".strip(), letter.contact_id, code or "",
                      letter.target_name, letter.target_kind, letter.template_share, letter.state, state,
                      letter.reply_status)
            for letter, first, last, code, state in rows]


@audience("campaign", "People who wrote letters in a campaign")
def campaign_participants(params: dict, user: User) -> Select:
    """Contacts with a letter sent in the campaign (one the user may manage), in the user's branches."""
    visible = campaigns_stmt(user).where(Campaign.id == params.get("campaign_id")).with_only_columns(Campaign.id)
    return (select(Contact.id).where(Contact.id.in_(
        select(Letter.contact_id).where(Letter.campaign_id.in_(visible), Letter.state.in_(SENT_STATES))),
        branch_condition(user, Contact.branch_id)))


@provider
def campaign_letters(contact: Contact, viewer: User):
    """A contact's campaign letters on their timeline."""
    rows = db.session.execute(
        select(Letter.sent_at, Letter.state, Letter.target_name, Campaign.name, Letter.template_share)
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .where(Letter.contact_id == contact.id, Letter.state.in_(SENT_STATES)))
    for sent_at, state, target, campaign_name, share in rows:
        how = "from their own email" if state is LetterState.OWN_EMAIL else "by email"
        yield TimelineEntry(at=sent_at, kind="campaign", title=f"Wrote to {target} ({campaign_name})",
                            detail=f"Sent {how}; {share}% still the template.")

"""Demo letter campaign: "Bring NHS services back in-house", open on /act/nhs-in-house, with a few
weeks of letters already written, so the campaign and participation pages have something to show.
The letters' outbox rows are recorded as delivered by the log provider: nothing is sent anywhere."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Role
from ..campaigns import letters
from ..campaigns.lookup import find_constituency
from ..campaigns.models import CampaignStatus, Letter, LetterState, Submission, TargetKind
from ..campaigns.service import CampaignSettings, create_campaign
from ..contacts.models import Contact
from ..extensions import db
from ..messaging.models import Message, MessageState, Purpose
from ..region.models import Branch, Employer
from ..vocabulary import Channel, ContactStatus, EmployerKind

SLUG = "nhs-in-house"

MP_SUBJECT = "Bring our NHS services back in-house, {{ target_name }}"
MP_BODY = """Dear {{ target_name }},

I am writing to you as your constituent in {{ constituency }} and as a health worker at {{ employer }}.

Services in our hospitals have been handed to private contractors. Staff doing the same work on the
same wards are on worse pay and terms, and patients notice the difference.

{{ personal_story }}

Please write to the trust and to the Secretary of State asking for these services to be brought back
in-house, and tell me what you will do.

Yours sincerely,
{{ name }}"""

CEO_SUBJECT = "Bring our services back in-house at {{ employer }}"
CEO_BODY = """Dear {{ target_name }},

I work at {{ workplace }} and I am a member of the union.

Our colleagues employed by contractors work alongside us every day but on worse pay, sick pay and
holidays. Bringing them back in-house is the fair thing to do and would help the trust keep staff.

{{ personal_story }}

Please commit to bringing these services back in-house when the contracts end.

Yours sincerely,
{{ name }}"""

STORIES = [
    "I have worked here for eleven years and I have seen three contractors come and go.",
    "My sister is a domestic on the contract and cannot afford to be off sick.",
    "Last winter we were short of porters every night; agency staff do not know the hospital.",
    "When my mum was a patient the ward was spotless because the cleaners knew it: keep them.",
]


def seed_campaign(seed: int = 1, today: date | None = None) -> None:
    """Create the demo campaign and its letters (needs the demo postcode lookups loaded); commits."""
    rng = random.Random(seed)
    today = today or date.today()
    lead = db.session.scalars(select(User).where(User.role == Role.CAMPAIGN_LEAD).order_by(User.id)).first()
    branch = db.session.scalars(select(Branch).where(Branch.code == "LUHFT")).first() or \
        db.session.scalars(select(Branch).order_by(Branch.id)).first()
    trusts = db.session.scalars(select(Employer).where(Employer.kind == EmployerKind.NHS_TRUST,
                                                       Employer.chief_executive_email.is_not(None))
                                .order_by(Employer.name)).all()
    if lead is None or branch is None or not trusts:
        return
    campaign = create_campaign(CampaignSettings(
        name="Bring NHS services back in-house", slug=SLUG, status=CampaignStatus.OPEN,
        summary="Porters, cleaners and caterers employed by contractors work beside us on worse pay and terms. "
                "Write to your MP and your trust's chief executive: it takes two minutes.",
        goal="Every North West trust commits to bring its contracted-out services back in-house.",
        opens_on=today - timedelta(days=28), closes_on=today + timedelta(days=60), branch_id=branch.id,
        target_mp=True, target_employer=True, employer_ids=[e.id for e in trusts],
        templates={TargetKind.MP: (MP_SUBJECT, MP_BODY), TargetKind.EMPLOYER: (CEO_SUBJECT, CEO_BODY)},
        letters_say_member=True, thank_you_text="Thank you! Every letter in your own words counts.",
        share_text="I've just written to my MP to bring NHS services back in-house. Will you?"), by=lead)
    db.session.flush()

    writers = db.session.execute(
        select(Contact, Employer).join(Employer, Employer.id == Contact.employer_id)
        .where(Contact.employer_id.in_([e.id for e in trusts]), Contact.email.is_not(None),
               Contact.postcode.is_not(None), Contact.status == ContactStatus.MEMBER)
        .order_by(Contact.id).limit(600)).all()
    now = datetime.now(timezone.utc)
    for contact, employer in rng.sample(writers, min(len(writers), 140)):
        found = find_constituency(contact.postcode, use_api=False)
        if not found.found:
            continue
        sent_at = now - timedelta(days=rng.uniform(0, 27), hours=rng.uniform(0, 12))
        values = {"name": f"{contact.first_name} {contact.last_name}", "first_name": contact.first_name,
                  "postcode": contact.postcode, "constituency": found.constituency.display_name,
                  "employer": employer.name, "workplace": contact.workplace.name if contact.workplace else employer.name}
        story = rng.choice(STORIES) if rng.random() < 0.6 else ""
        submission = Submission(campaign_id=campaign.id, first_name=contact.first_name, last_name=contact.last_name,
                                email=contact.email, postcode=contact.postcode, employer_id=employer.id,
                                workplace=values["workplace"], constituency_code=found.constituency.code,
                                constituency_name=found.constituency.display_name, agreed_disclosure=True,
                                submitted_at=sent_at, confirmed_at=sent_at, contact_id=contact.id,
                                created_at=sent_at, updated_at=sent_at)
        db.session.add(submission)
        db.session.flush()
        targets = [(TargetKind.MP, f"mp:{found.constituency.code}", found.representative.display_name,
                    f"Member of Parliament for {found.constituency.display_name}", found.representative.email,
                    MP_SUBJECT, MP_BODY),
                   (TargetKind.EMPLOYER, f"employer:{employer.id}", employer.chief_executive_name or "Chief Executive",
                    f"Chief Executive, {employer.name}", employer.chief_executive_email, CEO_SUBJECT, CEO_BODY)]
        for position, (kind, key, name, title, email, subject, body) in enumerate(targets):
            filled = {**values, "target_name": name, "target_title": title, "personal_story": story}
            text = letters.without_prompt(letters.fill(body, filled))
            message = Message(dedupe_key=f"letter:demo:{submission.id}:{key}", contact_id=contact.id,
                              channel=Channel.EMAIL, purpose=Purpose.LETTER, state=MessageState.DELIVERED,
                              to_address=email, subject=letters.fill_subject(subject, filled), body=text,
                              reply_to=contact.email, cc=contact.email, provider="log",
                              provider_id=f"log-demo-letter-{submission.id}-{position}", queued_at=sent_at,
                              claimed_at=sent_at, sent_at=sent_at, delivered_at=sent_at, finished_at=sent_at)
            db.session.add(message)
            db.session.flush()
            db.session.add(Letter(
                submission_id=submission.id, campaign_id=campaign.id, position=position, target_kind=kind,
                target_key=key, target_name=name, target_title=title, target_email=email,
                subject=message.subject, body=text, template_share=rng.randint(55, 92) if story else 100,
                state=LetterState.QUEUED, sent_key=f"{campaign.id}:{contact.id}:{key}", sent_at=sent_at,
                contact_id=contact.id, branch_id=contact.branch_id, employer_id=employer.id,
                constituency_name=found.constituency.display_name, message_id=message.id, created_at=sent_at))
    db.session.commit()

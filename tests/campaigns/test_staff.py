"""Campaign set-up and participation pages for campaign leads; scoping; the campaign audience; reply checks."""
from __future__ import annotations

import re

from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from crm.auth.roles import Role
from crm.campaigns import public, service
from crm.campaigns.models import Campaign, CampaignStatus, Letter, ReplyStatus, Submission, TargetKind
from crm.messaging.audiences import AUDIENCES
from crm.messaging.models import Message, Purpose
from crm.queue import get_queue

from .conftest import confirm_token, send, start, write_letters


def _form(branch, trust, **changes):
    data = {
        "name": "Lifeways: fair pay for holiday", "slug": "lifeways-holiday-pay", "summary": "Care workers are owed holiday pay.",
        "goal": "Every Lifeways care worker paid what they are owed.", "status": "open", "branch_id": str(branch.id),
        "service_group_id": "", "target_mp": "y", "target_employer": "y", "employer_ids": [str(trust.id)],
        "mp_subject": "Holiday pay for care workers in {{ constituency }}",
        "mp_body": "Dear {{ target_name }},\n\n{{ personal_story }}\n\nYours,\n{{ name }}",
        "employer_subject": "Holiday pay", "employer_body": "Dear {{ target_name }},\n\n{{ personal_story }}\n\n{{ name }}",
        "similarity_threshold": "80", "thank_you_text": "Thank you for standing with care workers.",
        "share_text": "I've written to my MP about Lifeways holiday pay. Will you?",
        "custom_targets-0-name": "Cllr Example", "custom_targets-0-role": "Leader of Example Council",
        "custom_targets-0-email": "leader@council.example.org",
        "custom_subject": "Holiday pay", "custom_body": "Dear {{ target_name }},\n\n{{ personal_story }}",
    }
    data.update(changes)
    return data


def test_campaigns_are_for_campaign_leads_only(client, login_as, make, db):
    officer = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    db.session.commit()
    login_as(officer)
    assert client.get("/campaigns/").status_code == 404
    assert client.get("/campaigns/new").status_code == 404


def test_a_campaign_lead_sets_up_a_campaign_with_targets_and_templates(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    branch = make.branch()
    trust = make.employer(name="Lifeways", branches=[branch], chief_executive_email="ceo@lifeways.example.org")
    db.session.commit()
    login_as(lead)
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert "{{ personal_story }}" in page and "Campaigns" in page
    response = client.post("/campaigns/new", data=_form(branch, trust))
    assert response.status_code == 302, response.get_data(as_text=True)
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.slug == "lifeways-holiday-pay" and campaign.status is CampaignStatus.OPEN
    assert [e.name for e in campaign.employers] == ["Lifeways"]
    assert [(t.name, t.email) for t in campaign.targets] == [("Cllr Example", "leader@council.example.org")]
    assert {t.target_kind for t in campaign.templates} == {TargetKind.MP, TargetKind.EMPLOYER, TargetKind.CUSTOM}
    assert campaign.similarity_threshold == 80

    page = client.get(response.location).get_data(as_text=True)
    assert "Lifeways: fair pay for holiday" in page and "/act/lifeways-holiday-pay" in page


def test_mistakes_in_the_campaign_form_are_explained(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    branch = make.branch()
    trust = make.employer(branches=[branch])
    make.campaign(branch, slug="taken")
    db.session.commit()
    login_as(lead)
    response = client.post("/campaigns/new", data=_form(branch, trust, slug="taken", mp_body="Dear {{ mp_name }}",
                                                          **{"custom_targets-0-email": "not-an-email"}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Another campaign already uses that public address" in page
    assert "Unknown merge field: mp_name" in page
    assert "Other target 1: enter a name and a valid email address" in page


def test_editing_a_campaign_keeps_its_settings(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    branch = make.branch()
    trust = make.employer(branches=[branch])
    campaign = make.campaign(branch, employers=[trust])
    db.session.commit()
    login_as(lead)
    page = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert "As your constituent in {{ constituency }}" in page
    response = client.post(f"/campaigns/{campaign.id}/edit", data=_form(branch, trust, slug=campaign.slug, status="closed"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status is CampaignStatus.CLOSED


def test_preview_shows_the_letters_for_a_sample_member(client, login_as, make, db):
    lead = make.user(Role.CAMPAIGN_LEAD)
    campaign = make.campaign(status=CampaignStatus.DRAFT)
    db.session.commit()
    login_as(lead)
    page = client.get(f"/campaigns/{campaign.id}/preview").get_data(as_text=True)
    assert "Dear Alex Example MP" in page and "Sam Sample" in page and "[Replace this line" in page
    # Staff may open a draft's public page; it says it is a preview.
    assert "This campaign is a draft" in client.get(f"/act/{campaign.slug}").get_data(as_text=True)


def test_campaign_lists_are_scoped_to_the_users_branches(make, db):
    home, other = make.branch(), make.branch()
    mine, theirs = make.campaign(home), make.campaign(other)
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    lead = make.user(Role.CAMPAIGN_LEAD)
    visible = set(db.session.scalars(service.campaigns_stmt(officer)))
    assert visible == {mine}
    assert set(db.session.scalars(service.campaigns_stmt(lead))) == {mine, theirs}


def _write(app, world, db, email, first="Pat"):
    client = app.test_client()
    start(client, world, email=email, first_name=first)
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})


def test_the_campaign_page_shows_participation_and_the_outbox(client, login_as, world, app, db, make, work_queue):
    world.campaign.ask_about_replies = True
    db.session.commit()
    _write(app, world, db, "one@example.org", "One")
    _write(app, world, db, "two@example.org", "Two")
    work_queue()
    login_as(make.user(Role.CAMPAIGN_LEAD))
    db.session.commit()
    page = client.get(f"/campaigns/{world.campaign.id}").get_data(as_text=True)
    assert re.search(r'<span class="stat">4</span><span class="stat-label">letters sent', page)
    assert re.search(r'<span class="stat">2</span><span class="stat-label">people took part', page)
    assert re.search(r'<span class="stat">100%</span><span class="stat-label">of letters personalised', page)
    assert "Alex Example MP" in page and "Liverpool Riverside" in page and "Liverpool Hospitals Health" in page
    assert "Delivered" in page


def test_a_reply_check_is_scheduled_and_records_replies(client, world, app, db):
    world.campaign.ask_about_replies = True
    db.session.commit()
    _write(app, world, db, "pat@example.org")
    scheduled = set(ScheduledJobRegistry(queue=get_queue()).get_job_ids())
    # The reply check, and the one nightly tidy of unconfirmed drafts (a fixed id, however many writers).
    assert "campaigns-purge-drafts" in scheduled and len(scheduled) == 2
    submission = db.session.scalars(select(Submission)).one()

    from jobs.campaigns import send_reply_check

    assert send_reply_check(submission.id) is True
    assert send_reply_check(submission.id) is False  # asked once only
    body = db.session.scalars(select(Message.body).where(Message.dedupe_key == f"act-reply-check:{submission.id}")).one()
    token = re.search(r"/act/reply\?t=(\S+)", body).group(1)
    page = client.get(f"/act/reply?t={token}").get_data(as_text=True)
    assert "Did they reply?" in page and "Alex Example MP" in page
    letters = db.session.scalars(select(Letter).order_by(Letter.position)).all()
    response = client.post("/act/reply", data={"t": token, f"reply-{letters[0].id}": "replied",
                                                f"reply-{letters[1].id}": "no_reply"})
    assert "Thank you" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [letter.reply_status for letter in db.session.scalars(select(Letter).order_by(Letter.position))] == [
        ReplyStatus.REPLIED, ReplyStatus.NO_REPLY]
    # A confirmation link is not a reply link.
    assert client.get(f"/act/reply?t={public.confirm_token(submission.id)}").status_code == 404


def test_the_campaign_audience_is_the_people_who_wrote(world, app, db, make):
    _write(app, world, db, "pat@example.org")
    lead = make.user(Role.CAMPAIGN_LEAD)
    bystander = make.contact(world.branch)
    ids = set(db.session.scalars(AUDIENCES["campaign"].query({"campaign_id": world.campaign.id}, lead)))
    writer = db.session.scalars(select(Letter.contact_id)).first()
    assert ids == {writer} and bystander.id not in ids
    officer = make.user(Role.BRANCH_OFFICER, branches=[make.branch()])
    assert set(db.session.scalars(AUDIENCES["campaign"].query({"campaign_id": world.campaign.id}, officer))) == set()


def test_a_writers_letters_appear_on_their_timeline(client, login_as, world, app, db, make):
    _write(app, world, db, "pat@example.org")
    contact_id = db.session.scalars(select(Letter.contact_id)).first()
    login_as(make.user(Role.ADMIN))
    db.session.commit()
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Wrote to Alex Example MP (Bring NHS services in-house)" in page


def test_confirmation_and_letters_are_outbox_messages_with_the_right_purposes(world, app, db):
    _write(app, world, db, "pat@example.org")
    purposes = sorted(p.value for p in db.session.scalars(select(Message.purpose)))
    assert purposes == [Purpose.LETTER.value, Purpose.LETTER.value, Purpose.TRANSACTIONAL.value]

"""The public page /act/<slug>: steps, confirmation before sending, duplicates, consent, no membership disclosure."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from crm.campaigns.models import Letter, LetterState, Submission
from crm.contacts.models import Consent, Contact
from crm.messaging.models import Message, MessageState, Purpose
from crm.vocabulary import Channel, ConsentStatus, ContactStatus

from .conftest import DETAILS, confirm_token, send, start, write_letters


def _messages(db, purpose):
    db.session.expire_all()
    return db.session.scalars(select(Message).where(Message.purpose == purpose).order_by(Message.id)).all()


def test_the_first_step_asks_who_you_are_and_offers_the_campaigns_employers(client, world):
    page = client.get("/act/in-house").get_data(as_text=True)
    assert "Bring NHS services in-house" in page and "Step 1 of 3" in page
    assert "Liverpool University Hospitals NHS FT" in page
    assert "Alder Hey" not in page  # not one of this campaign's employers
    assert "My employer is not listed" in page


def test_a_writer_gets_one_prefilled_letter_per_target(client, world):
    response = start(client, world)
    assert response.status_code == 302 and response.location.endswith("/act/in-house/letters")
    page = client.get("/act/in-house/letters").get_data(as_text=True)
    assert "to Alex Example MP" in page and "Member of Parliament for Liverpool Riverside" in page
    assert "to Jo Chief" in page and "Chief Executive, Liverpool University Hospitals NHS FT" in page
    assert "As your constituent in Liverpool Riverside" in page
    assert "100%</span> of this letter is still the template" in page


def test_consent_boxes_are_never_ticked_by_default(client, world, db):
    world.campaign.letters_say_member = True
    db.session.commit()
    start(client, world)
    write_letters(client, world)
    page = client.get("/act/in-house/check").get_data(as_text=True)
    for name in ("agree_disclosure", "wants_email", "wants_sms"):
        box = re.search(rf'<input type="checkbox" id="{name}"[^>]*>', page).group(0)
        assert "checked" not in box, name
    assert "Check your answers before sending" in page


def test_letters_go_only_after_the_emailed_link_is_confirmed(client, world, db):
    start(client, world)
    write_letters(client, world)
    response = send(client, world)
    assert response.status_code == 302
    assert "Check your email" in client.get(response.location).get_data(as_text=True)
    assert _messages(db, Purpose.LETTER) == []
    [confirmation] = _messages(db, Purpose.TRANSACTIONAL)
    assert confirmation.to_address == "pat@example.org" and confirmation.contact_id is None
    token = confirm_token(db)
    assert "pat" not in token.lower()  # the link names a submission, never an address

    # Opening the link (or a mail scanner fetching it) sends nothing: the button does.
    page = client.get(f"/act/confirm?t={token}").get_data(as_text=True)
    assert "Send my letters" in page
    assert _messages(db, Purpose.LETTER) == []

    page = client.post("/act/confirm", data={"t": token}).get_data(as_text=True)
    assert "Your letters are on their way" in page
    letters = _messages(db, Purpose.LETTER)
    assert sorted(m.to_address for m in letters) == ["alex.example.mp@example.org", "ceo@trust.example.org"]
    for message in letters:
        assert message.reply_to == "pat@example.org" and message.cc == "pat@example.org"
        assert "Pat Writer" in message.body and "porter at the Royal" in message.body
        assert "[Replace this line" not in message.body

    # Pressing it again sends nothing more.
    client.post("/act/confirm", data={"t": token})
    assert len(_messages(db, Purpose.LETTER)) == 2


def test_confirmed_letters_are_delivered_by_the_worker(client, world, db, work_queue):
    start(client, world)
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})
    work_queue()
    states = {m.to_address: m.state for m in _messages(db, Purpose.LETTER)}
    assert set(states.values()) == {MessageState.DELIVERED}


def test_a_bad_or_altered_confirmation_link_sends_nothing(client, world, db):
    start(client, world)
    write_letters(client, world)
    send(client, world)
    token = confirm_token(db)
    response = client.post("/act/confirm", data={"t": token[:-2] + "xx"})
    assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)
    assert _messages(db, Purpose.LETTER) == []


def test_a_second_letter_to_the_same_target_is_refused_and_explained(client, world, db, app):
    start(client, world)
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})

    other_browser = app.test_client()
    start(other_browser, world)
    write_letters(other_browser, world)
    send(other_browser, world)
    page = other_browser.post("/act/confirm", data={"t": confirm_token(db)}).get_data(as_text=True)
    assert "You had already written to Alex Example MP in this campaign" in page
    assert "You had already written to Jo Chief" in page
    assert len(_messages(db, Purpose.LETTER)) == 2
    assert db.session.scalar(select(func.count()).select_from(Letter).where(Letter.state == LetterState.DUPLICATE)) == 2


def test_the_same_browser_is_not_offered_a_letter_it_already_sent(client, world, db):
    start(client, world)
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})
    response = start(client, world)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "You have already written to Alex Example MP in this campaign" in page


def test_an_untouched_template_gets_a_nudge_and_can_still_be_sent(client, world):
    start(client, world)
    response = write_letters(client, world, personal=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Could you add your own words?" in page
    assert "Your letter to Alex Example MP is still 100% the template" in page
    response = write_letters(client, world, personal=False, action="anyway")
    assert response.status_code == 302 and response.location.endswith("/check")


def test_a_campaign_blocking_identical_letters_requires_personalisation(client, world, db):
    world.campaign.block_identical = True
    db.session.commit()
    start(client, world)
    response = write_letters(client, world, personal=False, action="anyway")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This campaign asks everyone to write in their own words" in page
    assert 'href="#letters-0-body"' in page
    assert write_letters(client, world, personal=True).status_code == 302


def test_copying_another_writers_own_words_counts_as_identical(client, world, db, app):
    world.campaign.block_identical = True
    db.session.commit()
    start(client, world)
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})

    copier = app.test_client()
    start(copier, world, email="copier@example.org", first_name="Copy", last_name="Cat")
    response = write_letters(copier, world)  # the same personal paragraph as Pat's
    assert response.status_code == 422
    assert re.search(r"Your letter to Alex Example MP repeats \d+% of what another writer put in their own words",
                     response.get_data(as_text=True))


def test_a_required_personal_paragraph_must_replace_the_prompt(client, world, db):
    world.campaign.require_personal = True
    db.session.commit()
    start(client, world)
    response = write_letters(client, world, personal=False, action="anyway")
    assert response.status_code == 422
    assert "Add a few sentences in your own words to your letter to Alex Example MP" in response.get_data(as_text=True)


def _flow_pages(client, world, db, email):
    pages = []
    response = start(client, world, email=email)
    pages.append((response.status_code, response.location))
    for url in ("/act/in-house/letters",):
        pages.append(client.get(url).get_data(as_text=True))
    write_letters(client, world)
    pages.append(client.get("/act/in-house/check").get_data(as_text=True))
    response = send(client, world, wants_email="y")
    pages.append((response.status_code, response.location))
    pages.append(client.get(response.location).get_data(as_text=True))
    return [re.sub(r'name="csrf_token" value="[^"]*"|' + re.escape(email), "", p) if isinstance(p, str) else p
            for p in pages]


def test_members_and_non_members_see_exactly_the_same_pages(world, db, app, make):
    make.contact(world.branch, email="member@example.org", first_name="Pat", last_name="Writer",
                 membership_number="12345678")
    db.session.commit()
    member_pages = _flow_pages(app.test_client(), world, db, "member@example.org")
    stranger_pages = _flow_pages(app.test_client(), world, db, "stranger@example.org")
    assert member_pages == stranger_pages


def test_a_confirmed_member_is_matched_by_email_and_not_duplicated(client, world, db, make):
    member = make.contact(world.branch, email="pat@example.org", first_name="Pat", last_name="Writer")
    db.session.commit()
    start(client, world)
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})
    db.session.expire_all()
    assert {letter.contact_id for letter in db.session.scalars(select(Letter))} == {member.id}
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_membership_number_matches_only_with_the_same_last_name(client, world, db, make):
    world.campaign.ask_membership_number = True
    member = make.contact(world.branch, email="old@example.org", last_name="Writer", membership_number="55501234")
    db.session.commit()
    start(client, world, membership_number="55501234")
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})
    db.session.expire_all()
    assert {letter.contact_id for letter in db.session.scalars(select(Letter))} == {member.id}


def test_a_new_writer_becomes_a_supporter_in_the_campaigns_branch(client, world, db):
    start(client, world)
    write_letters(client, world)
    send(client, world)
    client.post("/act/confirm", data={"t": confirm_token(db)})
    contact = db.session.scalars(select(Contact)).one()
    assert contact.status is ContactStatus.SUPPORTER and contact.branch_id == world.branch.id
    assert (contact.first_name, contact.last_name, contact.email, contact.postcode) == ("Pat", "Writer", "pat@example.org", "L8 7SS")
    assert contact.employer_id == world.trust.id


def test_updates_are_recorded_only_when_ticked_and_confirmed(client, world, db, make):
    member = make.contact(world.branch, email="pat@example.org", mobile=None)
    make.consent(member, Channel.SMS, ConsentStatus.WITHDRAWN)
    db.session.commit()
    start(client, world)
    write_letters(client, world)
    send(client, world, wants_email="y")
    assert db.session.scalar(select(func.count()).select_from(Consent).where(Consent.channel == Channel.EMAIL)) == 0
    client.post("/act/confirm", data={"t": confirm_token(db)})
    db.session.expire_all()
    email = db.session.scalars(select(Consent).where(Consent.channel == Channel.EMAIL)).one()
    assert email.status is ConsentStatus.GRANTED and email.source == "campaign: in-house" and email.wording_version
    # The unticked SMS box changed nothing: the earlier opt-out stands.
    sms = db.session.scalars(select(Consent).where(Consent.channel == Channel.SMS)).one()
    assert sms.status is ConsentStatus.WITHDRAWN and sms.source == "test"


def test_text_updates_need_a_mobile_number(client, world):
    start(client, world)
    write_letters(client, world)
    response = send(client, world, wants_sms="y", mobile="")
    assert response.status_code == 422
    assert "Enter a UK mobile number" in response.get_data(as_text=True)


def test_letters_that_say_you_are_a_member_need_agreement(client, world, db):
    world.campaign.letters_say_member = True
    db.session.commit()
    start(client, world)
    write_letters(client, world)
    response = send(client, world)
    assert response.status_code == 422
    assert "Tick the box to agree that your letters say you are a union member" in response.get_data(as_text=True)
    assert send(client, world, agree_disclosure="y").status_code == 302


def test_sending_from_your_own_email_gives_mailto_links_and_records_the_action(client, world, db):
    start(client, world)
    write_letters(client, world)
    response = send(client, world, method="own")
    page = client.get(response.location).get_data(as_text=True)
    links = re.findall(r'href="(mailto:[^"]+)"', page)
    assert any(link.startswith("mailto:alex.example.mp@example.org?subject=Please%20act&amp;body=Dear%20Alex")
               for link in links)
    assert _messages(db, Purpose.LETTER) == [] and _messages(db, Purpose.TRANSACTIONAL) == []
    states = {letter.state for letter in db.session.scalars(select(Letter))}
    assert states == {LetterState.OWN_EMAIL}


def test_an_invalid_postcode_is_explained_on_the_page(client, world, db):
    response = start(client, world, postcode="L8 7SSX")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a full UK postcode, for example L8 7SS" in page and 'href="#postcode"' in page
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_a_crown_dependency_postcode_is_explained(client, world):
    response = start(client, world, postcode="JE2 3AB")
    assert response.status_code == 422
    assert "Guernsey, Jersey and the Isle of Man don" in response.get_data(as_text=True)


def test_an_unknown_postcode_is_explained(client, world):
    response = start(client, world, postcode="ZZ9 9ZZ")
    assert response.status_code == 422
    assert "We couldn" in response.get_data(as_text=True) and "ZZ9 9ZZ" in response.get_data(as_text=True)


def test_a_vacant_seat_still_lets_the_writer_write_to_the_chief_executive(client, world, make, db):
    make.mp_for("L1 1AA", code="E14009999", constituency="Empty Seat", name=None)
    db.session.commit()
    response = start(client, world, postcode="L1 1AA")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Empty Seat has no MP at the moment" in page and "to Jo Chief" in page and "Alex Example" not in page


def test_the_honeypot_field_keeps_nothing(client, world, db):
    response = start(client, world, website="http://spam.example")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_too_many_tries_from_one_email_get_a_friendly_message(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "ACT_EMAIL_RATE_LIMIT", "2 per hour")
    assert start(client, world).status_code == 302
    assert start(client, world).status_code == 302
    response = start(client, world)
    assert response.status_code == 429
    assert "Please wait a few minutes" in response.get_data(as_text=True)
    assert start(client, world, email="someone.else@example.org").status_code == 302


def test_too_many_tries_from_one_address_get_a_friendly_message(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "ACT_RATE_LIMIT", "3 per 10 minutes")
    for n in range(3):
        assert start(client, world, email=f"w{n}@example.org").status_code == 302
    response = start(client, world, email="w9@example.org")
    assert response.status_code == 429 and "try again in" in response.get_data(as_text=True)


def test_the_public_form_needs_its_csrf_token(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = start(client, world)
    assert response.status_code == 400 and "This page had expired" in response.get_data(as_text=True)
    page = client.get("/act/in-house").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert start(client, world, csrf_token=token).status_code == 302


def test_a_draft_campaign_is_not_found_by_the_public(client, world, db):
    from crm.campaigns.models import CampaignStatus

    world.campaign.status = CampaignStatus.DRAFT
    db.session.commit()
    assert client.get("/act/in-house").status_code == 404
    assert start(client, world).status_code == 404
    assert client.get("/act/no-such-campaign").status_code == 404


def test_a_closed_campaign_says_so_and_takes_nothing(client, world, db):
    from crm.campaigns.models import CampaignStatus

    world.campaign.status = CampaignStatus.CLOSED
    db.session.commit()
    assert "This campaign has closed" in client.get("/act/in-house").get_data(as_text=True)
    assert "This campaign has closed" in start(client, world).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_a_later_step_without_the_first_goes_back_to_the_start(client, world):
    for step in ("letters", "check"):
        response = client.get(f"/act/in-house/{step}")
        assert response.status_code == 302 and response.location.endswith("/act/in-house")


def test_changing_your_details_keeps_the_words_you_wrote(client, world):
    start(client, world)
    write_letters(client, world)
    start(client, world, first_name="Patricia")
    page = client.get("/act/in-house/letters").get_data(as_text=True)
    assert "porter at the Royal" in page


def test_details_are_kept_when_going_back(client, world):
    start(client, world)
    page = client.get("/act/in-house").get_data(as_text=True)
    assert 'value="pat@example.org"' in page and 'value="L8 7SS"' in page


def test_unconfirmed_submissions_are_deleted_after_a_week(client, world, db):
    from datetime import timedelta

    from crm.campaigns import public
    from crm.database import utcnow

    start(client, world)
    assert public.purge_stale_drafts() == 0
    assert public.purge_stale_drafts(utcnow() + timedelta(days=8)) == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0
    assert DETAILS  # the writer's details went with it


def test_everyone_also_writes_to_the_campaigns_named_people(client, world, db):
    from crm.campaigns.models import CampaignTarget

    world.campaign.targets.append(CampaignTarget(name="Cllr Example", role="Leader, Example Council",
                                                 email="leader@council.example.org"))
    db.session.commit()
    start(client, world)
    page = client.get("/act/in-house/letters").get_data(as_text=True)
    assert "Letter 3 of 3: to Cllr Example" in page and "Leader, Example Council" in page


def test_a_campaign_not_writing_to_mps_takes_any_uk_postcode(client, world, db):
    world.campaign.target_mp = False
    db.session.commit()
    response = start(client, world, postcode="ZZ9 9ZZ")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Letter 1 of 1: to Jo Chief" in page


def test_a_reply_check_is_scheduled_for_letters_sent_from_your_own_email(client, world, db):
    from rq.registry import ScheduledJobRegistry

    from crm.queue import get_queue

    world.campaign.ask_about_replies = True
    db.session.commit()
    start(client, world)
    write_letters(client, world)
    send(client, world, method="own")
    submission = db.session.scalars(select(Submission)).one()
    assert f"act-reply-check-{submission.id}" in ScheduledJobRegistry(queue=get_queue()).get_job_ids()

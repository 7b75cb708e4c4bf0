"""Tags and taggings, advocacy campaigns and outreaches (letters), and outbox messages through the API."""
from __future__ import annotations

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.campaigns.models import Letter, LetterState, Submission, TargetKind
from crm.contacts.models import contact_tag
from crm.database import utcnow
from crm.messaging.models import Message, MessageState, Purpose
from crm.vocabulary import Channel


def _letter(db, campaign, contact, **kw):
    submission = Submission(campaign_id=campaign.id, first_name=contact.first_name, last_name=contact.last_name,
                            email=contact.email, postcode="L1 8JQ", contact_id=contact.id, confirmed_at=utcnow())
    db.session.add(submission)
    db.session.flush()
    values = dict(submission_id=submission.id, campaign_id=campaign.id, target_kind=TargetKind.MP,
                  target_key=f"mp:{contact.id}", target_name="Alex Example MP", target_title="MP for Riverside",
                  target_email="mp@example.org", subject="Bring services in-house", body="My own story",
                  state=LetterState.QUEUED, sent_key=f"{campaign.id}:{contact.id}", sent_at=utcnow(),
                  contact_id=contact.id, branch_id=contact.branch_id, template_share=60)
    values.update(kw)
    letter = Letter(**values)
    db.session.add(letter)
    db.session.flush()
    return letter


def test_tags_and_taggings_round_trip(api_as, make, db):
    branch = make.branch()
    contact = make.contact(branch)
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    made = api.post("/api/tags", json={"name": "  Rep   candidates "})
    assert made.status_code == 201 and made.get_json()["name"] == "Rep candidates"
    assert api.post("/api/tags", json={"name": "rep candidates"}).status_code == 200  # found, not doubled
    tag_url = made.get_json()["_links"]["self"]["href"]
    taggings_url = made.get_json()["_links"]["osdi:taggings"]["href"]

    person_href = f"http://localhost/api/people/{contact.id}"
    tagged = api.post(taggings_url, json={"_links": {"osdi:person": {"href": person_href}}})
    assert tagged.status_code == 201
    assert api.post(taggings_url, json={"person_id": contact.id}).status_code == 200
    assert api.get(taggings_url).get_json()["total_records"] == 1
    tagging_url = tagged.get_json()["_links"]["self"]["href"]
    assert api.get(tagging_url).get_json()["_links"]["osdi:tag"]["href"] == tag_url
    assert api.delete(tagging_url).status_code == 200
    assert db.session.scalar(select(contact_tag.c.contact_id)) is None
    assert api.get(tagging_url).status_code == 404
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"tag.create", "contact.tag"} <= actions


def test_tagging_another_branchs_person_is_refused_like_a_missing_one(api_as, make, db):
    home, other = make.branch(), make.branch()
    theirs = make.contact(other)
    tag = make.tag()
    theirs.tags.append(tag)
    db.session.commit()
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[home]))
    hidden = api.post(f"/api/tags/{tag.id}/taggings", json={"person_id": theirs.id})
    missing = api.post(f"/api/tags/{tag.id}/taggings", json={"person_id": 987654})
    assert hidden.status_code == missing.status_code == 422
    assert hidden.get_data() == missing.get_data()
    assert api.get(f"/api/tags/{tag.id}/taggings").get_json()["total_records"] == 0
    assert api.get(f"/api/tags/{tag.id}/taggings/{theirs.id}").get_data() == \
        api.get(f"/api/tags/{tag.id}/taggings/987654").get_data()
    assert api.delete(f"/api/tags/{tag.id}/taggings/{theirs.id}").status_code == 404
    for body in ({}, {"person_id": "1"}, {"_links": {"osdi:person": {"href": "https://x/api/people/abc"}}}):
        assert api.post(f"/api/tags/{tag.id}/taggings", json=body).status_code == 422


def test_campaigns_and_their_outreaches(api_as, make, db):
    branch = make.branch()
    campaign = make.campaign(branch, name="Bring services in-house")
    writer = make.contact(branch)
    letter = _letter(db, campaign, writer)
    _letter(db, campaign, make.contact(branch), state=LetterState.DRAFT, sent_key=None, sent_at=None)
    api = api_as(make.user(Role.CAMPAIGN_LEAD))
    campaigns = api.get("/api/advocacy_campaigns").get_json()
    found = campaigns["_embedded"]["osdi:advocacy_campaigns"][0]
    assert found["title"] == "Bring services in-house" and found["total_outreaches"] == 1
    assert found["browser_url"].endswith(f"/act/{campaign.slug}")
    outreaches = api.get(found["_links"]["osdi:outreaches"]["href"]).get_json()
    assert outreaches["total_records"] == 1
    outreach = outreaches["_embedded"]["osdi:outreaches"][0]
    assert outreach["identifiers"] == [f"branchline:{letter.id}"]
    assert outreach["targets"] == [{"kind": "mp", "name": "Alex Example MP", "title": "MP for Riverside"}]
    assert outreach["personalised"] is True and "body" not in outreach
    assert outreach["_links"]["osdi:person"]["href"].endswith(f"/api/people/{writer.id}")
    assert api.get(f"/api/people/{writer.id}/outreaches").get_json()["total_records"] == 1


def test_outreaches_are_scoped_to_the_writers_branch(api_as, make, db):
    home, other = make.branch(), make.branch()
    campaign = make.campaign(other)
    theirs = _letter(db, campaign, make.contact(other))
    mine = _letter(db, campaign, make.contact(home))
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[home]))
    listed = api.get("/api/outreaches").get_json()
    assert [o["identifiers"][0] for o in listed["_embedded"]["osdi:outreaches"]] == [f"branchline:{mine.id}"]
    assert api.get(f"/api/outreaches/{theirs.id}").get_data() == api.get("/api/outreaches/987654").get_data()
    # Campaign set-up is for campaign staff: an officer's token gets the same 404 as for a missing campaign.
    assert api.get(f"/api/advocacy_campaigns/{campaign.id}").status_code == 404


def test_messages_show_state_but_never_other_peoples_text(api_as, make, db):
    branch = make.branch()
    contact = make.contact(branch)
    lead = make.user(Role.CAMPAIGN_LEAD)
    someone = make.user(Role.ADMIN)
    theirs = Message(dedupe_key="x1", contact_id=contact.id, channel=Channel.SMS, purpose=Purpose.REPLY,
                     state=MessageState.DELIVERED, body="Private words", created_by_id=someone.id)
    own = Message(dedupe_key="x2", contact_id=contact.id, channel=Channel.SMS, purpose=Purpose.REPLY,
                  state=MessageState.SENT, body="My reply", created_by_id=lead.id)
    db.session.add_all([theirs, own])
    db.session.commit()
    api = api_as(lead)
    listed = api.get("/api/messages").get_json()
    bodies = {m["identifiers"][0]: m["body"] for m in listed["_embedded"]["osdi:messages"]}
    assert bodies == {f"branchline:{theirs.id}": None, f"branchline:{own.id}": "My reply"}
    one = api.get(f"/api/messages/{theirs.id}").get_json()
    assert one["status"] == "delivered" and one["type"] == "sms" and one["body"] is None
    assert "to_address" not in one


def test_messages_of_another_branch_are_404(api_as, make, db):
    home, other = make.branch(), make.branch()
    theirs = Message(dedupe_key="x3", contact_id=make.contact(other).id, channel=Channel.SMS, purpose=Purpose.BULK)
    db.session.add(theirs)
    db.session.commit()
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[home]))
    assert api.get("/api/messages").get_json()["total_records"] == 0
    assert api.get(f"/api/messages/{theirs.id}").get_data() == api.get("/api/messages/987654").get_data()


def test_docs_and_openapi_need_no_token(client):
    doc = client.get("/api/openapi.json")
    assert doc.status_code == 200 and doc.get_json()["openapi"].startswith("3.")
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "POST /api/people/person_signup_helper" in html and "<script" not in html


def test_a_tag_with_accented_capitals_is_found_not_doubled(api_as, make, db):
    api = api_as(make.user(Role.BRANCH_OFFICER, branches=[make.branch()]))
    assert api.post("/api/tags", json={"name": "Équipe À"}).status_code == 201
    again = api.post("/api/tags", json={"name": "Équipe À"})
    assert again.status_code == 200 and again.get_json()["name"] == "Équipe À"

"""The core security property: another branch's objects look exactly like missing ones (404).

Walks every route in app.url_map that takes an id, so a route added later is covered without
anyone remembering to write a test for it. A new id parameter name must be added to OTHER_BRANCH_IDS.
"""
import re

import pytest

from crm.auth.roles import Role

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MISSING_ID = 987654


@pytest.fixture
def world(make, db, tmp_path):
    home = make.branch(code="HOME")
    other = make.branch(code="OTHER")
    employer = make.employer(branches=[other])
    workplace = make.workplace(employer)
    contact = make.contact(other, employer=employer, workplace=workplace)
    role = make.activist_role(contact)
    other_user = make.user(Role.CALLER, branches=[other])
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    caller = make.user(Role.CALLER, branches=[home])
    admin = make.user(Role.ADMIN)
    export = tmp_path / "export.csv"
    export.write_text("Membership No,Surname\n10000001,Other\n")
    run = make.import_run(other, str(export))
    call_list = make.call_list([other], callers=[other_user])
    entry = make.call_entry(call_list, contact, lease_user_id=other_user.id)
    # A draft campaign of the other branch: its staff pages and its (unpublished) public page are 404s.
    from crm.campaigns.models import CampaignStatus

    campaign = make.campaign(other, employers=[employer], status=CampaignStatus.DRAFT)
    # Messaging: sends and templates need SEND_MESSAGES (officers and callers lack it); a reply from
    # the other branch's contact is hidden from this branch's officer, who answers replies.
    from crm.messaging.models import SendStatus

    send = make.send(admin, status=SendStatus.DONE)
    template = make.message_template()
    reply = make.inbound_message(contact)
    message = outbox_message(db, send, contact)
    # Data protection: the breach log is region-wide and needs MANAGE_PRIVACY (officers and callers lack it).
    breach = make.breach()
    # API: a token of the other branch's caller (its revoke button is the owner's only), a tag on the
    # other branch's contact, and a letter that contact wrote.
    token, _ = make.api_token(other_user)
    tag = make.tag()
    contact.tags.append(tag)
    letter = sent_letter(db, campaign, contact)
    db.session.commit()
    ids = {
        "contact_id": contact.id,
        "branch_id": other.id,
        "employer_id": employer.id,
        "workplace_id": workplace.id,
        "service_group_id": other.service_group_id,
        "user_id": other_user.id,
        "run_id": run.id,
        "list_id": call_list.id,
        "entry_id": entry.id,
        "role_id": role.id,
        "send_id": send.id,
        "template_id": template.id,
        "reply_id": reply.id,
        "message_id": message.id,
        "campaign_id": campaign.id,
        "slug": campaign.slug,
        "breach_id": breach.id,
        "token_id": token.id,
        "person_id": contact.id,
        "tag_id": tag.id,
        "item_id": entry.id,
        "outreach_id": letter.id,
    }
    return {"ids": ids, "officer": officer, "caller": caller, "admin": admin}


def outbox_message(db, send, contact):
    from crm.messaging.models import Message, MessageState, Purpose

    message = Message(dedupe_key=f"send:{send.id}:{contact.id}:sms", send_id=send.id, contact_id=contact.id,
                      channel=send.channel, purpose=Purpose.BULK, state=MessageState.UNKNOWN)
    db.session.add(message)
    db.session.flush()
    return message


def sent_letter(db, campaign, contact):
    from crm.campaigns.models import Letter, LetterState, Submission, TargetKind
    from crm.database import utcnow

    submission = Submission(campaign_id=campaign.id, first_name=contact.first_name, last_name=contact.last_name,
                            email=contact.email, postcode="L1 8JQ", contact_id=contact.id, confirmed_at=utcnow())
    db.session.add(submission)
    db.session.flush()
    letter = Letter(submission_id=submission.id, campaign_id=campaign.id, target_kind=TargetKind.MP, target_key="mp:1",
                    target_name="An MP", target_email="mp@example.org", state=LetterState.QUEUED, sent_key="walk",
                    sent_at=utcnow(), contact_id=contact.id, branch_id=contact.branch_id)
    db.session.add(letter)
    db.session.flush()
    return letter


def _page(response) -> str:
    # The sign-out form's CSRF token carries a timestamp; everything else must be identical.
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


# Public pages whose only parameter is a signed token: the token, not a branch, is the authority
# (anyone holding the link may use it, signed in or not); tests/messaging/test_unsubscribe.py covers them.
SIGNED_TOKEN_ENDPOINTS = frozenset({"unsubscribe.show", "unsubscribe.unsubscribe"})


def id_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.arguments or rule.endpoint in SIGNED_TOKEN_ENDPOINTS:
            continue
        if rule.endpoint.startswith("api."):
            continue  # cookies never authenticate the JSON API: walked with bearer tokens below
        yield rule


def _url(rule, ids, override=None):
    missing = [a for a in rule.arguments if a not in ids]
    assert not missing, f"{rule.rule}: add an other-branch object for {missing} to the world fixture"
    return rule.build({a: (override if override is not None else ids[a]) for a in rule.arguments}, append_unknown=False)[1]


def test_every_id_route_is_covered(app, world):
    assert list(id_routes(app)), "no id-taking routes found: the walk below would prove nothing"
    for rule in id_routes(app):
        _url(rule, world["ids"])


@pytest.mark.parametrize("role", ["officer", "caller"])
def test_other_branch_objects_are_404_on_every_route(app, world, role):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = world[role].get_id()
    checked = 0
    for rule in id_routes(app):
        for method in sorted(rule.methods & set(METHODS)):
            url = _url(rule, world["ids"])
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{role} {method} {url} answered {response.status_code}"
            missing = client.open(_url(rule, world["ids"], MISSING_ID), method=method)
            assert _page(response) == _page(missing), f"{method} {url}: 404 differs from a missing id's"
            checked += 1
    assert checked


def test_the_ids_used_are_real_objects_an_admin_can_open(app, world):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = world["admin"].get_id()
    for rule in id_routes(app):
        if "GET" in rule.methods:
            url = _url(rule, world["ids"])
            assert client.get(url).status_code != 404, f"admin could not open {url}: the walk above proves nothing"


# --- The JSON API: the same walk with each user's bearer token -----------------------------------

# Tags are region-wide names, not branch data: a route whose only id is a tag has nothing to hide.
API_SHARED_IDS = frozenset({"tag_id"})


def api_id_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.arguments and not rule.arguments <= API_SHARED_IDS:
            yield rule


def _api_client(app, make, db, user):
    _, secret = make.api_token(user)
    db.session.commit()
    client = app.test_client(use_cookies=False)
    return client, {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("role", ["officer", "caller"])
def test_other_branch_objects_are_404_on_every_api_route(app, world, make, db, role):
    client, headers = _api_client(app, make, db, world[role])
    checked = 0
    for rule in api_id_routes(app):
        for method in sorted(rule.methods & set(METHODS)):
            url = _url(rule, world["ids"])
            body = {} if method in ("POST", "PUT", "PATCH") else None
            response = client.open(url, method=method, headers=headers, json=body)
            assert response.status_code == 404, f"{role} {method} {url} answered {response.status_code}"
            missing = client.open(_url(rule, world["ids"], MISSING_ID), method=method, headers=headers, json=body)
            assert response.get_data() == missing.get_data(), f"{method} {url}: 404 differs from a missing id's"
            checked += 1
    assert checked


def test_the_api_ids_used_are_real_objects_an_admin_can_open(app, world, make, db):
    client, headers = _api_client(app, make, db, world["admin"])
    for rule in api_id_routes(app):
        if "GET" in rule.methods:
            url = _url(rule, world["ids"])
            assert client.get(url, headers=headers).status_code != 404, f"admin could not open {url}"

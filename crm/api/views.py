"""The JSON API: thin views that authenticate the bearer token, check input, call a service and answer HAL+JSON.

Scoping is the UI's: the token acts as its user (role and branches) through crm/scoping.py and the
areas' own *_stmt / get_*_or_404 helpers; a row outside them is the same 404 as a missing id.
"""
from __future__ import annotations

from flask import current_app, g, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import HTTPException

from ..auth.roles import Permission as P
from ..calls import service as calls
from ..calls.claims import claim_next, release
from ..calls.models import CallEntry, CallList, EntryStatus
from ..campaigns import service as campaigns
from ..campaigns.models import Campaign, Letter, LetterState
from ..contacts.models import Contact, Tag, contact_tag
from ..contacts.service import get_contact, get_contact_for_view
from ..database import utcnow
from ..extensions import db, limiter
from ..messaging.models import Message
from ..normalise import FieldError, normalise_mobile
from ..scoping import branch_condition, note_probe
from . import bp, openapi, resources, service, tokens
from .hal import (
    ApiError,
    check_id,
    collection,
    error_response,
    fetch_page,
    hal,
    invalid,
    link,
    not_found,
    paging_args,
)
from .inputs import Field, describe_filter, json_body, parse_filter, text

PUBLIC_ENDPOINTS = frozenset({"api.openapi_json", "api.docs"})
SENT_STATES = (LetterState.QUEUED, LetterState.OWN_EMAIL)


# ---------------------------------------------------------------------------------------------
# Authentication, rate limits and errors


def _presented_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # Action Network's header, so OSDI clients written for it work unchanged.
    return request.headers.get("OSDI-API-Token", "").strip() or None


def current_token():
    """The live token this request presents (looked up once per request), else None."""
    if "api_token" not in g:
        g.api_token = tokens.authenticate(_presented_secret())
    return g.api_token


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT") or "120 per minute"


def _token_key() -> str:
    token = current_token()
    return f"api-token:{token.id}" if token else "api-anonymous"


# Per token, not per address: many integrations share a proxy, and one token must not starve another.
limiter.limit(_rate_limit, key_func=_token_key, exempt_when=lambda: current_token() is None)(bp)


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = current_token()
    if token is None:
        raise ApiError(401, [{"field": "Authorization",
                              "reason": "Send a valid API token: Authorization: Bearer <token>."}],
                       {"WWW-Authenticate": 'Bearer realm="branchline"'})
    user = token.user
    if user.training_due(current_app.config.get("TRAINING_VALID_DAYS", 365)):
        raise ApiError(403, [{"field": "Authorization",
                              "reason": "The token's user must renew their data-protection training first."}])
    if tokens.mark_used(token):
        db.session.commit()
    g.api_user = user
    return None


@bp.errorhandler(ApiError)
def api_error(exc: ApiError):
    db.session.rollback()
    return error_response(exc.status, exc.errors, exc.headers)


# By code as well as by class: Flask prefers the app's handler for a code over a blueprint's for a class.
@bp.errorhandler(400)
@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(413)
@bp.errorhandler(429)
@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if exc.code == 404:
        return error_response(404, not_found().errors)
    if exc.code == 429:
        current = limiter.current_limit
        wait = max(1, int(current.reset_at - utcnow().timestamp())) if current else 60
        return error_response(429, [{"field": "Authorization",
                                     "reason": f"Too many requests with this token. Try again in {wait} seconds."}],
                              {"Retry-After": str(wait)})
    return error_response(exc.code or 400, [{"field": "request", "reason": exc.description or exc.name}])


@bp.errorhandler(Exception)
def unexpected(exc: Exception):
    # A bug, not bad input: logged in full, answered as JSON so clients can read it.
    current_app.logger.exception("API error on %s %s", request.method, request.path)
    db.session.rollback()
    return error_response(500, [{"field": "request", "reason": "Something went wrong on our side."}])


def _me():
    return g.api_user


def _need(*permissions: P) -> None:
    """A role without any of the permissions meets the same 404 as a missing page."""
    if not any(_me().can(p) for p in permissions):
        raise not_found()


def _export(resource: str, page, filter_raw: str | None) -> None:
    service.record_export(_me(), g.api_token, resource, page.page, len(page.items), describe_filter(filter_raw))
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Entry point, description and docs


@bp.get("/")
def entry_point():
    me = _me()
    links = {"self": link("api.entry_point"), "curies": [{"name": "osdi", "templated": True,
                                                          "href": "https://opensupporter.github.io/osdi-docs/{rel}"}],
             "docs": link("api.docs"), "branchline:openapi": link("api.openapi_json")}
    if me.can(P.VIEW_CONTACTS):
        links["osdi:people"] = link("api.people")
        links["osdi:tags"] = link("api.tags")
        links["osdi:outreaches"] = link("api.outreaches")
    if me.can(P.EDIT_CONTACTS):
        links["osdi:person_signup_helper"] = link("api.person_signup_helper")
    if me.can(P.WORK_CALLS) or me.can(P.MANAGE_CALLS):
        links["osdi:lists"] = link("api.lists")
    if me.can(P.MANAGE_CAMPAIGNS):
        links["osdi:advocacy_campaigns"] = link("api.advocacy_campaigns")
    if me.can(P.SEND_MESSAGES) or me.can(P.ANSWER_REPLIES):
        links["osdi:messages"] = link("api.messages")
    return hal({"motd": "Branchline API (OSDI)", "vendor_name": "Branchline", "product_name": "Branchline",
                "osdi_version": "1.1", "max_pagesize": 100, "user": {"name": me.name, "role": me.role.value},
                "_links": links})


@bp.get("/openapi.json")
def openapi_json():
    return hal(openapi.document(), headers={"Content-Type": "application/json"})


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", doc=openapi.document(), operations=openapi.operations())


# ---------------------------------------------------------------------------------------------
# People


def _mobile(value: str):
    try:
        return normalise_mobile(value)
    except FieldError:
        raise invalid("filter", "That phone number is not a valid mobile number.") from None


PEOPLE_FIELDS = {
    "modified_date": Field(Contact.updated_at, "datetime"),
    "created_date": Field(Contact.created_at, "datetime"),
    "email_address": Field(Contact.email, "lower"),
    "given_name": Field(Contact.first_name, "lower"),
    "family_name": Field(Contact.last_name, "lower"),
    "membership_number": Field(Contact.membership_number),
    "phone_number": Field(Contact.mobile, convert=_mobile),
}


def _people_options():
    return (joinedload(Contact.branch), joinedload(Contact.employer), joinedload(Contact.workplace),
            selectinload(Contact.consents), selectinload(Contact.activist_roles))


@bp.get("/people")
def people():
    _need(P.VIEW_CONTACTS)
    paging = paging_args()
    raw = request.args.get("filter")
    conditions = parse_filter(raw, PEOPLE_FIELDS)
    stmt = (select(Contact).where(branch_condition(_me(), Contact.branch_id), *conditions)
            .options(*_people_options()).order_by(Contact.id))
    page = fetch_page(stmt, paging)
    rendered = [resources.person(c) for c in page.items]
    _export("people", page, raw)
    return collection(page, "osdi:people", "api.people", rendered)


@bp.get("/people/<person_id>")
def person(person_id: str):
    _need(P.VIEW_CONTACTS)
    contact = get_contact_for_view(_me(), check_id(person_id))
    body = resources.person(contact)
    db.session.commit()
    return hal(body)


@bp.get("/people/<person_id>/outreaches")
def person_outreaches(person_id: str):
    _need(P.VIEW_CONTACTS)
    contact = get_contact(_me(), check_id(person_id))
    paging = paging_args()
    stmt = select(Letter).where(Letter.contact_id == contact.id, Letter.state.in_(SENT_STATES)).order_by(Letter.id)
    page = fetch_page(stmt, paging)
    rendered = [resources.outreach(letter) for letter in page.items]
    _export("person_outreaches", page, None)
    return collection(page, "osdi:outreaches", "api.person_outreaches", rendered, person_id=person_id)


@bp.post("/people/person_signup_helper")
def person_signup_helper():
    _need(P.EDIT_CONTACTS)
    signup = service.read_signup(json_body())
    result = service.person_signup(_me(), g.api_token, signup)
    db.session.commit()
    contact = db.session.get(Contact, result.contact.id)
    body = resources.person(contact)
    return hal(body, 201 if result.created else 200, {"Location": body["_links"]["self"]["href"]})


# ---------------------------------------------------------------------------------------------
# Tags and taggings

TAG_FIELDS = {"modified_date": Field(Tag.updated_at, "datetime"), "created_date": Field(Tag.created_at, "datetime"),
              "name": Field(Tag.name, "lower")}


def _tag_or_404(tag_id: str) -> Tag:
    found = db.session.get(Tag, check_id(tag_id))
    if found is None:
        raise not_found()
    return found


@bp.get("/tags")
def tags():
    _need(P.VIEW_CONTACTS)
    paging = paging_args()
    conditions = parse_filter(request.args.get("filter"), TAG_FIELDS)
    page = fetch_page(select(Tag).where(*conditions).order_by(Tag.id), paging)
    return collection(page, "osdi:tags", "api.tags", [resources.tag(t) for t in page.items])


@bp.post("/tags")
def create_tag():
    _need(P.EDIT_CONTACTS)
    body = json_body()
    name = text(body.get("name"), "name", 200, required=True)
    found, created = service.create_tag(name, _me())
    db.session.commit()
    rendered = resources.tag(found)
    return hal(rendered, 201 if created else 200, {"Location": rendered["_links"]["self"]["href"]})


@bp.get("/tags/<tag_id>")
def tag(tag_id: str):
    _need(P.VIEW_CONTACTS)
    return hal(resources.tag(_tag_or_404(tag_id)))


TAGGING_FIELDS = {"modified_date": Field(contact_tag.c.added_at, "datetime"),
                  "created_date": Field(contact_tag.c.added_at, "datetime")}


@bp.get("/tags/<tag_id>/taggings")
def taggings(tag_id: str):
    _need(P.VIEW_CONTACTS)
    found = _tag_or_404(tag_id)
    paging = paging_args()
    raw = request.args.get("filter")
    conditions = parse_filter(raw, TAGGING_FIELDS)
    stmt = (select(contact_tag.c.contact_id, contact_tag.c.added_at)
            .join(Contact, Contact.id == contact_tag.c.contact_id)
            .where(contact_tag.c.tag_id == found.id, branch_condition(_me(), Contact.branch_id), *conditions)
            .order_by(contact_tag.c.contact_id))
    page = fetch_page(stmt, paging, scalars=False)
    rendered = [resources.tagging(found.id, contact_id, added_at) for contact_id, added_at in page.items]
    _export("taggings", page, raw)
    return collection(page, "osdi:taggings", "api.taggings", rendered, tag_id=tag_id)


@bp.post("/tags/<tag_id>/taggings")
def add_tagging(tag_id: str):
    _need(P.EDIT_CONTACTS)
    found = _tag_or_404(tag_id)
    person_id = service.person_id_from(json_body())
    if not 1 <= person_id <= 2_147_483_647:
        raise invalid("person_id", "There is no person with that id among yours.")
    contact = db.session.scalar(select(Contact).where(Contact.id == person_id,
                                                      branch_condition(_me(), Contact.branch_id)))
    if contact is None:
        note_probe(Contact, person_id, _me())
        raise invalid("person_id", "There is no person with that id among yours.")
    created = service.add_tagging(found, contact, _me())
    db.session.commit()
    added_at = db.session.scalar(select(contact_tag.c.added_at).where(
        contact_tag.c.tag_id == found.id, contact_tag.c.contact_id == contact.id))
    rendered = resources.tagging(found.id, contact.id, added_at)
    return hal(rendered, 201 if created else 200, {"Location": rendered["_links"]["self"]["href"]})


def _tagging_or_404(tag_id: str, person_id: str):
    found = _tag_or_404(tag_id)
    contact = get_contact(_me(), check_id(person_id))
    added_at = db.session.execute(select(contact_tag.c.added_at).where(
        contact_tag.c.tag_id == found.id, contact_tag.c.contact_id == contact.id)).first()
    if added_at is None:
        raise not_found()
    return found, contact, added_at[0]


@bp.get("/tags/<tag_id>/taggings/<person_id>")
def tagging(tag_id: str, person_id: str):
    _need(P.VIEW_CONTACTS)
    found, contact, added_at = _tagging_or_404(tag_id, person_id)
    return hal(resources.tagging(found.id, contact.id, added_at))


@bp.delete("/tags/<tag_id>/taggings/<person_id>")
def delete_tagging(tag_id: str, person_id: str):
    _need(P.EDIT_CONTACTS)
    found, contact, _ = _tagging_or_404(tag_id, person_id)
    service.remove_tagging(found, contact, _me())
    db.session.commit()
    return hal({"notice": "The tag was taken off the person."})


# ---------------------------------------------------------------------------------------------
# Call lists, their items, claims and outcomes (for external dialers)

LIST_FIELDS = {"modified_date": Field(CallList.updated_at, "datetime"),
               "created_date": Field(CallList.created_at, "datetime")}
ITEM_FIELDS = {"created_date": Field(CallEntry.added_at, "datetime"),
               "modified_date": Field(CallEntry.added_at, "datetime")}


def _list_or_404(list_id: str) -> CallList:
    _need(P.WORK_CALLS, P.MANAGE_CALLS)
    found = db.session.scalar(calls.lists_stmt(_me()).where(CallList.id == check_id(list_id)))
    if found is None:
        raise not_found()
    return found


def _items_stmt(call_list: CallList):
    stmt = select(CallEntry).where(CallEntry.list_id == call_list.id, branch_condition(_me(), CallEntry.branch_id))
    if not _me().can(P.MANAGE_CALLS):
        # As on the call screens: a caller sees only the member they are calling.
        stmt = stmt.where(CallEntry.lease_user_id == _me().id, CallEntry.status == EntryStatus.IN_PROGRESS)
    return stmt


def _item_or_404(call_list: CallList, item_id: str) -> CallEntry:
    found = db.session.scalar(_items_stmt(call_list).where(CallEntry.id == check_id(item_id)))
    if found is None:
        raise not_found()
    return found


@bp.get("/lists")
def lists():
    _need(P.WORK_CALLS, P.MANAGE_CALLS)
    paging = paging_args()
    conditions = parse_filter(request.args.get("filter"), LIST_FIELDS)
    stmt = calls.lists_stmt(_me()).where(*conditions).options(selectinload(CallList.branches)).order_by(CallList.id)
    page = fetch_page(stmt, paging)
    return collection(page, "osdi:lists", "api.lists", [resources.call_list(cl) for cl in page.items])


@bp.get("/lists/<list_id>", endpoint="list")
def list_(list_id: str):
    return hal(resources.call_list(_list_or_404(list_id)))


@bp.get("/lists/<list_id>/items")
def items(list_id: str):
    call_list = _list_or_404(list_id)
    paging = paging_args()
    raw = request.args.get("filter")
    conditions = parse_filter(raw, ITEM_FIELDS)
    page = fetch_page(_items_stmt(call_list).where(*conditions).order_by(CallEntry.id), paging)
    rendered = [resources.item(e) for e in page.items]
    _export("list_items", page, raw)
    return collection(page, "osdi:items", "api.items", rendered, list_id=list_id)


@bp.get("/lists/<list_id>/items/<item_id>")
def item(list_id: str, item_id: str):
    call_list = _list_or_404(list_id)
    return hal(resources.item(_item_or_404(call_list, item_id)))


def _claim_body(call_list: CallList, entry: CallEntry | None) -> dict:
    body = {"claimed": entry is not None, "reason": None, "detail": None,
            "_links": {"self": link("api.claim", list_id=call_list.id), "osdi:list": link("api.list", list_id=call_list.id)}}
    if entry is None:
        empty = calls.why_empty(call_list, _me())
        body["reason"], body["detail"] = empty.reason, empty.detail
        return body
    contact = entry.contact
    audit_contact = get_contact_for_view(_me(), contact.id)  # the dialer shows the member: audited like the screen
    body["_embedded"] = {"osdi:item": resources.item(entry), "osdi:person": resources.person(audit_contact)}
    return body


@bp.post("/lists/<list_id>/claim")
def claim(list_id: str):
    _need(P.WORK_CALLS)
    call_list = _list_or_404(list_id)
    entry = claim_next(call_list, _me())
    body = _claim_body(call_list, entry)
    db.session.commit()
    return hal(body)


@bp.post("/lists/<list_id>/items/<item_id>/release")
def release_item(list_id: str, item_id: str):
    _need(P.WORK_CALLS)
    call_list = _list_or_404(list_id)
    entry = _item_or_404(call_list, item_id)
    if entry.lease_user_id != _me().id or entry.status is not EntryStatus.IN_PROGRESS:
        raise ApiError(409, [{"field": "item", "reason": "You are not calling this member, so there is nothing to release."}])
    release(entry, _me())
    db.session.commit()
    return hal(resources.item(entry))


@bp.post("/lists/<list_id>/items/<item_id>/outcomes")
def outcomes(list_id: str, item_id: str):
    _need(P.WORK_CALLS)
    call_list = _list_or_404(list_id)
    entry = _item_or_404(call_list, item_id)
    given = service.read_outcome(json_body(), call_list)
    try:
        attempt = calls.record_outcome(entry, given.outcome, by=_me(), note=given.note, answers=given.answers,
                                       callback_at=given.callback_at)
    except calls.CallRefused as refused:
        raise ApiError(409, [{"field": "item", "reason": str(refused)}]) from None
    db.session.commit()
    result = resources.item(entry)
    result["outcome"] = {"identifiers": [resources.ident(attempt.id)], "outcome": attempt.outcome.value,
                         "created_date": attempt.at, "answers": attempt.answers, "note": attempt.note}
    return hal(result, 201)


# ---------------------------------------------------------------------------------------------
# Advocacy campaigns and outreaches (letters)

CAMPAIGN_FIELDS = {"modified_date": Field(Campaign.updated_at, "datetime"),
                   "created_date": Field(Campaign.created_at, "datetime")}
OUTREACH_FIELDS = {"created_date": Field(Letter.sent_at, "datetime"),
                   "modified_date": Field(func.coalesce(Letter.reply_recorded_at, Letter.sent_at), "datetime")}


def _campaign_or_404(campaign_id: str) -> Campaign:
    _need(P.MANAGE_CAMPAIGNS)
    found = db.session.scalar(campaigns.campaigns_stmt(_me()).where(Campaign.id == check_id(campaign_id)))
    if found is None:
        raise not_found()
    return found


@bp.get("/advocacy_campaigns")
def advocacy_campaigns():
    _need(P.MANAGE_CAMPAIGNS)
    paging = paging_args()
    conditions = parse_filter(request.args.get("filter"), CAMPAIGN_FIELDS)
    stmt = campaigns.campaigns_stmt(_me()).where(*conditions).order_by(Campaign.id)
    page = fetch_page(stmt, paging)
    counts = campaigns.letter_counts([c.id for c in page.items], _me())
    rendered = [resources.campaign(c, counts.get(c.id, 0)) for c in page.items]
    return collection(page, "osdi:advocacy_campaigns", "api.advocacy_campaigns", rendered)


@bp.get("/advocacy_campaigns/<campaign_id>")
def advocacy_campaign(campaign_id: str):
    found = _campaign_or_404(campaign_id)
    count = campaigns.letter_counts([found.id], _me()).get(found.id, 0)
    return hal(resources.campaign(found, count))


def _letters_stmt():
    return select(Letter).where(Letter.state.in_(SENT_STATES), branch_condition(_me(), Letter.branch_id))


@bp.get("/advocacy_campaigns/<campaign_id>/outreaches")
def campaign_outreaches(campaign_id: str):
    found = _campaign_or_404(campaign_id)
    paging = paging_args()
    raw = request.args.get("filter")
    conditions = parse_filter(raw, OUTREACH_FIELDS)
    page = fetch_page(_letters_stmt().where(Letter.campaign_id == found.id, *conditions).order_by(Letter.id), paging)
    rendered = [resources.outreach(letter) for letter in page.items]
    _export("campaign_outreaches", page, raw)
    return collection(page, "osdi:outreaches", "api.campaign_outreaches", rendered, campaign_id=campaign_id)


@bp.get("/outreaches")
def outreaches():
    _need(P.VIEW_CONTACTS)
    paging = paging_args()
    raw = request.args.get("filter")
    conditions = parse_filter(raw, OUTREACH_FIELDS)
    page = fetch_page(_letters_stmt().where(*conditions).order_by(Letter.id), paging)
    rendered = [resources.outreach(letter) for letter in page.items]
    _export("outreaches", page, raw)
    return collection(page, "osdi:outreaches", "api.outreaches", rendered)


@bp.get("/outreaches/<outreach_id>")
def outreach(outreach_id: str):
    _need(P.VIEW_CONTACTS)
    wanted = check_id(outreach_id)
    found = db.session.scalar(_letters_stmt().where(Letter.id == wanted))
    if found is None:
        note_probe(Letter, wanted, _me())
        raise not_found()
    return hal(resources.outreach(found))


# ---------------------------------------------------------------------------------------------
# Messages (outbox rows)

MESSAGE_FIELDS = {"created_date": Field(Message.queued_at, "datetime"),
                  "modified_date": Field(func.coalesce(Message.finished_at, Message.delivered_at, Message.sent_at,
                                                       Message.claimed_at, Message.queued_at), "datetime")}


def _messages_stmt():
    _need(P.SEND_MESSAGES, P.ANSWER_REPLIES)
    # A message to nobody in particular (a test to staff) has no branch: region-wide users only.
    return (select(Message).outerjoin(Contact, Contact.id == Message.contact_id)
            .where(branch_condition(_me(), Contact.branch_id)).options(joinedload(Message.send)))


def _message_body(found: Message) -> dict:
    return resources.message(found, _me(), contact_visible=found.contact_id is not None)


@bp.get("/messages")
def messages():
    stmt = _messages_stmt()
    paging = paging_args()
    raw = request.args.get("filter")
    conditions = parse_filter(raw, MESSAGE_FIELDS)
    page = fetch_page(stmt.where(*conditions).order_by(Message.id), paging)
    rendered = [_message_body(m) for m in page.items]
    _export("messages", page, raw)
    return collection(page, "osdi:messages", "api.messages", rendered)


@bp.get("/messages/<message_id>")
def message(message_id: str):
    found = db.session.scalar(_messages_stmt().where(Message.id == check_id(message_id)))
    if found is None:
        raise not_found()
    return hal(_message_body(found))


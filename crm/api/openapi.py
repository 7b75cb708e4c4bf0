"""The OpenAPI 3 description of the API, served at /api/openapi.json and rendered at /api/docs.

Kept by hand next to the views: tests/api/test_schema.py runs schemathesis against it, so a view
answering anything the document does not describe fails the build.
"""
from __future__ import annotations

from flask import url_for

from ..calls.models import Outcome

S = "string"
NULL_S = {"type": S, "nullable": True}
NULL_DT = {"type": S, "format": "date-time", "nullable": True}
DT = {"type": S, "format": "date-time"}
LINK = {"$ref": "#/components/schemas/Link"}


def _obj(props: dict, required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def _list(items: dict) -> dict:
    return {"type": "array", "items": items}


def _resource(props: dict, links: list[str], required: list[str] | None = None) -> dict:
    base = {"identifiers": _list({"type": S}), "origin_system": {"type": S},
            "created_date": NULL_DT, "modified_date": NULL_DT}
    base.update(props)
    base["_links"] = _obj({name: LINK for name in links}, [links[0]])
    return _obj(base, ["identifiers", "_links", *(required or [])])


SCHEMAS = {
    "Link": _obj({"href": {"type": S}}, ["href"]),
    "Error": _obj({"errors": _list(_obj({"field": {"type": S}, "reason": {"type": S}}, ["field", "reason"]))},
                  ["errors"]),
    "Notice": _obj({"notice": {"type": S}}, ["notice"]),
    "EntryPoint": _obj({"motd": {"type": S}, "osdi_version": {"type": S}, "max_pagesize": {"type": "integer"},
                        "_links": {"type": "object", "additionalProperties": True}}, ["_links"]),
    "Person": _resource({
        "given_name": {"type": S}, "family_name": {"type": S},
        "email_addresses": _list(_obj({"address": {"type": S}, "primary": {"type": "boolean"},
                                       "status": {"type": S, "nullable": True,
                                                  "enum": ["subscribed", "unsubscribed", None]}}, ["address"])),
        "phone_numbers": _list(_obj({"number": {"type": S}, "primary": {"type": "boolean"},
                                     "number_type": {"type": S}, "do_not_call": {"type": "boolean"},
                                     "status": {"type": S, "nullable": True,
                                                "enum": ["subscribed", "unsubscribed", None]}}, ["number"])),
        "postal_addresses": _list(_obj({"postal_code": {"type": S}, "country": {"type": S},
                                        "primary": {"type": "boolean"}}, ["postal_code"])),
        "membership_number": NULL_S, "membership_status": {"type": S, "enum": ["member", "lapsed", "supporter"]},
        "payment_method": NULL_S, "joined_date": NULL_S, "left_date": NULL_S, "job_title": NULL_S,
        "branch": _obj({"code": {"type": S}, "name": {"type": S}}, ["code", "name"]),
        "employer": {**_obj({"identifiers": _list({"type": S}), "name": {"type": S}}), "nullable": True},
        "workplace": {**_obj({"identifiers": _list({"type": S}), "name": {"type": S}}), "nullable": True},
        "activist_roles": _list(_obj({"role": {"type": S}, "started_date": {"type": S}})),
    }, ["self", "osdi:outreaches"], ["given_name", "family_name", "email_addresses", "phone_numbers", "branch"]),
    "Tag": _resource({"name": {"type": S}}, ["self", "osdi:taggings"], ["name"]),
    "Tagging": _resource({"item_type": {"type": S}}, ["self", "osdi:tag", "osdi:person"]),
    "List": _resource({
        "name": {"type": S}, "description": {"type": S}, "kind": {"type": S}, "active": {"type": "boolean"},
        "branches": _list({"type": S}), "script": {"type": S},
        "questions": _list(_obj({"key": {"type": S}, "text": {"type": S}, "type": {"type": S},
                                 "choices": _list({"type": S})})),
        "max_attempts": {"type": "integer"}, "cooldown_hours": {"type": "integer"},
    }, ["self", "osdi:items", "branchline:claim"], ["name", "kind"]),
    "Item": _resource({
        "item_type": {"type": S}, "status": {"type": S, "enum": ["pending", "in_progress", "done", "gave_up"]},
        "attempts": {"type": "integer"}, "due_date": {"type": S}, "last_outcome": NULL_S,
        "reached": {"type": "boolean"}, "next_attempt_date": NULL_DT, "callback_date": NULL_DT,
        "lease_expires_date": NULL_DT, "completed_date": NULL_DT,
        "outcome": _obj({"outcome": {"type": S}, "answers": {"type": "object", "additionalProperties": {"type": S}},
                         "note": NULL_S, "created_date": DT, "identifiers": _list({"type": S})}),
    }, ["self", "osdi:list", "osdi:person", "branchline:outcomes"], ["status", "attempts"]),
    "Claim": _obj({
        "claimed": {"type": "boolean"}, "reason": NULL_S, "detail": NULL_S,
        "_embedded": _obj({"osdi:item": {"$ref": "#/components/schemas/Item"},
                           "osdi:person": {"$ref": "#/components/schemas/Person"}}),
        "_links": _obj({"self": LINK, "osdi:list": LINK}, ["self"]),
    }, ["claimed", "_links"]),
    "AdvocacyCampaign": _resource({
        "title": {"type": S}, "description": {"type": S}, "goal": {"type": S},
        "status": {"type": S, "enum": ["draft", "open", "closed"]}, "type": {"type": S}, "browser_url": {"type": S},
        "start_date": NULL_S, "end_date": NULL_S, "branch": {"type": S}, "total_outreaches": {"type": "integer"},
        "targets": _list(_obj({"kind": {"type": S}, "title": {"type": S}, "name": NULL_S})),
    }, ["self", "osdi:outreaches"], ["title", "status", "total_outreaches"]),
    "Outreach": _resource({
        "type": {"type": S}, "subject": {"type": S}, "status": {"type": S}, "template_share": {"type": "integer"},
        "personalised": {"type": "boolean"}, "reply_status": NULL_S,
        "targets": _list(_obj({"kind": {"type": S}, "name": {"type": S}, "title": {"type": S}})),
    }, ["self", "osdi:advocacy_campaign", "osdi:person"], ["status"]),
    "Message": _resource({
        "type": {"type": S, "enum": ["sms", "email"]}, "purpose": {"type": S}, "status": {"type": S},
        "send_name": NULL_S, "sent_date": NULL_DT, "delivered_date": NULL_DT, "error_code": NULL_S, "body": NULL_S,
    }, ["self", "osdi:person"], ["type", "status"]),
    "SignupRequest": _obj({
        "person": _obj({
            "given_name": {"type": S, "maxLength": 100}, "family_name": {"type": S, "maxLength": 100},
            "membership_number": {"type": S, "maxLength": 20},
            "email_addresses": _list(_obj({"address": {"type": S, "format": "email"},
                                           "status": {"type": S, "enum": ["subscribed", "unsubscribed"]}},
                                          ["address"])),
            "phone_numbers": _list(_obj({"number": {"type": S},
                                         "status": {"type": S, "enum": ["subscribed", "unsubscribed"]}},
                                        ["number"])),
            "postal_addresses": _list(_obj({"postal_code": {"type": S}}, ["postal_code"])),
        }),
        "consent_wording_version": {"type": S, "maxLength": 40,
                                    "description": "Required when any status is ‘subscribed’: the version of the "
                                                   "consent wording the person agreed to."},
        "add_tags": _list({"type": S}),
        "branch": {"type": S, "description": "Branch code for a new contact (needed unless the token's user "
                                             "has exactly one branch)."},
    }, ["person"]),
    "TagRequest": _obj({"name": {"type": S, "maxLength": 80}}, ["name"]),
    "TaggingRequest": _obj({"person_id": {"type": "integer"},
                            "_links": _obj({"osdi:person": _obj({"href": {"type": S}}, ["href"])})}),
    "OutcomeRequest": _obj({
        "outcome": {"type": S, "enum": [o.value for o in Outcome]},
        "note": {"type": S, "maxLength": 2000},
        "answers": {"type": "object", "additionalProperties": {"type": S}},
        "callback_date": {"type": S, "format": "date-time", "description": "Required for call_back; UTC unless a zone is given."},
    }, ["outcome"]),
}

COLLECTIONS = {"People": ("osdi:people", "Person"), "Tags": ("osdi:tags", "Tag"),
               "Taggings": ("osdi:taggings", "Tagging"), "Lists": ("osdi:lists", "List"),
               "Items": ("osdi:items", "Item"), "AdvocacyCampaigns": ("osdi:advocacy_campaigns", "AdvocacyCampaign"),
               "Outreaches": ("osdi:outreaches", "Outreach"), "Messages": ("osdi:messages", "Message")}
for _name, (_rel, _item) in COLLECTIONS.items():
    SCHEMAS[_name] = _obj({
        "total_pages": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer"},
        "page": {"type": "integer"}, "total_records": {"type": "integer"},
        "_links": _obj({"self": LINK, "next": LINK, "prev": LINK, _rel: _list(LINK)}, ["self"]),
        "_embedded": _obj({_rel: _list({"$ref": f"#/components/schemas/{_item}"})}, [_rel]),
    }, ["total_pages", "per_page", "page", "total_records", "_links", "_embedded"])

ERRORS = {
    "400": "The body is not JSON.",
    "401": "No token, or a token that is wrong, expired or revoked.",
    "403": "The token's user must renew their data-protection training.",
    "404": "No such record among those the token's user may see (the same answer for another branch's record).",
    "422": "A field is invalid: the errors name the field and the reason.",
    "429": "Too many requests with this token; wait for the seconds in Retry-After.",
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/hal+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _id(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id (the number in branchline:<id>).",
            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}


PAGING = [
    {"name": "page", "in": "query", "description": "Page number, from 1.",
     "schema": {"type": "integer", "minimum": 1, "maximum": 1000000}},
    {"name": "per_page", "in": "query", "description": "Records per page, 1–100 (25 unless given).",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]


def _filter(fields: str) -> dict:
    return {"name": "filter", "in": "query", "schema": {"type": "string", "maxLength": 1000},
            "description": f"OData subset: `field op 'value'` joined by `and`; ops eq ne gt ge lt le "
                           f"(dates: gt ge lt le eq ne; text: eq ne, without case). Fields: {fields}."}


def _op(summary: str, ok: tuple[str, str, str] | None, *, params=(), body: str | None = None,
        errors=("401", "403", "404", "422", "429"), extra: dict | None = None, tag: str = "") -> dict:
    responses = {}
    if ok:
        code, schema, description = ok
        responses[code] = _ok(schema, description)
    for code, response in (extra or {}).items():
        responses[code] = response
    for code in errors:
        responses[code] = _error(ERRORS[code])
    op = {"summary": summary, "tags": [tag] if tag else [], "parameters": list(params), "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{body}"}}}}
        op["responses"]["400"] = _error(ERRORS["400"])
    return op


def _paths() -> dict:
    person, tag, lst, item = _id("person_id", "person"), _id("tag_id", "tag"), _id("list_id", "list"), _id("item_id", "item")
    campaign, outreach, message = _id("campaign_id", "campaign"), _id("outreach_id", "outreach"), _id("message_id", "message")
    dates = "created_date, modified_date"
    return {
        "/": {"get": _op("The entry point: links to what the token may use", ("200", "EntryPoint", "OK"),
                         errors=("401", "403", "429"), tag="Entry point")},
        "/people": {"get": _op("People (contacts) in the token user's branches", ("200", "People", "A page of people"),
                               params=[*PAGING, _filter(f"{dates}, email_address, given_name, family_name, "
                                                        "membership_number, phone_number")],
                               errors=("401", "403", "404", "422", "429"), tag="People")},
        "/people/{person_id}": {"get": _op("One person", ("200", "Person", "The person"), params=[person],
                                           errors=("401", "403", "404", "429"), tag="People")},
        "/people/{person_id}/outreaches": {"get": _op("The letters a person sent", ("200", "Outreaches", "A page of outreaches"),
                                                      params=[person, *PAGING], tag="People")},
        "/people/person_signup_helper": {"post": _op(
            "Add or match a person from a sign-up form (consent only as given)",
            ("200", "Person", "Matched an existing person"), body="SignupRequest",
            extra={"201": _ok("Person", "Added a new supporter")}, tag="People")},
        "/tags": {"get": _op("Tags", ("200", "Tags", "A page of tags"), params=[*PAGING, _filter(f"{dates}, name")],
                             tag="Tags"),
                  "post": _op("Make a tag (or find it by name)", ("200", "Tag", "The tag already existed"),
                              body="TagRequest", extra={"201": _ok("Tag", "Made the tag")}, tag="Tags")},
        "/tags/{tag_id}": {"get": _op("One tag", ("200", "Tag", "The tag"), params=[tag],
                                      errors=("401", "403", "404", "429"), tag="Tags")},
        "/tags/{tag_id}/taggings": {
            "get": _op("The people with this tag (in the token user's branches)", ("200", "Taggings", "A page of taggings"),
                       params=[tag, *PAGING, _filter(dates)], tag="Tags"),
            "post": _op("Tag a person", ("200", "Tagging", "Already tagged"), params=[tag], body="TaggingRequest",
                        extra={"201": _ok("Tagging", "Tagged")}, tag="Tags")},
        "/tags/{tag_id}/taggings/{person_id}": {
            "get": _op("One tagging", ("200", "Tagging", "The tagging"), params=[tag, person],
                       errors=("401", "403", "404", "429"), tag="Tags"),
            "delete": _op("Take the tag off the person", ("200", "Notice", "Removed"), params=[tag, person],
                          errors=("401", "403", "404", "429"), tag="Tags")},
        "/lists": {"get": _op("Call lists the token's user may work or manage", ("200", "Lists", "A page of lists"),
                              params=[*PAGING, _filter(dates)], tag="Call lists")},
        "/lists/{list_id}": {"get": _op("One call list, with its script and questions", ("200", "List", "The list"),
                                        params=[lst], errors=("401", "403", "404", "429"), tag="Call lists")},
        "/lists/{list_id}/items": {"get": _op("The list's entries (a caller sees only the one they are calling)",
                                              ("200", "Items", "A page of items"),
                                              params=[lst, *PAGING, _filter(dates)], tag="Call lists")},
        "/lists/{list_id}/items/{item_id}": {"get": _op("One entry", ("200", "Item", "The item"), params=[lst, item],
                                                        errors=("401", "403", "404", "429"), tag="Call lists")},
        "/lists/{list_id}/claim": {"post": _op(
            "Claim the next member to call (leased to you for a few minutes, as on the call screen)",
            ("200", "Claim", "The member to call, or why there is nobody"), params=[lst],
            errors=("401", "403", "404", "429"), tag="Call lists")},
        "/lists/{list_id}/items/{item_id}/release": {"post": _op(
            "Give a claimed member back without calling", ("200", "Item", "Released"), params=[lst, item],
            errors=("401", "403", "404", "429"), extra={"409": _error("You are not calling this member.")},
            tag="Call lists")},
        "/lists/{list_id}/items/{item_id}/outcomes": {"post": _op(
            "Record what happened on the call", ("201", "Item", "Recorded; the item as it is now"),
            params=[lst, item], body="OutcomeRequest",
            extra={"409": _error("Already recorded, or someone else is calling this member.")}, tag="Call lists")},
        "/advocacy_campaigns": {"get": _op("Letter campaigns", ("200", "AdvocacyCampaigns", "A page of campaigns"),
                                           params=[*PAGING, _filter(dates)], tag="Campaigns")},
        "/advocacy_campaigns/{campaign_id}": {"get": _op("One campaign", ("200", "AdvocacyCampaign", "The campaign"),
                                                         params=[campaign], errors=("401", "403", "404", "429"),
                                                         tag="Campaigns")},
        "/advocacy_campaigns/{campaign_id}/outreaches": {"get": _op(
            "The campaign's letters sent by people in the token user's branches",
            ("200", "Outreaches", "A page of outreaches"), params=[campaign, *PAGING, _filter(dates)],
            tag="Campaigns")},
        "/outreaches": {"get": _op("Letters sent, in the token user's branches", ("200", "Outreaches", "A page of outreaches"),
                                   params=[*PAGING, _filter(dates)], tag="Campaigns")},
        "/outreaches/{outreach_id}": {"get": _op("One letter", ("200", "Outreach", "The outreach"), params=[outreach],
                                                 errors=("401", "403", "404", "429"), tag="Campaigns")},
        "/messages": {"get": _op("Outbox messages to people in the token user's branches (no one else's text)",
                                 ("200", "Messages", "A page of messages"), params=[*PAGING, _filter(dates)],
                                 tag="Messages")},
        "/messages/{message_id}": {"get": _op("One message", ("200", "Message", "The message"), params=[message],
                                              errors=("401", "403", "404", "429"), tag="Messages")},
    }


def document() -> dict:
    """The OpenAPI 3.0 document, with the server address of this installation."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Branchline API", "version": "1.0",
                 "description": "Contacts, tags, call lists, letter campaigns and messages in the Open Supporter "
                                "Data Interface (OSDI) shape: HAL+JSON, page/per_page/total_pages paging, "
                                "identifiers like branchline:123, and an OData subset for filters. Authenticate "
                                "with a personal API token (Your account → API tokens): "
                                "`Authorization: Bearer <token>`. A token sees exactly what its user sees."},
        "servers": [{"url": url_for("api.entry_point", _external=True).rstrip("/")}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


def operations() -> list[dict]:
    """The operations in document order, flattened for the docs page."""
    doc = document()
    out = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            out.append({"method": method.upper(), "path": "/api" + (path if path != "/" else "/"), "op": op,
                        "body": body.get("$ref", "").rsplit("/", 1)[-1] or None,
                        "anchor": (method + path).replace("/", "-").replace("{", "").replace("}", "")})
    return out

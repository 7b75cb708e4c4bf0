"""Schemathesis against /api/openapi.json, through the Flask app in-process (WSGI).

Every operation gets a bounded number of generated requests (valid and invalid); the run fails on
any 5xx, any status code or content type the document does not list, and any body that does not
match the response schema.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.api import openapi
from crm.auth.roles import Role
from crm.calls.models import CallListKind
from crm.vocabulary import Channel, ConsentStatus

# Bounded for CI; API_FUZZ_EXAMPLES=200 digs deeper when changing the API.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES") or 20)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_world(app, db, make):
    """A small region with a record of every kind, and an admin token that can reach all of them."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    branch = make.branch(code="NW01")
    contacts = [make.contact(branch) for _ in range(3)]
    make.consent(contacts[0], Channel.EMAIL, ConsentStatus.GRANTED)
    tag = make.tag("Rep candidates")
    contacts[0].tags.append(tag)
    admin = make.user(Role.ADMIN)
    call_list = make.call_list([branch], kind=CallListKind.DOCAS_LEAVER, callers=[admin])
    for contact in contacts:
        make.call_entry(call_list, contact)
    make.campaign(branch)
    _, secret = make.api_token(admin)
    db.session.commit()
    yield secret
    app.config.pop("API_RATE_LIMIT", None)


OPERATIONS = [(path, method.upper()) for path, methods in openapi._paths().items() for method in methods]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_api_matches_its_openapi_description(app, api_world, path, method, mode):
    def isolated(environ, start_response):
        # Each request its own app context (fresh g and session), as in production: the test runs inside one.
        with app.app_context():
            return app(environ, start_response)

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", isolated)
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case):
        # The generated Authorization header (from the bearer scheme) is replaced by the real token.
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api_world}"}
        case.call_and_validate(checks=CHECKS)

    check()

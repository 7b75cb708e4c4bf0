"""Messaging fixtures: run the queue in-process (real Redis, real RQ jobs); the real providers against local fakes."""
from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from twilio.request_validator import RequestValidator

from crm.queue import get_queue, get_redis
from tests.fakes.sendgrid_api import FakeSendGrid
from tests.fakes.twilio_api import FakeTwilio


@pytest.fixture
def work_queue(app):
    """Run every queued job now, in this process (RQ SimpleWorker in burst mode)."""

    def _work():
        SimpleWorker([get_queue()], connection=get_redis(), serializer=JSONSerializer).work(burst=True)

    return _work


# ---------------------------------------------------------------------------------------------
# The real providers against local fakes (tests/fakes): Twilio and SendGrid's SDKs over real HTTP.

TWILIO_SID = "AC" + "5e" * 16
TWILIO_TOKEN = "twilio-test-auth-token"
TWILIO_FROM = "+447700900999"
SENDGRID_KEY = "SG.test-api-key"
PUBLIC_BASE = "https://branchline.example-union.org.uk"
_MISSING = object()


@pytest.fixture(scope="session")
def sendgrid_signing_key():
    """An ECDSA P-256 key pair like the one SendGrid signs Event Webhook requests with."""
    return ec.generate_private_key(ec.SECP256R1())


def sendgrid_public_key(private_key) -> str:
    der = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_sendgrid():
    fake = FakeSendGrid(SENDGRID_KEY).start()
    yield fake
    fake.stop()


@dataclass
class Providers:
    twilio: FakeTwilio
    sendgrid: FakeSendGrid
    settings: dict

    def worker_env(self, app, **extra) -> dict:
        """Environment for a worker subprocess sharing this test's database, Redis and providers."""
        env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
                   INSTANCE_PATH=app.instance_path, SECRET_KEY=app.config["SECRET_KEY"])
        for key, value in self.settings.items():
            env[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        env.update({k: str(v) for k, v in extra.items()})
        return env


@pytest.fixture
def providers(app, fake_twilio, fake_sendgrid, sendgrid_signing_key):
    """Point the app at the fakes (Twilio for SMS, SendGrid for email); restored afterwards."""
    settings = {
        "SMS_PROVIDER": "twilio", "EMAIL_PROVIDER": "sendgrid", "PUBLIC_BASE_URL": PUBLIC_BASE,
        "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_FROM_NUMBER": TWILIO_FROM,
        "TWILIO_MESSAGING_SERVICE_SID": "", "TWILIO_API_BASE": fake_twilio.url,
        "SENDGRID_API_KEY": SENDGRID_KEY, "SENDGRID_API_BASE": fake_sendgrid.url,
        "SENDGRID_FROM_EMAIL": "news@branch.example-union.org.uk", "SENDGRID_FROM_NAME": "Mersey Health Branch",
        "SENDGRID_UNSUBSCRIBE_GROUP_ID": 0, "SENDGRID_WEBHOOK_PUBLIC_KEY": sendgrid_public_key(sendgrid_signing_key),
        "PROVIDER_TIMEOUT_SECONDS": 2, "SMS_QUIET_HOURS": "", "MESSAGE_RETRY_INTERVALS": [1],
        "TWILIO_MAX_PER_SECOND": 0, "SENDGRID_MAX_PER_SECOND": 0,
    }
    saved = {key: app.config.get(key, _MISSING) for key in settings}
    app.config.update(settings)
    app.extensions.pop("branchline_providers", None)
    yield Providers(fake_twilio, fake_sendgrid, settings)
    for key, value in saved.items():
        if value is _MISSING:
            app.config.pop(key, None)
        else:
            app.config[key] = value
    app.extensions.pop("branchline_providers", None)


def twilio_signature(url: str, params: dict) -> str:
    """X-Twilio-Signature as Twilio computes it for a webhook request to `url`."""
    return RequestValidator(TWILIO_TOKEN).compute_signature(url, params)


def sendgrid_signature(private_key, body: str, timestamp: int | None = None) -> dict:
    """The Event Webhook signature headers SendGrid sends with `body`."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = private_key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp}

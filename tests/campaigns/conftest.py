"""Campaign fixtures: a campaign with a trust and an MP, the public steps as helpers, and the queue run in-process."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from crm.queue import get_queue, get_redis


@pytest.fixture
def work_queue(app):
    """Run every queued job now, in this process (RQ SimpleWorker in burst mode)."""

    def _work():
        SimpleWorker([get_queue()], connection=get_redis(), serializer=JSONSerializer).work(burst=True)

    return _work


@dataclass
class World:
    campaign: object
    trust: object
    branch: object


@pytest.fixture
def world(make, db):
    branch = make.branch(code="LHH", name="Liverpool Hospitals Health")
    trust = make.employer(name="Liverpool University Hospitals NHS FT", branches=[branch],
                          chief_executive_name="Jo Chief", chief_executive_email="ceo@trust.example.org")
    make.employer(name="Alder Hey Children's NHS FT", branches=[branch])
    make.mp_for("L8 7SS")
    campaign = make.campaign(branch, employers=[trust], slug="in-house", name="Bring NHS services in-house")
    db.session.commit()
    return World(campaign, trust, branch)


DETAILS = {"first_name": "Pat", "last_name": "Writer", "email": "pat@example.org", "postcode": "l87ss",
           "workplace": "Royal Liverpool Hospital"}
OWN_WORDS = ("I have been a porter at the Royal for eleven years. When my colleagues were moved to a private "
             "contractor they lost their sick pay, and two of them now work second jobs to get by. ")


def start(client, world, **changes):
    data = {**DETAILS, "employer_id": str(world.trust.id), **changes}
    return client.post(f"/act/{world.campaign.slug}", data=data)


def personalise(body: str) -> str:
    return re.sub(r"\[Replace this line[^\]]*\]", OWN_WORDS * 2, body)


def letter_bodies(html: str) -> list[str]:
    import html as htmllib

    return [htmllib.unescape(b) for b in re.findall(r'<textarea id="letters-\d+-body"[^>]*>(.*?)</textarea>', html, re.S)]


def write_letters(client, world, *, personal=True, action=None):
    page = client.get(f"/act/{world.campaign.slug}/letters").get_data(as_text=True)
    bodies = letter_bodies(page)
    data = {}
    for i, body in enumerate(bodies):
        data[f"letters-{i}-subject"] = "Please act"
        data[f"letters-{i}-body"] = personalise(body) if personal else body
    if action:
        data["action"] = action
    return client.post(f"/act/{world.campaign.slug}/letters", data=data)


def send(client, world, **choices):
    return client.post(f"/act/{world.campaign.slug}/check", data={"method": "email", **choices})


def confirm_token(db) -> str:
    from sqlalchemy import select

    from crm.messaging.models import Message, Purpose

    body = db.session.scalars(select(Message.body).where(Message.purpose == Purpose.TRANSACTIONAL)
                              .order_by(Message.id.desc())).first()
    return re.search(r"/act/confirm\?t=(\S+)", body).group(1)

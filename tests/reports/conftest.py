"""A small constructed region whose every figure is worked out by hand in the tests.

Branches HLA and HLB (Health) and EDU (Education). Members (status member):
  HLA  h[0..7] at Royal Ward (NHS trust, headcount 40, job title: ballot-ready); h[8], h[9] no workplace
       plus one lapsed member (the leaver), not counted as a member
  HLB  k[0..2] at Clinic (NHS trust, no job title); k[3], k[4] at Care Home (care provider, ballot-ready)
  EDU  e[0..3] at Primary (school, ballot-ready)
"""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from crm.auth.roles import Role
from crm.calls.models import CallListKind, EntryStatus, Outcome
from crm.campaigns.models import LetterState, TargetKind
from crm.database import utcnow
from crm.imports.models import ChangeKind, ImportStatus
from crm.messaging.models import InboundKind
from crm.reports import targets as targets_service
from crm.vocabulary import ActivistRoleKind as R
from crm.vocabulary import ContactStatus, EmployerKind, SelfOrganisedGroup

TODAY = date.today()
BASE = TODAY - timedelta(days=60)


def _sog(db, contact, group):
    from crm.contacts.models import ContactSelfOrganisedGroup

    db.session.add(ContactSelfOrganisedGroup(contact_id=contact.id, group=group))


@pytest.fixture
def region(make, db, tmp_path):
    now = utcnow()
    health, edu = make.service_group("Health"), make.service_group("Education")
    hla = make.branch(code="HLA", name="Health A", group=health)
    hlb = make.branch(code="HLB", name="Health B", group=health)
    edb = make.branch(code="EDU", name="Schools North", group=edu)
    trust = make.employer("City Hospitals NHS Trust", EmployerKind.NHS_TRUST, branches=[hla, hlb])
    school = make.employer("Primary Academy Trust", EmployerKind.SCHOOL, branches=[edb])
    care = make.employer("Kind Care Ltd", EmployerKind.CARE_PROVIDER, branches=[hlb])
    ward = make.workplace(trust, "Royal Ward", headcount=40)
    clinic = make.workplace(trust, "Clinic")
    home = make.workplace(care, "Care Home")
    primary = make.workplace(school, "Primary")
    h = [make.contact(hla, employer=trust, workplace=ward, job_title="Nurse") for _ in range(8)]
    h += [make.contact(hla, employer=trust, job_title="Porter") for _ in range(2)]
    lapsed = make.contact(hla, employer=trust, workplace=ward, job_title="Nurse", status=ContactStatus.LAPSED)
    k = [make.contact(hlb, employer=trust, workplace=clinic) for _ in range(3)]
    k += [make.contact(hlb, employer=care, workplace=home, job_title="Carer") for _ in range(2)]
    e = [make.contact(edb, employer=school, workplace=primary, job_title="TA") for _ in range(4)]

    # Import history: a completed run ten days ago, an older one before the period, a dry run.
    path = str(tmp_path / "export.csv")
    recent = make.import_run(None, path, status=ImportStatus.COMPLETED, finished_at=now - timedelta(days=10))
    for c in h[0:3] + [k[3]]:
        make.import_change(recent, c, ChangeKind.JOINER)
    make.import_change(recent, lapsed, ChangeKind.LEAVER)
    old = make.import_run(None, path, status=ImportStatus.COMPLETED, finished_at=now - timedelta(days=100))
    make.import_change(old, h[3], ChangeKind.JOINER)
    dry = make.import_run(None, path, status=ImportStatus.COMPLETED, dry_run=True, finished_at=now - timedelta(days=5))
    make.import_change(dry, e[0], ChangeKind.JOINER)

    # Calls.
    caller = make.user(Role.CALLER, branches=[hla], name="Alex Caller")
    joiners = make.call_list([hla], kind=CallListKind.NEW_JOINER)
    joiners_b = make.call_list([hlb], kind=CallListKind.NEW_JOINER)
    leavers = make.call_list([hla], kind=CallListKind.DOCAS_LEAVER)
    je1 = make.call_entry(joiners, h[0], status=EntryStatus.DONE, reached=True, attempts=1,
                          last_outcome=Outcome.ANSWERED, due_by=TODAY - timedelta(days=3))
    je2 = make.call_entry(joiners, h[1], status=EntryStatus.GAVE_UP, attempts=3, last_outcome=Outcome.NO_ANSWER,
                          due_by=TODAY - timedelta(days=3))
    make.call_entry(joiners, h[2], due_by=TODAY - timedelta(days=2))  # overdue
    make.call_entry(joiners_b, k[3], due_by=TODAY + timedelta(days=5))
    le1 = make.call_entry(leavers, lapsed, status=EntryStatus.DONE, reached=True, attempts=1,
                          last_outcome=Outcome.RETAINED, due_by=TODAY + timedelta(days=3))
    le2 = make.call_entry(leavers, h[9], attempts=1, last_outcome=Outcome.VOICEMAIL, due_by=TODAY + timedelta(days=3))
    yesterday = now - timedelta(days=1)
    make.call_attempt(je1, caller, Outcome.ANSWERED, yesterday)
    for _ in range(3):
        make.call_attempt(je2, caller, Outcome.NO_ANSWER, yesterday)
    make.call_attempt(le1, caller, Outcome.RETAINED, yesterday)
    make.call_attempt(le2, caller, Outcome.VOICEMAIL, yesterday)

    # Activist roles against the baseline date.
    def role(contact, kind, started, ended=None):
        make.activist_role(contact, kind, started_on=started, ended_on=ended)

    role(h[4], R.STEWARD, BASE - timedelta(days=100))
    role(h[5], R.STEWARD, BASE - timedelta(days=50))
    role(h[6], R.STEWARD, BASE - timedelta(days=30))
    role(h[7], R.STEWARD, BASE - timedelta(days=20), TODAY - timedelta(days=10))
    role(h[0], R.STEWARD, TODAY - timedelta(days=5))
    role(h[1], R.STEWARD, TODAY - timedelta(days=3))
    role(h[8], R.HEALTH_AND_SAFETY, TODAY - timedelta(days=1))
    role(e[0], R.LEARNING, BASE - timedelta(days=10))
    role(e[1], R.LEARNING, TODAY - timedelta(days=7))
    role(k[0], R.EQUALITY, BASE - timedelta(days=5), BASE)  # ended on the baseline day: not counted then

    # Self-identified groups.
    for c in h[0:6] + e[0:2]:
        _sog(db, c, SelfOrganisedGroup.WOMEN)
    for c in (h[6], k[0]):
        _sog(db, c, SelfOrganisedGroup.BLACK)

    # Campaign letters.
    x = make.campaign(hla, employers=[trust], name="In-house now")
    y = make.campaign(edb, employers=[school], name="Fair pay for TAs")
    five = now - timedelta(days=5)
    make.sent_letter(x, h[0], five, TargetKind.MP)
    make.sent_letter(x, h[0], five, TargetKind.EMPLOYER)
    make.sent_letter(x, h[1], five)
    make.sent_letter(x, h[2], five)
    make.sent_letter(y, h[2], now - timedelta(days=3))
    make.sent_letter(x, k[0], five)
    make.sent_letter(x, e[0], None, state=LetterState.DRAFT, sent_key=None)
    make.sent_letter(y, e[1], now - timedelta(days=40), state=LetterState.OWN_EMAIL)
    make.sent_letter(x, h[3], now - timedelta(days=90))  # before the period

    # Text replies.
    make.inbound_message(h[0], received_at=now - timedelta(days=2))
    make.inbound_message(h[1], body="STOP", kind=InboundKind.STOP, received_at=now - timedelta(days=2))

    officer = make.user(Role.BRANCH_OFFICER, branches=[hla])
    lead = make.user(Role.CAMPAIGN_LEAD)
    admin = make.user(Role.ADMIN)
    targets = targets_service.save_targets(TODAY.year, BASE, {"fragmented_below": 5}, admin)
    db.session.commit()
    return SimpleNamespace(hla=hla, hlb=hlb, edb=edb, health=health, edu=edu, trust=trust, school=school, care=care,
                           ward=ward, clinic=clinic, home=home, primary=primary, h=h, k=k, e=e, lapsed=lapsed,
                           x=x, y=y, caller=caller, officer=officer, lead=lead, admin=admin, targets=targets,
                           joiners=joiners, leavers=leavers)

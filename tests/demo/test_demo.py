"""The demo region: realistic enough to demo and benchmark, the same for the same seed, and only
ever written into an empty database."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import phonenumbers
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.auth.demo import demo_code
from crm.auth.models import User
from crm.auth.roles import Role
from crm.contacts.models import ActivistRole, Consent, Contact, ContactSelfOrganisedGroup, contact_tag
from crm.demo.service import (
    DEMO_EMAIL_DOMAIN,
    DEMO_PASSWORD,
    DemoRegionError,
    build_demo_region,
    demo_plan,
)
from crm.region.models import Branch, Employer, RegionSettings, ServiceGroup, Workplace, branch_employer
from crm.vocabulary import (
    SERVICE_GROUPS,
    ActivistRoleKind,
    Channel,
    ConsentStatus,
    ContactStatus,
    EmployerKind,
    PaymentMethod,
)

TODAY = date.today()
MEMBERS = 600
NW_POSTCODE = re.compile(r"^(L|CH|WA|WN|PR|BB|BL|M|OL|SK|CA|LA|FY)\d{1,2} \d[ABD-HJLNP-UW-Z]{2}$")


@pytest.fixture
def region(db):
    return build_demo_region(members=MEMBERS, seed=7, today=TODAY)


def _all(db, stmt):
    return db.session.execute(stmt).all()


def test_region_has_forty_plus_branches_across_every_service_group(db, region):
    groups = dict(_all(db, select(ServiceGroup.name, func.count(Branch.id)).join(Branch).group_by(ServiceGroup.name)))
    assert set(groups) == set(SERVICE_GROUPS)
    assert sum(groups.values()) == region.branches >= 40
    assert groups["Health"] > groups["Energy"] and groups["Local Government"] > groups["Water, Environment & Transport"]
    settings = db.session.execute(select(RegionSettings)).scalar_one()
    assert (settings.name, settings.timezone) == ("North West", "Europe/London")
    assert "branches" in str(region) and f"{MEMBERS:,} contacts" in str(region)


def test_every_kind_of_employer_is_covered_by_a_branch_and_has_north_west_workplaces(db, region):
    employers = db.session.execute(select(Employer)).scalars().all()
    assert {e.kind for e in employers} == set(EmployerKind)
    for employer in employers:
        assert employer.branches, employer.name
        assert 2 <= len(employer.workplaces) <= 12, employer.name
        if employer.kind in (EmployerKind.NHS_TRUST, EmployerKind.COUNCIL):
            assert employer.chief_executive_name
            assert re.fullmatch(r"chief\.executive@[a-z0-9-]+\.example\.org", employer.chief_executive_email)
    postcodes = db.session.execute(select(Workplace.postcode)).scalars().all()
    assert all(NW_POSTCODE.match(p) for p in postcodes), [p for p in postcodes if not NW_POSTCODE.match(p)]
    assert db.session.execute(select(func.count()).where(Workplace.headcount.is_not(None))).scalar_one() > 0
    shared = _all(db, select(branch_employer.c.employer_id).group_by(branch_employer.c.employer_id)
                  .having(func.count() > 1))
    assert shared, "some employers are covered by more than one branch"


def test_contacts_have_gb_mobiles_example_org_emails_and_unique_membership_numbers(db, region):
    contacts = db.session.execute(select(Contact)).scalars().all()
    assert len(contacts) == MEMBERS == region.contacts
    for c in contacts:
        if c.mobile is not None:
            number = phonenumbers.parse(c.mobile)
            assert phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "GB"
            assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE, c.mobile
        assert c.email is None or c.email.endswith("@example.org")
        assert c.postcode and NW_POSTCODE.match(c.postcode)
    statuses = Counter(c.status for c in contacts)
    assert statuses[ContactStatus.MEMBER] > 0.8 * MEMBERS
    assert statuses[ContactStatus.LAPSED] > 0 and statuses[ContactStatus.SUPPORTER] > 0
    numbers = [c.membership_number for c in contacts if c.status != ContactStatus.SUPPORTER]
    assert len(set(numbers)) == len(numbers) and all(re.fullmatch(r"\d{8}", n) for n in numbers)
    assert all(c.membership_number is None for c in contacts if c.status == ContactStatus.SUPPORTER)
    assert len({c.email for c in contacts if c.email}) == sum(1 for c in contacts if c.email)
    # Data-quality gaps exist, as they do in a real membership export.
    assert any(c.mobile is None for c in contacts) and any(c.email is None for c in contacts)
    members = [c for c in contacts if c.status == ContactStatus.MEMBER]
    assert any(c.workplace_id is None for c in members) and any(c.job_title is None for c in members)
    assert any(c.ballot_ready for c in members)


def test_members_work_for_an_employer_their_branch_covers_at_one_of_its_workplaces(db, region):
    covered = set(_all(db, select(branch_employer.c.branch_id, branch_employer.c.employer_id)))
    workplace_employer = dict(_all(db, select(Workplace.id, Workplace.employer_id)))
    for c in db.session.execute(select(Contact).where(Contact.status != ContactStatus.SUPPORTER)).scalars():
        assert (c.branch_id, c.employer_id) in covered
        assert c.workplace_id is None or workplace_employer[c.workplace_id] == c.employer_id
        assert c.payment_method in (PaymentMethod.DOCAS, PaymentMethod.DIRECT_DEBIT) and c.joined_on
        assert (c.left_on is not None) == (c.status == ContactStatus.LAPSED)


def test_call_lists_have_new_joiners_and_docas_leavers(db, region):
    recent = db.session.execute(select(func.count()).where(
        Contact.status == ContactStatus.MEMBER, Contact.joined_on >= TODAY - timedelta(days=60))).scalar_one()
    leavers = db.session.execute(select(Contact).where(Contact.docas_ended_on.is_not(None))).scalars().all()
    assert recent > 0 and leavers
    for c in leavers:
        assert c.status == ContactStatus.MEMBER and c.payment_method == PaymentMethod.DOCAS
        assert TODAY - timedelta(days=45) <= c.docas_ended_on <= TODAY


def test_consents_are_recorded_only_where_there_is_a_number_or_address(db, region):
    rows = _all(db, select(Consent.channel, Consent.status, Consent.source, Contact.mobile, Contact.email)
                .join(Contact))
    assert {(ch, st) for ch, st, *_ in rows} == {(c, s) for c in Channel for s in ConsentStatus}
    for channel, _status, source, mobile, email in rows:
        assert (mobile if channel == Channel.SMS else email) is not None
        assert source in ("membership form", "campaign sign-up", "texted stop")  # the demo send's one STOP
    with_mobile = db.session.execute(select(func.count()).where(Contact.mobile.is_not(None))).scalar_one()
    assert sum(1 for ch, st, *_ in rows if ch == Channel.SMS and st == ConsentStatus.GRANTED) > with_mobile / 2


def test_every_activist_role_is_held_and_schools_champions_are_in_education(db, region):
    rows = _all(db, select(ActivistRole.role, ActivistRole.ended_on, ServiceGroup.name)
                .join(Branch, ActivistRole.branch_id == Branch.id).join(ServiceGroup))
    assert {role for role, _, _ in rows} == set(ActivistRoleKind)
    assert len(rows) == region.activist_roles
    assert any(ended is not None for _, ended, _ in rows)
    assert {group for role, _, group in rows if role == ActivistRoleKind.SCHOOLS_CHAMPION} == {"Education"}
    counts = Counter(role for role, ended, _ in rows if ended is None)
    assert counts[ActivistRoleKind.STEWARD] >= counts[ActivistRoleKind.LEARNING]
    assert db.session.execute(select(func.count()).select_from(ContactSelfOrganisedGroup)).scalar_one() > 0
    assert db.session.execute(select(func.count()).select_from(contact_tag)).scalar_one() > 0


def test_a_demo_user_of_every_role_signs_in_with_the_demo_password(app, db, region):
    users = db.session.execute(select(User).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))).scalars().all()
    assert {u.role for u in users} == set(Role) and len(users) == region.users
    for role in Role:
        user = next(u for u in users if u.role == role)
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": DEMO_PASSWORD})
        assert response.status_code == 302 and response.headers["Location"] == "/", user.email
        if user.mfa_required:  # admins and organisers: the published demo key's current code
            assert client.post("/login/code", data={"code": demo_code()}).status_code == 302, user.email
        assert client.get("/").status_code == 200, user.email
    logins = select(func.count()).where(AuditEvent.action == "login.success")
    assert db.session.execute(logins).scalar_one() == len(Role)
    secretary = next(u for u in users if u.email == f"secretary@{DEMO_EMAIL_DOMAIN}")
    assert len(secretary.branches) == 2 and {b.service_group.name for b in secretary.branches} == {"Health"}
    caller = next(u for u in users if u.email == f"caller@{DEMO_EMAIL_DOMAIN}")
    assert {b.id for b in caller.branches} <= {b.id for b in secretary.branches}


def test_same_seed_gives_the_same_people(db, region):
    in_db = _all(db, select(Contact.membership_number, Contact.first_name, Contact.last_name).order_by(Contact.id))

    def people(seed):
        return [(c["membership_number"], c["first_name"], c["last_name"])
                for batch in demo_plan(MEMBERS, seed, TODAY).batches() for c in batch.contacts]

    assert [tuple(r) for r in in_db] == people(7)
    assert people(8) != people(7)


def test_contacts_added_after_the_demo_get_new_ids(db, make, region):
    highest = db.session.execute(select(func.max(Contact.id))).scalar_one()
    branch = db.session.execute(select(Branch).where(Branch.code == "LIVCC")).scalar_one()
    assert make.contact(branch).id > highest  # PostgreSQL's id sequence was moved past the given ids


def test_building_into_a_database_with_branches_is_refused(db, make):
    make.branch()
    db.session.commit()
    with pytest.raises(DemoRegionError):
        build_demo_region(members=10)
    assert db.session.execute(select(func.count(Contact.id))).scalar_one() == 0


def test_cli_demo_builds_a_region_and_prints_the_sign_ins(runner, db):
    result = runner.invoke(args=["crm", "demo", "--members", "300"])
    assert result.exit_code == 0, result.output
    assert "300 contacts" in result.output
    assert f"admin@{DEMO_EMAIL_DOMAIN}" in result.output and DEMO_PASSWORD in result.output
    assert db.session.execute(select(func.count(Contact.id))).scalar_one() == 300


def test_cli_demo_refuses_a_database_that_already_has_branches(runner, db, make):
    make.branch()
    db.session.commit()
    result = runner.invoke(args=["crm", "demo", "--members", "300"])
    assert result.exit_code == 1
    assert "already has 1 branch" in result.output and "only fills an empty database" in result.output
    assert db.session.execute(select(func.count(Contact.id))).scalar_one() == 0


def test_demo_callers_have_members_waiting_on_their_lists(db):
    from sqlalchemy import select

    from crm.auth.models import User
    from crm.calls import service as calls
    from crm.calls.models import CallList
    from crm.demo.service import DEMO_EMAIL_DOMAIN, build_demo_region

    build_demo_region(members=3000, seed=7)
    caller = db.session.execute(select(User).where(User.email == f"caller@{DEMO_EMAIL_DOMAIN}")).scalar_one()
    lists = db.session.execute(calls.lists_stmt(caller).where(CallList.is_active.is_(True))).scalars().all()
    assert lists and sum(calls.waiting_count(lst, caller) for lst in lists) > 0


def test_demo_has_an_open_letter_campaign_with_letters_and_a_finished_send(db, region, client):
    from crm.campaigns.models import Campaign, CampaignStatus, Letter
    from crm.messaging.models import InboundMessage, Message, MessageState, Send, SendStatus

    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.status is CampaignStatus.OPEN and campaign.is_open_on(TODAY)
    letters = db.session.scalars(select(Letter).where(Letter.campaign_id == campaign.id)).all()
    assert letters and all(letter.message.state is MessageState.DELIVERED for letter in letters)
    assert {letter.target_kind.value for letter in letters} == {"mp", "employer"}
    assert client.get(f"/act/{campaign.slug}").status_code == 200
    send = db.session.scalars(select(Send)).one()
    assert send.status is SendStatus.DONE
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.send_id == send.id)) > 0
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) > 0

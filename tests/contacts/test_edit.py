"""Editing a contact, their activist roles and their consent: validated, all-or-nothing, audited."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.contacts.models import ActivistRole, Consent, Contact
from crm.vocabulary import (
    ActivistRoleKind,
    Channel,
    ConsentStatus,
    ContactStatus,
    PaymentMethod,
)


@pytest.fixture
def officer_and_contact(make, db, login_as):
    home = make.branch(code="HOME")
    trust = make.employer(name="Mersey Trust", branches=[home])
    ward = make.workplace(trust, name="Ward Block")
    make.workplace(trust, name="Clinic")
    contact = make.contact(home, first_name="Ada", last_name="Lovelace", email="ada@example.org",
                           mobile="+447911123456", postcode="L1 8JQ", employer=trust, workplace=ward,
                           job_title="Nurse")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    login_as(officer)
    db.session.commit()
    return officer, contact, trust


def _form(contact, **changes):
    data = {
        "first_name": contact.first_name, "last_name": contact.last_name, "email": contact.email or "",
        "mobile": contact.mobile or "", "postcode": contact.postcode or "",
        "employer_id": str(contact.employer_id or ""), "workplace_id": str(contact.workplace_id or ""),
        "job_title": contact.job_title or "", "status": contact.status.value,
        "payment_method": contact.payment_method.value if contact.payment_method else "",
        "joined_on": contact.joined_on.isoformat() if contact.joined_on else "", "left_on": "", "docas_ended_on": "",
        "tags": [t.name for t in contact.tags], "new_tags": "",
    }
    data.update(changes)
    return data


def _reload(db, contact) -> Contact:
    db.session.expire_all()
    return db.session.get(Contact, contact.id)


def test_edit_page_shows_the_current_details(client, officer_and_contact):
    _, contact, _ = officer_and_contact
    page = client.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    assert 'value="ada@example.org"' in page and "Ward Block" in page and 'value="Nurse"' in page


def test_edit_saves_normalised_values_and_audits_changed_field_names_only(client, db, officer_and_contact):
    officer, contact, _ = officer_and_contact
    response = client.post(f"/contacts/{contact.id}/edit", data=_form(
        contact, first_name="  ADA  ", email="Ada.Lovelace@Example.ORG", mobile="07911 123 999", postcode="l18jq",
        job_title="Ward  Manager", payment_method="direct_debit", new_tags="Strike ballot, Holiday pay"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contacts/{contact.id}")
    saved = _reload(db, contact)
    assert saved.first_name == "Ada"
    assert saved.email == "Ada.Lovelace@example.org"
    assert saved.mobile == "+447911123999" and saved.postcode == "L1 8JQ"
    assert saved.job_title == "Ward Manager" and saved.payment_method is PaymentMethod.DIRECT_DEBIT
    assert sorted(t.name for t in saved.tags) == ["Holiday pay", "Strike ballot"]
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contact.update")).scalar_one()
    assert (event.user_id, event.object_type, event.object_id) == (officer.id, "contact", contact.id)
    assert event.detail == "changed: email, mobile, job_title, payment_method, tags"
    assert "example.org" not in event.detail and "123999" not in event.detail


@pytest.mark.parametrize("field, value, message", [
    ("email", "not-an-email", "Email &#39;not-an-email&#39; is not a valid email address."),
    ("mobile", "07123", "Mobile &#39;07123&#39; is not a valid UK mobile number."),
    ("postcode", "XX1 1XX1", "Postcode &#39;XX1 1XX1&#39; is not a valid UK postcode."),
])
def test_an_invalid_field_is_a_422_with_its_message_and_nothing_is_saved(client, db, officer_and_contact,
                                                                         field, value, message):
    _, contact, _ = officer_and_contact
    response = client.post(f"/contacts/{contact.id}/edit",
                           data=_form(contact, **{field: value}, job_title="Changed too", new_tags="New tag"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in page and f'href="#{field}"' in page and message in page
    saved = _reload(db, contact)
    assert saved.job_title == "Nurse" and saved.tags == []
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "contact.update")).first() is None


def test_every_invalid_field_is_reported_at_once(client, db, officer_and_contact):
    _, contact, _ = officer_and_contact
    page = client.post(f"/contacts/{contact.id}/edit", data=_form(
        contact, email="bad@", mobile="07123", postcode="nope")).get_data(as_text=True)
    assert 'href="#email"' in page and 'href="#mobile"' in page and 'href="#postcode"' in page


def test_a_workplace_must_belong_to_the_chosen_employer(client, db, make, officer_and_contact):
    _, contact, trust = officer_and_contact
    council = make.employer(name="Council", branches=[contact.branch])
    db.session.commit()
    response = client.post(f"/contacts/{contact.id}/edit", data=_form(contact, employer_id=str(council.id)))
    assert response.status_code == 422
    assert "Ward Block is a workplace of Mersey Trust" in response.get_data(as_text=True)
    assert _reload(db, contact).employer_id == trust.id


def test_employers_of_other_branches_are_not_offered_or_accepted(client, db, make, officer_and_contact):
    _, contact, _ = officer_and_contact
    elsewhere = make.employer(name="Elsewhere Care", branches=[make.branch()])
    db.session.commit()
    assert "Elsewhere Care" not in client.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    response = client.post(f"/contacts/{contact.id}/edit",
                           data=_form(contact, employer_id=str(elsewhere.id), workplace_id=""))
    assert response.status_code == 422 and "Choose an employer of this member" in response.get_data(as_text=True)


def test_dates_are_checked(client, db, officer_and_contact):
    _, contact, _ = officer_and_contact
    response = client.post(f"/contacts/{contact.id}/edit",
                           data=_form(contact, joined_on="2024-05-01", left_on="2024-04-01", docas_ended_on="31/02/2024"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a real date" in page
    response = client.post(f"/contacts/{contact.id}/edit", data=_form(contact, joined_on="2024-05-01", left_on="2024-04-01"))
    assert "The date they left must be on or after the date they joined." in response.get_data(as_text=True)


def test_unticking_a_tag_removes_it(client, db, make, officer_and_contact):
    _, contact, _ = officer_and_contact
    keep, drop = make.tag("Keep"), make.tag("Drop")
    contact.tags.extend([keep, drop])
    db.session.commit()
    client.post(f"/contacts/{contact.id}/edit", data=_form(contact, tags=["Keep"]))
    assert [t.name for t in _reload(db, contact).tags] == ["Keep"]


def test_saving_unchanged_details_records_no_edit(client, db, officer_and_contact):
    _, contact, _ = officer_and_contact
    response = client.post(f"/contacts/{contact.id}/edit", data=_form(contact))
    assert response.status_code == 302
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "contact.update")).first() is None


# ---------------------------------------------------------------------------------------------
# Activist roles


def test_adding_and_ending_a_role_is_dated_and_audited(client, db, officer_and_contact):
    officer, contact, _ = officer_and_contact
    response = client.post(f"/contacts/{contact.id}/roles", data={"kind": "steward", "started_on": "2025-03-01"})
    assert response.status_code == 302
    role = db.session.execute(select(ActivistRole).where(ActivistRole.contact_id == contact.id)).scalar_one()
    assert (role.role, role.started_on, role.ended_on, role.branch_id) == (
        ActivistRoleKind.STEWARD, date(2025, 3, 1), None, contact.branch_id)

    response = client.post(f"/contacts/{contact.id}/roles/{role.id}/end", data={f"end-{role.id}-ended_on": "2025-09-30"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ActivistRole, role.id).ended_on == date(2025, 9, 30)
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.detail, AuditEvent.user_id).where(
        AuditEvent.object_id == contact.id, AuditEvent.action.like("contact.role%")).order_by(AuditEvent.id)).all()
    assert [a for a, _, _ in actions] == ["contact.role_add", "contact.role_end"]
    assert f"role_id={role.id}" in actions[1][1] and "role=steward" in actions[1][1]
    assert {user_id for _, _, user_id in actions} == {officer.id}


def test_a_role_cannot_end_before_it_started_or_be_held_twice(client, db, make, officer_and_contact):
    _, contact, _ = officer_and_contact
    role = make.activist_role(contact, ActivistRoleKind.STEWARD, started_on=date(2025, 4, 1))
    db.session.commit()
    response = client.post(f"/contacts/{contact.id}/roles/{role.id}/end", data={f"end-{role.id}-ended_on": "2025-03-01"})
    assert response.status_code == 422 and "on or after the start date" in response.get_data(as_text=True)
    response = client.post(f"/contacts/{contact.id}/roles", data={"kind": "steward", "started_on": "2025-05-01"})
    assert response.status_code == 422 and "already a current steward" in response.get_data(as_text=True)
    future = (date.today() + timedelta(days=3)).isoformat()
    response = client.post(f"/contacts/{contact.id}/roles", data={"kind": "learning", "started_on": future})
    assert response.status_code == 422 and "today or in the past" in response.get_data(as_text=True)
    response = client.post(f"/contacts/{contact.id}/roles", data={"kind": "", "started_on": ""})
    page = response.get_data(as_text=True)
    assert "Choose the activist role." in page and "Enter the date they started in the role." in page
    db.session.expire_all()
    assert len(db.session.get(Contact, contact.id).activist_roles) == 1


def test_a_role_of_another_contact_is_404(client, db, make, officer_and_contact):
    _, contact, _ = officer_and_contact
    other = make.contact(contact.branch)
    role = make.activist_role(other)
    db.session.commit()
    assert client.post(f"/contacts/{contact.id}/roles/{role.id}/end",
                       data={f"end-{role.id}-ended_on": "2025-09-30"}).status_code == 404


# ---------------------------------------------------------------------------------------------
# Consent


def test_recording_an_opt_out_is_obvious_on_the_contact_page_and_audited(client, db, make, officer_and_contact):
    officer, contact, _ = officer_and_contact
    make.consent(contact, Channel.SMS, ConsentStatus.GRANTED)
    db.session.commit()
    response = client.post(f"/contacts/{contact.id}/consent", data={"channel": "sms", "status": "withdrawn"})
    assert response.status_code == 302
    db.session.expire_all()
    consent = db.session.execute(select(Consent).where(Consent.contact_id == contact.id)).scalar_one()
    assert consent.status is ConsentStatus.WITHDRAWN and consent.source == "recorded by branch officer"
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Opted out of SMS" in page and "Do not send SMS" in page
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contact.consent")).scalar_one()
    assert event.detail == "channel=sms from=granted to=withdrawn" and event.user_id == officer.id


def test_agreement_needs_the_wording_version(client, db, officer_and_contact):
    _, contact, _ = officer_and_contact
    response = client.post(f"/contacts/{contact.id}/consent", data={"channel": "email", "status": "granted"})
    assert response.status_code == 422 and "version of the consent wording" in response.get_data(as_text=True)
    assert db.session.execute(select(Consent)).first() is None
    response = client.post(f"/contacts/{contact.id}/consent",
                           data={"channel": "email", "status": "granted", "wording_version": "2025-01"})
    assert response.status_code == 302
    consent = db.session.execute(select(Consent)).scalar_one()
    assert (consent.channel, consent.status, consent.wording_version) == (Channel.EMAIL, ConsentStatus.GRANTED, "2025-01")


def test_consent_form_without_choices_says_what_to_choose(client, officer_and_contact):
    _, contact, _ = officer_and_contact
    response = client.post(f"/contacts/{contact.id}/consent", data={})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose SMS or email." in page and "Choose whether they agree or opt out." in page


def test_a_stored_value_from_before_validation_does_not_block_other_edits(client, db, make, officer_and_contact):
    _, contact, _ = officer_and_contact
    contact.mobile = "+447700900123"  # a drama-range number phonenumbers calls invalid, from an old import
    db.session.commit()
    response = client.post(f"/contacts/{contact.id}/edit", data=_form(contact, job_title="Sister"))
    assert response.status_code == 302
    saved = _reload(db, contact)
    assert saved.job_title == "Sister" and saved.mobile == "+447700900123"


def test_status_change_is_saved(client, db, officer_and_contact):
    _, contact, _ = officer_and_contact
    client.post(f"/contacts/{contact.id}/edit", data=_form(contact, status="lapsed", left_on="2025-06-30"))
    saved = _reload(db, contact)
    assert saved.status is ContactStatus.LAPSED and saved.left_on == date(2025, 6, 30)


def test_correcting_a_mobile_reported_as_wrong_clears_the_report(client, db, officer_and_contact):
    from crm.database import utcnow

    _, contact, _ = officer_and_contact
    contact.phone_flagged_at = utcnow()
    db.session.commit()
    assert "Reported as a wrong number" in client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    response = client.post(f"/contacts/{contact.id}/edit", data=_form(contact, mobile="07400 123456"))
    assert response.status_code == 302
    saved = _reload(db, contact)
    assert saved.mobile == "+447400123456" and saved.phone_flagged_at is None

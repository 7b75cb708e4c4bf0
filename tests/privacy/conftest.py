"""A person's data spread over every table that refers to a contact, for subject access and erasure."""
from datetime import timedelta

import pytest

from crm.auth.roles import Role
from crm.database import utcnow
from crm.vocabulary import Channel, SelfOrganisedGroup


def populate(db, make, contact, marker: str, *, send, call_list, run, campaign) -> dict:
    """Rows about `contact` in every contact table; every text carries `marker` so a test can tell
    whose data it is. Returns the tables it filled."""
    from crm.calls.models import CallAttempt, Outcome
    from crm.campaigns.models import Letter, LetterState, Submission, TargetKind
    from crm.contacts.models import ContactSelfOrganisedGroup, contact_tag
    from crm.imports.models import ChangeKind, ImportChange, ImportSeen
    from crm.messaging.models import InboundMessage, Message, MessageState, Purpose, Suppression, SuppressionReason

    make.activist_role(contact)
    make.consent(contact, Channel.SMS)
    db.session.add(ContactSelfOrganisedGroup(contact_id=contact.id, group=list(SelfOrganisedGroup)[0]))
    tag = make.tag(f"tag-{marker}")
    db.session.execute(contact_tag.insert().values(contact_id=contact.id, tag_id=tag.id))
    entry = make.call_entry(call_list, contact)
    db.session.add(CallAttempt(entry_id=entry.id, list_id=call_list.id, contact_id=contact.id, outcome=Outcome.ANSWERED,
                               note=f"note {marker}: asked about the pay ballot", answers={"rep": f"maybe {marker}"}))
    db.session.add(ImportChange(run_id=run.id, contact_id=contact.id, branch_id=contact.branch_id, kind=ChangeKind.CHANGE,
                                detail=f"job title: Porter → {marker} Supervisor"))
    db.session.add(ImportSeen(run_id=run.id, contact_id=contact.id))
    message = Message(dedupe_key=f"send:{send.id}:{contact.id}", send_id=send.id, contact_id=contact.id,
                      channel=Channel.SMS, purpose=Purpose.BULK, state=MessageState.DELIVERED,
                      to_address=contact.mobile, body=f"Hi {contact.first_name}, meeting {marker}")
    db.session.add(message)
    db.session.flush()
    db.session.add(InboundMessage(provider="log", provider_id=f"SMin{contact.id:06d}", from_address=contact.mobile,
                                  body=f"Count me in {marker}", contact_id=contact.id, branch_id=contact.branch_id,
                                  in_reply_to_id=message.id))
    db.session.add(Suppression(channel=Channel.EMAIL, address=contact.email, reason=SuppressionReason.UNSUBSCRIBE,
                               message_id=message.id))
    submission = Submission(campaign_id=campaign.id, first_name=contact.first_name, last_name=contact.last_name,
                            email=contact.email, postcode=contact.postcode or "L1 8JQ", mobile=contact.mobile,
                            membership_number=contact.membership_number, workplace=f"Ward {marker}",
                            contact_id=contact.id, submitted_at=utcnow() - timedelta(days=1))
    db.session.add(submission)
    db.session.flush()
    db.session.add(Letter(submission_id=submission.id, campaign_id=campaign.id, target_kind=TargetKind.MP,
                          target_key="E14001234", target_name="Alex Example", target_email="alex.example.mp@example.org",
                          subject=f"From {marker}", body=f"Dear Alex, my story {marker}", state=LetterState.QUEUED,
                          contact_id=contact.id, branch_id=contact.branch_id, sent_at=utcnow() - timedelta(days=1)))
    db.session.flush()
    filled = {"activist_role", "consent", "contact_sog", "contact_tag", "call_entry", "call_attempt", "import_change",
              "import_seen", "message", "inbound_message", "suppression", "campaign_submission", "campaign_letter"}
    # Reports' per-contact participation summary (ids and counts only, no text).
    summary = db.metadata.tables.get("report_participant_day")
    if summary is not None:
        from datetime import date

        today = date.today()
        db.session.execute(summary.insert().values(day=today, week=today - timedelta(days=today.weekday()),
                                                   campaign_id=campaign.id, contact_id=contact.id,
                                                   branch_id=contact.branch_id, actions=1))
        filled.add("report_participant_day")
    holders = db.metadata.tables.get("report_role_holder")
    if holders is not None:
        from datetime import date

        db.session.execute(holders.insert().values(contact_id=contact.id, role="steward", branch_id=contact.branch_id,
                                                   employer_kind="nhs_trust", is_member=True,
                                                   started_on=date.today() - timedelta(days=30)))
        filled.add("report_role_holder")
    return filled


@pytest.fixture
def people(db, make, tmp_path):
    """Two members of one branch, each with data in every contact table, and an admin."""
    branch = make.branch(code="LIVH")
    admin = make.user(Role.ADMIN, email="admin@example.org", name="Ada Admin")
    anna = make.contact(branch, first_name="Annabel", last_name="Quartermaine", email="annabel.q@example.org",
                        mobile="+447700900111", membership_number="55500011", job_title="Theatre Nurse")
    bob = make.contact(branch, first_name="Bartholomew", last_name="Zebedee", email="bart.z@example.org",
                       mobile="+447700900222", membership_number="55500022", job_title="Radiographer")
    send = make.send(admin)
    call_list = make.call_list([branch])
    export = tmp_path / "export.csv"
    export.write_text("Membership No,Surname\n")
    run = make.import_run(branch, str(export))
    campaign = make.campaign(branch)
    shared = dict(send=send, call_list=call_list, run=run, campaign=campaign)
    filled = populate(db, make, anna, "ANNAMARK", **shared)
    populate(db, make, bob, "BOBMARK", **shared)
    db.session.commit()
    return {"anna": anna, "bob": bob, "admin": admin, "branch": branch, "filled": filled, "run": run}

"""The upload page, the column check, live progress, the report, and who may see a run."""
import io

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.contacts.models import Contact
from crm.imports.models import ImportRun, ImportStatus
from crm.queue import get_queue, get_redis

CSV = (b"Membership No,Forename,Surname,Mobile,Branch Code,Job Title,Shoe Size\r\n"
       b"10000001,Amara,Okafor,07811 234567,LIVH,Staff Nurse,5\r\n"
       b"10000002,Liam,Byrne,07123,LIVH,Porter,9\r\n"
       b",,,,LIVH,,\r\n")


@pytest.fixture
def officer(make, db, login_as):
    branch = make.branch(code="LIVH", name="Liverpool Health")
    make.branch(code="WIRH")
    user = make.user(Role.BRANCH_OFFICER, branches=[branch])
    db.session.commit()
    login_as(user)
    return user


def upload(client, data=CSV, name="export.csv"):
    return client.post("/imports/", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def work_queue():
    SimpleWorker([get_queue()], connection=get_redis(), serializer=JSONSerializer).work(burst=True)


def test_upload_check_columns_import_and_read_the_outcome(client, officer, db):
    response = upload(client)
    assert response.status_code == 302 and "/mapping" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Check the columns" in page and "Shoe Size" in page and "Amara" in page
    assert '<option value="membership_number" selected>' in page
    run = db.session.execute(select(ImportRun)).scalar_one()
    form = {f"column-{i}": f for i, f in enumerate(["membership_number", "first_name", "last_name", "mobile",
                                                    "branch_code", "job_title", ""])}
    branch_id = officer.branches[0].id
    response = client.post(f"/imports/{run.id}/mapping", data={**form, "scope": "branch", "branch": str(branch_id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert get_queue().count == 1
    job = get_queue().jobs[0]
    assert job.args == [run.id]  # ids only: no member data in Redis
    progress = client.get(f"/imports/{run.id}/progress").get_json()
    assert progress["status"] == "queued" and progress["finished"] is False
    work_queue()
    progress = client.get(f"/imports/{run.id}/progress").get_json()
    assert progress["finished"] and progress["imported"] == 2 and progress["rejected"] == 1
    assert progress["rows_read"] == progress["total_rows"] == 3
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "Completed" in page and "mobile &#39;07123&#39; is not a valid UK mobile number" in page
    report = client.get(f"/imports/{run.id}/report.csv")
    assert report.mimetype == "text/csv" and "nothing identifies this person" in report.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.report_download"))
    assert db.session.scalar(select(Contact).where(Contact.membership_number == "10000001")).job_title == "Staff Nurse"


def test_the_confirmed_mapping_is_offered_for_the_next_file_of_the_same_shape(client, officer, db):
    upload(client)
    run = db.session.execute(select(ImportRun)).scalar_one()
    form = {f"column-{i}": f for i, f in enumerate(["membership_number", "last_name", "first_name", "mobile",
                                                    "branch_code", "", ""])}
    client.post(f"/imports/{run.id}/mapping", data={**form, "scope": "partial", "branch": str(officer.branches[0].id)})
    second = upload(client)
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert '<option value="first_name" selected>' in page.split("Surname")[1].split("</tr>")[0]


def test_a_mapping_without_identity_is_refused_with_a_clear_message(client, officer, db):
    upload(client)
    run = db.session.execute(select(ImportRun)).scalar_one()
    response = client.post(f"/imports/{run.id}/mapping",
                           data={"column-0": "", "column-1": "first_name", "scope": "partial", "branch": str(officer.branches[0].id)})
    assert response.status_code == 422
    assert "nothing could identify a person" in response.get_data(as_text=True)
    assert db.session.get(ImportRun, run.id).status is ImportStatus.UPLOADED and get_queue().count == 0


def test_an_unreadable_upload_says_why_and_imports_nothing(client, officer, db):
    response = upload(client, b"", "empty.csv")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not be read" in page and "The file is empty." in page
    assert db.session.scalar(select(Contact.id)) is None


def test_upload_without_a_file_asks_for_one(client, officer):
    response = client.post("/imports/", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the export file to upload." in response.get_data(as_text=True)


def test_a_branch_officer_cannot_import_into_another_branch(client, officer, db):
    upload(client)
    run = db.session.execute(select(ImportRun)).scalar_one()
    other = db.session.execute(select(ImportRun.id)).scalar_one()
    from crm.region.models import Branch

    wirh = db.session.execute(select(Branch).where(Branch.code == "WIRH")).scalar_one()
    response = client.post(f"/imports/{run.id}/mapping", data={"column-0": "membership_number", "scope": "branch",
                                                             "branch": str(wirh.id)})
    assert response.status_code == 422 and get_queue().count == 0
    assert other == run.id


def test_callers_and_campaign_leads_have_no_import_pages(client, make, db, login_as):
    login_as(make.user(Role.CAMPAIGN_LEAD))
    db.session.commit()
    assert client.get("/imports/").status_code == 404


def test_a_stalled_import_offers_to_carry_on(client, officer, db):
    from datetime import timedelta

    from crm.database import utcnow

    upload(client)
    run = db.session.execute(select(ImportRun)).scalar_one()
    run.status = ImportStatus.RUNNING
    db.session.commit()
    assert "Carry on" not in client.get(f"/imports/{run.id}").get_data(as_text=True)
    db.session.execute(ImportRun.__table__.update().values(updated_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    assert "Carry on from the start" in client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert client.post(f"/imports/{run.id}/resume").status_code == 302
    assert get_queue().count == 1

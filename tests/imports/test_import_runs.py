"""The import pipeline: identity, warnings, rejects, idempotence, the diff and its scope."""
from datetime import date

import pytest
from sqlalchemy import func, select

from crm.auth.roles import Role
from crm.contacts.models import Contact
from crm.imports import service
from crm.imports.batches import BatchRunner
from crm.imports.models import ChangeKind, ImportChange, ImportIssue, ImportRun, ImportScope, ImportStatus
from crm.vocabulary import Channel, ConsentStatus, ContactStatus, PaymentMethod

HEADER = "Membership No,Forename,Surname,Email,Mobile,Home Postcode,Branch Code,Employer,Workplace,Job Title,Payment Method,Join Date"


def write(tmp_path, name, *rows, header=HEADER):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run_file(path, *, scope=ImportScope.REGION, branch=None, by=None, batch_size=service.BATCH_SIZE):
    run = service.create_run(path, path.name, by=by, scope=scope, branch=branch)
    assert run.status is ImportStatus.UPLOADED, run.error
    service.confirm_run(run, scope=scope, branch=branch, by=by)
    from crm.extensions import db

    db.session.commit()
    return service.execute_run(run, batch_size=batch_size)


def contact(db, number):
    return db.session.execute(select(Contact).where(Contact.membership_number == number)).scalar_one_or_none()


@pytest.fixture
def branches(make, db):
    out = {"LIVH": make.branch(code="LIVH"), "WIRH": make.branch(code="WIRH")}
    db.session.commit()
    return out


def test_rows_are_normalised_and_employers_created(tmp_path, db, branches):
    path = write(tmp_path, "m1.csv",
                 "10000001,AMARA,OKAFOR,Amara.Okafor@Example.ORG,07811 234567,l8 7ss,livh,Mersey NHS FT,Royal Infirmary,Staff  Nurse,Check-off,01/03/2024")
    run = run_file(path)
    assert run.summary_line() == "imported=1 updated=0 unchanged=0 rejected=0 warnings=0 joiners=0 leavers=0 changes=0"
    c = contact(db, "10000001")
    assert (c.first_name, c.last_name, c.mobile, c.postcode) == ("Amara", "Okafor", "+447811234567", "L8 7SS")
    assert c.email.endswith("@example.org") and c.job_title == "Staff Nurse"
    assert c.payment_method is PaymentMethod.DOCAS and c.joined_on == date(2024, 3, 1)
    assert c.branch.code == "LIVH" and c.employer.name == "Mersey NHS FT" and c.workplace.name == "Royal Infirmary"


def test_a_bad_field_never_loses_the_member(tmp_path, db, branches):
    path = write(tmp_path, "m1.csv",
                 "10000001,Liam,Byrne,bad@,07123,XYZ,LIVH,Mersey NHS FT,,Porter,DD,31/02/2024",
                 ",,,,,,LIVH,,,,,",
                 "10000003,Jo,Jones,jo@example.org,07811 234569,CH41 1AA,NOPE,,,,,")
    run = run_file(path)
    assert (run.imported, run.warnings, run.rejected) == (1, 1, 2)
    liam = contact(db, "10000001")
    assert liam.email is None and liam.mobile is None and liam.postcode is None and liam.joined_on is None
    assert liam.job_title == "Porter"
    issues = db.session.execute(select(ImportIssue.line_no, ImportIssue.kind, ImportIssue.field, ImportIssue.reason)
                                .order_by(ImportIssue.line_no, ImportIssue.field)).all()
    by_line = {}
    for line, kind, fieldname, reason in issues:
        by_line.setdefault(line, []).append((kind.value, fieldname, reason))
    assert {f for _, f, _ in by_line[2]} == {"email", "mobile", "postcode", "joined_on"}
    assert "mobile '07123' is not a valid UK mobile number" in [r for _, _, r in by_line[2]]
    assert by_line[3] == [("rejected", None, "no membership number, and no valid email or mobile: nothing identifies this person")]
    assert by_line[4][0][0] == "rejected" and "branch code 'NOPE'" in by_line[4][0][2]
    assert contact(db, "10000003") is None


def test_report_lists_every_problem_with_line_and_original_values(tmp_path, db, branches):
    import csv
    import io

    path = write(tmp_path, "m1.csv", "10000001,Liam,Byrne,bad@,=cmd,L1 1AA,LIVH,,,,,", ",,,,,,LIVH,,,,,")
    run = run_file(path)
    out = io.StringIO()
    assert service.write_report(run, out) == 3
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][:5] == ["line", "outcome", "field", "reason", "Membership No"]
    assert [r[0] for r in rows[1:]] == ["2", "2", "3"]
    assert rows[1][4:9] == ["10000001", "Liam", "Byrne", "bad@", "'=cmd"]  # formula-safe


def test_reimporting_the_same_file_changes_nothing(tmp_path, db, branches):
    path = write(tmp_path, "m1.csv",
                 "10000001,Amara,Okafor,amara@example.org,07811 234567,L8 7SS,LIVH,Mersey NHS FT,Royal Infirmary,Staff Nurse,DOCAS,01/03/2024",
                 "10000002,Liam,Byrne,liam@example.org,07811 234568,L1 1AA,WIRH,Wirral Council,Town Hall,Clerk,DD,2024-05-01")
    run_file(path)
    before = [tuple(r) for r in db.session.execute(select(Contact.__table__)).all()]
    second = run_file(path)
    assert second.summary_line() == "imported=0 updated=0 unchanged=2 rejected=0 warnings=0 joiners=0 leavers=0 changes=0"
    db.session.expire_all()
    assert [tuple(r) for r in db.session.execute(select(Contact.__table__)).all()] == before
    assert service.previous_identical(second).id != second.id


def test_second_export_finds_joiners_leavers_and_changes(tmp_path, db, branches):
    run_file(write(tmp_path, "m1.csv",
                   "10000001,Amara,Okafor,a@example.org,07811 234567,L8 7SS,LIVH,Mersey NHS FT,Royal Infirmary,Staff Nurse,DOCAS,01/03/2024",
                   "10000002,Liam,Byrne,l@example.org,07811 234568,L1 1AA,LIVH,Mersey NHS FT,Royal Infirmary,Porter,DOCAS,2024-05-01",
                   "10000003,Jo,Jones,j@example.org,07811 234569,L1 1AA,WIRH,Wirral Council,Town Hall,Clerk,DOCAS,2024-05-01"))
    second = run_file(write(tmp_path, "m2.csv",
                            "10000001,Amara,Okafor,a@example.org,07811 234567,L8 7SS,LIVH,Mersey NHS FT,Royal Infirmary,Ward Manager,DOCAS,01/03/2024",
                            "10000003,Jo,Jones,j@example.org,07811 234569,L1 1AA,WIRH,Wirral Council,Town Hall,Clerk,Direct Debit,2024-05-01",
                            "10000004,New,Joiner,n@example.org,07811 234570,L1 1AA,WIRH,Wirral Council,Town Hall,Clerk,DOCAS,2026-11-01"))
    assert (second.joiners, second.leavers, second.changes) == (1, 2, 1)
    kinds = {(c.contact.membership_number, c.kind, c.detail) for c in db.session.execute(select(ImportChange)).scalars()}
    assert kinds == {
        ("10000004", ChangeKind.JOINER, "new membership number"),
        ("10000002", ChangeKind.LEAVER, "missing from the export"),
        ("10000003", ChangeKind.LEAVER, "payment moved off DOCAS"),
        ("10000001", ChangeKind.CHANGE, "job title changed"),
    }
    gone = contact(db, "10000002")
    assert gone.status is ContactStatus.LAPSED and gone.left_on == date.today()


def test_first_import_is_a_baseline_without_joiners_or_leavers(tmp_path, db, branches, make):
    make.contact(branches["LIVH"], membership_number="99999999")
    db.session.commit()
    run = run_file(write(tmp_path, "m1.csv", "10000001,A,B,,,,LIVH,,,,,"))
    assert run.is_baseline and run.joiners == 0 and run.leavers == 0
    assert contact(db, "99999999").status is ContactStatus.MEMBER


def test_a_branch_export_never_marks_other_branches_as_leavers(tmp_path, db, branches):
    run_file(write(tmp_path, "m1.csv", "10000001,A,B,,,,LIVH,,,,,", "10000002,C,D,,,,WIRH,,,,,"))
    run = run_file(write(tmp_path, "m2.csv", "10000003,E,F,,,,LIVH,,,,,"), scope=ImportScope.BRANCH, branch=branches["LIVH"])
    assert run.leavers == 1
    assert contact(db, "10000001").status is ContactStatus.LAPSED
    assert contact(db, "10000002").status is ContactStatus.MEMBER


def test_a_partial_file_marks_nobody_as_a_leaver(tmp_path, db, branches):
    run_file(write(tmp_path, "m1.csv", "10000001,A,B,,,,LIVH,,,,,", "10000002,C,D,,,,WIRH,,,,,"))
    run = run_file(write(tmp_path, "m2.csv", "10000003,E,F,,,,LIVH,,,,,"), scope=ImportScope.PARTIAL)
    assert run.leavers == 0 and run.joiners == 1
    assert db.session.scalar(select(func.count()).where(Contact.status == ContactStatus.MEMBER)) == 3


def test_rows_of_another_branch_are_rejected_in_a_branch_export(tmp_path, db, branches):
    run = run_file(write(tmp_path, "m1.csv", "10000001,A,B,,,,LIVH,,,,,", "10000002,C,D,,,,WIRH,,,,,"),
                   scope=ImportScope.BRANCH, branch=branches["LIVH"])
    assert (run.imported, run.rejected) == (1, 1)


def test_branch_officer_imports_only_into_their_branches(tmp_path, db, branches, make):
    officer = make.user(Role.BRANCH_OFFICER, branches=[branches["LIVH"]])
    make.contact(branches["WIRH"], membership_number="20000001", last_name="Wirral")
    db.session.commit()
    path = write(tmp_path, "m1.csv", "10000001,A,B,,,,LIVH,,,,,", "10000002,C,D,,,,WIRH,,,,,",
                 "20000001,Moved,Here,,,,LIVH,,,,,")
    run = run_file(path, scope=ImportScope.BRANCH, branch=branches["LIVH"], by=officer)
    assert (run.imported, run.rejected) == (1, 2)
    assert contact(db, "20000001").last_name == "Wirral"  # another branch's member is untouched
    with pytest.raises(service.ImportRefused):
        service.check_scope({"0": "membership_number"}, ImportScope.REGION, None, officer)
    with pytest.raises(service.ImportRefused):
        service.check_scope({"0": "membership_number"}, ImportScope.BRANCH, branches["WIRH"], officer)


def test_blank_or_bad_fields_never_erase_what_we_hold(tmp_path, db, branches):
    run_file(write(tmp_path, "m1.csv", "10000001,Amara,Okafor,a@example.org,07811 234567,L8 7SS,LIVH,,,Nurse,DOCAS,"))
    run = run_file(write(tmp_path, "m2.csv", "10000001,Amara,Okafor,,07123,,LIVH,,,Nurse,DOCAS,"))
    assert run.warnings == 1
    c = contact(db, "10000001")
    assert (c.email, c.mobile, c.postcode) == ("a@example.org", "+447811234567", "L8 7SS")


def test_reimport_never_makes_an_opted_out_contact_contactable(tmp_path, db, branches, make):
    run_file(write(tmp_path, "m1.csv", "10000001,Amara,Okafor,a@example.org,07811 234567,,LIVH,,,,,"))
    make.consent(contact(db, "10000001"), Channel.SMS, ConsentStatus.WITHDRAWN)
    db.session.commit()
    run_file(write(tmp_path, "m2.csv", "10000001,Amara,Okafor,a@example.org,07999 111222,,LIVH,,,,,"))
    c = contact(db, "10000001")
    assert c.mobile == "+447999111222"
    assert c.consent_for(Channel.SMS).status is ConsentStatus.WITHDRAWN


def test_supporters_are_deduplicated_by_email_then_mobile_within_the_branch(tmp_path, db, branches):
    run_file(write(tmp_path, "s1.csv", ",Sam,Supporter,sam@example.org,,,LIVH,,,,,", ",Mo,Bile,,07811 234571,,LIVH,,,,,"),
             scope=ImportScope.PARTIAL)
    run = run_file(write(tmp_path, "s2.csv", ",Sam,Supporter,SAM@example.org,07811 234572,,LIVH,,,,,",
                         ",Mo,Bile,,07811 234571,L1 1AA,LIVH,,,,,", ",Sam,Other,sam@example.org,,,WIRH,,,,,"),
                   scope=ImportScope.PARTIAL)
    assert (run.imported, run.updated) == (1, 2)
    assert db.session.scalar(select(func.count(Contact.id))) == 3
    sam = db.session.execute(select(Contact).where(Contact.branch_id == branches["LIVH"].id,
                                                   Contact.email == "sam@example.org")).scalar_one()
    assert sam.mobile == "+447811234572" and sam.status is ContactStatus.SUPPORTER


def test_a_membership_number_twice_in_one_file_is_reported(tmp_path, db, branches):
    run = run_file(write(tmp_path, "m1.csv", "10000001,A,B,,,,LIVH,,,,,", "10000001,A,C,,,,LIVH,,,,,"))
    assert (run.imported, run.rejected) == (1, 1)
    run = run_file(write(tmp_path, "m2.csv", *[f"1000{i:04d},A,B,,,,LIVH,,,,," for i in range(5)], "10000001,A,C,,,,LIVH,,,,,"),
                   batch_size=2)
    assert run.rejected == 1


def test_an_interrupted_import_resumes_without_applying_a_batch_twice(tmp_path, db, branches, monkeypatch):
    path = write(tmp_path, "m1.csv", *[f"1{i:07d},First{i},Last{i},,,,LIVH,,,,," for i in range(25)])
    run = service.create_run(path, path.name, by=None, scope=ImportScope.REGION)
    service.confirm_run(run, scope=ImportScope.REGION, branch=None, by=None)
    db.session.commit()
    real_apply = BatchRunner.apply
    calls = {"n": 0}

    def crashing_apply(self, work):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_apply(self, work)

    monkeypatch.setattr(BatchRunner, "apply", crashing_apply)
    with pytest.raises(RuntimeError):
        service.execute_run(run, batch_size=10)
    db.session.rollback()
    run = db.session.get(ImportRun, run.id)
    assert run.status is ImportStatus.RUNNING and run.rows_read == 20 and run.last_line_done == 21
    monkeypatch.setattr(BatchRunner, "apply", real_apply)
    service.execute_run(run, batch_size=10)
    assert run.status is ImportStatus.COMPLETED and run.imported == 25 and run.rows_read == 25
    assert db.session.scalar(select(func.count(Contact.id))) == 25


def test_an_aborted_import_stops_between_batches(tmp_path, db, branches):
    path = write(tmp_path, "m1.csv", *[f"1{i:07d},F,L,,,,LIVH,,,,," for i in range(10)])
    run = service.create_run(path, path.name, by=None, scope=ImportScope.REGION)
    service.confirm_run(run, scope=ImportScope.REGION, branch=None, by=None)
    service.abort_run(run, None)
    db.session.commit()
    service.execute_run(run)
    assert run.status is ImportStatus.ABORTED and db.session.scalar(select(func.count(Contact.id))) == 0


def test_an_unreadable_file_fails_with_one_message_and_changes_nothing(tmp_path, db, branches):
    path = tmp_path / "export.pdf"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    run = service.create_run(path, path.name, by=None)
    assert run.status is ImportStatus.FAILED and "PDF" in run.error
    assert db.session.scalar(select(func.count(Contact.id))) == 0


def test_a_bad_field_is_reported_again_in_next_months_report(tmp_path, db, branches):
    row = "10000001,Liam,Byrne,,07123,,LIVH,,,Porter,DOCAS,"
    run_file(write(tmp_path, "m1.csv", row))
    again = run_file(write(tmp_path, "m2.csv", row))
    assert (again.unchanged, again.warnings) == (1, 1)

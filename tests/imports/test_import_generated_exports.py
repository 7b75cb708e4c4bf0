"""Whole generated exports through the real pipeline: nothing lost, every problem reported where it is."""
import pytest
from sqlalchemy import func, select

from crm.contacts.models import Contact
from crm.imports import service
from crm.imports.exportgen import ExportChanges, mutate_export, write_export
from crm.imports.models import ImportChange, ImportIssue, ImportScope, IssueKind

BRANCHES = ["LIVH", "WIRH", "SEFC", "KNOW"]


@pytest.fixture
def region(make, db):
    for code in BRANCHES:
        make.branch(code=code)
    db.session.commit()


def run_export(info, db):
    run = service.create_run(info.path, info.path.name, by=None, scope=ImportScope.REGION)
    service.confirm_run(run, scope=ImportScope.REGION, branch=None, by=None)
    db.session.commit()
    return service.execute_run(run)


def issue_lines(db, run, kind):
    return sorted({line for (line,) in db.session.execute(
        select(ImportIssue.line_no).where(ImportIssue.run_id == run.id, ImportIssue.kind == kind))})


def test_ten_thousand_rows_keep_every_member_and_report_every_bad_field(tmp_path, db, region):
    info = write_export(tmp_path / "export.csv", 10_000, seed=3, malformed_share=0.01, branch_codes=BRANCHES)
    run = run_export(info, db)
    assert run.rejected == len(info.rejected_lines)
    assert issue_lines(db, run, IssueKind.REJECTED) == info.rejected_lines
    assert db.session.scalar(select(func.count(Contact.id))) == info.members == run.imported
    warned = issue_lines(db, run, IssueKind.WARNING)
    assert warned == info.warning_lines and run.warnings == len(warned)
    for fieldname, lines in info.warnings.items():
        found = sorted(line for (line,) in db.session.execute(
            select(ImportIssue.line_no).where(ImportIssue.run_id == run.id, ImportIssue.field == fieldname)))
        assert found == sorted(lines), fieldname


def test_the_same_export_as_xlsx_gives_the_same_outcome(tmp_path, db, region):
    info = write_export(tmp_path / "export.xlsx", 600, seed=5, malformed_share=0.02, fmt="xlsx", branch_codes=BRANCHES)
    run = run_export(info, db)
    assert (run.imported, run.rejected) == (info.members, len(info.rejected_lines))
    assert issue_lines(db, run, IssueKind.WARNING) == info.warning_lines


def test_next_months_export_finds_its_joiners_leavers_and_changes(tmp_path, db, region):
    first = write_export(tmp_path / "m1.csv", 3_000, seed=9, malformed_share=0, branch_codes=BRANCHES)
    run_export(first, db)
    second = mutate_export(tmp_path / "m2.csv", first, ExportChanges(seed=4))
    run = run_export(second, db)

    def numbers(kind, detail=None):
        stmt = select(Contact.membership_number).join(ImportChange, ImportChange.contact_id == Contact.id).where(
            ImportChange.run_id == run.id, ImportChange.kind == kind)
        if detail:
            stmt = stmt.where(ImportChange.detail == detail)
        return set(db.session.scalars(stmt))

    assert numbers("joiner") == set(second.joiners)
    assert numbers("leaver", "missing from the export") == set(second.leavers)
    assert set(second.docas_ended) <= numbers("leaver") - set(second.leavers)
    assert numbers("change") >= set(second.changed)
    again = run_export(mutate_export(tmp_path / "m2-again.csv", first, ExportChanges(seed=4)), db)
    assert (again.imported, again.updated, again.joiners, again.leavers) == (0, 0, 0, 0)

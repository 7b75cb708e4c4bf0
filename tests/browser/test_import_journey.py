"""A branch officer imports this month's export in a real browser, then next month's.

Upload → "Check the columns" (the guessed mapping, one column corrected, scope and branch) →
the run page's live progress while an RQ worker (run here, in the test's thread, on the same
database and Redis as the live server) applies the file → the counts → the report of rejected
rows and warnings → next month's export: the joiner and the leaver on the run page.
"""
import csv
import io
import re

import pytest
from playwright.sync_api import expect
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from crm.auth.roles import Role
from crm.queue import get_queue, get_redis

from ..factories import PASSWORD
from .conftest import shoot

pytestmark = pytest.mark.browser

HEADERS = ["Membership No", "Forename", "Surname", "Email", "Mobile", "Home Postcode", "Branch Code", "Employer",
           "Workplace", "Post Held", "Payment Method", "Join Date", "Membership Status"]
FORENAMES = ["Amara", "Liam", "Siobhan", "Kwame", "Priya", "Tomasz", "Chloe", "Ryan", "Fatima", "Niamh"]
SURNAMES = ["OKAFOR", "Byrne", "Doherty", "Mensah", "Patel", "Nowak", "Rimmer", "O'Brien", "Khan", "Quinn"]
JOBS = ["Staff Nurse", "Porter", "Healthcare Assistant", "Ward Clerk", "Domestic"]
WORKPLACES = ["Royal Infirmary", "Ward 4, Broadgreen", "Aintree"]  # a comma: the field is quoted
ROWS = 30
BAD_MOBILE, NO_IDENTITY, UNKNOWN_BRANCH = 4, 9, 15  # member indexes; file line = index + 2
LEAVER, JOINER = 6, ROWS  # next month: member 6 has gone, member 30 has joined


def member_row(i: int) -> list[str]:
    first, last = FORENAMES[i % len(FORENAMES)], SURNAMES[(i * 3) % len(SURNAMES)]
    row = [f"{10000001 + i}", first, last, f"{first.lower()}.{re.sub('[^a-z]', '', last.lower())}{i}@example.org",
           f"07811 {234500 + i}", f"L{1 + i % 9} {i % 10}AB", "LIVH", "Mersey Hospitals NHS FT",
           WORKPLACES[i % len(WORKPLACES)], JOBS[i % len(JOBS)], "DOCAS" if i % 3 else "Direct Debit",
           f"{1 + i % 28:02d}/0{1 + i % 9}/2019", "Current"]
    if i == BAD_MOBILE:
        row[4] = "07123"  # too short: kept, with the mobile left empty and reported
    elif i == NO_IDENTITY:
        row[0] = row[3] = row[4] = ""  # nothing identifies the person: rejected
    elif i == UNKNOWN_BRANCH:
        row[6] = "ZZ99"  # a branch Branchline does not know: rejected
    return row


def write_export(path, members) -> dict[str, int]:
    """The export as CSV (\\r\\n, as the national system writes it); membership number → file line."""
    lines = {}
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for line, i in enumerate(members, start=2):
            row = member_row(i)
            writer.writerow(row)
            lines[row[0] or f"index-{i}"] = line
    return lines


def work_the_queue():
    """What `crm worker` does, once, in this thread: the job sees the database the browser sees."""
    SimpleWorker([get_queue()], connection=get_redis(), serializer=JSONSerializer).work(burst=True)


@pytest.fixture
def officer(make, db):
    group = make.service_group("Health")
    home = make.branch(code="LIVH", name="Liverpool Health", group=group)
    make.branch(code="WIRH", name="Wirral Health", group=group)
    user = make.user(Role.BRANCH_OFFICER, branches=[home], email="secretary@example.org", name="Sam Secretary")
    db.session.commit()
    return user


def sign_in(page, base, email):
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Sam")).to_be_visible()


def nav(page, name):
    page.locator("header").get_by_role("link", name=name, exact=True).click()


def upload(page, path):
    nav(page, "Imports")
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()
    page.get_by_label("Membership export").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check columns").click()
    expect(page.get_by_role("heading", name="Check the columns")).to_be_visible()


def start_branch_import(page):
    page.get_by_label("Full export of one branch").check()
    page.get_by_label("Branch", exact=True).select_option(label="LIVH – Liverpool Health")
    page.get_by_role("button", name="Start the import").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))


def watch_until_completed(page):
    # The job was queued when the mapping was confirmed; the page polls its progress JSON and
    # reloads itself when the run has finished.
    expect(page.locator("#status-label")).not_to_contain_text("Completed")
    work_the_queue()
    expect(page.locator("#status-label")).to_contain_text("Completed", timeout=15_000)


def count(page, key):
    return page.locator(f'[data-count="{key}"]')


def test_officer_imports_an_export_then_next_months(page, live_server, officer, tmp_path):
    first_file = tmp_path / "livh-export-2025-01.csv"
    lines = write_export(first_file, range(ROWS))
    sign_in(page, live_server, "secretary@example.org")

    # This month: upload, check the guessed columns, correct the one Branchline did not know.
    upload(page, first_file)
    expect(page.get_by_label("Membership No")).to_have_value("membership_number")
    expect(page.get_by_label("Forename")).to_have_value("first_name")
    expect(page.get_by_label("Mobile", exact=True)).to_have_value("mobile")
    expect(page.get_by_label("Branch Code")).to_have_value("branch_code")
    expect(page.get_by_label("Post Held")).to_have_value("")
    expect(page.get_by_text("Not recognised, so not imported: 'Post Held'.")).to_be_visible()
    expect(page.locator("tr", has=page.get_by_label("Surname"))).to_contain_text("OKAFOR")  # first values shown
    page.get_by_label("Post Held").select_option(label="Job title")
    shoot(page, "import-mapping-1280")
    start_branch_import(page)

    expect(page.get_by_role("heading", name=re.compile(r"Import #\d+: livh-export-2025-01\.csv"))).to_be_visible()
    shoot(page, "import-queued-1280")
    watch_until_completed(page)
    expect(page.locator("#rows-read")).to_have_text("30")
    expect(page.locator("#total-rows")).to_have_text("30")
    expect(count(page, "imported")).to_have_text("28")
    expect(count(page, "warnings")).to_have_text("1")
    expect(count(page, "rejected")).to_have_text("2")
    expect(count(page, "joiners")).to_have_text("0")
    expect(page.get_by_text("This was the first import for its scope")).to_be_visible()
    problems = page.locator("table", has=page.get_by_role("columnheader", name="Reason"))
    expect(problems).to_contain_text("mobile '07123' is not a valid UK mobile number")
    expect(problems).to_contain_text("branch code 'ZZ99' is not a branch Branchline knows")
    shoot(page, "import-run-1280")

    # The report: every rejected row and warning, with its line in the file and its original values.
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download the report")).click()
    assert re.fullmatch(r"import-\d+-report\.csv", download.value.suggested_filename)
    report = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert report[0] == ["line", "outcome", "field", "reason", *HEADERS]
    by_line = {int(row[0]): row for row in report[1:]}
    assert sorted(by_line) == sorted([lines["10000005"], lines["index-9"], lines["10000016"]]) == [6, 11, 17]
    bad_mobile, no_identity, unknown_branch = by_line[6], by_line[11], by_line[17]
    assert bad_mobile[1:4] == ["Imported with a field left empty", "mobile",
                               "mobile '07123' is not a valid UK mobile number"]
    assert bad_mobile[4:] == member_row(BAD_MOBILE)
    assert no_identity[1] == "Rejected" and "nothing identifies this person" in no_identity[3]
    assert no_identity[4:] == member_row(NO_IDENTITY)
    assert unknown_branch[1] == "Rejected" and "'ZZ99'" in unknown_branch[3]
    assert unknown_branch[4:] == member_row(UNKNOWN_BRANCH)
    assert len(report) == 4

    # Next month: member 6 has left, member 30 has joined; the mapping is remembered.
    next_file = tmp_path / "livh-export-2025-02.csv"
    write_export(next_file, [i for i in range(ROWS + 1) if i != LEAVER])
    upload(page, next_file)
    expect(page.get_by_label("Post Held")).to_have_value("job_title")
    start_branch_import(page)
    watch_until_completed(page)
    expect(count(page, "imported")).to_have_text("1")
    expect(count(page, "unchanged")).to_have_text("27")
    expect(count(page, "rejected")).to_have_text("2")
    expect(count(page, "joiners")).to_have_text("1")
    expect(count(page, "leavers")).to_have_text("1")
    joiner, leaver = member_row(JOINER), member_row(LEAVER)
    expect(page.get_by_role("heading", name="New joiners")).to_be_visible()
    expect(page.get_by_role("heading", name="Leavers")).to_be_visible()
    joiner_row = page.get_by_role("row").filter(has_text=joiner[0])
    expect(joiner_row).to_contain_text("new membership number")
    expect(joiner_row.get_by_role("link")).to_have_text(f"{joiner[1]} {joiner[2].title()}")
    leaver_row = page.get_by_role("row").filter(has_text=leaver[0])
    expect(leaver_row).to_contain_text("missing from the export")
    expect(leaver_row.get_by_role("link")).to_have_text(f"{leaver[1]} {leaver[2].title()}")
    shoot(page, "import-next-month-1280")

    # Both runs are listed on the imports page.
    nav(page, "Imports")
    expect(page.get_by_role("link", name="livh-export-2025-01.csv")).to_be_visible()
    expect(page.get_by_role("link", name="livh-export-2025-02.csv")).to_be_visible()
    assert page.console_errors == []

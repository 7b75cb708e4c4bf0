"""A campaign lead filters the dashboard by service group, opens a chart's table and downloads the R&R
roll-up, which opens in openpyxl with the numbers the page shows."""
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from ..factories import PASSWORD
from ..reports.conftest import region  # noqa: F401  (the constructed region of the reports tests)
from .conftest import shoot

pytestmark = pytest.mark.browser


def sign_in(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()


def test_campaign_lead_filters_opens_a_table_and_downloads_the_rr_rollup(page, live_server, region):  # noqa: F811
    sign_in(page, live_server, region.lead.email)
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Participation and targets")).to_be_visible()

    page.get_by_label("Service group", exact=True).select_option(label="Health")
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_url(re.compile(rf"service_group={region.health.id}"))

    # The chart is drawn from its table, which folds away under the chart until asked for.
    figure = page.locator("#chart-participation-branch")
    expect(figure.locator("canvas")).to_be_visible()
    table = figure.locator("table")
    expect(table).to_be_hidden()
    figure.get_by_text(re.compile("^Show the table")).click()
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)  # Health A and Health B only: Education is filtered out
    hla = rows.filter(has_text="Health A (HLA)")
    expect(hla.locator("td").nth(0)).to_have_text("3")
    expect(page.locator("#chart-growth-branch canvas")).to_be_visible()
    shoot(page, "reports-dashboard-1280")

    page.get_by_role("link", name="Quarterly R&R report").click()
    expect(page.get_by_role("heading", name=re.compile("Recruitment & Retention"))).to_be_visible()
    header = [c.strip() for c in page.locator("#rr-rollup thead th").all_inner_texts()]
    on_page = {}
    for row in page.locator("#rr-rollup tbody tr").all():
        branch = row.locator("th").inner_text().strip()
        on_page[branch] = dict(zip(header[1:], [c.strip() for c in row.locator("td").all_inner_texts()]))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the roll-up (XLSX)").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book["Region roll-up"]
    values = list(sheet.iter_rows(values_only=True))
    columns = list(values[1])
    in_file = {row[1]: dict(zip(columns, row)) for row in values[2:] if row[0]}
    assert set(in_file) == set(on_page) == {"Health A (HLA)", "Health B (HLB)", "Schools North (EDU)"}
    for branch, cells in on_page.items():
        for name in ("Members now", "Joiners", "Leavers", "Net change", "Growth %", "Campaign participants",
                     "Letters", "Ballot-ready %", "New-joiner calls due", "Retention %"):
            expected, got = cells[name], in_file[branch][name]
            if got is None or got == "":
                assert expected == "", (branch, name, got, expected)
            else:
                assert float(got) == float(expected.replace(",", "")), (branch, name, got, expected)
    assert in_file["Health A (HLA)"]["Members now"] == 10
    assert page.console_errors == []

"""The dashboard, the people behind a figure and the targets page, as each role sees them."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from crm.auth.roles import Role
from crm.reports import summaries
from crm.reports.models import ReportTargets


def test_dashboard_counts_summaries_on_first_view_and_shows_every_panel(region, client, login_as):
    login_as(region.lead)
    page = client.get("/reports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("Membership", "Calls", "Activists", "Campaign participation", "Data quality"):
        assert f">{heading}</h2>" in html
    for branch in ("Health A (HLA)", "Health B (HLB)", "Schools North (EDU)"):
        assert branch in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/reports.js" in html
    assert 'data-series="Growth %"' in html and "<details class=\"chart-table\" open>" in html
    assert "fewer than 5" in html  # Black members: 2, never shown
    assert not summaries.never_counted()


def test_dashboard_links_figures_to_the_people_behind_them(region, client, login_as, db):
    summaries.refresh(full=True)
    db.session.commit()
    login_as(region.lead)
    html = client.get(f"/reports/?service_group={region.health.id}").get_data(as_text=True)
    assert "/reports/people?figure=joiners" in html
    assert '<th scope="row">Schools North (EDU)</th>' not in html
    assert '<th scope="row">Health B (HLB)</th>' in html
    people = client.get(f"/reports/people?figure=joiners&service_group={region.health.id}").get_data(as_text=True)
    for contact in region.h[0:3] + [region.k[3]]:
        assert contact.full_name in people and f"/contacts/{contact.id}" in people
    assert region.lapsed.full_name not in people


def test_branch_officer_sees_only_their_branches(region, client, login_as):
    login_as(region.officer)
    html = client.get("/reports/").get_data(as_text=True)
    assert "Health A (HLA)" in html
    assert "Health B (HLB)" not in html and "Schools North (EDU)" not in html
    # Naming another branch in the filter explains and shows their own figures only.
    html = client.get(f"/reports/?branch={region.hlb.id}").get_data(as_text=True)
    assert "Choose a branch from the list." in html and "Health B (HLB)" not in html
    people = client.get(f"/reports/people?figure=members&branch={region.hlb.id}").get_data(as_text=True)
    assert region.k[0].full_name not in people and region.h[0].full_name in people


def test_callers_have_no_reports(region, client, login_as, make, db):
    caller = make.user(Role.CALLER, branches=[region.hla])
    db.session.commit()
    login_as(caller)
    assert client.get("/reports/").status_code == 404
    assert client.get("/reports/people?figure=members").status_code == 404
    assert client.get("/reports/rr").status_code == 404


def test_unknown_figure_or_role_is_not_found(region, client, login_as):
    login_as(region.lead)
    assert client.get("/reports/people?figure=everyone").status_code == 404
    assert client.get("/reports/people?figure=reps&role=king").status_code == 404


def test_bad_filter_input_is_explained(region, client, login_as):
    login_as(region.lead)
    page = client.get("/reports/?from=31/02/2026&campaign=99999")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Enter the start date as a real date" in html and "Choose a campaign from the list." in html


def test_targets_are_prefilled_from_the_work_programme(region, client, login_as):
    login_as(region.admin)
    year = date.today().year + 1
    html = client.get(f"/reports/targets?year={year}").get_data(as_text=True)
    assert "Not saved yet" in html
    for name, value in (("growth_pct", "1.0"), ("joiner_calls_pct", "100.0"), ("leaver_calls_pct", "100.0"),
                        ("activist_growth_pct", "5.0"), ("schools_activist_growth_pct", "10.0"),
                        ("social_care_growth_pct", "5.0")):
        assert f'name="{name}" type="number" value="{value}"' in html or \
            f'id="{name}" name="{name}" step="any" type="number" value="{value}"' in html or f'value="{value}"' in html
    assert f'value="{year}-01-01"' in html


def test_admin_saves_targets_and_bad_input_is_explained(region, client, login_as, db):
    login_as(region.admin)
    year = date.today().year + 1
    data = dict(baseline_on=f"{year}-04-01", growth_pct="2", joiner_calls_pct="100", leaver_calls_pct="90",
                activist_growth_pct="5", schools_activist_growth_pct="10", social_care_growth_pct="5",
                fragmented_below="8")
    assert client.post(f"/reports/targets?year={year}", data=data).status_code == 302
    saved = db.session.execute(select(ReportTargets).where(ReportTargets.year == year)).scalar_one()
    assert (saved.baseline_on, saved.growth_pct, saved.leaver_calls_pct, saved.fragmented_below) == \
        (date(year, 4, 1), 2.0, 90.0, 8)
    bad = client.post(f"/reports/targets?year={year}", data=dict(data, leaver_calls_pct="150", baseline_on=""))
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Enter a percentage between 0 and 100." in html and "Enter the baseline date" in html


def test_campaign_leads_read_targets_but_cannot_change_them(region, client, login_as):
    login_as(region.lead)
    page = client.get("/reports/targets")
    assert page.status_code == 200 and 'name="growth_pct"' not in page.get_data(as_text=True)
    assert client.post("/reports/targets", data={"growth_pct": "50"}).status_code == 404

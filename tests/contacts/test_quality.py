"""Data quality per branch: figures checked against hand-counted members, one aggregate query, gap lists."""
from sqlalchemy import event

from crm.auth.roles import Role
from crm.contacts.quality import quality_by_branch
from crm.vocabulary import ContactStatus

from .helpers import listed_names


def _world(make, db):
    a, b, hidden = make.branch(code="AAA"), make.branch(code="BBB"), make.branch(code="ZZZ")
    trust = make.employer(name="Trust", branches=[a, b])
    site = make.workplace(trust, name="Site")
    # AAA: 4 members (+1 lapsed, not counted).
    make.contact(a, last_name="Full", employer=trust, workplace=site, job_title="Porter")          # everything
    make.contact(a, last_name="NoJob", employer=trust, workplace=site, job_title="", mobile=None)   # no job, no mobile
    make.contact(a, last_name="NoSite", employer=trust, job_title="Cook", email=None)              # no workplace/email
    make.contact(a, last_name="Bare", mobile=None, email=None)                                     # nothing
    make.contact(a, last_name="Gone", status=ContactStatus.LAPSED, mobile=None)
    # BBB: 1 member, ballot-ready; ZZZ is not the officer's.
    make.contact(b, last_name="Bee", employer=trust, workplace=site, job_title="Nurse")
    make.contact(hidden, last_name="Hidden")
    return a, b, hidden


def test_quality_figures_match_hand_counts(make, db):
    a, b, _hidden = _world(make, db)
    officer = make.user(Role.BRANCH_OFFICER, branches=[a, b])
    rows = {r.code: r for r in quality_by_branch(officer)}
    assert set(rows) == {"AAA", "BBB"}
    aaa = rows["AAA"]
    assert (aaa.members, aaa.with_mobile, aaa.with_email, aaa.with_workplace, aaa.with_job_title, aaa.ballot_ready) \
        == (4, 2, 2, 2, 2, 1)
    assert [aaa.percent(m) for m in ("with_mobile", "with_workplace", "ballot_ready")] == [50, 50, 25]
    assert (rows["BBB"].members, rows["BBB"].ballot_ready, rows["BBB"].percent("ballot_ready")) == (1, 1, 100)


def test_a_branch_with_no_members_shows_a_dash_not_a_division_error(client, make, db, login_as):
    empty = make.branch(code="EMPTY")
    login_as(make.user(Role.BRANCH_OFFICER, branches=[empty]))
    db.session.commit()
    page = client.get("/contacts/quality").get_data(as_text=True)
    assert "EMPTY" in page and "—" in page


def test_quality_is_one_query_whatever_the_number_of_branches(make, db):
    for _ in range(5):
        make.contact(make.branch())
    admin = make.user(Role.ADMIN)
    selects = []

    def spy(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        rows = quality_by_branch(admin)
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert len(rows) == 5 and len(selects) == 1 and "GROUP BY" in selects[0].upper()


def test_quality_page_shows_percentages_and_links_to_the_gaps(client, make, db, login_as):
    a, b, _hidden = _world(make, db)
    login_as(make.user(Role.BRANCH_OFFICER, branches=[a, b]))
    db.session.commit()
    page = client.get("/contacts/quality").get_data(as_text=True)
    assert "AAA" in page and "BBB" in page and "ZZZ" not in page
    assert "25%" in page and "50%" in page
    assert f"/contacts/quality/gaps?branch={a.id}&amp;gap=workplace" in page


def test_a_gap_link_lists_that_branchs_members_without_the_field(client, make, db, login_as):
    a, b, _hidden = _world(make, db)
    login_as(make.user(Role.BRANCH_OFFICER, branches=[a, b]))
    db.session.commit()
    response = client.get(f"/contacts/quality/gaps?branch={a.id}&gap=workplace")
    assert response.status_code == 302 and "f=" in response.headers["Location"]
    assert sorted(listed_names(client.get(response.headers["Location"]).get_data(as_text=True))) == ["Bare", "NoSite"]
    response = client.get(f"/contacts/quality/gaps?branch={a.id}&gap=ballot")
    names = sorted(listed_names(client.get(response.headers["Location"]).get_data(as_text=True)))
    assert names == ["Bare", "NoJob", "NoSite"]  # the lapsed member is not in the members' figures
    response = client.get("/contacts/quality/gaps?gap=mobile")
    assert sorted(listed_names(client.get(response.headers["Location"]).get_data(as_text=True))) == ["Bare", "NoJob"]


def test_a_gap_link_for_another_branch_is_404(client, make, db, login_as):
    a, _b, hidden = _world(make, db)
    login_as(make.user(Role.BRANCH_OFFICER, branches=[a]))
    db.session.commit()
    assert client.get(f"/contacts/quality/gaps?branch={hidden.id}&gap=workplace").status_code == 404
    assert client.get("/contacts/quality/gaps?branch=987654&gap=workplace").status_code == 404
    assert client.get(f"/contacts/quality/gaps?branch={a.id}&gap=nonsense").status_code == 404


def test_contacts_page_links_to_data_quality(client, make, db, login_as):
    login_as(make.user(Role.CAMPAIGN_LEAD))
    db.session.commit()
    assert 'href="/contacts/quality"' in client.get("/contacts/").get_data(as_text=True)
    assert client.get("/contacts/quality").status_code == 200

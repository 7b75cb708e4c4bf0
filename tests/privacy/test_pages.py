"""The data-protection overview and its place in the navigation."""
from crm.auth.roles import Role


def test_admin_reaches_data_protection_from_the_header_and_sees_open_breach_clocks(client, login_as, make, db):
    admin = make.user(Role.ADMIN)
    make.breach(title="Laptop left on a train")
    db.session.commit()
    login_as(admin)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/privacy/"' in home
    page = client.get("/admin/privacy/").get_data(as_text=True)
    assert "Laptop left on a train" in page and "h left to tell the ICO" in page
    assert "Retention" in page and "Who is due data-protection training" in page


def test_other_roles_see_no_data_protection_link(client, login_as, make, db):
    organiser = make.user(Role.ORGANISER)
    db.session.commit()
    login_as(organiser)
    assert 'href="/admin/privacy/"' not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/privacy/").status_code == 404

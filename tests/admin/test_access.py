"""Who may open the admin pages: everyone without the permission gets a 404, never a 403."""
import pytest

from crm.auth.roles import Role


def _admin_urls(app, objects):
    """Every admin route, with real ids filled in, and the methods it answers."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        values = {name: objects[name] for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((rule.endpoint, method, url))
    return urls


@pytest.fixture
def region(make, db):
    group = make.service_group()
    branch = make.branch(group=group)
    employer = make.employer(branches=[branch])
    workplace = make.workplace(employer)
    someone = make.user(Role.CALLER, branches=[branch])
    token, _ = make.api_token(someone)
    return {
        "service_group_id": group.id, "branch_id": branch.id, "employer_id": employer.id,
        "workplace_id": workplace.id, "user_id": someone.id, "token_id": token.id, "branch": branch,
    }


def test_every_admin_route_uses_the_agreed_parameter_names(app):
    allowed = {"service_group_id", "branch_id", "employer_id", "workplace_id", "user_id", "token_id"}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert len(rules) > 15
    for rule in rules:
        assert set(rule.arguments) <= allowed, rule.rule


@pytest.mark.parametrize("role", [Role.BRANCH_OFFICER, Role.CALLER, Role.CAMPAIGN_LEAD])
def test_roles_without_region_permission_get_404_on_every_admin_page(app, client, make, db, login_as, region, role):
    login_as(make.user(role, branches=[region["branch"]]))
    db.session.commit()
    for endpoint, method, url in _admin_urls(app, region):
        response = client.open(url, method=method, data={"name": "Sneaky", "confirm": "y"})
        assert response.status_code == 404, (endpoint, method, url)
    # and nothing changed on the way
    assert client.get("/admin/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, region, db):
    db.session.commit()
    response = client.get("/admin/branches/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_organiser_manages_the_region_but_not_users(app, client, make, db, login_as, region):
    login_as(make.user(Role.ORGANISER))
    db.session.commit()
    for endpoint, method, url in _admin_urls(app, region):
        if method != "GET":
            continue
        expected = 404 if endpoint.endswith(("_user", "users", "_user_password")) else 200
        assert client.get(url).status_code == expected, (endpoint, url)
    index = client.get("/admin/").get_data(as_text=True)
    assert "Branches" in index and "/admin/users/" not in index


def test_admin_sees_every_admin_page_and_the_users_card(app, client, make, db, login_as, region):
    login_as(make.user(Role.ADMIN))
    db.session.commit()
    for endpoint, method, url in _admin_urls(app, region):
        if method == "GET":
            assert client.get(url).status_code == 200, (endpoint, url)
    assert "/admin/users/" in client.get("/admin/").get_data(as_text=True)


def test_missing_objects_are_404(client, make, db, login_as):
    login_as(make.user(Role.ADMIN))
    db.session.commit()
    for url in ["/admin/branches/999/edit", "/admin/employers/999", "/admin/workplaces/999/edit",
                "/admin/service-groups/999/edit", "/admin/users/999/edit"]:
        assert client.get(url).status_code == 404, url


def test_index_counts_each_kind_of_object(client, make, db, login_as):
    group = make.service_group()
    make.branch(group=group)
    make.branch(group=group)
    employer = make.employer()
    make.workplace(employer)
    make.workplace(employer)
    make.workplace(employer)
    login_as(make.user(Role.ADMIN))
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert '<span class="stat">2</span>' in page  # branches
    assert "3 workplaces" in page

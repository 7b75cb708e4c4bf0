"""User accounts through the admin pages (regional admins only)."""
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.auth.models import User
from crm.auth.passwords import verify_password
from crm.auth.roles import Role

NEW_PASSWORD = "Mersey ferry 1959"


@pytest.fixture
def admin(make, db, login_as):
    user = make.user(Role.ADMIN, name="Ada Admin", email="ada@example.org")
    login_as(user)
    return user


def _user(db, email) -> User | None:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _count_users(db) -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _events(db, action):
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def _new_user(**changes):
    data = {"name": "Cal Caller", "email": "Cal@Example.org", "role": "caller",
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    data.update(changes)
    return data


def test_admin_creates_a_caller_for_their_branches(client, make, db, admin):
    branch = make.branch(code="NW-1")
    make.branch(code="NW-2")
    db.session.commit()
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert "Branch caller" in form and "NW-1" in form
    response = client.post("/admin/users/new", data=_new_user(branches=[str(branch.id)]))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users/"
    user = _user(db, "cal@example.org")
    assert user.role == Role.CALLER and [b.code for b in user.branches] == ["NW-1"]
    assert verify_password(user.password_hash, NEW_PASSWORD)
    [event] = _events(db, "user.create")
    assert event.user_id == admin.id and event.object_id == user.id


def test_caller_without_branches_is_refused(client, make, db, admin):
    make.branch()
    db.session.commit()
    response = client.post("/admin/users/new", data=_new_user())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#branches"' in page and "Choose at least one branch. A branch caller sees only" in page
    assert _count_users(db) == 1 and not _events(db, "user.create")


def test_duplicate_user_email_is_refused_next_to_the_email(client, make, db, admin):
    branch = make.branch()
    make.user(Role.CALLER, email="cal@example.org", branches=[branch])
    db.session.commit()
    response = client.post("/admin/users/new", data=_new_user(email="CAL@example.org ", branches=[str(branch.id)]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#email">There is already a user with the email cal@example.org.' in page
    assert _count_users(db) == 2


def test_passwords_must_match_and_be_strong(client, make, db, admin):
    db.session.commit()
    mismatch = client.post("/admin/users/new", data=_new_user(role="organiser", confirm="something else 1"))
    assert mismatch.status_code == 422 and "The two passwords do not match." in mismatch.get_data(as_text=True)
    weak = client.post("/admin/users/new", data=_new_user(role="organiser", password="short", confirm="short"))
    assert weak.status_code == 422
    assert 'href="#password">Use at least 10 characters.' in weak.get_data(as_text=True)
    assert _count_users(db) == 1


def test_region_wide_roles_are_not_given_branches(client, make, db, admin):
    branch = make.branch()
    db.session.commit()
    response = client.post("/admin/users/new", data=_new_user(email="org@example.org", role="organiser",
                                                              branches=[str(branch.id)]))
    assert response.status_code == 302
    assert _user(db, "org@example.org").branches == []


def test_user_is_edited_and_signed_out_when_their_access_shrinks(client, make, db, admin):
    first, second = make.branch(code="NW-1"), make.branch(code="NW-2")
    officer = make.user(Role.BRANCH_OFFICER, email="bo@example.org", branches=[first, second])
    db.session.commit()
    version = officer.session_version
    form = client.get(f"/admin/users/{officer.id}/edit").get_data(as_text=True)
    assert 'value="bo@example.org"' in form
    response = client.post(f"/admin/users/{officer.id}/edit", data={
        "name": "Bo Officer", "email": "bo@example.org", "role": "caller", "branches": [str(first.id)],
        "is_enabled": "y"})
    assert response.status_code == 302
    officer = _user(db, "bo@example.org")
    assert (officer.name, officer.role, [b.code for b in officer.branches]) == ("Bo Officer", Role.CALLER, ["NW-1"])
    assert officer.session_version == version + 1
    [event] = _events(db, "user.update")
    assert event.object_id == officer.id and "role=caller" in event.detail


def test_user_is_disabled_by_unticking_can_sign_in(client, make, db, admin):
    organiser = make.user(Role.ORGANISER, email="org@example.org")
    db.session.commit()
    response = client.post(f"/admin/users/{organiser.id}/edit", data={
        "name": organiser.name, "email": "org@example.org", "role": "organiser"})
    assert response.status_code == 302
    assert _user(db, "org@example.org").is_enabled is False


def test_edit_refuses_another_users_email(client, make, db, admin):
    organiser = make.user(Role.ORGANISER, email="org@example.org")
    db.session.commit()
    response = client.post(f"/admin/users/{organiser.id}/edit", data={
        "name": "Org", "email": "ada@example.org", "role": "organiser", "is_enabled": "y"})
    assert response.status_code == 422
    assert 'href="#email">There is already a user with the email ada@example.org.' in response.get_data(as_text=True)
    assert _user(db, "org@example.org") is not None


def test_admin_cannot_disable_or_demote_themselves(client, make, db, admin):
    db.session.commit()
    disable = client.post(f"/admin/users/{admin.id}/edit", data={
        "name": "Ada Admin", "email": "ada@example.org", "role": "admin"})
    assert disable.status_code == 422
    assert 'href="#is_enabled">You cannot change your own role or disable your own account.' in disable.get_data(as_text=True)
    demote = client.post(f"/admin/users/{admin.id}/edit", data={
        "name": "Ada Admin", "email": "ada@example.org", "role": "organiser", "is_enabled": "y"})
    assert demote.status_code == 422
    assert 'href="#role">You cannot change your own role' in demote.get_data(as_text=True)
    me = _user(db, "ada@example.org")
    assert me.role == Role.ADMIN and me.is_enabled
    assert client.get("/admin/users/").status_code == 200  # still signed in


def test_admin_renaming_themselves_stays_signed_in(client, make, db, admin):
    db.session.commit()
    response = client.post(f"/admin/users/{admin.id}/edit", data={
        "name": "Ada Lovelace", "email": "ada@example.org", "role": "admin", "is_enabled": "y"})
    assert response.status_code == 302
    assert client.get("/admin/users/").status_code == 200


def test_admin_sets_a_new_password_and_the_user_is_signed_out(client, make, db, admin):
    caller = make.user(Role.CALLER, email="cal@example.org", branches=[make.branch()])
    db.session.commit()
    version = caller.session_version
    mismatch = client.post(f"/admin/users/{caller.id}/password", data={"password": NEW_PASSWORD, "confirm": "nope"})
    assert mismatch.status_code == 422 and "do not match" in mismatch.get_data(as_text=True)
    response = client.post(f"/admin/users/{caller.id}/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    caller = _user(db, "cal@example.org")
    assert verify_password(caller.password_hash, NEW_PASSWORD) and caller.session_version == version + 1
    [event] = _events(db, "user.password")
    assert event.user_id == admin.id and event.object_id == caller.id


def test_user_list_shows_roles_branches_and_filters_by_role(client, make, db, admin):
    branch = make.branch(code="NW-7")
    make.user(Role.CALLER, name="Cal Caller", branches=[branch])
    make.user(Role.ORGANISER, name="Olu Organiser")
    make.user(Role.BRANCH_OFFICER, name="Bo Officer", is_enabled=False, branches=[branch])
    db.session.commit()
    page = client.get("/admin/users/").get_data(as_text=True)
    for text in ["Cal Caller", "Branch caller", "NW-7", "Olu Organiser", "All branches", "Disabled", "Never"]:
        assert text in page, text
    callers = client.get("/admin/users/?role=caller").get_data(as_text=True)
    assert "Cal Caller" in callers and "Olu Organiser" not in callers
    assert client.get("/admin/users/?role=nonsense").status_code == 200


def test_admin_whose_own_save_bumps_their_session_stays_signed_in(client, make, db, login_as):
    me = make.user(Role.ADMIN, email="ada@example.org", branches=[make.branch()])  # branches from an old role
    login_as(me)
    db.session.commit()
    version = me.session_version
    response = client.post(f"/admin/users/{me.id}/edit", data={
        "name": "Ada", "email": "ada@example.org", "role": "admin", "is_enabled": "y"})
    assert response.status_code == 302
    assert _user(db, "ada@example.org").session_version == version + 1  # other sessions signed out
    assert client.get("/admin/users/").status_code == 200  # this one kept

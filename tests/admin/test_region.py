"""Service groups, branches, employers and workplaces through the admin pages."""
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.region.models import Branch, Employer, ServiceGroup, Workplace
from crm.vocabulary import SERVICE_GROUPS, ContactStatus, EmployerKind


@pytest.fixture
def admin(make, db, login_as):
    user = make.user(Role.ORGANISER, name="Olu Organiser")
    login_as(user)
    return user


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def _reload(db, model, object_id):
    """The row as the database has it now (the request ran in its own session)."""
    db.session.expire_all()
    return db.session.get(model, object_id)


def _page(response) -> str:
    return response.get_data(as_text=True)


# --- Service groups ---------------------------------------------------------------------------


def test_service_group_is_created_and_audited(client, db, admin):
    db.session.commit()
    response = client.post("/admin/service-groups/new", data={"name": "  Health  "})
    assert response.status_code == 302
    group = db.session.execute(select(ServiceGroup)).scalar_one()
    assert group.name == "Health"
    [event] = _events(db, "service_group.create")
    assert event.user_id == admin.id and event.object_id == group.id
    assert "Health" in _page(client.get("/admin/service-groups/"))


def test_duplicate_service_group_name_is_refused_whatever_the_case(client, make, db, admin):
    make.service_group("Health")
    db.session.commit()
    response = client.post("/admin/service-groups/new", data={"name": "health"})
    assert response.status_code == 422
    assert "There is already a service group called health" in _page(response)
    assert _count(db, ServiceGroup) == 1


def test_service_group_is_renamed(client, make, db, admin):
    group = make.service_group("Helth")
    db.session.commit()
    assert "Helth" in _page(client.get(f"/admin/service-groups/{group.id}/edit"))
    response = client.post(f"/admin/service-groups/{group.id}/edit", data={"name": "Health"})
    assert response.status_code == 302
    assert _reload(db, ServiceGroup, group.id).name == "Health"
    [event] = _events(db, "service_group.rename")
    assert "Helth → Health" in event.detail


def test_add_standard_service_groups_adds_only_the_missing_ones(client, make, db, admin):
    make.service_group("Health")
    db.session.commit()
    page = _page(client.get("/admin/service-groups/"))
    assert "Add the standard service groups" in page and "Police &amp; Justice" in page
    response = client.post("/admin/service-groups/standard")
    assert response.status_code == 302
    names = sorted(db.session.execute(select(ServiceGroup.name)).scalars())
    assert names == sorted(SERVICE_GROUPS)
    assert len(_events(db, "service_group.create")) == len(SERVICE_GROUPS) - 1
    assert "Add the standard service groups" not in _page(client.get("/admin/service-groups/"))


def test_service_group_list_counts_its_branches(client, make, db, admin):
    group = make.service_group("Health")
    make.branch(group=group)
    make.branch(group=group)
    db.session.commit()
    page = _page(client.get("/admin/service-groups/"))
    assert f'href="/admin/branches/?service_group={group.id}">2</a>' in page


def test_empty_service_group_is_deleted_after_confirmation(client, make, db, admin):
    group = make.service_group("Spare")
    db.session.commit()
    confirm = client.get(f"/admin/service-groups/{group.id}/delete")
    assert confirm.status_code == 200 and "Yes, delete this service group" in _page(confirm)
    assert client.post(f"/admin/service-groups/{group.id}/delete").status_code == 302
    assert _count(db, ServiceGroup) == 0
    [event] = _events(db, "service_group.delete")
    assert event.object_id == group.id


def test_service_group_with_branches_cannot_be_deleted(client, make, db, admin):
    group = make.service_group("Health")
    make.branch(group=group)
    db.session.commit()
    confirm = _page(client.get(f"/admin/service-groups/{group.id}/delete"))
    assert "cannot be deleted while it still has 1 branch" in confirm and "Yes, delete" not in confirm
    response = client.post(f"/admin/service-groups/{group.id}/delete")
    assert response.status_code == 409
    assert "Move its branches to another service group first" in _page(response)
    assert _count(db, ServiceGroup) == 1 and not _events(db, "service_group.delete")


# --- Branches ---------------------------------------------------------------------------------


def test_branch_is_created_with_an_upper_case_code_and_its_employers(client, make, db, admin):
    group = make.service_group("Health")
    trust = make.employer("Alder Hey Children's NHS FT")
    db.session.commit()
    response = client.post("/admin/branches/new", data={
        "code": " nw-0123 ", "name": "Alder Hey Health", "service_group": str(group.id), "employers": [str(trust.id)],
    })
    assert response.status_code == 302
    branch = db.session.execute(select(Branch)).scalar_one()
    assert (branch.code, branch.name, branch.service_group_id) == ("NW-0123", "Alder Hey Health", group.id)
    assert [e.id for e in branch.employers] == [trust.id]
    [event] = _events(db, "branch.create")
    assert event.object_id == branch.id and "NW-0123" in event.detail


def test_duplicate_branch_code_is_refused_with_a_clear_message(client, make, db, admin):
    group = make.service_group()
    make.branch(code="NW-0123", name="Alder Hey Health", group=group)
    db.session.commit()
    response = client.post("/admin/branches/new", data={
        "code": "nw-0123", "name": "Another", "service_group": str(group.id)})
    assert response.status_code == 422
    page = _page(response)
    assert "There is a problem" in page and 'href="#code"' in page
    assert "The branch code NW-0123 is already used by Alder Hey Health" in page
    assert _count(db, Branch) == 1 and not _events(db, "branch.create")


def test_branch_form_lists_each_missing_or_bad_answer(client, make, db, admin):
    make.service_group()
    db.session.commit()
    response = client.post("/admin/branches/new", data={"code": "NW 01/23", "name": "", "service_group": ""})
    assert response.status_code == 422
    page = _page(response)
    assert "Use only letters, numbers and hyphens" in page
    assert "Enter the branch name." in page
    assert "Choose the branch&#39;s service group." in page
    assert _count(db, Branch) == 0


def test_branch_is_edited_and_the_change_audited(client, make, db, admin):
    health, local_gov = make.service_group("Health"), make.service_group("Local Government")
    old_employer, new_employer = make.employer("Old Trust"), make.employer("New Council")
    branch = make.branch(code="NW-1", name="Old name", group=health)
    branch.employers = [old_employer]
    db.session.commit()
    form = _page(client.get(f"/admin/branches/{branch.id}/edit"))
    assert 'value="NW-1"' in form and "Old Trust" in form
    response = client.post(f"/admin/branches/{branch.id}/edit", data={
        "code": "nw-2", "name": "New name", "service_group": str(local_gov.id), "employers": [str(new_employer.id)]})
    assert response.status_code == 302
    branch = _reload(db, Branch, branch.id)
    assert (branch.code, branch.name, branch.service_group_id) == ("NW-2", "New name", local_gov.id)
    assert [e.name for e in branch.employers] == ["New Council"]
    [event] = _events(db, "branch.update")
    assert "NW-1 → NW-2" in event.detail and "name" in event.detail


def test_branch_keeps_its_own_code_when_saved_unchanged(client, make, db, admin):
    branch = make.branch(code="NW-1")
    db.session.commit()
    response = client.post(f"/admin/branches/{branch.id}/edit", data={
        "code": "NW-1", "name": branch.name, "service_group": str(branch.service_group_id)})
    assert response.status_code == 302
    assert not _events(db, "branch.update")  # nothing changed, nothing to audit


def test_branch_list_counts_members_and_employers(client, make, db, admin):
    branch = make.branch(code="NW-1")
    make.contact(branch)
    make.contact(branch)
    make.contact(branch, status=ContactStatus.LAPSED)
    make.contact(branch, status=ContactStatus.SUPPORTER)
    branch.employers = [make.employer(), make.employer(), make.employer()]
    db.session.commit()
    page = _page(client.get("/admin/branches/"))
    row = page[page.index(">NW-1</a>"):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">2</td>' in row  # members only: not the lapsed member or the supporter
    assert '<td class="num">3</td>' in row


def test_branch_list_filters_by_service_group_and_pages(app, client, make, db, admin, monkeypatch):
    health, energy = make.service_group("Health"), make.service_group("Energy")
    for n in range(3):
        make.branch(code=f"H-{n}", group=health)
    make.branch(code="E-1", group=energy)
    db.session.commit()
    page = _page(client.get(f"/admin/branches/?service_group={health.id}"))
    assert "H-0" in page and "H-2" in page and "E-1" not in page
    monkeypatch.setitem(app.config, "ADMIN_PER_PAGE", 2)
    first = _page(client.get("/admin/branches/"))
    assert "of 4 branches" in first and "E-1" in first and "H-2" not in first
    second = _page(client.get("/admin/branches/?page=2"))
    assert "H-1" in second and "H-2" in second and "E-1" not in second


def test_empty_branch_is_deleted_and_audited(client, make, db, admin):
    branch = make.branch(code="GONE")
    branch.employers = [make.employer()]
    db.session.commit()
    assert "Yes, delete this branch" in _page(client.get(f"/admin/branches/{branch.id}/delete"))
    assert client.post(f"/admin/branches/{branch.id}/delete").status_code == 302
    assert _count(db, Branch) == 0 and _count(db, Employer) == 1
    [event] = _events(db, "branch.delete")
    assert event.object_id == branch.id and "GONE" in event.detail


def test_branch_with_contacts_or_users_cannot_be_deleted(client, make, db, admin):
    branch = make.branch(code="BUSY")
    make.contact(branch)
    make.contact(branch, status=ContactStatus.LAPSED)
    make.user(Role.CALLER, branches=[branch])
    db.session.commit()
    response = client.post(f"/admin/branches/{branch.id}/delete")
    assert response.status_code == 409
    page = _page(response)
    assert "Branch BUSY cannot be deleted while it still has 2 contacts and 1 user" in page
    assert _count(db, Branch) == 1 and not _events(db, "branch.delete")


# --- Employers --------------------------------------------------------------------------------


def _employer_data(**changes):
    data = {"name": "Liverpool University Hospitals NHS FT", "kind": "nhs_trust",
            "chief_executive_name": "Pat Chief", "chief_executive_email": "Chief.Exec@liverpoolft.nhs.uk"}
    data.update(changes)
    return data


def test_employer_is_created_with_its_chief_executive(client, make, db, admin):
    branch = make.branch(code="NW-1")
    db.session.commit()
    response = client.post("/admin/employers/new", data=_employer_data(branches=[str(branch.id)]))
    employer = db.session.execute(select(Employer)).scalar_one()
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/employers/{employer.id}"
    assert employer.kind == EmployerKind.NHS_TRUST
    assert (employer.chief_executive_name, employer.chief_executive_email) == ("Pat Chief", "Chief.Exec@liverpoolft.nhs.uk")
    assert [b.code for b in employer.branches] == ["NW-1"]
    [event] = _events(db, "employer.create")
    assert event.object_id == employer.id and "Pat" not in (event.detail or "")


def test_invalid_chief_executive_email_is_refused(client, make, db, admin):
    db.session.commit()
    response = client.post("/admin/employers/new", data=_employer_data(chief_executive_email="pat.chief@nhs"))
    assert response.status_code == 422
    page = _page(response)
    assert 'href="#chief_executive_email"' in page and "Enter an email address in the right format" in page
    assert _count(db, Employer) == 0


def test_duplicate_employer_name_is_refused_whatever_the_case(client, make, db, admin):
    make.employer("Wirral Council", kind=EmployerKind.COUNCIL)
    db.session.commit()
    response = client.post("/admin/employers/new", data=_employer_data(name="WIRRAL council", kind="council"))
    assert response.status_code == 422
    assert "There is already an employer called Wirral Council." in _page(response)
    assert _count(db, Employer) == 1


def test_employer_is_edited_and_the_audit_names_fields_not_values(client, make, db, admin):
    branch = make.branch()
    employer = make.employer("Old name", chief_executive_email="old@trust.nhs.uk", branches=[branch])
    db.session.commit()
    form = _page(client.get(f"/admin/employers/{employer.id}/edit"))
    assert 'value="old@trust.nhs.uk"' in form
    response = client.post(f"/admin/employers/{employer.id}/edit", data=_employer_data(
        name="New name", kind="council", chief_executive_email="new@council.gov.uk"))
    assert response.status_code == 302
    employer = _reload(db, Employer, employer.id)
    assert (employer.name, employer.kind, employer.chief_executive_email) == ("New name", EmployerKind.COUNCIL, "new@council.gov.uk")
    assert employer.branches == []  # unticked
    [event] = _events(db, "employer.update")
    assert "chief_executive_email" in event.detail and "new@council.gov.uk" not in event.detail


def test_employer_list_searches_by_name_and_counts_workplaces(client, make, db, admin):
    wirral = make.employer("Wirral Council")
    make.workplace(wirral)
    make.workplace(wirral)
    make.employer("Sefton Council")
    db.session.commit()
    page = _page(client.get("/admin/employers/?q=wirr"))
    assert "Wirral Council" in page and "Sefton Council" not in page
    assert '<td class="num">2</td>' in page
    assert "No employer" in _page(client.get("/admin/employers/?q=100%25"))


def test_employer_page_shows_its_workplaces_and_branches(client, make, db, admin):
    branch = make.branch(code="NW-9")
    employer = make.employer("Mersey Care", branches=[branch])
    make.workplace(employer, name="Ashworth Hospital", postcode="L31 1HW")
    db.session.commit()
    page = _page(client.get(f"/admin/employers/{employer.id}"))
    assert "Ashworth Hospital" in page and "L31 1HW" in page and "NW-9" in page


def test_employer_nobody_works_at_is_deleted_with_its_workplaces(client, make, db, admin):
    employer = make.employer("Closing Trust", branches=[make.branch()])
    make.workplace(employer)
    make.workplace(employer)
    db.session.commit()
    assert "Its 2 workplaces will be deleted too" in _page(client.get(f"/admin/employers/{employer.id}/delete"))
    response = client.post(f"/admin/employers/{employer.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/employers/"
    assert _count(db, Employer) == 0 and _count(db, Workplace) == 0 and _count(db, Branch) == 1
    assert len(_events(db, "employer.delete")) == 1


def test_employer_with_contacts_at_it_or_its_workplaces_cannot_be_deleted(client, make, db, admin):
    branch = make.branch()
    employer = make.employer("Busy Trust")
    site = make.workplace(employer)
    make.contact(branch, employer=employer)
    make.contact(branch, workplace=site)  # recorded at the site without the employer
    make.contact(branch, employer=employer, workplace=site)  # counted once
    db.session.commit()
    response = client.post(f"/admin/employers/{employer.id}/delete")
    assert response.status_code == 409
    assert "Busy Trust cannot be deleted while it still has 3 contacts" in _page(response)
    assert _count(db, Employer) == 1 and _count(db, Workplace) == 1


# --- Workplaces -------------------------------------------------------------------------------


def test_workplace_is_added_with_a_normalised_postcode(client, make, db, admin):
    employer = make.employer()
    db.session.commit()
    response = client.post(f"/admin/employers/{employer.id}/workplaces/new", data={
        "name": "Royal Liverpool Hospital", "postcode": "l7 8xp", "headcount": "4,200", "notes": "Main site"})
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/employers/{employer.id}"
    workplace = db.session.execute(select(Workplace)).scalar_one()
    assert (workplace.employer_id, workplace.postcode, workplace.headcount, workplace.notes) == (employer.id, "L7 8XP", 4200, "Main site")
    [event] = _events(db, "workplace.create")
    assert event.object_id == workplace.id


def test_invalid_postcode_is_refused_with_a_clear_message(client, make, db, admin):
    employer = make.employer()
    db.session.commit()
    response = client.post(f"/admin/employers/{employer.id}/workplaces/new", data={"name": "Site", "postcode": "L7 XP8"})
    assert response.status_code == 422
    page = _page(response)
    assert 'href="#postcode"' in page and "Enter a real UK postcode, like L3 8EN." in page
    assert _count(db, Workplace) == 0


@pytest.mark.parametrize("headcount", ["0", "-3", "lots", "2.5"])
def test_headcount_must_be_a_positive_whole_number(client, make, db, admin, headcount):
    employer = make.employer()
    db.session.commit()
    response = client.post(f"/admin/employers/{employer.id}/workplaces/new", data={"name": "Site", "headcount": headcount})
    assert response.status_code == 422
    assert "Enter the headcount as a whole number of 1 or more" in _page(response)
    assert _count(db, Workplace) == 0


def test_workplace_names_are_unique_within_an_employer_only(client, make, db, admin):
    first, second = make.employer("First Trust"), make.employer("Second Trust")
    make.workplace(first, name="Main Site")
    db.session.commit()
    refused = client.post(f"/admin/employers/{first.id}/workplaces/new", data={"name": "main site"})
    assert refused.status_code == 422
    assert "First Trust already has a workplace called Main Site." in _page(refused)
    allowed = client.post(f"/admin/employers/{second.id}/workplaces/new", data={"name": "Main Site"})
    assert allowed.status_code == 302
    assert _count(db, Workplace) == 2


def test_workplace_is_edited_and_blank_optional_answers_are_cleared(client, make, db, admin):
    workplace = make.workplace(name="Old", postcode="L1 8JQ", headcount=10, notes="x")
    db.session.commit()
    form = _page(client.get(f"/admin/workplaces/{workplace.id}/edit"))
    assert 'value="L1 8JQ"' in form and 'value="10"' in form
    response = client.post(f"/admin/workplaces/{workplace.id}/edit",
                           data={"name": "New", "postcode": "", "headcount": "", "notes": ""})
    assert response.status_code == 302
    workplace = _reload(db, Workplace, workplace.id)
    assert (workplace.name, workplace.postcode, workplace.headcount, workplace.notes) == ("New", None, None, None)
    [event] = _events(db, "workplace.update")
    assert event.detail == "changed: name, postcode, headcount, notes"


def test_empty_workplace_is_deleted(client, make, db, admin):
    workplace = make.workplace()
    employer_id = workplace.employer_id
    db.session.commit()
    response = client.post(f"/admin/workplaces/{workplace.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/employers/{employer_id}"
    assert _count(db, Workplace) == 0 and _count(db, Employer) == 1
    assert len(_events(db, "workplace.delete")) == 1


def test_workplace_with_contacts_cannot_be_deleted(client, make, db, admin):
    workplace = make.workplace(name="Busy Site")
    make.contact(make.branch(), workplace=workplace, employer=workplace.employer)
    db.session.commit()
    response = client.post(f"/admin/workplaces/{workplace.id}/delete")
    assert response.status_code == 409
    assert "Busy Site cannot be deleted while it still has 1 contact." in _page(response)
    assert _count(db, Workplace) == 1

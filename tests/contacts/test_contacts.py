from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.vocabulary import ContactStatus


def _search(client, **data):
    response = client.post("/contacts/", data={"q": "", "branch": "", "status": "", "payment": "", **data})
    assert response.status_code == 302
    return client.get(response.headers["Location"])


def test_branch_officer_sees_only_their_branch_members(client, make, db, login_as):
    home, other = make.branch(code="HOME"), make.branch(code="AWAY")
    make.contact(home, first_name="Hana", last_name="Homeley")
    make.contact(other, first_name="Otto", last_name="Otherton")
    login_as(make.user(Role.BRANCH_OFFICER, branches=[home]))
    db.session.commit()
    page = client.get("/contacts/").get_data(as_text=True)
    assert "Homeley" in page and "Otherton" not in page
    assert "of 1 contacts" in page


def test_campaign_lead_sees_the_whole_region(client, make, db, login_as):
    make.contact(make.branch(), last_name="Alpha")
    make.contact(make.branch(), last_name="Beta")
    login_as(make.user(Role.CAMPAIGN_LEAD))
    db.session.commit()
    page = client.get("/contacts/").get_data(as_text=True)
    assert "Alpha" in page and "Beta" in page


def test_caller_has_no_contacts_pages(client, make, db, login_as):
    branch = make.branch()
    contact = make.contact(branch)
    login_as(make.user(Role.CALLER, branches=[branch]))
    db.session.commit()
    assert client.get("/contacts/").status_code == 404
    assert client.get(f"/contacts/{contact.id}").status_code == 404


def test_search_terms_never_appear_in_the_url(client, make, db, login_as):
    branch = make.branch()
    make.contact(branch, last_name="Searchable", email="jo.searchable@example.org")
    login_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    db.session.commit()
    response = client.post("/contacts/", data={"q": "jo.searchable@example.org", "branch": "", "status": "", "payment": ""})
    location = response.headers["Location"]
    assert "searchable" not in location.lower() and "example.org" not in location
    assert "Searchable" in client.get(location).get_data(as_text=True)


def test_search_by_each_identifier(client, make, db, login_as):
    branch = make.branch()
    make.contact(branch, first_name="Priya", last_name="Shah", membership_number="40012345",
                 email="priya.shah@example.org", mobile="+447700900123", postcode="L8 7SS")
    make.contact(branch, first_name="Tom", last_name="Other", membership_number="40099999",
                 email="tom@example.org", mobile="+447700900999", postcode="CH41 1AA")
    login_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    db.session.commit()
    for term in ["shah", "Priya Sh", "40012345", "PRIYA.SHAH@example.org", "07700 900123", "+44 7700 900123", "l87ss"]:
        page = _search(client, q=term).get_data(as_text=True)
        assert "Shah" in page and "Other, Tom" not in page, term


def test_filter_by_status_and_branch_within_scope(client, make, db, login_as):
    a, b, c = make.branch(code="AAA"), make.branch(code="BBB"), make.branch(code="CCC")
    make.contact(a, last_name="Active")
    make.contact(a, last_name="Lapsed", status=ContactStatus.LAPSED)
    make.contact(b, last_name="Bee")
    make.contact(c, last_name="Hidden")
    officer = make.user(Role.BRANCH_OFFICER, branches=[a, b])
    login_as(officer)
    db.session.commit()
    page = _search(client, status="lapsed").get_data(as_text=True)
    assert "Lapsed" in page and "Active" not in page
    page = _search(client, branch=str(b.id)).get_data(as_text=True)
    assert "Bee" in page and "Active" not in page
    # A branch outside the user's scope is not a valid choice.
    response = client.post("/contacts/", data={"q": "", "branch": str(c.id), "status": "", "payment": ""})
    assert response.status_code == 422 and "Hidden" not in response.get_data(as_text=True)


def test_no_match_explains_what_to_try(client, make, db, login_as):
    branch = make.branch()
    make.contact(branch)
    login_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    db.session.commit()
    assert "No contacts match that search" in _search(client, q="Zzyzx").get_data(as_text=True)


def test_paging_moves_through_the_list(client, make, db, login_as, app):
    branch = make.branch()
    for i in range(app.config["CONTACTS_PER_PAGE"] + 5):
        make.contact(branch, last_name=f"Name{i:03d}")
    login_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    db.session.commit()
    first = client.get("/contacts/").get_data(as_text=True)
    assert "Name000" in first and "Name054" not in first and "Page 1 of 2" in first
    second = client.get("/contacts/?page=2").get_data(as_text=True)
    assert "Name054" in second and "Name000" not in second
    assert client.get("/contacts/?page=999").status_code == 200


def test_contact_page_shows_details_and_audits_the_view(client, make, db, login_as):
    branch = make.branch()
    contact = make.contact(branch, first_name="Ada", last_name="Lovelace", job_title="Staff Nurse")
    make.activist_role(contact)
    make.consent(contact)
    officer = make.user(Role.BRANCH_OFFICER, branches=[branch])
    login_as(officer)
    db.session.commit()
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Ada Lovelace" in page and "Staff Nurse" in page and "Steward (rep)" in page and "Agreed" in page
    event = db.session.query(AuditEvent).filter_by(action="contact.view").one()
    assert (event.user_id, event.object_type, event.object_id) == (officer.id, "contact", contact.id)

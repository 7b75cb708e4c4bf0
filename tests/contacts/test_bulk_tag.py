"""Bulk tag and untag: the whole filtered set (every page), after a confirmation, in one statement, audited."""
import re

from sqlalchemy import event, func, select

from crm.audit.models import AuditEvent
from crm.auth.roles import Role
from crm.contacts.models import Tag, contact_tag
from crm.vocabulary import ContactStatus

from .helpers import filter_key, search


def _tagged(db, tag_name: str) -> set[int]:
    return set(db.session.execute(
        select(contact_tag.c.contact_id).join(Tag, Tag.id == contact_tag.c.tag_id).where(Tag.name == tag_name)
    ).scalars())


def _setup(make, db, login_as, app, members=None):
    home, away = make.branch(code="HOME"), make.branch(code="AWAY")
    per_page = app.config["CONTACTS_PER_PAGE"]
    members = [make.contact(home, last_name=f"Member{i:03d}") for i in range(members or per_page + 7)]
    lapsed = make.contact(home, last_name="Lapsed", status=ContactStatus.LAPSED)
    away_member = make.contact(away, last_name="Away")
    officer = make.user(Role.BRANCH_OFFICER, branches=[home])
    login_as(officer)
    db.session.commit()
    return {"members": members, "lapsed": lapsed, "away": away_member, "officer": officer}


def test_bulk_tag_covers_every_page_of_the_filtered_set_after_confirmation(client, make, db, login_as, app):
    world = _setup(make, db, login_as, app)
    listing = search(client, status="member")
    key = filter_key(listing)
    assert "Page 1 of 2" in listing.get_data(as_text=True)

    check = client.post("/contacts/bulk-tag", data={"f": key, "tag": "Strike ballot 2025", "action": "add"})
    page = check.get_data(as_text=True)
    assert check.status_code == 200
    assert f"to {len(world['members'])} contacts?" in page and "is a new tag" in page
    assert _tagged(db, "Strike ballot 2025") == set()  # nothing happens before the confirmation

    done = client.post("/contacts/bulk-tag", data={"f": key, "tag": "Strike ballot 2025", "action": "add",
                                                   "confirm": "yes"})
    assert done.status_code == 302 and f"f={key}" in done.headers["Location"]
    assert _tagged(db, "Strike ballot 2025") == {c.id for c in world["members"]}
    assert f"added to {len(world['members'])} contacts" in client.get(done.headers["Location"]).get_data(as_text=True)

    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contacts.bulk_tag")).scalar_one()
    assert event.user_id == world["officer"].id
    assert f"rows={len(world['members'])}" in event.detail and "tag=Strike ballot 2025" in event.detail
    assert "action=add" in event.detail and "status=member" in event.detail


def test_bulk_tag_confirmation_counts_only_contacts_that_change(client, make, db, login_as, app):
    world = _setup(make, db, login_as, app, members=5)
    tag = make.tag("Holiday pay")
    world["members"][0].tags.append(tag)
    world["members"][1].tags.append(tag)
    db.session.commit()
    key = filter_key(search(client, status="member"))
    page = client.post("/contacts/bulk-tag", data={"f": key, "tag": "holiday pay", "action": "add"}).get_data(as_text=True)
    assert "to 3 contacts?" in page
    page = client.post("/contacts/bulk-tag", data={"f": key, "tag": "Holiday pay", "action": "remove"}).get_data(as_text=True)
    assert "from 2 contacts?" in page


def test_bulk_untag_removes_the_tag_only_inside_the_filter_and_scope(client, make, db, login_as, app):
    world = _setup(make, db, login_as, app, members=3)
    tag = make.tag("Old campaign")
    for c in [*world["members"], world["lapsed"], world["away"]]:
        c.tags.append(tag)
    db.session.commit()
    key = filter_key(search(client, status="member"))
    client.post("/contacts/bulk-tag", data={"f": key, "tag": "Old campaign", "action": "remove", "confirm": "yes"})
    assert _tagged(db, "Old campaign") == {world["lapsed"].id, world["away"].id}
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contacts.bulk_tag")).scalar_one()
    assert "action=remove" in event.detail and "rows=3" in event.detail


def test_bulk_tag_never_reaches_another_branch(client, make, db, login_as, app):
    world = _setup(make, db, login_as, app, members=2)
    client.post("/contacts/bulk-tag", data={"f": "", "tag": "Everyone", "action": "add", "confirm": "yes"})
    assert world["away"].id not in _tagged(db, "Everyone")
    assert len(_tagged(db, "Everyone")) == 3  # two members and the lapsed member of HOME


def test_bulk_tag_is_one_statement_not_a_loop(client, make, db, login_as, app):
    _setup(make, db, login_as, app, members=30)
    key = filter_key(search(client, status="member"))
    writes = []

    def spy(conn, cursor, statement, *args):
        if "contact_tag" in statement and statement.lstrip().upper().startswith(("INSERT", "DELETE")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        client.post("/contacts/bulk-tag", data={"f": key, "tag": "Bulk", "action": "add", "confirm": "yes"})
        client.post("/contacts/bulk-tag", data={"f": key, "tag": "Bulk", "action": "remove", "confirm": "yes"})
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert len(writes) == 2 and "SELECT" in writes[0].upper()


def test_bulk_tag_audit_never_holds_the_search_text(client, make, db, login_as, app):
    world = _setup(make, db, login_as, app, members=2)
    key = filter_key(search(client, q=world["members"][0].email))
    client.post("/contacts/bulk-tag", data={"f": key, "tag": "Found", "action": "add", "confirm": "yes"})
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contacts.bulk_tag")).scalar_one()
    assert world["members"][0].email not in event.detail and "q=<search text>" in event.detail
    assert _tagged(db, "Found") == {world["members"][0].id}


def test_bulk_tag_without_a_tag_explains_what_to_do(client, make, db, login_as, app):
    _setup(make, db, login_as, app, members=1)
    response = client.post("/contacts/bulk-tag", data={"f": "", "tag": "  ", "action": "add"})
    assert response.status_code == 422
    assert "Enter a tag, or choose one from the list." in response.get_data(as_text=True)
    response = client.post("/contacts/bulk-tag", data={"f": "", "tag": "No such tag", "action": "remove"})
    assert response.status_code == 422 and "There is no tag called" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "contacts.bulk_tag")).scalar_one() == 0


def test_bulk_tag_with_an_expired_search_changes_nothing(client, make, db, login_as, app):
    _setup(make, db, login_as, app, members=2)
    response = client.post("/contacts/bulk-tag", data={"f": "gone", "tag": "X", "action": "add", "confirm": "yes"})
    assert response.status_code == 302
    assert _tagged(db, "X") == set()
    assert "That search has expired" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_set_filtered_by_self_organised_group_cannot_be_bulk_tagged(client, make, db, login_as, app):
    _setup(make, db, login_as, app, members=2)
    key = filter_key(search(client, sog="women"))
    response = client.post("/contacts/bulk-tag", data={"f": key, "tag": "X", "action": "add", "confirm": "yes"})
    assert response.status_code == 422 and "special-category" in response.get_data(as_text=True)
    assert db.session.execute(select(Tag).where(Tag.name == "X")).first() is None


def test_list_page_offers_bulk_tag_and_export_forms_to_officers(client, make, db, login_as, app):
    _setup(make, db, login_as, app, members=2)
    page = search(client, status="member").get_data(as_text=True)
    assert 'action="/contacts/bulk-tag"' in page and 'action="/contacts/export"' in page
    assert re.search(r'name="f" type="hidden" value="[\w-]+"', page)

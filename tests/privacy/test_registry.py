"""The contact-table registry is found by introspection, and every text column in it is classified."""
from sqlalchemy import String, Text

from crm.extensions import db
from crm.privacy.registry import CONTACT_TABLE, contact_tables, unclassified_columns


def test_every_text_column_of_a_table_about_contacts_is_classified():
    missing = unclassified_columns(db.metadata)
    assert not missing, (
        "Classify these columns in crm/privacy/registry.py (PERSONAL_TEXT: erased and exported; "
        f"NOT_PERSONAL: codes and states): {missing}")


def test_the_registry_includes_every_table_that_refers_to_a_contact():
    found = {t.name for t in contact_tables(db.metadata)}
    for table in db.metadata.sorted_tables:
        refers = any(fk.column.table.name == CONTACT_TABLE for fk in table.foreign_keys) or "contact_id" in table.c
        if refers and table.name != CONTACT_TABLE:
            assert table.name in found, table.name
    # A child of a contact table (a suppression caused by one of their messages) is theirs too.
    assert "suppression" in found


def test_contact_personal_columns_cover_every_identifier():
    from crm.privacy.registry import PERSONAL_TEXT

    contact = db.metadata.tables[CONTACT_TABLE]
    texts = {c.name for c in contact.columns if isinstance(c.type, (String, Text))}
    assert {"first_name", "last_name", "email", "mobile", "membership_number", "postcode"} <= PERSONAL_TEXT["contact"]
    assert texts <= PERSONAL_TEXT["contact"] | {"status", "payment_method"}

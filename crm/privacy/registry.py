"""Which tables hold data about a contact, found by introspecting the models, and how erasure
treats each of their text columns.

A table belongs to a contact's record when it has a foreign key to contact.id or a `contact_id`
column (direct), or a foreign key to a direct table's row (a child, e.g. a suppression caused by
one of their messages). Tables added later are picked up without any change here; only their
text columns must be classified below, and tests/privacy/test_registry.py fails until they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import JSON, MetaData, String, Table, Text
from sqlalchemy.sql.schema import Column

CONTACT_TABLE = "contact"

# Personal text per table: erased (emptied) on request and shown in a subject-access export.
PERSONAL_TEXT: dict[str, frozenset[str]] = {
    "contact": frozenset({"membership_number", "first_name", "last_name", "email", "mobile", "postcode",
                          "job_title", "import_fingerprint"}),
    "call_attempt": frozenset({"note", "answers"}),
    "campaign_submission": frozenset({"first_name", "last_name", "email", "postcode", "membership_number",
                                      "mobile", "workplace"}),
    "campaign_letter": frozenset({"subject", "body"}),
    "import_change": frozenset({"detail"}),
    "inbound_message": frozenset({"from_address", "body"}),
    "message": frozenset({"to_address", "subject", "body", "html", "reply_to", "cc", "error_detail"}),
    "suppression": frozenset({"address", "detail"}),
}

# Text columns that say nothing about the person: codes, states, provider ids, targets' details.
NOT_PERSONAL: dict[str, frozenset[str]] = {
    "contact": frozenset({"status", "payment_method"}),
    "activist_role": frozenset({"role"}),
    "call_attempt": frozenset({"outcome"}),
    "call_entry": frozenset({"status", "last_outcome", "source"}),
    "campaign_submission": frozenset({"constituency_code", "constituency_name"}),
    "campaign_letter": frozenset({"target_kind", "target_key", "target_name", "target_title", "target_email",
                                  "state", "sent_key", "constituency_name", "reply_status"}),
    "consent": frozenset({"channel", "status", "source", "wording_version"}),
    "contact_sog": frozenset({"group"}),
    "contact_erasure": frozenset({"summary"}),
    "import_change": frozenset({"kind"}),
    "import_seen": frozenset(),
    "inbound_message": frozenset({"provider", "provider_id", "channel", "to_address", "kind"}),
    "message": frozenset({"dedupe_key", "channel", "purpose", "state", "provider", "provider_id", "error_code"}),
    "suppression": frozenset({"channel", "reason"}),
    "report_role_holder": frozenset({"role", "employer_kind"}),
}

# Rows deleted outright on erasure: they exist only to describe the person (tags, self-identified
# groups, consents) or only to hold their address (suppression; the erased-identity hashes replace it).
DELETE_ROWS = frozenset({"contact_tag", "contact_sog", "consent", "suppression"})

# Columns that identify someone by value, for rows not (yet) linked to a contact: an unmatched text
# from their mobile, a campaign submission with their email. Maps column → contact attributes.
IDENTIFIER_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "inbound_message": {"from_address": ("mobile", "email")},
    "message": {"to_address": ("mobile", "email")},
    "suppression": {"address": ("mobile", "email")},
    "campaign_submission": {"email": ("email",), "mobile": ("mobile",), "membership_number": ("membership_number",)},
}

# Readable section titles for the subject-access page (the table name is used otherwise).
TITLES = {
    "activist_role": "Activist roles",
    "call_attempt": "Calls made to them, with notes",
    "call_entry": "Call lists they were on",
    "campaign_letter": "Letters they sent",
    "campaign_submission": "Campaign actions",
    "consent": "Consents",
    "contact_erasure": "Erasure",
    "contact_sog": "Self-organised groups (self-identified)",
    "contact_tag": "Tags",
    "import_change": "Changes recorded by membership imports",
    "import_seen": "Membership imports that listed them",
    "inbound_message": "Messages they sent us",
    "message": "Messages sent to them, with their status",
    "suppression": "Addresses blocked from messaging",
    "report_participant_day": "Campaign actions counted in reports",
    "report_role_holder": "Activist roles counted in reports (a snapshot)",
}


@dataclass
class ContactTable:
    table: Table
    contact_columns: list[Column] = field(default_factory=list)  # columns holding a contact id
    parent_links: list[tuple[Column, Column]] = field(default_factory=list)  # (our column, parent's column)

    @property
    def name(self) -> str:
        return self.table.name


def _points_at_contact(column: Column) -> bool:
    return any(fk.column.table.name == CONTACT_TABLE for fk in column.foreign_keys) or column.name == "contact_id"


def contact_tables(metadata: MetaData) -> list[ContactTable]:
    """Every table holding data about a contact (other than contact itself), in dependency order."""
    direct: dict[str, ContactTable] = {}
    for table in metadata.sorted_tables:
        if table.name == CONTACT_TABLE:
            continue
        columns = [c for c in table.columns if _points_at_contact(c)]
        if columns:
            direct[table.name] = ContactTable(table, columns)
    found = dict(direct)
    for table in metadata.sorted_tables:
        if table.name == CONTACT_TABLE:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent in direct and parent != table.name:
                found.setdefault(table.name, ContactTable(table)).parent_links.append((fk.parent, fk.column))
    order = {t.name: i for i, t in enumerate(metadata.sorted_tables)}
    return sorted(found.values(), key=lambda t: order[t.name])


def text_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, (String, Text, JSON))]


def unclassified_columns(metadata: MetaData) -> dict[str, list[str]]:
    """Text columns of contact tables that are in neither PERSONAL_TEXT nor NOT_PERSONAL."""
    missing = {}
    tables = [metadata.tables[CONTACT_TABLE]] + [t.table for t in contact_tables(metadata)]
    for table in tables:
        if table.name in DELETE_ROWS and table.name != "suppression":
            known = set(text_columns(table))  # the whole row goes
        else:
            known = PERSONAL_TEXT.get(table.name, frozenset()) | NOT_PERSONAL.get(table.name, frozenset())
        left = [c for c in text_columns(table) if c not in known]
        if left:
            missing[table.name] = left
    return missing

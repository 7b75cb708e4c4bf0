"""Where a send's recipients come from. Each kind turns the send's saved parameters into contact ids,
always within what the send's author may see.

Other areas add kinds with the decorator (the campaigns area adds "a campaign's participants"):

    @audience("campaign", "People who took part in a campaign")
    def campaign_participants(params: dict, user: User) -> Select: ...
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, false, select

from ..auth.models import User
from ..contacts.models import Contact
from ..scoping import branch_condition

AudienceQuery = Callable[[dict, User], Select]


@dataclass(frozen=True)
class AudienceKind:
    key: str
    label: str
    query: AudienceQuery


AUDIENCES: dict[str, AudienceKind] = {}


def audience(key: str, label: str):
    """Register an audience kind: a function (params, user) → a select of contact ids."""
    def register(fn: AudienceQuery) -> AudienceQuery:
        AUDIENCES[key] = AudienceKind(key, label, fn)
        return fn
    return register


def contact_ids(send) -> Select:
    """The ids of the send's audience, as its author may see it (nobody, if the author has gone)."""
    kind = AUDIENCES.get(send.audience_kind)
    user = send.created_by
    if kind is None or user is None or not user.is_active:
        return select(Contact.id).where(false())
    return kind.query(dict(send.audience or {}), user)


@audience("contacts", "Contacts matching a search")
def contacts_matching(params: dict, user: User) -> Select:
    from ..contacts.service import filter_from_values, matching_ids

    return matching_ids(user, filter_from_values(params.get("filter") or {}))


@audience("call_list", "Contacts on a call list")
def call_list_contacts(params: dict, user: User) -> Select:
    from ..calls.models import CallEntry, CallList
    from ..calls.service import lists_stmt

    visible = (lists_stmt(user, to_message=True).where(CallList.id == params.get("call_list_id"))
               .with_only_columns(CallList.id))
    return select(CallEntry.contact_id).where(CallEntry.list_id.in_(visible),
                                              branch_condition(user, CallEntry.branch_id))

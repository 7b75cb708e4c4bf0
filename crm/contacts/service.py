"""Finding and reading contacts, always within the user's branches."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from ..audit import service as audit
from ..auth.models import User
from ..pagination import Page, paginate
from ..scoping import get_scoped_or_404, scoped
from ..vocabulary import ContactStatus, PaymentMethod
from .models import Contact

_DIGITS = re.compile(r"^[\d\s+()-]+$")
_POSTCODE = re.compile(r"^[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}$")


@dataclass
class ContactFilter:
    q: str = ""
    branch_id: int | None = None
    status: ContactStatus | None = None
    payment_method: PaymentMethod | None = None


def _search_condition(q: str):
    q = q.strip()
    if "@" in q:
        return func.lower(Contact.email) == q.lower()
    if _POSTCODE.match(q):
        compact = q.replace(" ", "").upper()
        return Contact.postcode == f"{compact[:-3]} {compact[-3:]}"
    if _DIGITS.match(q):
        digits = re.sub(r"\D", "", q)
        options = [Contact.membership_number == digits]
        if digits.startswith("0") and len(digits) >= 10:
            options.append(Contact.mobile == "+44" + digits[1:])
        elif digits.startswith("44"):
            options.append(Contact.mobile == "+" + digits)
        return or_(*options)
    words = q.split()
    if len(words) >= 2:
        return (Contact.first_name.ilike(words[0] + "%")) & (Contact.last_name.ilike(" ".join(words[1:]) + "%"))
    return or_(Contact.last_name.ilike(q + "%"), Contact.first_name.ilike(q + "%"))


def contacts_query(user: User, flt: ContactFilter) -> Select:
    """The contacts the user may see that match the filter, in name order."""
    stmt = select(Contact).options(
        selectinload(Contact.branch), selectinload(Contact.employer), selectinload(Contact.workplace)
    )
    stmt = scoped(stmt, user, Contact.branch_id)
    if flt.q.strip():
        stmt = stmt.where(_search_condition(flt.q))
    if flt.branch_id:
        stmt = stmt.where(Contact.branch_id == flt.branch_id)
    if flt.status:
        stmt = stmt.where(Contact.status == flt.status)
    if flt.payment_method:
        stmt = stmt.where(Contact.payment_method == flt.payment_method)
    return stmt.order_by(Contact.last_name, Contact.first_name, Contact.id)


def search_contacts(user: User, flt: ContactFilter, page: int, per_page: int) -> Page:
    """One page of the contacts the user may see that match the filter."""
    return paginate(contacts_query(user, flt), page, per_page)


def get_contact_for_view(user: User, contact_id: int) -> Contact:
    """Load a contact the user may see (else 404) and audit that they looked."""
    contact = get_scoped_or_404(Contact, contact_id, user)
    audit.record("contact.view", user=user, obj=contact)
    return contact

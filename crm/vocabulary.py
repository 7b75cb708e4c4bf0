"""The words the people who use Branchline use (DESIGN.md), as code values and UI labels."""
from enum import StrEnum


class Labelled(StrEnum):
    """A StrEnum whose members carry a human label: Member = ("member", "Member")."""

    def __new__(cls, value: str, label: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


SERVICE_GROUPS = [
    "Health",
    "Local Government",
    "Education",
    "Higher Education",
    "Community",
    "Police & Justice",
    "Water, Environment & Transport",
    "Energy",
]


class EmployerKind(Labelled):
    NHS_TRUST = ("nhs_trust", "NHS trust")
    COUNCIL = ("council", "Council")
    SCHOOL = ("school", "School or school trust")
    CARE_PROVIDER = ("care_provider", "Care provider")
    UNIVERSITY = ("university", "University")
    OTHER = ("other", "Other")


class ContactStatus(Labelled):
    MEMBER = ("member", "Member")
    LAPSED = ("lapsed", "Lapsed member")
    SUPPORTER = ("supporter", "Supporter")


class PaymentMethod(Labelled):
    DOCAS = ("docas", "DOCAS (deducted from pay)")
    DIRECT_DEBIT = ("direct_debit", "Direct debit")


class ActivistRoleKind(Labelled):
    STEWARD = ("steward", "Steward (rep)")
    HEALTH_AND_SAFETY = ("health_safety", "Health & safety rep")
    LEARNING = ("learning", "Union learning rep (ULR)")
    EQUALITY = ("equality", "Equality rep")
    ENVIRONMENTAL = ("environmental", "Environmental (green) rep")
    BIRO = ("biro", "Branch international relations officer")
    COMMUNICATIONS = ("communications", "Communications officer")
    ACTIVE_MEMBER = ("active_member", "Active member")
    SCHOOLS_CHAMPION = ("schools_champion", "Schools support-staff champion")
    MIGRANT_WORKER_STEWARD = ("migrant_steward", "Migrant-worker steward")


class SelfOrganisedGroup(Labelled):
    BLACK = ("black", "Black members")
    WOMEN = ("women", "Women")
    LGBT = ("lgbt", "LGBT+")
    DISABLED = ("disabled", "Disabled members")
    YOUNG = ("young", "Young members")


class Channel(Labelled):
    SMS = ("sms", "SMS")
    EMAIL = ("email", "Email")


class ConsentStatus(Labelled):
    GRANTED = ("granted", "Agreed")
    WITHDRAWN = ("withdrawn", "Opted out")

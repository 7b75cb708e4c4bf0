"""Roles and what each may do. One table, read by views, templates and the API alike."""
from ..vocabulary import Labelled


class Role(Labelled):
    ADMIN = ("admin", "Regional admin")
    ORGANISER = ("organiser", "Regional organiser")
    BRANCH_OFFICER = ("branch_officer", "Branch officer")
    CALLER = ("caller", "Branch caller")
    CAMPAIGN_LEAD = ("campaign_lead", "Campaign lead")


class Permission(Labelled):
    VIEW_CONTACTS = ("contacts.view", "See contacts")
    EDIT_CONTACTS = ("contacts.edit", "Edit contacts")
    WORK_CALLS = ("calls.work", "Make calls")
    MANAGE_CALLS = ("calls.manage", "Manage call lists")
    MANAGE_CAMPAIGNS = ("campaigns.manage", "Run campaigns")
    SEND_MESSAGES = ("messages.send", "Send SMS and email")
    ANSWER_REPLIES = ("messages.reply", "Answer text replies")
    VIEW_REPORTS = ("reports.view", "See reports")
    MANAGE_REGION = ("region.manage", "Manage branches, employers and workplaces")
    MANAGE_USERS = ("users.manage", "Manage users and roles")
    MANAGE_PRIVACY = ("privacy.manage", "Audit trail, subject access, erasure, retention and breaches")


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.ORGANISER: frozenset(Permission) - {P.MANAGE_USERS, P.MANAGE_PRIVACY},
    Role.BRANCH_OFFICER: frozenset(
        {P.VIEW_CONTACTS, P.EDIT_CONTACTS, P.WORK_CALLS, P.MANAGE_CALLS, P.VIEW_REPORTS, P.ANSWER_REPLIES}
    ),
    Role.CALLER: frozenset({P.WORK_CALLS}),
    Role.CAMPAIGN_LEAD: frozenset(
        {P.VIEW_CONTACTS, P.MANAGE_CAMPAIGNS, P.SEND_MESSAGES, P.ANSWER_REPLIES, P.VIEW_REPORTS}
    ),
}

# Roles that see every branch; the others see only the branches they are given.
REGION_WIDE_ROLES = frozenset({Role.ADMIN, Role.ORGANISER, Role.CAMPAIGN_LEAD})

# Roles that must sign in with a second factor (TOTP); everyone else may opt in.
MFA_REQUIRED_ROLES = frozenset({Role.ADMIN, Role.ORGANISER})

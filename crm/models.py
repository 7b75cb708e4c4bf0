"""Every model, imported once so Alembic and the app see the whole schema."""
from .audit.models import AuditEvent  # noqa: F401
from .auth.models import User, user_branch  # noqa: F401
from .contacts.models import (  # noqa: F401
    ActivistRole,
    Consent,
    Contact,
    ContactSelfOrganisedGroup,
    Tag,
    contact_tag,
)
from .region.models import Branch, Employer, RegionSettings, ServiceGroup, Workplace, branch_employer  # noqa: F401
from .imports.models import ImportChange, ImportIssue, ImportRun, ImportSeen, SavedColumnMapping  # noqa: F401,E402
from .calls.models import CallAttempt, CallEntry, CallList, call_list_branch, call_list_caller  # noqa: F401,E402
from .messaging.models import (  # noqa: F401,E402
    InboundMessage,
    Message,
    MessageTemplate,
    Send,
    Suppression,
    WebhookReceipt,
)
from .campaigns.geography import (  # noqa: F401,E402
    BoundaryGeneration,
    Constituency,
    PostcodeConstituency,
    Representative,
)
from .campaigns.models import (  # noqa: F401,E402
    Campaign,
    CampaignTarget,
    Letter,
    LetterTemplate,
    Submission,
    campaign_employer,
)
from .audit.models import AuditChainHead  # noqa: F401,E402
from .privacy.models import Breach, ContactErasure, ErasedIdentity, PrivacySettings  # noqa: F401,E402
from .reports.models import (  # noqa: F401,E402
    ActionPlanNote,
    ActivityDay,
    CallDay,
    CallerDay,
    GroupCell,
    MemberCell,
    ParticipantCell,
    ParticipantDay,
    PeriodCell,
    ReportTargets,
    RoleHolder,
    SummaryState,
    WeekCell,
)
from .api.models import ApiToken  # noqa: F401,E402

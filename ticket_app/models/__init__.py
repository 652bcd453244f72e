"""Database models: tickets, tags, comments, audit events, staff, sessions, tokens, views.

One module per concern; every name is re-exported here, so `from ticket_app.models import
Ticket` keeps working. The constraints declared in this package are the ones the Alembic
migrations create; the database refuses bad rows on its own, whatever client writes them.

The enums are re-exported too: callers outside `ui/` and `triage/` still name them from here.
"""

from ticket_app.enums import (
    ActorKind,
    Category,
    CommentChannel,
    DeliveryStatus,
    EventKind,
    ImportStatus,
    MailDirection,
    MailKind,
    NotificationKind,
    PasswordLinkPurpose,
    Priority,
    QuarantineStatus,
    Role,
    Status,
    TlsMode,
)

# The modules are imported in the order the tables were declared in, which is the order
# `SQLModel.metadata` (and so `create_all` and Alembic's comparisons) sees them in.
# isort: off
from ticket_app.models.base import (
    EMAIL_MAX_LENGTH,
    MAX_ROW_ID,
    NAME_MAX_LENGTH,
    UTCDateTime,
    utc_now,
)
from ticket_app.models.tickets import (
    EXTERNAL_ID_MAX_LENGTH,
    NO_DUE_TIME,
    PRIORITY_RANK_SQL,
    RANKED_COLUMNS,
    SLA_TICKET_CHECKS,
    STATUS_RANK_SQL,
    SUGGESTED_TITLE_MAX_LENGTH,
    TICKET_CHECKS,
    TITLE_MAX_LENGTH,
    Ticket,
)
from ticket_app.models.identity import (
    API_TOKEN_CHECKS,
    PASSWORD_LINK_CHECKS,
    STAFF_USER_CHECKS,
    USER_AGENT_MAX_LENGTH,
    ApiToken,
    PasswordLink,
    StaffSession,
    StaffUser,
)
from ticket_app.models.audit import TICKET_EVENT_CHECKS, TicketEvent
from ticket_app.models.imports import IMPORT_RUN_CHECKS, ImportRun
from ticket_app.models.idempotency import (
    IDEMPOTENCY_KEY_CHECKS,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IdempotencyKey,
)
from ticket_app.models.comments import COMMENT_CHECKS, TicketComment
from ticket_app.models.views import SAVED_VIEW_CHECKS, SavedView
from ticket_app.models.counts import (
    TicketCount,
    TicketCountDelta,
    TicketCountTotal,
    TicketTagCount,
    TicketTagCountDelta,
)
from ticket_app.models.mail import (
    ATTACHMENT_CHECKS,
    MAIL_MESSAGE_CHECKS,
    MAILBOX_CHECKS,
    MESSAGE_ID_MAX_LENGTH,
    QUARANTINE_CHECKS,
    REQUESTER_CHECKS,
    Attachment,
    Mailbox,
    MailMessage,
    QuarantinedMail,
    Requester,
)
from ticket_app.models.sla import (
    MAX_TARGET_MINUTES,
    SLA_CALENDAR_CHECKS,
    SLA_POLICY_CHECKS,
    SLA_RECHECK_CHECKS,
    SlaCalendar,
    SlaPolicy,
    SlaRecheck,
)

from ticket_app.models.notifications import (
    NOTIFICATION_CHECKS,
    NOTIFICATION_PREFERENCE_CHECKS,
    Notification,
    NotificationPreference,
)
from ticket_app.models.canned_responses import (
    CANNED_BODY_MAX_LENGTH,
    CANNED_RESPONSE_CHECKS,
    CANNED_TITLE_MAX_LENGTH,
    CannedResponse,
)
from ticket_app.models.followers import TicketFollower
from ticket_app.models.tags import (
    MAX_TAGS_PER_TICKET,
    TAG_MAX_LENGTH,
    TICKET_TAG_CHECKS,
    TicketTag,
)
# isort: on

__all__ = [
    "API_TOKEN_CHECKS",
    "ATTACHMENT_CHECKS",
    "CANNED_BODY_MAX_LENGTH",
    "CANNED_RESPONSE_CHECKS",
    "CANNED_TITLE_MAX_LENGTH",
    "COMMENT_CHECKS",
    "EMAIL_MAX_LENGTH",
    "EXTERNAL_ID_MAX_LENGTH",
    "IDEMPOTENCY_KEY_CHECKS",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "IMPORT_RUN_CHECKS",
    "MAILBOX_CHECKS",
    "MAIL_MESSAGE_CHECKS",
    "MAX_ROW_ID",
    "MAX_TAGS_PER_TICKET",
    "MAX_TARGET_MINUTES",
    "MESSAGE_ID_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "NOTIFICATION_CHECKS",
    "NOTIFICATION_PREFERENCE_CHECKS",
    "NO_DUE_TIME",
    "PASSWORD_LINK_CHECKS",
    "PRIORITY_RANK_SQL",
    "QUARANTINE_CHECKS",
    "RANKED_COLUMNS",
    "REQUESTER_CHECKS",
    "SAVED_VIEW_CHECKS",
    "SLA_CALENDAR_CHECKS",
    "SLA_POLICY_CHECKS",
    "SLA_RECHECK_CHECKS",
    "SLA_TICKET_CHECKS",
    "STAFF_USER_CHECKS",
    "STATUS_RANK_SQL",
    "SUGGESTED_TITLE_MAX_LENGTH",
    "TAG_MAX_LENGTH",
    "TICKET_CHECKS",
    "TICKET_EVENT_CHECKS",
    "TICKET_TAG_CHECKS",
    "TITLE_MAX_LENGTH",
    "USER_AGENT_MAX_LENGTH",
    "ActorKind",
    "ApiToken",
    "Attachment",
    "CannedResponse",
    "Category",
    "CommentChannel",
    "DeliveryStatus",
    "EventKind",
    "IdempotencyKey",
    "ImportRun",
    "ImportStatus",
    "MailDirection",
    "MailKind",
    "MailMessage",
    "Mailbox",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "PasswordLink",
    "PasswordLinkPurpose",
    "Priority",
    "QuarantineStatus",
    "QuarantinedMail",
    "Requester",
    "Role",
    "SavedView",
    "SlaCalendar",
    "SlaPolicy",
    "SlaRecheck",
    "StaffSession",
    "StaffUser",
    "Status",
    "Ticket",
    "TicketComment",
    "TicketCount",
    "TicketCountDelta",
    "TicketCountTotal",
    "TicketEvent",
    "TicketFollower",
    "TicketTag",
    "TicketTagCount",
    "TicketTagCountDelta",
    "TlsMode",
    "UTCDateTime",
    "utc_now",
]

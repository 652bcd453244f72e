"""The domain's vocabulary: categories, priorities, statuses, roles, and kinds of records.

The kinds are those of actors, audit events, comment channels, import runs and mail.

At the bottom of the package: models, schemas, services, triage and the console all use these,
and this module imports nothing of the project. The database's CHECK constraints
(`ticket_app.models`) and the API's schemas are built from them.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """Which team a ticket belongs to."""

    BILLING = "billing"
    TECHNICAL = "technical"
    ACCOUNT = "account"
    GENERAL = "general"


class Priority(StrEnum):
    """How urgently a ticket needs attention, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Status(StrEnum):
    """Where a ticket is in its life cycle, in workflow order; new tickets are `open`.

    `pending`: staff wait on the requester's answer (a customer's e-mail moves it back to
    `open`). The order is the "by status" sort's (the console's too) and `status_rank`'s.
    """

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Role(StrEnum):
    """What a staff user may do; the permission table in `services.access` says exactly."""

    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


class PasswordLinkPurpose(StrEnum):
    """What a one-time password link is for: a new account's first password, or a reset."""

    INVITE = "invite"
    RESET = "reset"


class ActorKind(StrEnum):
    """Who made a change: a signed-in user, an API token, or a process acting on its own."""

    USER = "user"
    TOKEN = "token"
    INTAKE = "intake"
    IMPORT = "import"
    SYSTEM = "system"
    MAIL = "mail"


class EventKind(StrEnum):
    """What an audit event records."""

    CREATED = "created"
    CHANGED = "changed"
    IMPORTED = "imported"
    EXPORTED = "exported"
    EXPORT_INTERRUPTED = "export_interrupted"
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    COMMENTED = "commented"
    MERGED = "merged"
    MAIL_SENT = "mail_sent"
    MAIL_FAILED = "mail_failed"
    MAIL_RESENT = "mail_resent"
    MAIL_BOUNCED = "mail_bounced"
    MAIL_QUARANTINED = "mail_quarantined"
    MAIL_RELEASED = "mail_released"
    MAIL_DISCARDED = "mail_discarded"
    MAILBOX_CREATED = "mailbox_created"
    MAILBOX_CHANGED = "mailbox_changed"
    MAILBOX_REMOVED = "mailbox_removed"
    SLA_BREACHED = "sla_breached"
    SLA_WARNING = "sla_warning"
    SLA_POLICY_CHANGED = "sla_policy_changed"
    SLA_CALENDAR_CHANGED = "sla_calendar_changed"
    CANNED_RESPONSE_CREATED = "canned_response_created"
    CANNED_RESPONSE_CHANGED = "canned_response_changed"
    CANNED_RESPONSE_DELETED = "canned_response_deleted"
    FOLLOWER_ADDED = "follower_added"
    FOLLOWER_REMOVED = "follower_removed"
    NOTIFICATION_PREFS_CHANGED = "notification_prefs_changed"
    VIEW_DELETED = "view_deleted"
    VIEW_RESTORED = "view_restored"


class SlaFilter(StrEnum):
    """The list's service-level filter (`sla=`).

    `due_soon`: a running target falls due within SLA_DUE_SOON_MINUTES and is not overdue yet;
    `breached`: a target of a clock still running or paused was broken.
    """

    DUE_SOON = "due_soon"
    BREACHED = "breached"


class NotificationKind(StrEnum):
    """Why someone is told about a ticket in the console's bell.

    `assigned`: the ticket was assigned to them; `replied`: someone else wrote on a ticket they
    own or follow; `mentioned`: a colleague named them (`@name`) in an internal note;
    `sla_warning`: a service-level target of a ticket they own (or of an unowned one, for
    the team) is close; `sla_breached`: such a target was broken.
    """

    ASSIGNED = "assigned"
    REPLIED = "replied"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    MENTIONED = "mentioned"


class CommentChannel(StrEnum):
    """How a comment arrived: typed in the console, sent through the API, or by e-mail."""

    CONSOLE = "console"
    API = "api"
    EMAIL = "email"


class ImportStatus(StrEnum):
    """Where an import run is: still `running` (or killed mid-way), `finished` or `failed`."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class MailDirection(StrEnum):
    """Whether a stored mail came in from outside or was sent by the help desk."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MailKind(StrEnum):
    """What a stored mail is: a customer's, automatic, a bounce, or one of ours.

    Automatic mail comes from auto-responders (RFC 3834); an acknowledgement is ours, for a new
    ticket; a notification is ours, to a staff member who asked to be told by e-mail (it belongs
    to no ticket's conversation).
    """

    CUSTOMER = "customer"
    AUTOMATIC = "automatic"
    BOUNCE = "bounce"
    REPLY = "reply"
    ACKNOWLEDGEMENT = "acknowledgement"
    NOTIFICATION = "notification"


class DeliveryStatus(StrEnum):
    """Where an outgoing mail is: waiting (or retrying), being handed over, sent, or failed."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class QuarantineStatus(StrEnum):
    """A quarantined mail is `held` until an admin retries (`released`) or `discarded` it."""

    HELD = "held"
    RELEASED = "released"
    DISCARDED = "discarded"


class TlsMode(StrEnum):
    """How a mail connection is protected: implicit TLS, STARTTLS after connecting, or none."""

    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"

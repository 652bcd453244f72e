"""The domain's vocabulary: categories, priorities, statuses, roles, and kinds of records.

The kinds are those of actors, audit events, comment channels and import runs.

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
    """Where a ticket is in its life cycle; new tickets are `open`."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Role(StrEnum):
    """What a staff user may do; the permission table in `services.access` says exactly."""

    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


class ActorKind(StrEnum):
    """Who made a change: a signed-in user, an API token, or a process acting on its own."""

    USER = "user"
    TOKEN = "token"
    INTAKE = "intake"
    IMPORT = "import"
    SYSTEM = "system"


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


class CommentChannel(StrEnum):
    """How a comment arrived: typed in the console, sent through the API, or (later) by e-mail."""

    CONSOLE = "console"
    API = "api"
    EMAIL = "email"


class ImportStatus(StrEnum):
    """Where an import run is: still `running` (or killed mid-way), `finished` or `failed`."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"

"""Who may do what, and who is asking: the one permission table and `Actor`.

The table is what the API, the console and the CLI consult. Deny by default: an action is
allowed only when the role's row lists it and, for API tokens, when one of the token's scopes
covers it. Roles follow the help-desk convention (Zendesk, Zammad): `viewer` reads, `agent`
triages, `admin` also manages staff and every token.

`Actor` is the one description of "who" that every service call takes: a signed-in user, an API
token (acting with its owner's role within its scopes), or a process (import, intake, system).
Its `can`/`require` consult the table, so the API, the console and the CLI decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ticket_app.models import ActorKind, Role
from ticket_app.services.errors import PermissionDeniedError


class Action(StrEnum):
    """Everything a person or a token can ask Triage Desk to do."""

    TICKETS_READ = "tickets.read"
    TICKETS_CREATE = "tickets.create"
    TICKETS_EDIT = "tickets.edit"
    TICKETS_EXPORT = "tickets.export"
    TICKETS_CLASSIFY = "tickets.classify"
    TICKETS_IMPORT = "tickets.import"
    AUDIT_READ = "audit.read"
    TOKENS_MANAGE_OWN = "tokens.manage_own"
    TOKENS_MANAGE_ALL = "tokens.manage_all"
    STAFF_MANAGE = "staff.manage"
    TICKETS_COMMENT = "tickets.comment"
    VIEWS_MANAGE_OWN = "views.manage_own"
    VIEWS_SHARE = "views.share"
    MAILBOXES_MANAGE = "mailboxes.manage"
    MAIL_INBOUND = "mail.inbound"
    SLA_MANAGE = "sla.manage"
    NOTIFICATIONS_READ = "notifications.read"
    NOTIFICATIONS_PREFERENCES = "notifications.preferences"
    TICKETS_FOLLOW = "tickets.follow"
    CANNED_READ = "canned.read"
    CANNED_MANAGE_OWN = "canned.manage_own"
    CANNED_SHARE = "canned.share"
    ACCOUNT_MANAGE_OWN = "account.manage_own"


class Scope(StrEnum):
    """What an API token may be used for, whatever its owner's role allows."""

    TICKETS_READ = "tickets:read"
    TICKETS_WRITE = "tickets:write"
    MAIL_INBOUND = "mail:inbound"


DEFAULT_SCOPES = frozenset({Scope.TICKETS_READ.value, Scope.TICKETS_WRITE.value})
"""What a token may do when its scopes are not given: read and write tickets (never
`mail:inbound`, which is asked for by name for the raw-mail endpoint)."""


_VIEWER = frozenset(
    {
        Action.TICKETS_READ,
        Action.AUDIT_READ,
        Action.TOKENS_MANAGE_OWN,
        Action.VIEWS_MANAGE_OWN,
        Action.NOTIFICATIONS_READ,
        Action.NOTIFICATIONS_PREFERENCES,
        Action.TICKETS_FOLLOW,
        Action.CANNED_READ,
        Action.ACCOUNT_MANAGE_OWN,
    }
)
_AGENT = _VIEWER | {
    Action.MAIL_INBOUND,
    Action.TICKETS_CREATE,
    Action.TICKETS_EDIT,
    Action.TICKETS_EXPORT,
    Action.TICKETS_CLASSIFY,
    Action.TICKETS_COMMENT,
    Action.CANNED_MANAGE_OWN,
}
_ADMIN = _AGENT | {
    Action.TICKETS_IMPORT,
    Action.TOKENS_MANAGE_ALL,
    Action.STAFF_MANAGE,
    Action.VIEWS_SHARE,
    Action.MAILBOXES_MANAGE,
    Action.SLA_MANAGE,
    Action.CANNED_SHARE,
}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: _VIEWER,
    Role.AGENT: frozenset(_AGENT),
    Role.ADMIN: frozenset(_ADMIN),
}
"""Role -> the actions it allows. The single source of truth for authorisation."""

SCOPE_OF_ACTION: dict[Action, Scope | None] = {
    Action.TICKETS_READ: Scope.TICKETS_READ,
    Action.AUDIT_READ: Scope.TICKETS_READ,
    # A token reads (and marks read) its owner's notifications, as scripts that triage do.
    Action.NOTIFICATIONS_READ: Scope.TICKETS_READ,
    # Choosing which of one's own notifications are also e-mailed changes no ticket, as saving
    # one's own list filters does: a read token may do it.
    Action.NOTIFICATIONS_PREFERENCES: Scope.TICKETS_READ,
    Action.TICKETS_EXPORT: Scope.TICKETS_READ,
    Action.TICKETS_CREATE: Scope.TICKETS_WRITE,
    Action.TICKETS_EDIT: Scope.TICKETS_WRITE,
    Action.TICKETS_CLASSIFY: Scope.TICKETS_WRITE,
    Action.TICKETS_IMPORT: Scope.TICKETS_WRITE,
    Action.TICKETS_COMMENT: Scope.TICKETS_WRITE,
    # Saving one's own list filters changes no ticket: a read token may do it.
    Action.VIEWS_MANAGE_OWN: Scope.TICKETS_READ,
    # Managing people and credentials needs a signed-in person, never a token.
    Action.TOKENS_MANAGE_OWN: None,
    Action.TOKENS_MANAGE_ALL: None,
    Action.STAFF_MANAGE: None,
    # What the whole team sees in its navigation is an admin's decision in the console.
    Action.VIEWS_SHARE: None,
    # Posting raw mail needs its own scope: a leaked tickets:write token cannot forge mail.
    Action.MAIL_INBOUND: Scope.MAIL_INBOUND,
    # Mailbox credentials are an admin's, in the console or the CLI; no token handles them.
    Action.MAILBOXES_MANAGE: None,
    # Service levels are the team's promise to its customers: an admin sets them in person.
    Action.SLA_MANAGE: None,
    # Following changes no ticket (it only decides who is told): a read token may do it.
    Action.TICKETS_FOLLOW: Scope.TICKETS_READ,
    # Listing canned responses reads; keeping one's own and inserting them (which counts a
    # use) writes, as replying does.
    Action.CANNED_READ: Scope.TICKETS_READ,
    Action.CANNED_MANAGE_OWN: Scope.TICKETS_WRITE,
    # What the whole team is offered to send customers is an admin's decision in the console.
    Action.CANNED_SHARE: None,
    # One's own password and sessions: the person, signed in, never a token.
    Action.ACCOUNT_MANAGE_OWN: None,
}
"""Action -> the token scope that covers it; None: no token may do it."""

# Roles whose label decisions may train the team model (a viewer cannot set labels anyway).
LABELLING_ROLES = frozenset({Role.AGENT, Role.ADMIN})


def role_allows(role: Role | str | None, action: Action) -> bool:
    """Whether `role` may perform `action` (None, i.e. anonymous, may do nothing)."""
    if role is None:
        return False
    try:
        return action in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def scopes_allow(scopes: frozenset[str] | None, action: Action) -> bool:
    """Whether a token with `scopes` may perform `action`; None means not a token (a session)."""
    if scopes is None:
        return True
    needed = SCOPE_OF_ACTION.get(action)
    return needed is not None and needed.value in scopes


def parse_scopes(text: str | None) -> frozenset[str]:
    """Scopes from comma-separated text (`tickets:read,tickets:write`).

    Empty or None gives DEFAULT_SCOPES. Raises ValueError naming an unknown scope.
    """
    if text is None or not text.strip():
        return DEFAULT_SCOPES
    scopes = {part.strip() for part in text.split(",") if part.strip()}
    known = {scope.value for scope in Scope}
    unknown = sorted(scopes - known)
    if unknown:
        raise ValueError(
            f"unknown scope {unknown[0]!r}; use one or more of {', '.join(sorted(known))}"
        )
    return frozenset(scopes)


# What processes acting on their own may do; people and tokens go through the role table.
_PROCESS_ACTIONS: dict[ActorKind, frozenset[Action]] = {
    ActorKind.IMPORT: frozenset({Action.TICKETS_IMPORT, Action.TICKETS_CREATE}),
    ActorKind.INTAKE: frozenset({Action.TICKETS_CREATE, Action.TICKETS_CLASSIFY}),
    ActorKind.SYSTEM: frozenset(Action),
    # Inbound mail opens tickets, adds the customer's replies and reopens what they answer.
    ActorKind.MAIL: frozenset(
        {Action.TICKETS_CREATE, Action.TICKETS_EDIT, Action.TICKETS_COMMENT, Action.TICKETS_READ}
    ),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting.

    `kind` says what sort of actor; `label` is what the audit trail shows (an email, "email
    (token NAME)", or the process name); `user_id` is the staff user (for tokens: the owner);
    `token_id` the API token; `role` the user's role; `scopes` the token's scopes (None when
    the actor is not a token).
    """

    kind: ActorKind
    label: str
    user_id: int | None = None
    token_id: int | None = None
    role: Role | None = None
    scopes: frozenset[str] | None = None

    @classmethod
    def process(cls, kind: ActorKind, label: str | None = None) -> Actor:
        """A process acting on its own: import, intake or system (e.g. the CLI's `migrate`)."""
        return cls(kind=kind, label=label or kind.value)

    def can(self, action: Action) -> bool:
        """Whether this actor may perform `action` (the permission table, then token scopes)."""
        if self.kind in _PROCESS_ACTIONS:
            return action in _PROCESS_ACTIONS[self.kind]
        return role_allows(self.role, action) and scopes_allow(self.scopes, action)

    def require(self, action: Action) -> None:
        """Raise PermissionDeniedError unless this actor may perform `action`."""
        if not self.can(action):
            raise PermissionDeniedError(action.value)

    @property
    def confirms_labels(self) -> bool:
        """Whether labels this actor sets count as staff decisions (they may train the model)."""
        return (
            self.kind in (ActorKind.USER, ActorKind.TOKEN)
            and self.user_id is not None
            and self.role in LABELLING_ROLES
        )

"""Staff accounts: create, list, change a role, deactivate, reset a password.

The password policy is in `ticket_app.services.passwords`. A role change, a deactivation and a
password reset end the account's sessions in the same transaction (a reset its API tokens too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.models import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    ActorKind,
    ApiToken,
    EventKind,
    Role,
    StaffSession,
    StaffUser,
    utc_now,
)
from ticket_app.schemas import UserRead
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import ConflictError, InvalidInputError, NotFoundError
from ticket_app.services.identity.credentials import hash_password
from ticket_app.services.passwords import check_password

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """The stored form of an email (trimmed, lower-cased); raises InvalidInputError('email')."""
    value = (email or "").strip().lower()
    if not _EMAIL.match(value) or len(value) > EMAIL_MAX_LENGTH:
        raise InvalidInputError("email", "enter a valid email address")
    return value


def _clean_name(name: str | None, email: str) -> str:
    value = (name or "").strip() or email.split("@", 1)[0]
    if len(value) > NAME_MAX_LENGTH:
        raise InvalidInputError("name", f"must be at most {NAME_MAX_LENGTH} characters long")
    return value


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInputError("role", f"must be one of {allowed}") from exc


def user_by_email(session: Session, email: str) -> StaffUser:
    """The staff user with this email (any case, trimmed); raises NotFoundError."""
    user = session.exec(select(StaffUser).where(StaffUser.email == normalize_email(email))).first()
    if user is None:
        raise NotFoundError(f"no staff user with email {email.strip().lower()}")
    return user


def revoke_sessions(session: Session, user_id: int, *, except_id: int | None = None) -> int:
    """End the user's live sessions (all, or all but `except_id`); returns how many ended."""
    query = sa.update(StaffSession).where(
        StaffSession.user_id == user_id,
        StaffSession.revoked_at.is_(None),
        StaffSession.expires_at > utc_now(),
    )
    if except_id is not None:
        query = query.where(StaffSession.id != except_id)
    return session.execute(query.values(revoked_at=utc_now())).rowcount


def user_actor(user: StaffUser) -> Actor:
    """The actor for a signed-in user."""
    return Actor(kind=ActorKind.USER, label=user.email, user_id=user.id, role=Role(user.role))


@dataclass(frozen=True)
class NewAccount:
    """A new account's checked fields and password hash (see `new_account`)."""

    email: str
    name: str
    role: Role
    password_hash: str


def new_account(email: str, name: str | None, role: Role | str, password: str) -> NewAccount:
    """Check a new account's fields and hash its password; InvalidInputError names the field.

    Called before a database session opens: argon2 takes a tenth of a second and a lot of
    memory, and a pooled connection must not wait on it.
    """
    clean_email = normalize_email(email)
    clean_name = _clean_name(name, clean_email)
    new_role = _role(role)
    check_password(password, user_inputs=(clean_email, clean_name))
    return NewAccount(clean_email, clean_name, new_role, hash_password(password))


def insert_user(session: Session, account: NewAccount) -> StaffUser:
    """Add the account to `session`; raises ConflictError if its email is taken."""
    if (
        session.exec(select(StaffUser.id).where(StaffUser.email == account.email)).first()
        is not None
    ):
        raise ConflictError("email", f"a staff user with email {account.email} already exists")
    user = StaffUser(
        email=account.email,
        name=account.name,
        role=account.role,
        password_hash=account.password_hash,
    )
    session.add(user)
    session.flush()
    return user


def create_user(
    email: str, role: Role | str, password: str, *, name: str | None = None, actor: Actor
) -> UserRead:
    """Create an active staff user and return it.

    Raises PermissionDeniedError unless `actor` may manage staff, InvalidInputError naming the
    field for a bad email, name, role or password, ConflictError if the email is taken.
    """
    actor.require(Action.STAFF_MANAGE)
    account = new_account(email, name, role, password)
    with service_session() as session:
        user = insert_user(session, account)
        record_event(
            session, actor, EventKind.USER_CREATED, field="role", new=f"{user.email}: {user.role}"
        )
        return UserRead.model_validate(user)


def list_users() -> list[UserRead]:
    """Every staff user, active first, then by email."""
    with service_session() as session:
        users = session.exec(
            select(StaffUser).order_by(StaffUser.is_active.desc(), StaffUser.email)
        ).all()
        return [UserRead.model_validate(user) for user in users]


def assignable_staff() -> list[UserRead]:
    """Staff a ticket can be assigned to: active agents and admins, by name then email."""
    with service_session() as session:
        users = session.exec(
            select(StaffUser)
            .where(
                StaffUser.is_active.is_(True),
                StaffUser.role.in_((Role.AGENT.value, Role.ADMIN.value)),
            )
            .order_by(StaffUser.name, StaffUser.email)
        ).all()
        return [UserRead.model_validate(user) for user in users]


def get_user(user_id: int) -> UserRead:
    """The staff user with this id; raises NotFoundError."""
    with service_session() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise NotFoundError(f"no staff user with id {user_id}")
        return UserRead.model_validate(user)


def _last_active_admin(session: Session, user: StaffUser) -> bool:
    if user.role != Role.ADMIN or not user.is_active:
        return False
    admins = session.execute(
        sa.select(sa.func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == Role.ADMIN.value, StaffUser.is_active.is_(True))
    ).scalar_one()
    return admins <= 1


def set_role(email: str, role: Role | str, *, actor: Actor) -> UserRead:
    """Change a user's role; their sessions end (they sign in again with the new role).

    Refuses (InvalidInputError 'role') to demote the last active admin.
    """
    actor.require(Action.STAFF_MANAGE)
    new_role = _role(role)
    with service_session() as session:
        user = user_by_email(session, email)
        if user.role == new_role:
            return UserRead.model_validate(user)
        if new_role != Role.ADMIN and _last_active_admin(session, user):
            raise InvalidInputError("role", "the last active admin cannot be demoted")
        old = user.role
        user.role = new_role
        session.add(user)
        revoke_sessions(session, user.id)
        record_event(
            session,
            actor,
            EventKind.USER_CHANGED,
            field="role",
            old=f"{user.email}: {old}",
            new=f"{user.email}: {new_role}",
        )
        session.flush()
        return UserRead.model_validate(user)


def set_active(email: str, active: bool, *, actor: Actor) -> UserRead:
    """Deactivate (or reactivate) a user.

    Deactivation ends their sessions and, since tokens
    act for their owner, stops their tokens at once. The last active admin stays active, and
    a signed-in admin cannot deactivate themself (one click would end their own session; another
    admin or the CLI can). Raises InvalidInputError naming `email` for either.
    """
    actor.require(Action.STAFF_MANAGE)
    with service_session() as session:
        user = user_by_email(session, email)
        if user.is_active == active:
            return UserRead.model_validate(user)
        if not active and actor.user_id == user.id:
            raise InvalidInputError("email", "you cannot deactivate yourself; ask another admin")
        if not active and _last_active_admin(session, user):
            raise InvalidInputError("email", "the last active admin cannot be deactivated")
        user.is_active = active
        session.add(user)
        if not active:
            revoke_sessions(session, user.id)
        record_event(
            session,
            actor,
            EventKind.USER_CHANGED,
            field="active",
            old=f"{user.email}: {not active}",
            new=f"{user.email}: {active}",
        )
        session.flush()
        return UserRead.model_validate(user)


def revoke_user_tokens(session: Session, user: StaffUser, actor: Actor) -> int:
    """Revoke every live API token of `user`, one audit event each; returns how many."""
    tokens = session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utc_now()
    for token in tokens:
        token.revoked_at = now
        session.add(token)
        record_event(
            session,
            actor,
            EventKind.TOKEN_REVOKED,
            field="token",
            old=f"{user.email}: {token.name} ({token.prefix}…)",
            new="revoked by password reset",
        )
    return len(tokens)


def reset_password(
    email: str, password: str, *, actor: Actor, revoke_tokens: bool = True
) -> UserRead:
    """Set a new password (admins for anyone, a user for themself).

    Ends the user's sessions and, unless `revoke_tokens` is False, revokes their API tokens
    too: a reset usually means the old password may be known to someone else, who may also
    have made a token with it. Each revoked token is an audit event. Raises NotFoundError for
    an unknown email, PermissionDeniedError, InvalidInputError('password').
    """
    with service_session() as session:
        user = user_by_email(session, email)
        if actor.user_id != user.id:
            actor.require(Action.STAFF_MANAGE)
        user_id, user_email, user_name = user.id, user.email, user.name
    check_password(password, user_inputs=(user_email, user_name))
    # Hashed with no database session open (argon2 is slow by design).
    password_hash = hash_password(password)
    with service_session() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise NotFoundError(f"no staff user with email {user_email}")
        user.password_hash = password_hash
        session.add(user)
        revoke_sessions(session, user.id)
        record_event(session, actor, EventKind.USER_CHANGED, field="password", new=user.email)
        if revoke_tokens:
            revoke_user_tokens(session, user, actor)
        session.flush()
        return UserRead.model_validate(user)

"""Staff accounts, console sessions, API tokens and the first-admin setup.

Passwords are hashed with argon2id through `pwdlib` (rehashed on sign-in when its parameters
change). Session and API tokens are 256-bit random strings from `secrets`; only their SHA-256
is stored, so a database leak does not hand out sign-ins. The password policy is in
`ticket_app.services.passwords`, the sign-in failure limit in `ticket_app.services.login_limits`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie

import sqlalchemy as sa
from pwdlib import PasswordHash
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
from ticket_app.schemas import TokenRead, UserRead
from ticket_app.services.access import Action, Actor, parse_scopes
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
    SetupClosedError,
)
from ticket_app.services.login_limits import login_attempt
from ticket_app.services.login_limits import reset_login_limits as reset_login_limits
from ticket_app.services.passwords import MAX_PASSWORD_LENGTH, check_password
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

SESSION_COOKIE = "triage_session"
TOKEN_PREFIX = "tdk_"
VISIBLE_PREFIX_LENGTH = 12
# Writing last-seen/last-used on every request would turn reads into writes; once a minute is
# precise enough for idle timeouts of minutes and for "last used" in the token list.
TOUCH_INTERVAL = timedelta(seconds=60)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so both paths take the same time."""
    return _hasher().hash(secrets.token_urlsafe(16))


def token_digest(raw: str) -> str:
    """Hex SHA-256 of a session or API token: the only form in which tokens are stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


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


def _user_by_email(session: Session, email: str) -> StaffUser:
    user = session.exec(select(StaffUser).where(StaffUser.email == normalize_email(email))).first()
    if user is None:
        raise NotFoundError(f"no staff user with email {email.strip().lower()}")
    return user


def _revoke_sessions(session: Session, user_id: int) -> None:
    session.execute(
        sa.update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )


def user_actor(user: StaffUser) -> Actor:
    """The actor for a signed-in user."""
    return Actor(kind=ActorKind.USER, label=user.email, user_id=user.id, role=Role(user.role))


# Users -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NewAccount:
    email: str
    name: str
    role: Role
    password_hash: str


def _new_account(email: str, name: str | None, role: Role | str, password: str) -> _NewAccount:
    """Check a new account's fields and hash its password; InvalidInputError names the field.

    Called before a database session opens: argon2 takes a tenth of a second and a lot of
    memory, and a pooled connection must not wait on it.
    """
    clean_email = normalize_email(email)
    clean_name = _clean_name(name, clean_email)
    new_role = _role(role)
    check_password(password, user_inputs=(clean_email, clean_name))
    return _NewAccount(clean_email, clean_name, new_role, _hasher().hash(password))


def _insert_user(session: Session, account: _NewAccount) -> StaffUser:
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
    account = _new_account(email, name, role, password)
    with service_session() as session:
        user = _insert_user(session, account)
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
        user = _user_by_email(session, email)
        if user.role == new_role:
            return UserRead.model_validate(user)
        if new_role != Role.ADMIN and _last_active_admin(session, user):
            raise InvalidInputError("role", "the last active admin cannot be demoted")
        old = user.role
        user.role = new_role
        session.add(user)
        _revoke_sessions(session, user.id)
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
        user = _user_by_email(session, email)
        if user.is_active == active:
            return UserRead.model_validate(user)
        if not active and actor.user_id == user.id:
            raise InvalidInputError("email", "you cannot deactivate yourself; ask another admin")
        if not active and _last_active_admin(session, user):
            raise InvalidInputError("email", "the last active admin cannot be deactivated")
        user.is_active = active
        session.add(user)
        if not active:
            _revoke_sessions(session, user.id)
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


def _revoke_tokens(session: Session, user: StaffUser, actor: Actor) -> int:
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
        user = _user_by_email(session, email)
        if actor.user_id != user.id:
            actor.require(Action.STAFF_MANAGE)
        user_id, user_email, user_name = user.id, user.email, user.name
    check_password(password, user_inputs=(user_email, user_name))
    # Hashed with no database session open (argon2 is slow by design).
    password_hash = _hasher().hash(password)
    with service_session() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise NotFoundError(f"no staff user with email {user_email}")
        user.password_hash = password_hash
        session.add(user)
        _revoke_sessions(session, user.id)
        record_event(session, actor, EventKind.USER_CHANGED, field="password", new=user.email)
        if revoke_tokens:
            _revoke_tokens(session, user, actor)
        session.flush()
        return UserRead.model_validate(user)


def has_admin() -> bool:
    """Whether an active admin exists (if not, the console offers the first-admin setup)."""
    with service_session() as session:
        return _admin_exists(session)


# Sessions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    """A new console session.

    `token` goes into the cookie (never stored), `max_age` in
    seconds is the cookie's lifetime.
    """

    token: str
    user: UserRead
    max_age: int


def _new_session(session: Session, user: StaffUser) -> SignedIn:
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    now = utc_now()
    lifetime = timedelta(hours=settings.session_max_age_hours)
    session.add(
        StaffSession(
            user_id=user.id,
            token_hash=token_digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    user.last_login_at = now
    session.add(user)
    session.flush()
    return SignedIn(token, UserRead.model_validate(user), int(lifetime.total_seconds()))


def _stored_credentials(email: str, password: str) -> tuple[int | None, str | None]:
    """(id, password hash) of the active account with this email, else (None, None).

    Also (None, None) when the email or the password could not have been stored.
    """
    try:
        normalized = normalize_email(email)
    except InvalidInputError:
        return None, None
    if len(password) > MAX_PASSWORD_LENGTH:
        return None, None
    with service_session() as session:
        row = session.execute(
            sa.select(StaffUser.id, StaffUser.password_hash).where(
                StaffUser.email == normalized, StaffUser.is_active.is_(True)
            )
        ).first()
    return (row.id, row.password_hash) if row is not None else (None, None)


def sign_in(email: str, password: str, *, client: str | None = None) -> SignedIn:
    """Check a password and open a session.

    Raises TooManyAttemptsError (with `retry_after` seconds) once the account or the client
    address has had `login_max_failures` failures within `login_window_seconds` (attempts
    still being checked count against that allowance, so parallel guesses cannot overrun
    it), and InvalidCredentialsError, with one message for unknown email, wrong password and
    deactivated account, otherwise. A password hashed with outdated parameters is rehashed.
    No database connection is held while the password is verified.
    """
    with login_attempt(email or "", client):
        user_id, stored_hash = _stored_credentials(email or "", password)
        # An unknown account is checked against a dummy hash so both answers take as long.
        valid, new_hash = _hasher().verify_and_update(
            password[:MAX_PASSWORD_LENGTH], stored_hash or _dummy_hash()
        )
        if user_id is None or not valid:
            raise InvalidCredentialsError()
        with service_session() as session:
            user = session.get(StaffUser, user_id)
            # Deactivated, or given a new password, while this one was being checked.
            if user is None or not user.is_active or user.password_hash != stored_hash:
                raise InvalidCredentialsError()
            if new_hash is not None:
                user.password_hash = new_hash
            return _new_session(session, user)


def resolve_session(token: str | None) -> Actor | None:
    """The actor of a session cookie's token.

    None if it is unknown, revoked, expired, idle for longer than `session_idle_minutes`, or its
    user is deactivated. Use is recorded at most once per `TOUCH_INTERVAL`, so the last use may
    be up to that much later than the recorded one: a session idles out between
    `session_idle_minutes` and that plus `TOUCH_INTERVAL` after its last use, never before.
    """
    if not token:
        return None
    settings = get_settings()
    now = utc_now()
    with service_session() as session:
        row = session.exec(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == token_digest(token))
        ).first()
        if row is None:
            return None
        staff_session, user = row
        idle = timedelta(minutes=settings.session_idle_minutes)
        idle_limit = staff_session.last_seen_at + TOUCH_INTERVAL + idle
        if (
            staff_session.revoked_at is not None
            or staff_session.expires_at <= now
            or idle_limit <= now
            or not user.is_active
        ):
            return None
        if now - staff_session.last_seen_at >= TOUCH_INTERVAL:
            staff_session.last_seen_at = now
            session.add(staff_session)
        return user_actor(user)


def session_token_from_cookie_header(header: str | None) -> str | None:
    """The session token inside a raw `Cookie` header (what the console's event socket has)."""
    if not header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


def sign_out(token: str | None) -> None:
    """End the session of this cookie token (nothing happens for an unknown token)."""
    if not token:
        return
    with service_session() as session:
        session.execute(
            sa.update(StaffSession)
            .where(
                StaffSession.token_hash == token_digest(token), StaffSession.revoked_at.is_(None)
            )
            .values(revoked_at=utc_now())
        )


# First-admin setup -------------------------------------------------------------------------

_generated_setup_token: str | None = None


def setup_token() -> str:
    """The one-time token the first-admin page asks for.

    `SETUP_TOKEN` from the settings when set (the `serve` command sets it for its workers),
    otherwise a random token made once per process. Callers log it while no admin exists.
    """
    global _generated_setup_token
    configured = get_settings().setup_token
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if _generated_setup_token is None:
        _generated_setup_token = secrets.token_urlsafe(24)
    return _generated_setup_token


SETUP_DONE = "Setup is done: an admin exists. Sign in instead."


def _admin_exists(session: Session) -> bool:
    query = sa.select(StaffUser.id).where(
        StaffUser.role == Role.ADMIN.value, StaffUser.is_active.is_(True)
    )
    return session.execute(query.limit(1)).first() is not None


def complete_setup(token: str, email: str, password: str, *, name: str | None = None) -> SignedIn:
    """Create the first admin with the setup token and sign them in.

    Raises SetupClosedError when an active admin already exists (whatever the token, so a
    closed setup tells nobody whether a token was right) or the token is wrong, and the
    errors of `create_user` for bad input.
    """
    if has_admin():
        raise SetupClosedError(SETUP_DONE)
    if not hmac.compare_digest(token.strip().encode(), setup_token().encode()):
        raise SetupClosedError("The setup token is not correct; it is printed in the server log.")
    account = _new_account(email, name, Role.ADMIN, password)
    with service_session() as session:
        # Checked again in the transaction that inserts: two setups may have raced.
        if _admin_exists(session):
            raise SetupClosedError(SETUP_DONE)
        user = _insert_user(session, account)
        record_event(
            session,
            Actor.process(ActorKind.SYSTEM, "setup"),
            EventKind.USER_CREATED,
            field="role",
            new=f"{user.email}: admin",
        )
        return _new_session(session, user)


# API tokens --------------------------------------------------------------------------------


def _token_read(token: ApiToken, owner_email: str) -> TokenRead:
    return TokenRead(
        id=token.id,
        user_id=token.user_id,
        user_email=owner_email,
        name=token.name,
        prefix=token.prefix,
        scopes=sorted(token.scopes.split(",")),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def create_token(
    owner_email: str,
    name: str,
    *,
    scopes: str | None = None,
    expires_days: int | None = None,
    actor: Actor,
) -> tuple[str, TokenRead]:
    """Create an API token for a user; returns (the secret, shown once; its metadata).

    Users create their own tokens; admins (and the CLI's system actor) anyone's. `scopes` is
    comma-separated (default: read and write); `expires_days` None means no expiry. Raises
    InvalidInputError naming name, scopes or expires_days, NotFoundError for an unknown owner,
    PermissionDeniedError.
    """
    clean_name = (name or "").strip()
    if not clean_name or len(clean_name) > NAME_MAX_LENGTH:
        raise InvalidInputError("name", f"must be 1 to {NAME_MAX_LENGTH} characters")
    try:
        scope_set = parse_scopes(scopes)
    except ValueError as exc:
        raise InvalidInputError("scopes", str(exc)) from exc
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise InvalidInputError("expires_days", "must be between 1 and 3650")
    with service_session() as session:
        owner = _user_by_email(session, owner_email)
        if owner.id != actor.user_id:
            actor.require(Action.TOKENS_MANAGE_ALL)
        else:
            actor.require(Action.TOKENS_MANAGE_OWN)
        if not owner.is_active:
            raise InvalidInputError("user", f"{owner.email} is deactivated")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utc_now()
        token = ApiToken(
            user_id=owner.id,
            name=clean_name,
            prefix=secret[:VISIBLE_PREFIX_LENGTH],
            token_hash=token_digest(secret),
            scopes=",".join(sorted(scope_set)),
            created_at=now,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
        )
        session.add(token)
        session.flush()
        record_event(
            session,
            actor,
            EventKind.TOKEN_CREATED,
            field="token",
            new=f"{owner.email}: {clean_name} ({token.prefix}…, {token.scopes})",
        )
        return secret, _token_read(token, owner.email)


def list_tokens(*, actor: Actor, owner_email: str | None = None) -> list[TokenRead]:
    """Tokens newest first: the actor's own, or (admins) everyone's or one owner's."""
    with service_session() as session:
        query = select(ApiToken, StaffUser.email).join(StaffUser, StaffUser.id == ApiToken.user_id)
        if owner_email is not None:
            owner = _user_by_email(session, owner_email)
            if owner.id != actor.user_id:
                actor.require(Action.TOKENS_MANAGE_ALL)
            query = query.where(ApiToken.user_id == owner.id)
        elif actor.can(Action.TOKENS_MANAGE_ALL):
            pass
        else:
            actor.require(Action.TOKENS_MANAGE_OWN)
            query = query.where(ApiToken.user_id == actor.user_id)
        rows = session.exec(query.order_by(ApiToken.id.desc())).all()
        return [_token_read(token, email) for token, email in rows]


def revoke_token(token_id: int, *, actor: Actor) -> TokenRead:
    """Revoke a token (its owner or an admin); it stops working at once. Idempotent."""
    with service_session() as session:
        row = session.exec(
            select(ApiToken, StaffUser.email)
            .join(StaffUser, StaffUser.id == ApiToken.user_id)
            .where(ApiToken.id == token_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no API token with id {token_id}")
        token, email = row
        if token.user_id != actor.user_id:
            if not actor.can(Action.TOKENS_MANAGE_ALL):
                raise NotFoundError(f"no API token with id {token_id}")
        else:
            actor.require(Action.TOKENS_MANAGE_OWN)
        if token.revoked_at is None:
            token.revoked_at = utc_now()
            session.add(token)
            record_event(
                session,
                actor,
                EventKind.TOKEN_REVOKED,
                field="token",
                old=f"{email}: {token.name} ({token.prefix}…)",
            )
            session.flush()
        return _token_read(token, email)


def resolve_token(secret: str | None) -> Actor | None:
    """The actor of a bearer token: its owner's role, limited to its scopes.

    None if the token is unknown, revoked, expired, or its owner is deactivated. Records the
    last-used time.
    """
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    now = utc_now()
    with service_session() as session:
        row = session.exec(
            select(ApiToken, StaffUser)
            .join(StaffUser, StaffUser.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_digest(secret))
        ).first()
        if row is None:
            return None
        token, owner = row
        expired = token.expires_at is not None and token.expires_at <= now
        if token.revoked_at is not None or expired or not owner.is_active:
            return None
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
            token.last_used_at = now
            session.add(token)
        return Actor(
            kind=ActorKind.TOKEN,
            label=f"{owner.email} (token {token.name})",
            user_id=owner.id,
            token_id=token.id,
            role=Role(owner.role),
            scopes=frozenset(token.scopes.split(",")),
        )


def expires_in(value: datetime | None) -> str:
    """Human wording of an expiry time for lists ("never", "expired", "in 29 days")."""
    if value is None:
        return "never"
    remaining = value - utc_now()
    if remaining.total_seconds() <= 0:
        return "expired"
    days = remaining.days
    return f"in {days} days" if days >= 1 else "within a day"

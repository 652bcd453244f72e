"""API tokens: create, list and revoke them, and whose a bearer token is (within its scopes).

The secret is shown once at creation; only its digest and a visible prefix are stored.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from ticket_app.models import (
    NAME_MAX_LENGTH,
    ActorKind,
    ApiToken,
    EventKind,
    Role,
    StaffUser,
    utc_now,
)
from ticket_app.schemas import TokenRead
from ticket_app.services.access import Action, Actor, parse_scopes
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import InvalidInputError, NotFoundError
from ticket_app.services.identity.credentials import TOUCH_INTERVAL, token_digest
from ticket_app.services.identity.users import user_by_email

TOKEN_PREFIX = "tdk_"


VISIBLE_PREFIX_LENGTH = 12


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
        owner = user_by_email(session, owner_email)
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
            owner = user_by_email(session, owner_email)
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


_TOKEN_QUERY = (
    sa.select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.scopes,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        ApiToken.revoked_at,
        StaffUser.id.label("owner_id"),
        StaffUser.email,
        StaffUser.role,
        StaffUser.is_active,
    )
    .join(StaffUser, StaffUser.id == ApiToken.user_id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"))
)
"""The columns an actor is made of, read as a plain row: every API request asks, and building
an `ApiToken` and a `StaffUser` entity cost about a quarter of the lookup's CPU."""


def resolve_token(secret: str | None) -> Actor | None:
    """The actor of a bearer token: its owner's role, limited to its scopes.

    None if the token is unknown, revoked, expired, or its owner is deactivated. Records the
    last-used time (at most once per TOUCH_INTERVAL).
    """
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    now = utc_now()
    with service_session() as session:
        token = session.execute(_TOKEN_QUERY, {"token_hash": token_digest(secret)}).first()
        if token is None:
            return None
        expired = token.expires_at is not None and token.expires_at <= now
        if token.revoked_at is not None or expired or not token.is_active:
            return None
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
            session.execute(
                sa.update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
        return Actor(
            kind=ActorKind.TOKEN,
            label=f"{token.email} (token {token.name})",
            user_id=token.owner_id,
            token_id=token.id,
            role=Role(token.role),
            scopes=frozenset(token.scopes.split(",")),
        )


def expires_in(value: datetime | None, now: datetime | None = None) -> str:
    """Human wording of an expiry time for lists ("never", "expired", "in 90 days").

    Days are rounded to the nearest whole day: a 90-day token made a moment ago (89 days,
    23 hours and some minutes left) expires "in 90 days", not "in 89 days". Less than half a
    day left is "within a day"; `now` defaults to the current UTC time.
    """
    if value is None:
        return "never"
    remaining = value - (now or utc_now())
    if remaining.total_seconds() <= 0:
        return "expired"
    days = int(remaining / timedelta(days=1) + 0.5)
    if days < 1:
        return "within a day"
    return "in 1 day" if days == 1 else f"in {days} days"

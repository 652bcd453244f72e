"""Saved views: named sets of list filters, search and sort, private or shared with the team.

A view stores the list's query parameters as canonical JSON (`{"assignee": "me", "sort":
"-priority"}`), checked when saved with the same rules as the list's query string. `assignee=me`
stays `me` in the view and means whoever opens it, so one shared "Mine" view serves everyone.
Every staff member keeps their own views; admins may share theirs (and delete any).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import select

from ticket_app.models import EventKind, SavedView, StaffUser
from ticket_app.schemas import (
    ASSIGNEE_ME,
    VIEW_QUERY_KEYS,
    BulkFilters,
    SavedViewCreate,
    SavedViewRead,
    TicketFilters,
    TicketSort,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.bulk import count_up_to_cap, ticket_filters
from ticket_app.services.database import service_session
from ticket_app.services.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from ticket_app.services.ticket_query import is_row_id

MAX_QUERY_CHARS = 2000


def _filter_values(query: dict[str, str]) -> dict[str, str]:
    """A view's filters: its query without the sort."""
    return {key: value for key, value in query.items() if key != "sort"}


def _check_query(query: dict[str, str]) -> None:
    """Refuse a query the list would refuse (InvalidInputError naming `query.<key>`).

    The filters are checked by the list's own filter model (`BulkFilters`), the sort by
    `TicketSort`; the first offending key in the query's order is named. `me` in any case or
    spacing is accepted for `assignee`, as views always have.
    """
    values = _filter_values(query)
    if str(values.get("assignee", "")).strip().lower() == ASSIGNEE_ME:
        values["assignee"] = ASSIGNEE_ME
    problems: dict[str, str] = {}
    try:
        BulkFilters.from_query(values)
    except ValidationError as exc:
        for error in reversed(exc.errors()):
            problems[str(error["loc"][0])] = error["msg"].removeprefix("Value error, ")
    if "sort" in query and query["sort"] not in {member.value for member in TicketSort}:
        problems["sort"] = f"must be one of {', '.join(member.value for member in TicketSort)}"
    for key in query:
        if key not in VIEW_QUERY_KEYS:
            raise InvalidInputError(
                f"query.{key}", f"not a list parameter (use {', '.join(VIEW_QUERY_KEYS)})"
            )
        if key in problems:
            raise InvalidInputError(f"query.{key}", problems[key])


def _canonical_query(query: dict[str, str]) -> str:
    """The stored form of a view's query; InvalidInputError naming the offending key."""
    _check_query(query)
    text = json.dumps(query, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError("query", f"must be at most {MAX_QUERY_CHARS} characters as JSON")
    return text


def _view_read(view: SavedView, owner_name: str) -> SavedViewRead:
    return SavedViewRead(
        id=view.id,
        name=view.name,
        query=json.loads(view.query),
        shared=view.shared,
        owner_id=view.owner_id,
        owner_name=owner_name,
    )


def _staff_id(actor: Actor) -> int:
    """The actor's user id; views belong to people (PermissionDeniedError for a process)."""
    if actor.user_id is None:
        raise PermissionDeniedError(Action.VIEWS_MANAGE_OWN.value)
    return actor.user_id


def list_views(*, actor: Actor) -> list[SavedViewRead]:
    """The actor's own views and every shared one, by name (then id); without counts.

    Raises PermissionDeniedError unless `actor` is a staff user who may keep views.
    """
    actor.require(Action.VIEWS_MANAGE_OWN)
    user_id = _staff_id(actor)
    with service_session() as session:
        rows = session.exec(
            select(SavedView, StaffUser.name)
            .join(StaffUser, StaffUser.id == SavedView.owner_id)
            .where(sa.or_(SavedView.owner_id == user_id, SavedView.shared.is_(True)))
            .order_by(SavedView.name, SavedView.id)
        ).all()
        return [_view_read(view, name) for view, name in rows]


def save_view(data: SavedViewCreate, *, actor: Actor) -> SavedViewRead:
    """Store a new view owned by `actor` and return it.

    Raises PermissionDeniedError (keeping views, or sharing: admins only), InvalidInputError
    naming `query.<key>` for a parameter or value the list would refuse, ConflictError naming
    `name` when the actor already has a view of that name.
    """
    actor.require(Action.VIEWS_MANAGE_OWN)
    if data.shared:
        actor.require(Action.VIEWS_SHARE)
    user_id = _staff_id(actor)
    query = _canonical_query(data.query)
    with service_session() as session:
        taken = session.execute(
            sa.select(SavedView.id).where(
                SavedView.owner_id == user_id, SavedView.name == data.name
            )
        ).first()
        if taken is not None:
            raise ConflictError("name", f"you already have a view named {data.name!r}")
        view = SavedView(owner_id=user_id, name=data.name, shared=data.shared, query=query)
        session.add(view)
        session.flush()
        owner = session.get(StaffUser, user_id)
        return _view_read(view, owner.name if owner else actor.label)


@dataclass(frozen=True)
class DeletedView:
    """A deleted view as it was stored, so that `restore_view` can put it back unchanged.

    `query` is the stored canonical JSON; `created_at` is UTC.
    """

    id: int
    owner_id: int
    name: str
    shared: bool
    query: str
    created_at: datetime


def _view_note(view: SavedView | DeletedView) -> str:
    """What an audit event says of a view: its id, name and whether it was shared."""
    return f"#{view.id} {view.name!r}" + (" (shared with the team)" if view.shared else "")


def delete_view(view_id: int, *, actor: Actor) -> DeletedView:
    """Delete a view: its owner may, and admins may delete any shared one.

    Returns the view as it was (for `restore_view`). Writes a `view_deleted` audit event in the
    same transaction. Raises NotFoundError for a view the actor cannot see (another's private
    view included), PermissionDeniedError for someone else's shared view unless the actor is
    an admin.
    """
    actor.require(Action.VIEWS_MANAGE_OWN)
    user_id = _staff_id(actor)
    with service_session() as session:
        view = session.get(SavedView, view_id) if is_row_id(view_id) else None
        if view is None or (view.owner_id != user_id and not view.shared):
            raise NotFoundError(f"no saved view with id {view_id}")
        if view.owner_id != user_id:
            actor.require(Action.VIEWS_SHARE)
        deleted = DeletedView(
            id=view.id,
            owner_id=view.owner_id,
            name=view.name,
            shared=view.shared,
            query=view.query,
            created_at=view.created_at,
        )
        session.delete(view)
        record_event(session, actor, EventKind.VIEW_DELETED, field="view", old=_view_note(deleted))
        return deleted


def restore_view(deleted: DeletedView, *, actor: Actor) -> SavedViewRead:
    """Put a deleted view back with its id, owner, name, sharing, query and creation time.

    The undo of `delete_view`: whoever could delete it may restore it (its owner; an admin for
    a shared view). Writes a `view_restored` audit event in the same transaction. Raises
    PermissionDeniedError as `delete_view` does, NotFoundError when its owner no longer
    exists, ConflictError naming `name` when the owner has made another view of that name
    since, or naming `id` when the view exists again.
    """
    actor.require(Action.VIEWS_MANAGE_OWN)
    user_id = _staff_id(actor)
    if deleted.owner_id != user_id:
        if not deleted.shared:
            raise NotFoundError(f"no saved view with id {deleted.id}")
        actor.require(Action.VIEWS_SHARE)
    with service_session() as session:
        owner = session.get(StaffUser, deleted.owner_id)
        if owner is None:
            raise NotFoundError(f"the owner of view {deleted.name!r} no longer exists")
        if session.get(SavedView, deleted.id) is not None:
            raise ConflictError("id", f"view {deleted.id} exists")
        taken = session.execute(
            sa.select(SavedView.id).where(
                SavedView.owner_id == deleted.owner_id, SavedView.name == deleted.name
            )
        ).first()
        if taken is not None:
            raise ConflictError("name", f"there is a view named {deleted.name!r} again")
        view = SavedView(
            id=deleted.id,
            owner_id=deleted.owner_id,
            name=deleted.name,
            shared=deleted.shared,
            query=deleted.query,
            created_at=deleted.created_at,
        )
        session.add(view)
        session.flush()
        record_event(session, actor, EventKind.VIEW_RESTORED, field="view", new=_view_note(view))
        return _view_read(view, owner.name)


def view_filters(
    view: SavedViewRead, *, actor: Actor | None = None
) -> tuple[TicketFilters, TicketSort]:
    """The list filters and sort a view stands for.

    `assignee=me` becomes `actor`'s id (InvalidInputError naming `assignee` without a staff
    actor). Values were checked when the view was saved, so nothing else can fail.
    """
    sort = TicketSort(view.query.get("sort", TicketSort.NEWEST.value))
    try:
        filters = BulkFilters.from_query(_filter_values(view.query))
    except ValidationError as exc:  # a view saved before a rule tightened
        error = exc.errors()[0]
        raise InvalidInputError(
            str(error["loc"][0]), error["msg"].removeprefix("Value error, ")
        ) from None
    return ticket_filters(filters, actor=actor, assignee_field="assignee"), sort


def view_counts(views: list[SavedViewRead], *, actor: Actor) -> dict[int, tuple[int, bool]]:
    """View id -> (tickets it matches now, whether exactly), for `actor` (whose `me` it is).

    Exact up to `Settings.count_cap`, an estimate beyond it (`services.bulk.count_up_to_cap`),
    so a view of most of a million tickets costs a bounded read. One count per view. Raises
    PermissionDeniedError unless `actor` may read tickets.
    """
    actor.require(Action.TICKETS_READ)
    return {view.id: count_up_to_cap(view_filters(view, actor=actor)[0]) for view in views}


def with_count(view: SavedViewRead, counted: tuple[int, bool]) -> SavedViewRead:
    """`view` carrying a `view_counts` entry as its `count` and `count_exact`."""
    total, exact = counted
    return view.model_copy(update={"count": total, "count_exact": exact})

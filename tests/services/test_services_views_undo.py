"""Deleting a saved view and undoing it (issue 25, item 16): audited, same view back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.auth import add_user
from ticket_app.models import ActorKind, Role
from ticket_app.schemas import SavedViewCreate
from ticket_app.services.access import Actor
from ticket_app.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from ticket_app.services.views import delete_view, list_views, restore_view, save_view


def _actor(role: Role) -> Actor:
    user = add_user(role, f"{role.value}-views@example.com")
    return Actor(kind=ActorKind.USER, label=user.email, user_id=user.id, role=role)


def _events(db: Engine) -> list[tuple[str, str | None, str | None, str]]:
    with db.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT kind, old_value, new_value, actor_label FROM ticket_events "
                "WHERE kind IN ('view_deleted', 'view_restored') ORDER BY id"
            )
        )
        return [tuple(row) for row in rows]


def test_a_deleted_shared_view_comes_back_with_its_id_and_both_steps_are_audited(
    db: Engine,
) -> None:
    admin, agent = _actor(Role.ADMIN), _actor(Role.AGENT)
    shared = save_view(
        SavedViewCreate(name="Critical billing", query={"priority": "critical"}, shared=True),
        actor=admin,
    )
    deleted = delete_view(shared.id, actor=admin)
    assert [view.name for view in list_views(actor=agent)] == []

    restored = restore_view(deleted, actor=admin)

    assert restored == shared
    assert list_views(actor=agent) == [shared]
    note = f"#{shared.id} 'Critical billing' (shared with the team)"
    assert _events(db) == [
        ("view_deleted", note, None, admin.label),
        ("view_restored", None, note, admin.label),
    ]


def test_undo_is_refused_when_it_would_clash_or_is_not_the_actors_to_make(db: Engine) -> None:
    admin, agent = _actor(Role.ADMIN), _actor(Role.AGENT)
    own = save_view(SavedViewCreate(name="Mine", query={"status": "open"}), actor=agent)
    deleted = delete_view(own.id, actor=agent)
    with pytest.raises(NotFoundError):
        restore_view(deleted, actor=admin)  # someone else's private view
    save_view(SavedViewCreate(name="Mine", query={"status": "pending"}), actor=agent)
    with pytest.raises(ConflictError):
        restore_view(deleted, actor=agent)  # the name is taken again
    shared = save_view(
        SavedViewCreate(name="Team", query={"status": "open"}, shared=True), actor=admin
    )
    gone = delete_view(shared.id, actor=admin)
    with pytest.raises(PermissionDeniedError):
        restore_view(gone, actor=agent)
    restore_view(gone, actor=admin)
    with pytest.raises(ConflictError):
        restore_view(gone, actor=admin)  # already back

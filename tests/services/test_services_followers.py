"""Mentions and followers in the service layer: who a note names, who is told, never oneself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM, TEST_PASSWORD
from tests.support.auth import actor_of, add_ticket, add_user
from ticket_app.models import Notification
from ticket_app.schemas import CommentCreate
from ticket_app.services.comments import add_comment
from ticket_app.services.followers import follow, list_followers, parse_mentions, unfollow
from ticket_app.services.identity import users


@pytest.mark.parametrize(
    ("text", "handles"),
    [
        ("@ann please", {"ann"}),
        ("ask @Ann.Lee.", {"ann.lee"}),
        ("(@bob) and\n@zoë, @ann", {"bob", "zoë", "ann"}),
        ("mail ann@example.com or @@bob", set()),
        ("@ @. @_x @-y", set()),
        ('"@carla" [@dan]', {"carla", "dan"}),
    ],
)
def test_parse_mentions(text: str, handles: set[str]) -> None:
    assert parse_mentions(text) == handles


def _told(db: Engine) -> list[tuple[int, str]]:
    with db.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.select(Notification.user_id, Notification.kind)
                .where(Notification.kind != "assigned")
                .order_by(Notification.id)
            )
        ]


def test_a_note_tells_mentioned_people_followers_and_the_owner_once_never_the_author(
    db: Engine,
) -> None:
    ann = users.create_user(
        "ann.lee@example.com", "agent", TEST_PASSWORD, name="Ann Lee", actor=SYSTEM
    )
    bob = add_user("agent", "bob@example.com")
    vic = add_user("viewer", "vic@example.com")
    gone = add_user("agent", "gone@example.com")
    users.set_active("gone@example.com", False, actor=SYSTEM)
    ticket = add_ticket(assignee_id=bob.id)
    follow(ticket, actor=actor_of("vic@example.com"))
    follow(ticket, actor=actor_of("bob@example.com"))
    note = CommentCreate(body="@AnnLee @bob @vic @nobody @gone", public=False)
    add_comment(ticket, note, actor=actor_of("bob@example.com"))
    told = _told(db)
    assert sorted(told) == sorted([(ann.id, "mentioned"), (vic.id, "mentioned")])
    assert [f.user_id for f in list_followers(ticket, actor=actor_of("vic@example.com"))] == [
        ann.id,
        bob.id,
        vic.id,
    ]
    add_comment(
        ticket, CommentCreate(body="Done", public=False), actor=actor_of("ann.lee@example.com")
    )
    assert sorted(_told(db)[2:]) == sorted([(bob.id, "replied"), (vic.id, "replied")])
    assert gone.id not in {user_id for user_id, _ in _told(db)}


def test_follow_and_unfollow_say_whether_anything_changed(db: Engine) -> None:
    add_user("agent", "ann@example.com")
    ann = actor_of("ann@example.com")
    ticket = add_ticket()
    assert follow(ticket, actor=ann) is True
    assert follow(ticket, actor=ann) is False
    assert unfollow(ticket, actor=ann) is True
    assert unfollow(ticket, actor=ann) is False

"""The Staff page marks people who were invited and have not accepted yet (issue 24)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from tests.support.auth import actor_of
from ticket_app.services.identity import links, users
from ticket_app.ui.state.admin import load_user_rows


def _invited(db: Engine) -> dict[str, str]:
    return {row["email"]: row["invited"] for row in load_user_rows()}


def test_an_invitee_is_marked_invited_until_they_set_their_password(db: Engine) -> None:
    users.create_user(ADMIN_EMAIL, "admin", TEST_PASSWORD, name="Test Admin", actor=SYSTEM)
    admin = actor_of(ADMIN_EMAIL)
    issued = links.invite_user("new@example.com", "agent", actor=admin)
    again = links.issue_link(issued.user.id, "invite", actor=admin)  # the first one expired
    users.create_user("cli@example.com", "viewer", TEST_PASSWORD, actor=SYSTEM)
    assert _invited(db) == {ADMIN_EMAIL: "", "new@example.com": "yes", "cli@example.com": ""}

    links.use_link(urlsplit(again.url).path.rsplit("/", 1)[1], "quartz zebra lantern meadow")
    assert _invited(db)["new@example.com"] == ""

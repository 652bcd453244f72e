"""The composer's `/` and `@` helpers and the canned responses page's rows."""

from __future__ import annotations

import pytest

from ticket_app.schemas import CannedResponseRead
from ticket_app.ui.logic.canned import (
    matching_responses,
    matching_staff,
    mention_query,
    response_rows,
    slash_query,
    with_mention,
    with_response,
)

RESPONSES = [{"id": "1", "title": "Refund policy"}, {"id": "2", "title": "Greeting refund"}]
STAFF = [{"handle": "ann.lee", "name": "Ann Lee"}, {"handle": "bob", "name": "Robert Roe"}]


@pytest.mark.parametrize(
    ("text", "query"),
    [("/", ""), ("/Ref", "ref"), ("/ref pol ", "ref pol"), ("x /ref", None), ("/a\nb", None)],
)
def test_slash_query(text: str, query: str | None) -> None:
    assert slash_query(text) == query


def test_matching_responses_put_prefix_matches_first() -> None:
    assert [row["id"] for row in matching_responses(RESPONSES, "refund")] == ["1", "2"]
    assert [row["id"] for row in matching_responses(RESPONSES, "greet")] == ["2"]
    assert matching_responses(RESPONSES, "nothing") == []


@pytest.mark.parametrize(
    ("text", "query"),
    [("@", ""), ("Ask @An", "an"), ("mail a@b", None), ("@ann done", None), ("x\n@bo", "bo")],
)
def test_mention_query(text: str, query: str | None) -> None:
    assert mention_query(text) == query


def test_matching_staff_and_completing_a_mention() -> None:
    assert [row["handle"] for row in matching_staff(STAFF, "annl")] == ["ann.lee"]
    assert [row["handle"] for row in matching_staff(STAFF, "rob")] == ["bob"]
    assert with_mention("Ask @An", "ann.lee") == "Ask @ann.lee "
    assert with_mention("Ask ", "bob") == "Ask @bob "


def test_with_response_replaces_a_slash_query_and_follows_other_text() -> None:
    assert with_response("/ref", "Body") == "Body"
    assert with_response("  ", "Body") == "Body"
    assert with_response("Hello\n\n", "Body") == "Hello\nBody"


def test_rows_say_what_the_viewer_may_edit() -> None:
    items = [
        CannedResponseRead(id=1, title="Mine", body="b", shared=False, owner_id=7, uses=1200),
        CannedResponseRead(id=2, title="Team", body="b", shared=True, owner_id=8, uses=0),
    ]
    agent = response_rows(items, user_id=7, may_share=False)
    assert [(row["editable"], row["shared"], row["uses"]) for row in agent] == [
        ("yes", "", "1,200"),
        ("", "yes", "0"),
    ]
    admin = response_rows(items, user_id=8, may_share=True)
    assert [row["editable"] for row in admin] == ["", "yes"]

"""Canned responses in the service layer: placeholders filled from a fixed dictionary only."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.support.auth import actor_of, add_ticket, add_user
from ticket_app.schemas import CannedResponseCreate
from ticket_app.services.canned_responses import (
    NAME_FALLBACK,
    create_canned_response,
    fill_placeholders,
    list_canned_responses,
    render_canned_response,
)
from ticket_app.services.errors import PermissionDeniedError

VALUES = {"requester.name": "Casey", "ticket.id": "7", "agent.name": "{{ticket.id}}"}


@pytest.mark.parametrize(
    ("body", "filled"),
    [
        ("Hi {{requester.name}}", "Hi Casey"),
        ("Hi {{ requester.name  }}!", "Hi Casey!"),
        ("#{{ticket.id}}/{{ticket.id}}", "#7/7"),
        ("{{unknown.thing}} {{requester.email}}", "{{unknown.thing}} {{requester.email}}"),
        ("{{Requester.Name}} {{requester.name", "{{Requester.Name}} {{requester.name"),
        ("{requester.name} {{{requester.name}}}", "{requester.name} {Casey}"),
        # A value is inserted as text, never read as a placeholder again.
        ("{{agent.name}}", "{{ticket.id}}"),
        ("{{ticket.__class__}} {{ ''.join }}", "{{ticket.__class__}} {{ ''.join }}"),
    ],
)
def test_fill_placeholders(body: str, filled: str) -> None:
    assert fill_placeholders(body, VALUES) == filled


def test_render_uses_the_fallbacks_and_the_inserting_agent(db: Engine) -> None:
    add_user("agent", "ann@example.com")
    ann = actor_of("ann@example.com")
    made = create_canned_response(
        CannedResponseCreate(
            title="Hello", body="{{requester.name}}|{{requester.email}}|{{agent.name}}"
        ),
        actor=ann,
    )
    ticket = add_ticket()
    assert render_canned_response(made.id, ticket, actor=ann) == f"{NAME_FALLBACK}||ann"
    items, total, cursor = list_canned_responses(actor=ann)
    assert (items[0].uses, total, cursor) == (1, 1, None)


def test_viewers_keep_no_responses(db: Engine) -> None:
    add_user("viewer", "vic@example.com")
    with pytest.raises(PermissionDeniedError):
        create_canned_response(
            CannedResponseCreate(title="Mine", body="x"), actor=actor_of("vic@example.com")
        )

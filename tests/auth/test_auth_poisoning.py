"""Training-data poisoning: before sign-in existed, anyone could post a few hundred refund
requests labelled account/low and the team model learned that refunds are account questions.

Repeated here through the API as an anonymous client and as a signed-in viewer: every post is
refused, nothing reaches `training_rows()`, and the suggestion for a refund request is unchanged.
A control shows the check would notice: the same labels set by an agent do train the model.
Intake and import labels never train it, and one person's share of the rows is capped.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.auth import Clients, add_token, add_user, bearer, sign_in
from ticket_app.models import ActorKind, Role, Ticket, utc_now
from ticket_app.schemas import TicketCreate
from ticket_app.services.access import Actor
from ticket_app.services.imports.write import import_records
from ticket_app.services.tickets import create_ticket, list_tickets
from ticket_app.services.triage_history import ACTOR_FLOOR_ROWS, MAX_ACTOR_SHARE, training_rows
from ticket_app.triage.learner import HistoryLearner
from ticket_app.triage.offline import OfflineClassifier

ATTEMPTS = 300
REFUND = "I was charged twice, please refund me"
POISON = {
    "title": "Refund",
    "description": "I was charged twice this month, please refund me",
    "category": "account",
    "priority": "low",
}
# Small enough that the refused posts would have been plenty, had they counted.
MIN_ROWS = 20


def suggestion_for_refund() -> tuple[str, str]:
    """What a freshly trained classifier suggests for REFUND, from today's training rows."""
    learner = HistoryLearner(training_rows, min_rows=MIN_ROWS)
    learner.refresh()
    suggestion = OfflineClassifier(learner).classify(REFUND)
    return suggestion.category.value, suggestion.priority.value


def attack(client: TestClient, ticket_id: int | None = None) -> set[int]:
    """Post the poisoned ticket ATTEMPTS times (and relabel `ticket_id`); the statuses seen."""
    statuses = set()
    for n in range(ATTEMPTS):
        poison = {**POISON, "title": f"Refund {n}"}
        statuses.add(client.post("/api/tickets/", json=poison).status_code)
    if ticket_id is not None:
        relabel = {"category": "account", "priority": "low"}
        statuses.add(client.patch(f"/api/tickets/{ticket_id}/", json=relabel).status_code)
    return statuses


def test_rules_alone_call_a_refund_request_billing(db: Engine) -> None:
    assert suggestion_for_refund()[0] == "billing"


def test_anonymous_poisoning_is_refused_and_trains_nothing(clients: Clients) -> None:
    before = suggestion_for_refund()
    assert attack(clients()) == {401}
    assert list_tickets().total == 0
    assert training_rows() == []
    assert suggestion_for_refund() == before


def test_viewer_poisoning_is_refused_and_trains_nothing(clients: Clients) -> None:
    add_user(Role.VIEWER)
    existing = create_ticket(
        TicketCreate.model_validate({**POISON, "category": "billing", "priority": "high"}),
        actor=Actor.process(ActorKind.INTAKE),
    )
    before = suggestion_for_refund()
    browser = clients()
    sign_in(browser, "viewer@example.com")
    script = clients(headers=bearer(add_token("viewer@example.com")))  # read and write scopes
    assert attack(browser, existing.id) == {403}
    # The session and the token are one person's: past their 600 writes a minute, 429.
    assert attack(script, existing.id) == {403, 429}
    assert list_tickets().total == 1
    assert training_rows() == []
    assert suggestion_for_refund() == before


def test_the_same_labels_from_an_agent_do_train_the_model(clients: Clients) -> None:
    """The control: the check above would see poisoning that got through."""
    add_user(Role.AGENT)
    agent = clients(headers=bearer(add_token("agent@example.com")))
    for n in range(MIN_ROWS):
        response = agent.post("/api/tickets/", json={**POISON, "title": f"Refund {n}"})
        assert response.status_code == 201
    rows = training_rows()
    assert len(rows) == MIN_ROWS
    assert {(category, priority) for _, category, priority in rows} == {("account", "low")}
    assert suggestion_for_refund() == ("account", "low")


def test_only_labels_set_by_staff_become_training_rows(clients: Clients) -> None:
    add_user(Role.AGENT)
    agent = clients(headers=bearer(add_token("agent@example.com")))
    labelled = agent.post("/api/tickets/", json={**POISON, "title": "Agent labelled"})
    guessed = agent.post(
        "/api/tickets/", json={"title": "Agent unlabelled", "description": POISON["description"]}
    )
    assert (labelled.status_code, guessed.status_code) == (201, 201)
    spoofed = agent.post("/api/tickets/", json={**POISON, "labels_confirmed_by": 1})
    assert spoofed.status_code == 422
    assert [e["field"] for e in spoofed.json()["errors"]] == ["labels_confirmed_by"]

    intake = Actor.process(ActorKind.INTAKE)
    for n in range(3):
        create_ticket(TicketCreate.model_validate({**POISON, "title": f"Intake {n}"}), actor=intake)
    rows = [{**POISON, "title": f"Imported {n}", "status": "closed"} for n in range(3)]
    assert import_records(enumerate(rows, start=1), classify=False).inserted == 3
    assert list_tickets().total == 8

    assert training_rows() == [(f"Agent labelled\n{POISON['description']}", "account", "low")]
    # Correcting a guess is a staff decision: the ticket joins the history with its new labels.
    agent.patch(f"/api/tickets/{guessed.json()['id']}/", json={"priority": "critical"})
    rows = [
        (text.split("\n")[0], category, priority) for text, category, priority in training_rows()
    ]
    assert rows == [  # newest first
        ("Agent unlabelled", guessed.json()["category"], "critical"),
        ("Agent labelled", "account", "low"),
    ]


def insert_confirmed(engine: Engine, user_id: int, count: int, *, start: int) -> None:
    """`count` tickets whose labels `user_id` confirmed, created a second apart from `start`."""
    base = utc_now() - timedelta(days=30)
    rows = [
        {
            "title": f"u{user_id} #{n}",
            "description": "Please refund me",
            "category": "billing",
            "priority": "medium",
            "status": "closed",
            "created_at": base + timedelta(seconds=start + n),
            "updated_at": base + timedelta(seconds=start + n),
            "labels_confirmed_by": user_id,
        }
        for n in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(Ticket.__table__), rows)


def test_no_one_person_makes_up_more_than_their_share(db: Engine) -> None:
    loud = add_user(Role.AGENT, "loud@example.com").id
    quiet = add_user(Role.AGENT, "quiet@example.com").id
    admin = add_user(Role.ADMIN).id
    insert_confirmed(db, quiet, 150, start=0)
    insert_confirmed(db, admin, 150, start=1000)
    insert_confirmed(db, loud, 900, start=2000)  # the newest rows, and most of them

    rows = training_rows()
    total = 150 + 150 + 900
    cap = max(ACTOR_FLOOR_ROWS, int(MAX_ACTOR_SHARE * total))
    assert cap < 900
    by_author = [text.split(" #")[0] for text, _, _ in rows]
    assert by_author.count(f"u{loud}") == cap
    assert by_author.count(f"u{quiet}") == 150
    assert by_author.count(f"u{admin}") == 150
    # The loud agent's newest decisions are the ones kept, and the order stays newest first.
    loud_numbers = [
        int(text.split("#")[1].split("\n")[0]) for text, _, _ in rows if text.startswith(f"u{loud}")
    ]
    assert loud_numbers == list(range(899, 899 - cap, -1))


def test_a_small_team_keeps_the_floor(db: Engine) -> None:
    solo = add_user(Role.AGENT).id
    insert_confirmed(db, solo, ACTOR_FLOOR_ROWS + 50, start=0)
    assert len(training_rows()) == ACTOR_FLOOR_ROWS

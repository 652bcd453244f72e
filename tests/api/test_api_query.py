"""Query parameters (issue 12, items 15, 16 and 18): unknown ones are refused, `q` is `search`
everywhere, `limit` has one rule, and `created_since` / `updated_since` filter the list, the
stats and the export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.helpers import make_ticket, set_created_at
from ticket_app.api.app import create_api
from ticket_app.models import Ticket

FILTERED = ["/api/tickets/", "/api/tickets/stats/", "/api/tickets/export/"]


def matching_ids(client: TestClient, path: str, **params: str) -> list[int]:
    """The ids a filtered path answers with, whichever of the three it is."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    if path.endswith("stats/"):
        return [response.json()["total_tickets"]]
    if path.endswith("export/"):
        return sorted(int(row["id"]) for row in csv.DictReader(io.StringIO(response.text)))
    return sorted(ticket["id"] for ticket in response.json())


def expected(path: str, ids: list[int]) -> list[int]:
    return [len(ids)] if path.endswith("stats/") else sorted(ids)


def errors_of(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def test_every_route_refuses_unknown_query_parameters(client: TestClient) -> None:
    ticket_id = make_ticket(client)["id"]
    spec = create_api().openapi()
    for path, item in spec["paths"].items():
        url = re.sub(r"\{\w+_id\}", "1", path.replace("{ticket_id}", str(ticket_id)))
        for method in item:
            response = client.request(method, url, params={"colour": "red", "order_by": "id"})
            assert errors_of(response).keys() == {"colour", "order_by"}, (method, url)
            assert "unknown query parameter" in errors_of(response)["colour"]


def test_a_parameter_given_twice_is_a_422(client: TestClient) -> None:
    make_ticket(client)
    for path in FILTERED:
        response = client.get(f"{path}?status=open&status=closed&q=a&q=a")
        assert errors_of(response) == {
            "status": "given more than once; give it once",
            "q": "given more than once; give it once",
        }, path


@pytest.mark.parametrize("path", FILTERED)
def test_export_and_friends_name_the_unknown_parameter(client: TestClient, path: str) -> None:
    make_ticket(client)
    message = errors_of(client.get(path, params={"serach": "refund"}))["serach"]
    assert "search" in message and "q" in message  # it lists what the path accepts


@pytest.mark.parametrize("path", FILTERED)
def test_q_is_search_everywhere(client: TestClient, path: str) -> None:
    refund = make_ticket(client, title="Refund missing", description="Where is my money")
    printer = make_ticket(client, title="Printer", description="Refund the toner please")
    login = make_ticket(client, title="Login", description="Cannot sign in")
    both = [refund["id"], printer["id"]]
    assert matching_ids(client, path, q="REFUND") == expected(path, both)
    assert matching_ids(client, path, search="refund") == expected(path, both)
    # Given together, a ticket must match both terms.
    assert matching_ids(client, path, q="refund", search="toner") == expected(path, [printer["id"]])
    assert matching_ids(client, path, q="  ") == expected(path, [*both, login["id"]])


def test_limit_outside_1_to_200_is_a_422_naming_the_range(client: TestClient) -> None:
    ticket_id = make_ticket(client)["id"]
    for limit in ["0", "-1", "201", "500", "99999999999999999999"]:
        for path in ("/api/tickets/", f"/api/tickets/{ticket_id}/events/"):
            response = client.get(path, params={"limit": limit})
            assert errors_of(response) == {"limit": "must be between 1 and 200"}, (path, limit)
    assert len(client.get("/api/tickets/", params={"limit": "200"}).json()) == 1


def test_limit_rule_is_in_the_schema(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/tickets/", "/api/tickets/{ticket_id}/events/"):
        (limit,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
        schema = limit["schema"]
        bounds = schema.get("anyOf", [schema])[0]
        assert (bounds["minimum"], bounds["maximum"]) == (1, 200), path
        assert "422" in limit["description"]


def stamp(db: Engine, client: TestClient, created: datetime, updated: datetime) -> int:
    """A ticket created and last changed at these instants (as an import could store them)."""
    ticket_id = make_ticket(client)["id"]
    set_created_at(db, ticket_id, created)
    with db.begin() as connection:
        connection.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(updated_at=updated)
        )
    return ticket_id


@pytest.mark.parametrize("path", FILTERED)
def test_created_and_updated_since_filter_inclusively(
    client: TestClient, db: Engine, path: str
) -> None:
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    old = stamp(db, client, t0 - timedelta(days=10), t0 - timedelta(days=10))
    touched = stamp(db, client, t0 - timedelta(days=10), t0 + timedelta(hours=1))
    new = stamp(db, client, t0, t0)
    assert matching_ids(client, path, created_since="2026-03-01T12:00:00Z") == expected(path, [new])
    assert matching_ids(client, path, created_since="2026-03-01T13:00:00+01:00") == expected(
        path, [new]
    )
    assert matching_ids(client, path, updated_since="2026-03-01T12:00:00Z") == expected(
        path, [touched, new]
    )
    assert matching_ids(client, path, updated_since="2026-03-01T12:00:00.000001Z") == expected(
        path, [touched]
    )
    assert matching_ids(
        client, path, created_since="2026-02-01T00:00:00Z", updated_since="2026-03-01T12:30:00Z"
    ) == expected(path, [touched])
    assert matching_ids(client, path, created_since="1970-01-01T00:00:00Z") == expected(
        path, [old, touched, new]
    )


NOT_RFC3339 = [
    "2026-03-01T12:00:00",  # no offset: refused, not guessed
    "2026-03-01",
    "1767225600",
    "yesterday",
    "2026-13-01T00:00:00Z",
    "2026-03-01T12:00:00 01:00",  # an unencoded + became a space
    "２０２６-03-01T12:00:00Z",
    "",
]


@pytest.mark.parametrize("parameter", ["created_since", "updated_since"])
def test_since_needs_an_rfc3339_time_with_an_offset(client: TestClient, parameter: str) -> None:
    for value in NOT_RFC3339:
        for path in FILTERED:
            response = client.get(path, params={parameter: value})
            assert parameter in errors_of(response), (path, value)


def test_an_unencoded_plus_gets_a_hint(client: TestClient) -> None:
    response = client.get("/api/tickets/?created_since=2026-03-01T12:00:00+01:00")
    assert "%2B" in errors_of(response)["created_since"]


def test_extreme_instants_are_no_error(client: TestClient) -> None:
    make_ticket(client)
    for value in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        for path in FILTERED:
            assert client.get(path, params={"updated_since": value}).status_code == 200

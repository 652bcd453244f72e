"""ETag on GET and PATCH of a ticket; a stale If-Match is a 412 that changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.tickets import make_ticket
from tests.support.workspace import error_fields, staff_clients
from ticket_app.models import Role


def test_get_and_patch_send_the_version_and_if_match_guards_it(client: TestClient) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    etag = client.get(url).headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(url).headers["ETag"] == etag  # stable while nothing changes

    changed = client.patch(url, json={"status": "in_progress"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    newer = changed.headers["ETag"]
    assert newer != etag and client.get(url).headers["ETag"] == newer


def test_a_stale_if_match_is_a_412_naming_who_changed_it(client: TestClient) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    stale = client.get(url).headers["ETag"]
    with staff_clients(Role.AGENT) as [(_, agent)]:
        assert agent.patch(url, json={"priority": "low"}).status_code == 200
    events = client.get(f"{url}events/").json()

    response = client.patch(url, json={"title": "Mine"}, headers={"If-Match": stale})
    assert response.status_code == 412
    body = response.json()
    assert error_fields(response) == ["If-Match"]
    assert body["current"]["priority"] == "low" and body["current"]["title"] == ticket["title"]
    assert body["changed_by"].startswith("agent0@example.com")
    assert response.headers["ETag"] == client.get(url).headers["ETag"]
    assert client.get(url).json()["title"] == ticket["title"]  # nothing changed
    assert client.get(f"{url}events/").json() == events  # nothing recorded


def test_star_and_lists_of_tags_match_as_rfc_9110_says(client: TestClient) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    etag = client.get(url).headers["ETag"]
    assert (
        client.patch(url, json={"status": "resolved"}, headers={"If-Match": "*"}).status_code == 200
    )
    current = client.get(url).headers["ETag"]
    assert (
        client.patch(url, json={"status": "open"}, headers={"If-Match": f"{etag}, {current}"})
    ).status_code == 200
    weak = f"W/{client.get(url).headers['ETag']}"
    assert (
        client.patch(url, json={"status": "closed"}, headers={"If-Match": weak}).status_code == 412
    )


def test_without_if_match_the_last_write_wins_as_before(client: TestClient) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    assert client.patch(url, json={"status": "closed"}).status_code == 200
    assert client.patch(url, json={"status": "open"}).json()["status"] == "open"


def test_a_comment_moves_the_version(client: TestClient) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    etag = client.get(url).headers["ETag"]
    client.post(f"{url}comments/", json={"body": "Looking", "public": False})
    response = client.patch(url, json={"status": "closed"}, headers={"If-Match": etag})
    assert response.status_code == 412


def test_if_match_on_an_unknown_ticket_is_still_a_404(client: TestClient) -> None:
    response = client.patch("/api/tickets/999/", json={"status": "open"}, headers={"If-Match": "*"})
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["garbage", "abc123", '"abc", oops', "W/abc", '"unterminated'])
def test_a_malformed_if_match_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, value: str
) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    response = client.patch(url, json={"status": "closed"}, headers={"If-Match": value})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["If-Match"]
    assert client.get(url).json()["status"] == "open"

"""No input makes the API answer 500 (issue 10), on SQLite and PostgreSQL alike.

Text PostgreSQL cannot store (NUL, lone UTF-16 surrogates) is a 422 naming the field on both
databases; text made only of whitespace and zero-width/format characters is blank; ids beyond the
integer column are simply not found; cursors take ASCII digits only; an undecodable body is a 400.
"""

from __future__ import annotations

import base64
import unicodedata

import pytest
from fastapi.testclient import TestClient

from tests.support.tickets import make_ticket
from ticket_app.schemas import INVISIBLE_RANGES, is_blank


def post_raw(client: TestClient, path: str, raw: bytes, method: str = "POST"):
    return client.request(method, path, content=raw, headers={"content-type": "application/json"})


def assert_refused(response, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.text
    assert field in {error["field"] for error in response.json()["errors"]}, response.text


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        # Raw JSON escapes: a lone surrogate survives json.loads but cannot be encoded as UTF-8.
        (rb'{"title": "x", "description": "a\udfffb"}', "description"),
        (rb'{"title": "a\ud800", "description": "fine"}', "title"),
        (rb'{"title": "x", "description": "a\u0000b"}', "description"),
        (rb'{"title": "nul\u0000", "description": "fine"}', "title"),
    ],
)
def test_unstorable_text_on_create_is_a_422_naming_the_field(
    client: TestClient, raw: bytes, field: str
) -> None:
    assert_refused(post_raw(client, "/api/tickets/", raw), field)
    assert client.get("/api/tickets/").json() == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (rb'{"description": "a\udfffb"}', "description"),
        (rb'{"title": "\udc00"}', "title"),
        (rb'{"description": "\u0000"}', "description"),
    ],
)
def test_unstorable_text_on_patch_is_a_422_naming_the_field(
    client: TestClient, raw: bytes, field: str
) -> None:
    ticket = make_ticket(client)
    path = f"/api/tickets/{ticket['id']}/"
    assert_refused(post_raw(client, path, raw, method="PATCH"), field)
    assert client.get(path).json() == ticket


def test_unstorable_text_in_classify_is_a_422(client: TestClient) -> None:
    response = post_raw(client, "/api/tickets/classify/", rb'{"description": "a\udfffb"}')
    assert_refused(response, "description")


def test_nul_in_a_search_is_a_422_naming_it(client: TestClient) -> None:
    make_ticket(client)
    for path in ("/api/tickets/", "/api/tickets/stats/", "/api/tickets/export/"):
        for parameter in ("search", "q"):
            assert_refused(client.get(path, params={parameter: "print\x00er"}), parameter)


BLANKS = [
    "\u200b",
    "\ufeff",
    "\u200b\u200c\u200d\u2060",
    " \u200b\t\ufeff ",
    "\u00ad",
    "\U000e0020",
]


def test_text_of_only_zero_width_characters_is_blank(client: TestClient) -> None:
    ticket = make_ticket(client)
    for text in BLANKS:
        title = client.post("/api/tickets/", json={"title": text, "description": "d"})
        assert_refused(title, "title")
        description = client.post("/api/tickets/", json={"title": "t", "description": text})
        assert_refused(description, "description")
        patch = client.patch(f"/api/tickets/{ticket['id']}/", json={"description": text})
        assert_refused(patch, "description")
        classify = client.post("/api/tickets/classify/", json={"description": text})
        assert_refused(classify, "description")
    assert client.get("/api/tickets/").json() == [ticket]


def test_zero_width_characters_inside_real_text_are_kept(client: TestClient) -> None:
    ticket = make_ticket(client, title="Drucker\u200bproblem", description="\ufeffKaputt")
    assert (ticket["title"], ticket["description"]) == ("Drucker\u200bproblem", "\ufeffKaputt")


def test_the_invisible_character_table_matches_this_python() -> None:
    """The table behind the blank rule and the schema pattern is Python's own Cf + whitespace."""
    listed = {chr(c) for first, last in INVISIBLE_RANGES for c in range(first, last + 1)}
    expected = {
        chr(c) for c in range(0x110000) if chr(c).isspace() or unicodedata.category(chr(c)) == "Cf"
    }
    assert listed == expected, f"update INVISIBLE_RANGES for Unicode {unicodedata.unidata_version}"
    assert is_blank("") and is_blank(" \u200b") and not is_blank("\u200bx")


BIG_IDS = ["2147483648", "63944606022", "9223372036854775807", "9223372036854775808", "9" * 40]


def test_ids_beyond_the_integer_column_are_not_found(client: TestClient) -> None:
    for ticket_id in BIG_IDS:
        assert_refused(client.get(f"/api/tickets/{ticket_id}/"), "id", status=404)
        patch = client.patch(f"/api/tickets/{ticket_id}/", json={"status": "closed"})
        assert_refused(patch, "id", status=404)
        assert_refused(client.get(f"/api/tickets/{ticket_id}/events/"), "id", status=404)


def test_id_zero_and_the_largest_id_are_not_found(client: TestClient) -> None:
    assert client.get("/api/tickets/0/").status_code == 404
    assert client.get("/api/tickets/2147483647/").status_code == 404


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_CURSOR_IDS = ["²", "١٢", "１", "", "-1", " 1", "+1", "99999999999", "9" * 40]


def test_ticket_cursors_take_ascii_digits_in_the_id_range_only(client: TestClient) -> None:
    make_ticket(client)
    for raw in [*(f"t1:{digits}" for digits in BAD_CURSOR_IDS), "e1:1", "\xff", "garbage"]:
        response = client.get("/api/tickets/", params={"cursor": cursor_of(raw)})
        assert_refused(response, "cursor")


def test_event_cursors_take_ascii_digits_in_the_id_range_only(client: TestClient) -> None:
    ticket = make_ticket(client)
    for raw in [*(f"e1:{digits}" for digits in BAD_CURSOR_IDS), "t1:1", "\xff"]:
        events = f"/api/tickets/{ticket['id']}/events/"
        assert_refused(client.get(events, params={"cursor": cursor_of(raw)}), "cursor")


def test_an_empty_cursor_is_the_first_page(client: TestClient) -> None:
    ticket = make_ticket(client)
    assert [t["id"] for t in client.get("/api/tickets/?cursor=").json()] == [ticket["id"]]
    events = client.get(f"/api/tickets/{ticket['id']}/events/?cursor=")
    assert events.status_code == 200 and len(events.json()) == 1


@pytest.mark.parametrize("path", ["/api/tickets/", "/api/tickets/classify/"])
def test_an_undecodable_body_is_a_400_naming_the_body(client: TestClient, path: str) -> None:
    assert_refused(post_raw(client, path, b"\xff"), "body", status=400)
    ticket = make_ticket(client)
    patch = post_raw(client, f"/api/tickets/{ticket['id']}/", b'{"title": "\xff"}', "PATCH")
    assert_refused(patch, "body", status=400)


@pytest.mark.parametrize(
    ("content_type", "named"), [("text/plain", "text/plain"), (None, "no Content-Type")]
)
def test_json_sent_without_the_json_content_type_says_so(
    client: TestClient, content_type: str | None, named: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = b'{"title": "T", "description": "D"}'
    response = client.post("/api/tickets/", content=body, headers=headers)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body"
    assert "Content-Type: application/json" in error["message"] and named in error["message"]
    assert client.get("/api/tickets/").json() == []

"""A page elsewhere cannot trigger an export in a signed-in user's name.

An `<img src=".../api/tickets/export/">` on another port of the same host (same site, so the
`SameSite=Lax` cookie goes along) used to export as the victim, write an audit event in their
name and use their export budget. The cookie is now accepted on POST only, from our origin;
bearer-token clients keep GET.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.auth import Clients, add_ticket, add_token, add_user, bearer, sign_in
from ticket_app.models import Role, TicketEvent

BASE = "http://testserver"
OTHER_PORT = "http://testserver:8081"


def exports(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.kind.in_(["exported", "export_interrupted"]))
        ).scalar_one()


def test_a_cookie_get_as_an_img_would_send_it_exports_nothing(clients: Clients, db: Engine) -> None:
    add_ticket("Secret customer data")
    browser = clients()
    sign_in(browser, add_user(Role.AGENT).email)
    # What Chromium sends for <img src> on a page at another port of this host.
    img = {"Referer": f"{OTHER_PORT}/attack.html", "Sec-Fetch-Site": "same-site"}
    for path in ("/api/tickets/export/", "/api/tickets/export"):
        response = browser.get(path, headers=img)
        assert response.status_code == 403
        assert "POST" in response.json()["detail"]
        assert "Secret customer data" not in response.text
    assert exports(db) == 0


def test_a_cookie_post_from_another_origin_is_refused(clients: Clients, db: Engine) -> None:
    add_ticket("Secret customer data")
    browser = clients()
    sign_in(browser, add_user(Role.AGENT).email)
    response = browser.post("/api/tickets/export/", headers={"Origin": OTHER_PORT})
    assert response.status_code == 403
    assert "Secret customer data" not in response.text
    assert exports(db) == 0


def test_the_console_posts_from_its_own_origin_and_gets_the_file(
    clients: Clients, db: Engine
) -> None:
    add_ticket("Printer on fire", status="resolved")
    add_ticket("Scanner on fire")
    browser = clients()
    sign_in(browser, add_user(Role.AGENT).email)
    # A form submission of the console's Export button: filters in the action's query string.
    response = browser.post(
        "/api/tickets/export/?status=resolved",
        headers={"Origin": BASE, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="tickets.csv"'
    assert "Printer on fire" in response.text and "Scanner on fire" not in response.text
    assert exports(db) == 1


def test_bearer_clients_keep_exporting_with_get(clients: Clients, db: Engine) -> None:
    add_ticket("Printer on fire")
    robot = clients(headers=bearer(add_token(add_user(Role.AGENT).email)))
    response = robot.get("/api/tickets/export/")
    assert response.status_code == 200
    assert "Printer on fire" in response.text
    # A bearer request with a stray cookie is the token's, so it is not refused either.
    robot.cookies.set("triage_session", "whatever")
    assert robot.get("/api/tickets/export/").status_code == 200


def test_refused_cookie_gets_spend_none_of_the_export_budget(
    clients: Clients, db: Engine, settings_env
) -> None:
    settings_env(RATE_LIMIT_EXPORTS="3/minute")
    add_ticket("Printer on fire")
    browser = clients()
    sign_in(browser, add_user(Role.AGENT).email)
    img = {"Referer": f"{OTHER_PORT}/attack.html", "Sec-Fetch-Site": "same-site"}
    assert [browser.get("/api/tickets/export/", headers=img).status_code for _ in range(5)] == [
        403
    ] * 5
    response = browser.post("/api/tickets/export/", headers={"Origin": BASE})
    assert response.status_code == 200 and "Printer on fire" in response.text

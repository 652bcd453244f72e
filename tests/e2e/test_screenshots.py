"""Screenshots of the console for docs/screenshots/; run with SCREENSHOTS=1.

    SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_screenshots.py

Seeds a few hundred made-up tickets through the REST API (some left to the classifier, some of
those then overridden, many assigned to two agents, a quarter answered; among the newest, four
that the list marks: frustrated customers and German and French tickets), spreads their
creation and reply times over six weeks, then adds one fresh ticket with a requester, a
public reply and an internal note. It captures the list, that ticket's page, the dashboard and
the new-ticket form at 1280x800 and 390x844 in light and dark mode (`list-1280-light.png` ...),
plus the sign-in, tokens and staff pages at 1280x800 in light mode, and the API docs page
(`api-docs.png`, Swagger UI served from local assets, public) at 1280x800.
"""

from __future__ import annotations

import os
import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, PASSWORD, REPO_ROOT, SYSTEM, AppServer, session_cookie
from tests.e2e.seed import MARKED_TICKETS, make_ticket, post_json
from ticket_app.services.database import use_database
from ticket_app.services.identity import tokens, users

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="set SCREENSHOTS=1 to refresh"),
]

OUT = REPO_ROOT / "docs" / "screenshots"
TICKETS = 320
SIZES = ((1280, 800), (390, 844))
# Post MARKED_TICKETS right after these random tickets: among the newest, so the list's first
# screen shows their marks at both widths.
MARKED_AFTER = dict(
    zip((TICKETS - 1, TICKETS - 2, TICKETS - 4, TICKETS - 5), MARKED_TICKETS, strict=True)
)
AGENTS = (("ana.diaz@example.com", "Ana Diaz"), ("ben.okafor@example.com", "Ben Okafor"))
REPLY = (
    "Hi Maria,\n\nsorry about that: the second charge was a retry of a failed payment. "
    "I have refunded it; you should see it on your statement within 3-5 working days.\n\nAna"
)
NOTE = "Payment provider confirmed the duplicate (case PP-88213). Refund issued, watch for a reply."


def _agent_tokens(app: AppServer) -> dict[str, tuple[int, str]]:
    """Create the agents; name -> (user id, an API token of theirs)."""
    use_database(app.database_url)
    agents = {}
    for email, name in AGENTS:
        user = users.create_user(email, "agent", PASSWORD, name=name, actor=SYSTEM)
        token, _ = tokens.create_token(email, "screenshots", actor=SYSTEM)
        agents[name] = (user.id, token)
    return agents


def _seed(app: AppServer, agents: dict[str, tuple[int, str]]) -> None:
    rng = random.Random(7)
    agent_ids = [user_id for user_id, _ in agents.values()]
    tickets = f"{app.base_url}/api/tickets"
    for index in range(TICKETS):
        payload = make_ticket(rng)
        if index % 3 == 0:  # let the classifier choose, as the form does
            payload.pop("category")
            payload.pop("priority")
        created = post_json(f"{tickets}/", payload, token=app.token)
        changes = {}
        if index % 12 == 0:
            changes["priority"] = rng.choice(["low", "high"])
        if index % 5 < 3:
            changes["assignee_id"] = rng.choice(agent_ids)
        if changes:
            post_json(f"{tickets}/{created['id']}/", changes, method="PATCH", token=app.token)
        if index % 4 == 1:
            _, token = rng.choice(list(agents.values()))
            reply = {"body": "Thanks, we are looking into it.", "public": True}
            post_json(f"{tickets}/{created['id']}/comments/", reply, token=token)
        if index in MARKED_AFTER:
            marked = post_json(f"{tickets}/", MARKED_AFTER[index], token=app.token)
            assert marked["frustrated"] or marked["language"] != "en", marked
    _spread_over_weeks(app.db_path, rng)


def _spread_over_weeks(db_path: Path, rng: random.Random) -> None:
    """Backdate the tickets over six weeks; a reply comes 10 min to 8 h after its ticket."""
    now = datetime.now(timezone.utc)
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute(
            "SELECT id, first_public_reply_at IS NOT NULL FROM tickets ORDER BY id"
        ).fetchall()
        for position, (ticket_id, replied) in enumerate(rows):
            created = now - timedelta(minutes=(len(rows) - position) * 190 + rng.randint(0, 120))
            stamp = created.strftime("%Y-%m-%d %H:%M:%S.%f")
            reply = (created + timedelta(minutes=rng.randint(10, 480))).strftime(
                "%Y-%m-%d %H:%M:%S.%f"
            )
            connection.execute(
                "UPDATE tickets SET created_at = ?, updated_at = ?, first_public_reply_at = ? "
                "WHERE id = ?",
                (stamp, reply if replied else stamp, reply if replied else None, ticket_id),
            )
            connection.execute(
                "UPDATE ticket_comments SET created_at = ? WHERE ticket_id = ?", (reply, ticket_id)
            )


def _conversation(app: AppServer, agents: dict[str, tuple[int, str]]) -> int:
    """The newest ticket: a requester, assigned to Ana, her reply and Ben's note; its id."""
    tickets = f"{app.base_url}/api/tickets"
    ticket = post_json(
        f"{tickets}/",
        {
            "title": "Charged twice for the May invoice",
            "description": "We were billed twice for the May invoice (order INV-40712).\n"
            "Please refund the duplicate charge to the card ending 4242.",
            "requester_name": "Maria Keller",
            "requester_email": "maria.keller@example.org",
        },
        token=app.token,
    )
    ana_id, ana_token = agents["Ana Diaz"]
    post_json(f"{tickets}/{ticket['id']}/", {"assignee_id": ana_id}, "PATCH", token=app.token)
    post_json(f"{tickets}/{ticket['id']}/", {"status": "in_progress"}, "PATCH", token=ana_token)
    comments = f"{tickets}/{ticket['id']}/comments/"
    post_json(comments, {"body": NOTE, "public": False}, token=agents["Ben Okafor"][1])
    post_json(comments, {"body": REPLY, "public": True}, token=ana_token)
    return ticket["id"]


def _shoot(page, name: str, width: int, scheme: str) -> None:
    page.wait_for_timeout(700)  # let charts, fonts and toasts settle
    page.screenshot(path=OUT / f"{name}-{width}-{scheme}.png")


def _list(page, app: AppServer) -> None:
    page.goto(f"{app.base_url}/")
    page.get_by_test_id("ticket-row").first.wait_for()
    page.get_by_test_id("nav-view-count").first.wait_for()
    page.get_by_test_id("frustrated-mark").first.wait_for()
    page.get_by_test_id("language-mark").first.wait_for()


def test_capture_console_screenshots(browser, app_server: AppServer) -> None:
    agents = _agent_tokens(app_server)
    _seed(app_server, agents)
    ticket_id = _conversation(app_server, agents)
    OUT.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for width, height in SIZES:
            context = browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=scheme
            )
            page = context.new_page()
            if (width, scheme) == (1280, "light"):
                page.goto(f"{app_server.base_url}/login")
                page.get_by_role("button", name="Sign in").wait_for()
                page.screenshot(path=OUT / "sign-in.png")
            context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])

            _list(page, app_server)
            _shoot(page, "list", width, scheme)

            page.goto(f"{app_server.base_url}/tickets/{ticket_id}")
            page.locator("[data-testid=timeline-entry][data-kind=note]").wait_for()
            _shoot(page, "ticket", width, scheme)

            page.goto(f"{app_server.base_url}/dashboard")
            page.get_by_test_id("assignee-load").first.wait_for()
            page.locator(".recharts-surface").first.wait_for()
            _shoot(page, "dashboard", width, scheme)

            page.goto(f"{app_server.base_url}/tickets/new")
            page.locator("#ticket-title").fill("Invoice charged twice")
            page.locator("#ticket-description").fill(
                "We were billed twice for the May invoice, please refund the duplicate."
            )
            page.get_by_test_id("category-hint").wait_for()
            _shoot(page, "new-ticket", width, scheme)

            if (width, scheme) == (1280, "light"):
                for path in ("tokens", "staff"):
                    page.goto(f"{app_server.base_url}/{path}")
                    page.get_by_role("heading", level=2).first.wait_for()
                    page.wait_for_timeout(400)
                    page.screenshot(path=OUT / f"{path}.png")
            context.close()


def test_capture_api_docs_screenshot(browser, app_server: AppServer) -> None:
    """/api/docs is public: Swagger UI with every endpoint, its assets from this server."""
    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    page = context.new_page()
    page.goto(f"{app_server.base_url}/api/docs")
    page.get_by_role("heading", name="Triage Desk API").wait_for()
    page.locator(".opblock").first.wait_for()
    page.wait_for_timeout(700)
    page.screenshot(path=OUT / "api-docs.png")
    context.close()

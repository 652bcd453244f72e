"""Screenshots of the console for docs/screenshots/; run with SCREENSHOTS=1.

    SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_screenshots.py

Seeds a few hundred made-up tickets through the REST API (some left to the classifier, some of
those then overridden), spreads their creation times over six weeks, and captures the console at
desktop and phone sizes in light and dark mode.
"""

from __future__ import annotations

import os
import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, REPO_ROOT, AppServer, session_cookie
from tests.e2e.seed import make_ticket, post_json

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="set SCREENSHOTS=1 to refresh"),
]

OUT = REPO_ROOT / "docs" / "screenshots"
TICKETS = 320
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def _seed(app: AppServer) -> None:
    rng = random.Random(7)
    for index in range(TICKETS):
        payload = make_ticket(rng)
        if index % 3 == 0:  # let the classifier choose, as the form does
            payload.pop("category")
            payload.pop("priority")
            created = post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)
            if index % 4 == 0:
                post_json(
                    f"{app.base_url}/api/tickets/{created['id']}/",
                    {"priority": rng.choice(["low", "high"])},
                    method="PATCH",
                    token=app.token,
                )
        else:
            post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)
    _spread_over_weeks(app.db_path, rng)


def _spread_over_weeks(db_path: Path, rng: random.Random) -> None:
    now = datetime.now(timezone.utc)
    with sqlite3.connect(db_path) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM tickets ORDER BY id")]
        for position, ticket_id in enumerate(ids):
            age = timedelta(minutes=(len(ids) - position) * 190 + rng.randint(0, 120))
            stamp = (now - age).strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.execute(
                "UPDATE tickets SET created_at = ?, updated_at = ? WHERE id = ?",
                (stamp, stamp, ticket_id),
            )


def test_capture_console_screenshots(browser, app_server: AppServer) -> None:
    _seed(app_server)
    OUT.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for name, (width, height) in SIZES.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=scheme
            )
            page = context.new_page()
            if name == "desktop" and scheme == "light":
                page.goto(f"{app_server.base_url}/login")
                page.get_by_role("button", name="Sign in").wait_for()
                page.screenshot(path=OUT / "sign-in.png")
            context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
            page.goto(app_server.base_url)
            page.get_by_test_id("ticket-row").first.wait_for()
            page.locator("#ticket-title").fill("Invoice charged twice")
            page.locator("#ticket-description").fill(
                "We were billed twice for the May invoice, please refund the duplicate."
            )
            page.get_by_test_id("category-hint").wait_for()
            page.wait_for_timeout(800)
            suffix = "" if scheme == "light" else "-dark"
            page.screenshot(path=OUT / f"console-{name}{suffix}.png")
            if scheme == "light":
                heading = page.get_by_role("heading", name="Tickets").bounding_box()
                page.mouse.wheel(0, heading["y"] - 12)
                page.wait_for_timeout(400)
                page.screenshot(path=OUT / f"console-{name}-table.png")
            if name == "desktop" and scheme == "light":
                page.get_by_test_id("ticket-link").first.click()
                page.get_by_test_id("history-entry").first.wait_for()
                page.wait_for_timeout(400)
                page.screenshot(path=OUT / "ticket-dialog.png")
                page.keyboard.press("Escape")
                for path in ("tokens", "staff"):
                    page.goto(f"{app_server.base_url}/{path}")
                    page.get_by_role("heading", level=2).first.wait_for()
                    page.wait_for_timeout(400)
                    page.screenshot(path=OUT / f"{path}.png")
            context.close()

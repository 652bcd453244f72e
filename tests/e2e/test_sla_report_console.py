"""The dashboard's service-level section against the database: the compliance figures it shows
for the list's filters are the report's (read through the API) and the database's, and the
section, with a breach per assignee, passes axe-core in light and dark."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, AppServer, session_cookie
from tests.e2e.test_accessibility import _axe_violations
from tests.support.auth import actor_of
from tests.support.seed import get_json
from ticket_app.schemas import CommentCreate, TicketCreate, TicketUpdate
from ticket_app.services import comments, tickets
from ticket_app.services.database import use_database

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

TAG = "slareport"
TARGETS = ("first_response", "next_response", "resolution")
PRIORITIES = ("all", "critical", "high", "medium", "low")


def _seed(app: AppServer) -> None:
    """Three tagged critical tickets: one answered, one waiting on time, one overdue (its due
    instant moved into the past, as the clock would have it an hour later) and assigned to the
    admin; and a tagged low ticket. Written through the services on the app's database (as the
    API would), which is quicker than HTTP on a loaded machine."""
    use_database(app.database_url)
    admin = actor_of(ADMIN_EMAIL)
    ids = [
        tickets.create_ticket(
            TicketCreate(
                title=f"VPN down for office {n}",
                description="Nobody can reach the VPN since this morning.",
                category="technical",
                priority=priority,
                tags=[TAG],
            ),
            actor=admin,
        ).id
        for n, priority in enumerate(("critical", "critical", "critical", "low"))
    ]
    comments.add_comment(ids[0], CommentCreate(body="We are on it.", public=True), actor=admin)
    tickets.update_ticket(ids[2], TicketUpdate(assignee_id=admin.user_id), actor=admin)
    past = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(app.db_path, timeout=30) as connection:
        connection.execute(
            "UPDATE tickets SET first_response_due_at = ?, sla_due_at = ? WHERE id = ?",
            (past, past, ids[2]),
        )


def _breached_in_database(app: AppServer) -> int:
    """Critical tagged tickets whose first-response target ran out, counted in SQL."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(app.db_path, timeout=30) as connection:
        return connection.execute(
            "SELECT count(*) FROM tickets t JOIN ticket_tags g ON g.ticket_id = t.id "
            "WHERE g.tag = ? AND t.priority = 'critical' AND (t.first_response_breached_at "
            "IS NOT NULL OR t.first_response_due_at <= ?)",
            (TAG, now),
        ).fetchone()[0]


def _shown(page, key: str) -> dict[str, str]:
    row = page.get_by_test_id(key)
    return {
        column: row.locator(f"[data-column={column}]").inner_text()
        for column in ("met", "breached", "on_time", "met_percent")
    }


def test_dashboard_compliance_figures_match_the_database(page, app_server: AppServer) -> None:
    _seed(app_server)
    query = f"tag={TAG}&priority=critical"

    page.goto(f"{app_server.base_url}/dashboard?{query}")
    expect(page.get_by_test_id("dashboard-scope")).to_contain_text("critical")
    expect(page.get_by_test_id("sla-first_response-critical")).to_be_visible()
    expect(page.get_by_test_id("sla-assignee-breaches")).to_have_count(1)

    report = get_json(f"{app_server.base_url}/api/sla/report/?{query}", token=app_server.token)
    for row in report["compliance"]:
        key = f"sla-{row['target']}-{row['priority'] or 'all'}"
        percent = "—" if row["met_percent"] is None else f"{row['met_percent']:.1f} %"
        expected = {
            "met": f"{row['met']:,}",
            "breached": f"{row['breached']:,}",
            "on_time": f"{row['on_time']:,}",
            "met_percent": percent,
        }
        assert _shown(page, key) == expected, key
    assert _shown(page, "sla-first_response-critical") == {
        "met": "1",
        "breached": str(_breached_in_database(app_server)),
        "on_time": "1",
        "met_percent": "50.0 %",
    }
    assert _shown(page, "sla-first_response-low")["on_time"] == "0"  # the filter applies
    assignee = page.get_by_test_id("sla-assignee-breaches")
    expect(assignee.get_by_role("rowheader")).to_have_text(
        report["breaches_by_assignee"][0]["name"]
    )
    times = page.get_by_test_id("sla-time-first_response")
    expect(times.locator("[data-column=tickets]")).to_have_text(
        str(report["first_response_time"]["tickets"])
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_service_level_section_meets_wcag_aa(
    browser, app_server: AppServer, scheme: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    context.set_default_timeout(15_000)
    context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
    try:
        page = context.new_page()
        page.goto(f"{app_server.base_url}/dashboard?tag={TAG}")
        expect(page.get_by_test_id("sla-assignee-breaches").first).to_be_visible()
        assert _axe_violations(page) == []
    finally:
        context.close()

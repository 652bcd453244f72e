"""The dashboard's SLA report as text: every figure written out, hours and shares formatted."""

from __future__ import annotations

from datetime import UTC, datetime

from ticket_app.schemas import SlaAssigneeBreaches, SlaCompliance, SlaDuration, SlaReport
from ticket_app.ui.logic.sla_report import sla_report_view


def test_the_view_writes_every_figure_as_text() -> None:
    report = SlaReport(
        as_of=datetime(2026, 12, 6, tzinfo=UTC),
        compliance=[
            SlaCompliance(
                target="first_response",
                priority=None,
                met=1200,
                breached=300,
                on_time=5,
                met_percent=80.0,
            ),
            SlaCompliance(
                target="next_response",
                priority="critical",
                met=0,
                breached=0,
                on_time=0,
                met_percent=None,
            ),
        ],
        first_response_time=SlaDuration(tickets=1500, median_hours=1.5, p90_hours=12.25),
        resolution_time=SlaDuration(tickets=0, median_hours=None, p90_hours=None),
        breaches_by_assignee=[
            SlaAssigneeBreaches(
                assignee_id=None,
                name="Unassigned",
                first_response=2,
                next_response=0,
                resolution=1,
                total=3,
            )
        ],
    )

    view = sla_report_view(report)

    assert view.compliance_rows == [
        {
            "key": "sla-first_response-all",
            "target": "First response",
            "priority": "All priorities",
            "met": "1,200",
            "breached": "300",
            "on_time": "5",
            "met_percent": "80.0 %",
            "group": "yes",
        },
        {
            "key": "sla-next_response-critical",
            "target": "Next response",
            "priority": "Critical",
            "met": "0",
            "breached": "0",
            "on_time": "0",
            "met_percent": "—",
            "group": "",
        },
    ]
    assert [(r["label"], r["median"], r["p90"], r["tickets"]) for r in view.time_rows] == [
        ("First response", "1.50 h", "12.25 h", "1,500"),
        ("Resolution", "—", "—", "0"),
    ]
    assert view.assignee_rows == [
        {
            "name": "Unassigned",
            "first_response": "2",
            "next_response": "0",
            "resolution": "1",
            "total": "3",
        }
    ]

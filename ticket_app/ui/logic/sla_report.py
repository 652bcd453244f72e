"""The dashboard's SLA report formatted for its tables: every figure as text, nothing by colour.

Rows are flat string dicts (what `rx.foreach` renders): compliance per target, all priorities
first and then each priority; business-hour times; breaches per assignee.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ticket_app.schemas import SlaDuration, SlaReport
from ticket_app.ui.logic.tickets import label_of_value

TARGET_LABELS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}
ALL_PRIORITIES = "All priorities"
NONE_YET = "—"


def hours_text(hours: float | None) -> str:
    """Business hours for people: "—" (no tickets), else "1.50 h"."""
    return NONE_YET if hours is None else f"{hours:,.2f} h"


def percent_text(percent: float | None) -> str:
    """A met share: "—" when nothing was met or breached, else "85.7 %"."""
    return NONE_YET if percent is None else f"{percent:.1f} %"


def _time_row(key: str, label: str, duration: SlaDuration) -> dict[str, str]:
    return {
        "key": key,
        "label": label,
        "median": hours_text(duration.median_hours),
        "p90": hours_text(duration.p90_hours),
        "tickets": f"{duration.tickets:,}",
    }


@dataclass(frozen=True)
class SlaReportView:
    """What the dashboard's service-level section shows.

    `compliance_rows`: `key` (`sla-<target>-<priority or all>`, a test hook), `target`,
    `priority`, `met`, `breached`, `on_time`, `met_percent`, `group` ("yes" on a target's
    all-priorities row). `time_rows`: `key`, `label`, `median`, `p90`, `tickets`.
    `assignee_rows`: `name`, `first_response`, `next_response`, `resolution`, `total`.
    """

    compliance_rows: list[dict[str, str]] = field(default_factory=list)
    time_rows: list[dict[str, str]] = field(default_factory=list)
    assignee_rows: list[dict[str, str]] = field(default_factory=list)


def sla_report_view(report: SlaReport) -> SlaReportView:
    """Format `report` for the dashboard's tables (numbers with thousands separators)."""
    compliance = [
        {
            "key": f"sla-{row.target}-{row.priority.value if row.priority else 'all'}",
            "target": TARGET_LABELS[row.target],
            "priority": label_of_value(row.priority.value) if row.priority else ALL_PRIORITIES,
            "met": f"{row.met:,}",
            "breached": f"{row.breached:,}",
            "on_time": f"{row.on_time:,}",
            "met_percent": percent_text(row.met_percent),
            "group": "" if row.priority else "yes",
        }
        for row in report.compliance
    ]
    times = [
        _time_row("sla-time-first_response", "First response", report.first_response_time),
        _time_row("sla-time-resolution", "Resolution", report.resolution_time),
    ]
    assignees = [
        {
            "name": row.name,
            "first_response": f"{row.first_response:,}",
            "next_response": f"{row.next_response:,}",
            "resolution": f"{row.resolution:,}",
            "total": f"{row.total:,}",
        }
        for row in report.breaches_by_assignee
    ]
    return SlaReportView(compliance, times, assignees)

"""The dashboard's plain logic: the stats service's aggregates formatted for the panel.

Numbers get thousands separators, breakdowns become recharts rows with a spoken summary, and
durations read as "12 min" or "3.5 h".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ticket_app.schemas import TicketStats, TriageOverrideStats
from ticket_app.services.stats import DayFlow
from ticket_app.ui.logic.tickets import UNASSIGNED, label_of_value


def duration_text(seconds: float | None) -> str:
    """A duration for people: "—" (none), "45 s", "12 min", "3.5 h", "2.1 d"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def chart_rows(counts: Mapping[str, int]) -> list[dict[str, str | int]]:
    """Breakdown counts as recharts rows `{"name", "count", "label", "legend"}`, in the order given.

    `name` is the value's label, capitalised as everywhere in the console ("In progress");
    `label` is the count with thousands separators ("400,794"), shown on the bar itself;
    `legend` is the name with that count ("Billing 12"), what the pie's legend shows.
    """
    return [
        {
            "name": label_of_value(str(name)),
            "count": int(count),
            "label": f"{int(count):,}",
            "legend": f"{label_of_value(str(name))} {int(count):,}",
        }
        for name, count in counts.items()
    ]


# The periods the created-versus-resolved chart offers, in days (the first is the default).
FLOW_PERIODS = (14, 7, 30, 90)


def flow_rows(flows: Sequence[DayFlow]) -> list[dict[str, str | int]]:
    """Days of the created-versus-resolved chart as recharts rows, oldest first.

    `{"day": "6 Dec", "created": 3, "resolved": 1}`: the day as the axis writes it (UTC).
    """
    return [
        {"day": f"{flow.day.day} {flow.day:%b}", "created": flow.created, "resolved": flow.resolved}
        for flow in flows
    ]


def flow_summary(flows: Sequence[DayFlow]) -> str:
    """The period's totals in words: "Last 14 days: 12 created, 9 resolved"."""
    created = sum(flow.created for flow in flows)
    resolved = sum(flow.resolved for flow in flows)
    days = len(flows)
    period = "Today" if days == 1 else f"Last {days} days"
    return f"{period}: {created:,} created, {resolved:,} resolved"


def chart_summary(title: str, counts: Mapping[str, int]) -> str:
    """A chart's content in words for screen readers: "Tickets by priority: low 3, high 1"."""
    parts = ", ".join(f"{label_of_value(name)} {count:,}" for name, count in counts.items())
    return f"{title}: {parts}"


@dataclass(frozen=True)
class StatsView:
    """Everything the stats panel shows, computed from the two service aggregates.

    `tag_rows` are the most used tags: `tag`, `count` (with separators) and `href`, the list
    filtered by that tag. `flow_rows` and `flow_summary` are the created-versus-resolved chart's
    days and totals (see `flow_rows`, `flow_summary`).
    """

    total: int
    open: int
    avg_per_day: str
    total_text: str
    open_text: str
    priority_summary: str
    category_summary: str
    priority_rows: list[dict[str, str | int]]
    category_rows: list[dict[str, str | int]]
    override_text: str
    override_rate: str
    assignee_rows: list[dict[str, str]]
    median_first_reply: str
    tag_rows: list[dict[str, str]] = field(default_factory=list)
    flow_rows: list[dict[str, str | int]] = field(default_factory=list)
    flow_summary: str = ""


def stats_view(
    stats: TicketStats, overrides: TriageOverrideStats, flows: Sequence[DayFlow] = ()
) -> StatsView:
    """Format the service aggregates for display, numbers with thousands separators.

    `flows` are the created-versus-resolved days (`services.stats.created_and_resolved_per_day`).
    """
    priorities = {p.value: n for p, n in stats.priority_breakdown.items()}
    categories = {c.value: n for c, n in stats.category_breakdown.items()}
    return StatsView(
        total=stats.total_tickets,
        open=stats.open_tickets,
        avg_per_day=f"{stats.avg_tickets_per_day:,.2f}",
        total_text=f"{stats.total_tickets:,}",
        open_text=f"{stats.open_tickets:,}",
        priority_summary=chart_summary("Tickets by priority", priorities),
        category_summary=chart_summary("Tickets by category", categories),
        priority_rows=chart_rows(priorities),
        category_rows=chart_rows(categories),
        override_text=(
            f"{overrides.overridden:,} of {overrides.suggested:,} AI suggestions changed"
        ),
        override_rate=f"{overrides.override_rate * 100:.0f}%",
        assignee_rows=[
            {
                "key": str(row.assignee_id) if row.assignee_id is not None else UNASSIGNED,
                "name": row.name,
                "open": f"{row.open:,}",
            }
            for row in stats.open_by_assignee
        ],
        median_first_reply=duration_text(stats.median_first_reply_seconds),
        tag_rows=[
            {"tag": row.tag, "count": f"{row.count:,}", "href": "/?" + urlencode({"tag": row.tag})}
            for row in stats.tag_breakdown
        ],
        flow_rows=flow_rows(flows),
        flow_summary=flow_summary(flows) if flows else "",
    )

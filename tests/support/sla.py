"""Service levels in tests: the seeded policies and calendar restored between tests."""

from __future__ import annotations

import sqlalchemy as sa

DEFAULT_CALENDAR = "24/7"
DEFAULT_TARGETS = {
    "critical": (60, 120, 480),
    "high": (240, 480, 1440),
    "medium": (480, 960, 2880),
    "low": (1440, 2880, 5760),
}
"""What migration 0013 seeds: (first response, next response, resolution) business minutes."""


def reset_service_levels(connection: sa.Connection) -> None:
    """Put the policies and calendars back as migration 0013 seeded them (tickets gone first)."""
    calendar_id = connection.execute(
        sa.text("SELECT id FROM sla_calendars WHERE name = :name"), {"name": DEFAULT_CALENDAR}
    ).scalar_one()
    connection.execute(sa.text("DELETE FROM sla_policies WHERE category IS NOT NULL"))
    for priority, (first, following, resolution) in DEFAULT_TARGETS.items():
        connection.execute(
            sa.text(
                "UPDATE sla_policies SET name = :name, calendar_id = :calendar, enabled = true, "
                "first_response_minutes = :first, next_response_minutes = :following, "
                "resolution_minutes = :resolution WHERE priority = :priority"
            ),
            {
                "name": f"{priority.capitalize()} (default)",
                "calendar": calendar_id,
                "first": first,
                "following": following,
                "resolution": resolution,
                "priority": priority,
            },
        )
    connection.execute(sa.text("DELETE FROM sla_calendars WHERE id <> :id"), {"id": calendar_id})

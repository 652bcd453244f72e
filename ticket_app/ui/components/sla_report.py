"""The dashboard's service-level section: compliance, business-hour times, breaches.

Three tables, each named by its heading (`aria-labelledby`), with row headers; every figure is
text (counts and "met" shares), nothing is told by colour alone.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.state.sla_report import SlaReportState

_RIGHT = {"text_align": "right"}


def _headers(*names: str) -> rx.Component:
    first, *numbers = names
    return rx.table.header(
        rx.table.row(
            rx.table.column_header_cell(first),
            *(rx.table.column_header_cell(name, **_RIGHT) for name in numbers),
        )
    )


def _compliance_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.cond(
                row["group"] == "yes",
                rx.el.strong(row["target"], ", ", row["priority"]),
                rx.text(row["target"], ", ", row["priority"], as_="span"),
            )
        ),
        rx.table.cell(row["met"], **_RIGHT, data_column="met"),
        rx.table.cell(row["breached"], **_RIGHT, data_column="breached"),
        rx.table.cell(row["on_time"], **_RIGHT, data_column="on_time"),
        rx.table.cell(row["met_percent"], **_RIGHT, data_column="met_percent"),
        data_testid=row["key"],
    )


def _time_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        rx.table.cell(row["median"], **_RIGHT, data_column="median"),
        rx.table.cell(row["p90"], **_RIGHT, data_column="p90"),
        rx.table.cell(row["tickets"], **_RIGHT, data_column="tickets"),
        data_testid=row["key"],
    )


def _assignee_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        rx.table.cell(row["first_response"], **_RIGHT),
        rx.table.cell(row["next_response"], **_RIGHT),
        rx.table.cell(row["resolution"], **_RIGHT),
        rx.table.cell(row["total"], **_RIGHT),
        data_testid="sla-assignee-breaches",
    )


def _table(heading_id: str, header: rx.Component, body: rx.Component) -> rx.Component:
    return rx.table.root(
        header,
        body,
        size="1",
        variant="surface",
        width="100%",
        aria_labelledby=heading_id,
    )


def sla_report_section() -> rx.Component:
    """The SLA report for the dashboard's filters (see `schemas.SlaCompliance` for each term)."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Service levels", size="3", as_="h3", id="sla-report-heading"),
                rx.cond(
                    SlaReportState.unavailable,
                    rx.badge("stale: database unavailable", color_scheme="red"),
                ),
                align="center",
            ),
            rx.text(
                "Compliance per target: first response and resolution count tickets, next "
                "response counts customer messages awaiting a reply. Met share = met / (met + "
                "breached).",
                size="2",
            ),
            rx.heading("Compliance", size="2", as_="h4", id="sla-compliance-heading"),
            _table(
                "sla-compliance-heading",
                _headers("Target, priority", "Met", "Breached", "Open and on time", "Met share"),
                rx.table.body(rx.foreach(SlaReportState.compliance_rows, _compliance_row)),
            ),
            rx.heading("Time in business hours", size="2", as_="h4", id="sla-times-heading"),
            _table(
                "sla-times-heading",
                _headers("Time to", "Median", "90th percentile", "Tickets"),
                rx.table.body(rx.foreach(SlaReportState.time_rows, _time_row)),
            ),
            rx.heading("Breaches by assignee", size="2", as_="h4", id="sla-assignees-heading"),
            rx.cond(
                SlaReportState.assignee_rows.length() > 0,
                _table(
                    "sla-assignees-heading",
                    _headers("Assignee", "First response", "Next response", "Resolution", "Total"),
                    rx.table.body(rx.foreach(SlaReportState.assignee_rows, _assignee_row)),
                ),
                rx.text("No breaches.", size="2", data_testid="sla-no-breaches"),
            ),
            width="100%",
            spacing="2",
        ),
        width="100%",
        data_testid="sla-report",
    )

"""What the SLA report needs of one ticket, stored on it when it happens (pure).

The report aggregates these per request; computing each ticket's clock from its history per
request would grow with every ticket's history. `services.sla` stores them on every refresh,
migration 0025 backfilled them.

- `first_response_business_minutes`: business minutes (the ticket's calendar, time the clock
  stood still while resolved or closed excluded) from creation to the first public staff
  reply; None until that reply. Kept for tickets without a policy too (24/7 calendar).
- `resolution_business_minutes`: business minutes the resolution clock ran (pending time
  excluded) until the ticket was resolved or closed; None while it is not resolved or closed
  (a reopened ticket's value goes back to None).
- `next_responses_met`: next-response cycles answered by a public staff reply within their
  target (cycles without a target do not count).
- `next_responses_breached`: next-response cycles whose target ran out (answered late, or
  still unanswered past it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ticket_app.sla.clock import SlaState

_DONE_STATUSES = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class ReportMeasures:
    """A ticket's stored report values (see the module's docstring for each)."""

    first_response_business_minutes: float | None
    resolution_business_minutes: float | None
    next_responses_met: int
    next_responses_breached: int


def report_measures(state: SlaState, status: str) -> ReportMeasures:
    """The report values of a ticket whose clock is `state` and whose status is `status`."""
    first = state.first_response
    cycles = state.next_response_cycles
    return ReportMeasures(
        first_response_business_minutes=(
            first.spent_minutes if first.answered_at is not None else None
        ),
        resolution_business_minutes=(
            state.resolution.spent_minutes if str(status) in _DONE_STATUSES else None
        ),
        next_responses_met=sum(
            1
            for cycle in cycles
            if cycle.answered_at is not None
            and cycle.breached_at is None
            and cycle.target_minutes is not None
        ),
        next_responses_breached=sum(1 for cycle in cycles if cycle.breached_at is not None),
    )

"""The SLA clock: a ticket's due and breach instants, computed purely from its history.

Three targets, each in business minutes of a `BusinessCalendar` (`SlaTargets`):
- first response: runs from the ticket's creation until the first public staff reply (an
  internal note does not count). It keeps running while the ticket is `pending` (setting a ticket
  pending without answering must not dodge it) and stops while the ticket is `resolved` or
  `closed`.
- next response: after the first response, a customer message with no unanswered message
  before it starts a cycle, which ends at the next public staff reply. Before the first response
  there is no next-response clock at all, so it can never overrule the first-response target.
  It runs while the ticket is `open` or `in_progress` and is paused while `pending`.
- resolution: runs from the creation while the ticket is `open` or `in_progress`, is paused
  while `pending`, and stops while `resolved` or `closed`.
With `resolved_pauses=True`, `resolved` pauses the next-response and resolution clocks instead
of stopping them (they are then reported paused, not met). A stopped or paused clock resumes
where it stopped when the ticket is reopened: the business time already spent is kept.

A customer message on a pending ticket reopens it: the caller passes that as a `StatusChanged`
to `open` at the message's instant (next to the `CustomerMessaged`), and the clocks resume.

Targets change with the priority or policy (`TargetsChanged`, in force from its instant). A
clock still running or paused at that instant is judged by the new target over its whole
history: its due instant is where its spent business time (pauses excluded) reaches the new
target, so a due time never forgets spent or paused time. A clock that had already stopped
keeps the verdict of the target in force when it stopped.

Statuses are the values of `ticket_app.enums.Status` (`open`, `in_progress`, `pending`,
`resolved`, `closed`), given as strings or enum members.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ticket_app.sla.calendar import BusinessCalendar

_RUNNING = frozenset({"open", "in_progress"})
_KNOWN_STATUSES = frozenset({"open", "in_progress", "pending", "resolved", "closed"})


class Target(StrEnum):
    """Which service-level target a clock measures."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    """Where one target's clock is.

    - `no_target`: the policy sets no target (business time is still counted).
    - `not_started`: next response only: no customer message awaits an answer.
    - `running`: counting now; `due_at` is set (in the past when overdue).
    - `paused`: the ticket is pending (or resolved with `resolved_pauses`); remaining kept.
    - `met`: stopped (answered, or ticket resolved/closed) within the target.
    - `missed`: stopped after the target ran out.
    """

    NO_TARGET = "no_target"
    NOT_STARTED = "not_started"
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class SlaTargets:
    """Targets in business minutes; None means no target. Each must be finite and > 0.

    Raises `ValueError` naming the field (`first_response_minutes`, ...) otherwise.
    """

    first_response_minutes: float | None = None
    next_response_minutes: float | None = None
    resolution_minutes: float | None = None

    def __post_init__(self) -> None:
        for name in ("first_response_minutes", "next_response_minutes", "resolution_minutes"):
            value = getattr(self, name)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"{name}: {value!r} must be a number of minutes > 0 or None")

    def minutes(self, target: Target) -> float | None:
        """The target's minutes (None: no target)."""
        return getattr(self, f"{target.value}_minutes")


@dataclass(frozen=True)
class StatusChanged:
    """The ticket's status became `status` at `at`."""

    at: datetime
    status: str


@dataclass(frozen=True)
class StaffReplied:
    """Staff commented at `at`; only a public reply (`public=True`) answers the customer."""

    at: datetime
    public: bool = True


@dataclass(frozen=True)
class CustomerMessaged:
    """The requester wrote at `at` (console, API or e-mail)."""

    at: datetime


@dataclass(frozen=True)
class TargetsChanged:
    """From `at` on, `targets` apply (a priority, policy or category change)."""

    at: datetime
    targets: SlaTargets


SlaEvent = StatusChanged | StaffReplied | CustomerMessaged | TargetsChanged


@dataclass(frozen=True)
class TicketHistory:
    """What the clock needs of a ticket: its creation, first status, targets, and events.

    `created_at` aware; `status` the status it was created with; `targets` those in force at
    creation; `events` in any order (sorted by `at`, ties keep their given order), none before
    `created_at`.
    """

    created_at: datetime
    targets: SlaTargets
    events: Sequence[SlaEvent] = ()
    status: str = "open"


@dataclass(frozen=True)
class TargetClock:
    """One target's clock (for next response: the latest cycle).

    - `target_minutes`: the target judging this clock (None: no target).
    - `started_at`: when the clock (cycle) started; None when not started.
    - `due_at`: when running, the instant the target runs out (in the past when overdue);
      None when met, missed, paused, not started or without a target.
    - `breached_at`: the instant the target ran out, when that is at or before `now` and the
      clock had not stopped by then (set for running-overdue, missed and paused-overdue).
    - `spent_minutes`: business minutes counted (up to `now` when running).
    - `remaining_minutes`: `target_minutes - spent_minutes` (negative when over; None without
      a target).
    """

    target: Target
    state: ClockState
    target_minutes: float | None
    started_at: datetime | None
    due_at: datetime | None
    breached_at: datetime | None
    spent_minutes: float
    remaining_minutes: float | None

    @property
    def met(self) -> bool:
        """Whether the clock stopped within its target."""
        return self.state is ClockState.MET


@dataclass(frozen=True)
class Breach:
    """A target ran out at `at` (the instant to record once, with the target it broke)."""

    target: Target
    at: datetime
    target_minutes: float


@dataclass(frozen=True)
class SlaState:
    """A ticket's service-level state at `now` (see `compute_sla_state`).

    `breaches` lists every breach so far in time order (each next-response cycle may add one),
    so a service can record those it has not recorded yet. `paused` is True while the ticket's
    status pauses the clocks (`pending`, or `resolved` with `resolved_pauses`).
    """

    first_response: TargetClock
    next_response: TargetClock
    resolution: TargetClock
    paused: bool
    breaches: tuple[Breach, ...] = field(default=())

    @property
    def first_response_due_at(self) -> datetime | None:
        """The first-response due instant while its clock runs, else None."""
        return self.first_response.due_at

    @property
    def next_response_due_at(self) -> datetime | None:
        """The next-response due instant while a cycle runs, else None."""
        return self.next_response.due_at

    @property
    def resolution_due_at(self) -> datetime | None:
        """The resolution due instant while its clock runs, else None."""
        return self.resolution.due_at

    @property
    def first_response_breached_at(self) -> datetime | None:
        """When the first-response target ran out (at or before `now`), else None."""
        return self.first_response.breached_at

    @property
    def next_response_breached_at(self) -> datetime | None:
        """When the latest next-response cycle's target ran out (at or before `now`), else None."""
        return self.next_response.breached_at

    @property
    def resolution_breached_at(self) -> datetime | None:
        """When the resolution target ran out (at or before `now`), else None."""
        return self.resolution.breached_at

    @property
    def nearest_due_at(self) -> datetime | None:
        """The earliest due instant of the running clocks (what "due soonest" sorts by)."""
        dues = [
            clock.due_at
            for clock in (self.first_response, self.next_response, self.resolution)
            if clock.due_at is not None
        ]
        return min(dues, default=None)


@dataclass
class _Periods:
    """A clock's running periods: closed ones, the open one's start, and how it ended."""

    started_at: datetime
    closed: list[tuple[datetime, datetime]] = field(default_factory=list)
    running_since: datetime | None = None
    answered_at: datetime | None = None

    def run(self, at: datetime, running: bool) -> None:
        if self.answered_at is not None:
            return
        if running and self.running_since is None:
            self.running_since = at
        elif not running and self.running_since is not None:
            self.closed.append((self.running_since, at))
            self.running_since = None

    def answer(self, at: datetime) -> None:
        self.run(at, running=False)
        self.answered_at = at


def compute_sla_state(
    history: TicketHistory,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    resolved_pauses: bool = False,
) -> SlaState:
    """The ticket's SLA state at `now`: due, breach, spent and remaining per target.

    Due instants depend only on the history (not on `now`), so they can be stored; breach
    instants and spent/remaining minutes are as of `now` (aware). Raises `ValueError` for a
    naive instant, an event before `created_at` or an unknown status (naming the field).
    """
    _check_instant("now", now)
    _check_instant("created_at", history.created_at)
    _check_status("status", history.status)
    events = sorted(history.events, key=lambda event: event.at)
    for index, event in enumerate(events):
        _check_instant(f"events.{index}.at", event.at)
        if event.at < history.created_at:
            raise ValueError(f"events.{index}.at: {event.at} is before created_at")
        if isinstance(event, StatusChanged):
            _check_status(f"events.{index}.status", event.status)

    status = str(history.status)
    first = _Periods(history.created_at)
    resolution = _Periods(history.created_at)
    cycles: list[_Periods] = []
    targets: list[tuple[datetime, SlaTargets]] = [(history.created_at, history.targets)]

    def settle(at: datetime) -> None:
        first.run(at, status not in ("resolved", "closed"))
        resolution.run(at, status in _RUNNING)
        if cycles:
            cycles[-1].run(at, status in _RUNNING)

    settle(history.created_at)
    for event in events:
        if isinstance(event, StatusChanged):
            status = str(event.status)
        elif isinstance(event, StaffReplied) and event.public:
            if first.answered_at is None:
                first.answer(event.at)
            elif cycles and cycles[-1].answered_at is None:
                cycles[-1].answer(event.at)
        elif isinstance(event, CustomerMessaged):
            if first.answered_at is not None and (not cycles or cycles[-1].answered_at is not None):
                cycles.append(_Periods(event.at))
        elif isinstance(event, TargetsChanged):
            targets.append((event.at, event.targets))
        settle(event.at)

    paused = status == "pending" or (status == "resolved" and resolved_pauses)
    stopped = status == "closed" or (status == "resolved" and not resolved_pauses)
    judge = _Judge(calendar, now, targets, stopped=stopped)
    first_clock = judge.clock(Target.FIRST_RESPONSE, first, stops=status in ("resolved", "closed"))
    cycle_clocks = [judge.clock(Target.NEXT_RESPONSE, cycle) for cycle in cycles]
    next_clock = cycle_clocks[-1] if cycle_clocks else _not_started(targets[-1][1])
    resolution_clock = judge.clock(Target.RESOLUTION, resolution)
    breaches = sorted(
        (
            Breach(clock.target, clock.breached_at, clock.target_minutes)
            for clock in (first_clock, *cycle_clocks, resolution_clock)
            if clock.breached_at is not None and clock.target_minutes is not None
        ),
        key=lambda breach: breach.at,
    )
    return SlaState(
        first_response=first_clock,
        next_response=next_clock,
        resolution=resolution_clock,
        paused=paused,
        breaches=tuple(breaches),
    )


@dataclass(frozen=True)
class _Judge:
    """Turns a clock's running periods into a `TargetClock` at `now`."""

    calendar: BusinessCalendar
    now: datetime
    targets: list[tuple[datetime, SlaTargets]]
    stopped: bool

    def targets_at(self, at: datetime) -> SlaTargets:
        in_force = self.targets[0][1]
        for since, targets in self.targets:
            if since <= at:
                in_force = targets
        return in_force

    def clock(self, target: Target, periods: _Periods, *, stops: bool | None = None) -> TargetClock:
        """The clock's verdict at `now`.

        `stops` says whether the ticket's status stops this clock (default: `self.stopped`,
        the rule of the next-response and resolution clocks).
        """
        stopped = self.stopped if stops is None else stops
        running = periods.running_since is not None
        if periods.answered_at is not None:
            ended_at: datetime | None = periods.answered_at
        elif stopped and not running:
            ended_at = periods.closed[-1][1] if periods.closed else periods.started_at
        else:
            ended_at = None
        in_force = self.targets_at(ended_at) if ended_at is not None else self.targets[-1][1]
        minutes = in_force.minutes(target)

        spent = 0.0
        crossing: datetime | None = None
        spans = [*periods.closed]
        if running:
            spans.append((periods.running_since, None))
        for start, end in spans:
            length = self.calendar.business_minutes_between(start, end or self.now)
            if crossing is None and minutes is not None:
                if end is None:
                    crossing = self.calendar.add_business_minutes(start, max(0.0, minutes - spent))
                elif spent + length > minutes:
                    crossing = self.calendar.add_business_minutes(start, minutes - spent)
            spent += length

        if minutes is None:
            state = ClockState.NO_TARGET
        elif ended_at is not None:
            state = ClockState.MET if crossing is None else ClockState.MISSED
        elif running:
            state = ClockState.RUNNING
        else:
            state = ClockState.PAUSED
        breached_at = crossing if crossing is not None and crossing <= self.now else None
        return TargetClock(
            target=target,
            state=state,
            target_minutes=minutes,
            started_at=periods.started_at,
            due_at=crossing if state is ClockState.RUNNING else None,
            breached_at=breached_at if minutes is not None else None,
            spent_minutes=spent,
            remaining_minutes=None if minutes is None else minutes - spent,
        )


def _not_started(targets: SlaTargets) -> TargetClock:
    minutes = targets.next_response_minutes
    return TargetClock(
        target=Target.NEXT_RESPONSE,
        state=ClockState.NOT_STARTED if minutes is not None else ClockState.NO_TARGET,
        target_minutes=minutes,
        started_at=None,
        due_at=None,
        breached_at=None,
        spent_minutes=0.0,
        remaining_minutes=minutes,
    )


def _check_instant(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name}: {value!r} must be an aware datetime")


def _check_status(name: str, value: str) -> None:
    if str(value) not in _KNOWN_STATUSES:
        raise ValueError(f"{name}: {value!r} is not one of {sorted(_KNOWN_STATUSES)}")

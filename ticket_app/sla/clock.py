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
from datetime import UTC, datetime
from enum import StrEnum

from ticket_app.sla.calendar import BusinessCalendar

_RUNNING = frozenset({"open", "in_progress"})
_STOPPING_FIRST = frozenset({"resolved", "closed"})
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
    - `warning_at`: when running, the instant `warning_fraction` of the target is spent (in
      the past once passed); None whenever `due_at` is None.
    - `breached_at`: the instant the target ran out, when that is at or before `now` and the
      clock had not stopped by then (set for running-overdue, missed and paused-overdue).
    - `spent_minutes`: business minutes counted (up to `now` when running).
    - `remaining_minutes`: `target_minutes - spent_minutes` (negative when over; None without
      a target).
    - `answered_at`: first response and next response: the public staff reply that stopped
      the clock (None while unanswered, and always for resolution).
    """

    target: Target
    state: ClockState
    target_minutes: float | None
    started_at: datetime | None
    due_at: datetime | None
    warning_at: datetime | None
    breached_at: datetime | None
    spent_minutes: float
    remaining_minutes: float | None
    answered_at: datetime | None = None

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
    so a service can record those it has not recorded yet. `next_response_cycles` holds every
    next-response cycle's clock, oldest first (`next_response` is the last, or not started).
    `paused` is True while the ticket's status pauses the clocks (`pending`, or `resolved`
    with `resolved_pauses`).
    """

    first_response: TargetClock
    next_response: TargetClock
    resolution: TargetClock
    paused: bool
    breaches: tuple[Breach, ...] = field(default=())
    next_response_cycles: tuple[TargetClock, ...] = field(default=())

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
    def nearest_warning_at(self) -> datetime | None:
        """The earliest warning instant of the running clocks."""
        warnings = [
            clock.warning_at
            for clock in (self.first_response, self.next_response, self.resolution)
            if clock.warning_at is not None
        ]
        return min(warnings, default=None)

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
    """A clock's running periods in POSIX seconds: closed ones, the open one, how it ended."""

    started_at: float
    closed: list[tuple[float, float]] = field(default_factory=list)
    running_since: float | None = None
    answered_at: float | None = None

    def run(self, at: float, running: bool) -> None:
        if self.answered_at is not None:
            return
        if running and self.running_since is None:
            self.running_since = at
        elif not running and self.running_since is not None:
            self.closed.append((self.running_since, at))
            self.running_since = None

    def answer(self, at: float) -> None:
        self.run(at, running=False)
        self.answered_at = at


def compute_sla_state(
    history: TicketHistory,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    resolved_pauses: bool = False,
    warning_fraction: float = 0.8,
) -> SlaState:
    """The ticket's SLA state at `now`: due, breach, spent and remaining per target.

    Due and warning instants depend only on the history (not on `now`), so they can be stored
    and compared with the clock by a query; breach instants and spent/remaining minutes are as
    of `now` (aware). `warning_fraction` (0-1]: the share of a target at which `warning_at`
    falls (0.8: at 80 %). Instants returned are UTC.
    Raises `ValueError` for a naive instant, an event before `created_at` or an unknown status
    (naming the field, e.g. `events.2.status` for the third event as given).
    """
    if not 0 < warning_fraction <= 1:
        raise ValueError(f"warning_fraction: {warning_fraction!r} must be > 0 and <= 1")
    created = _posix("created_at", history.created_at)
    _check_status("status", history.status)
    moments = []
    for index, event in enumerate(history.events):
        moment = _posix(f"events.{index}.at", event.at)
        if moment < created:
            raise ValueError(f"events.{index}.at: {event.at} is before created_at")
        if isinstance(event, StatusChanged):
            _check_status(f"events.{index}.status", event.status)
        moments.append((moment, index, event))
    moments.sort(key=lambda item: (item[0], item[1]))

    status = str(history.status)
    first = _Periods(created)
    resolution = _Periods(created)
    cycles: list[_Periods] = []
    targets: list[tuple[float, SlaTargets]] = [(created, history.targets)]

    def settle(at: float) -> None:
        first.run(at, status not in _STOPPING_FIRST)
        resolution.run(at, status in _RUNNING)
        if cycles:
            cycles[-1].run(at, status in _RUNNING)

    settle(created)
    for moment, _, event in moments:
        if isinstance(event, StatusChanged):
            status = str(event.status)
        elif isinstance(event, StaffReplied) and event.public:
            if first.answered_at is None:
                first.answer(moment)
            elif cycles and cycles[-1].answered_at is None:
                cycles[-1].answer(moment)
        elif isinstance(event, CustomerMessaged):
            if first.answered_at is not None and (not cycles or cycles[-1].answered_at is not None):
                cycles.append(_Periods(moment))
        elif isinstance(event, TargetsChanged):
            targets.append((moment, event.targets))
        settle(moment)

    paused = status == "pending" or (status == "resolved" and resolved_pauses)
    stopped = status == "closed" or (status == "resolved" and not resolved_pauses)
    judge = _Judge(calendar, _posix("now", now), targets, warning_fraction)
    first_clock = judge.clock(Target.FIRST_RESPONSE, first, stopped=status in _STOPPING_FIRST)
    cycle_clocks = [judge.clock(Target.NEXT_RESPONSE, cycle, stopped=stopped) for cycle in cycles]
    next_clock = cycle_clocks[-1] if cycle_clocks else _not_started(targets[-1][1])
    resolution_clock = judge.clock(Target.RESOLUTION, resolution, stopped=stopped)
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
        next_response_cycles=tuple(cycle_clocks),
    )


@dataclass(frozen=True)
class _Judge:
    """Turns a clock's running periods into a `TargetClock` at `now` (POSIX seconds)."""

    calendar: BusinessCalendar
    now: float
    targets: list[tuple[float, SlaTargets]]
    warning_fraction: float

    def targets_at(self, at: float) -> SlaTargets:
        in_force = self.targets[0][1]
        for since, targets in self.targets:
            if since <= at:
                in_force = targets
        return in_force

    def reached(
        self, spans: list[tuple[float, float | None]], lengths: list[float], amount: float
    ) -> float | None:
        """When the spans' business time passes `amount` seconds, or None if it stays within.

        In a closed span the amount must be exceeded (stopping exactly at it is in time); the
        running span reaches it, in the future or the past.
        """
        spent = 0.0
        for (start, end), length in zip(spans, lengths, strict=True):
            if end is None:
                return self.calendar.add_seconds_at(start, max(amount - spent, 0.0))
            if spent + length > amount:
                return self.calendar.add_seconds_at(start, amount - spent)
            spent += length
        return None

    def clock(self, target: Target, periods: _Periods, *, stopped: bool) -> TargetClock:
        """The clock's verdict at `now`; `stopped`: the ticket's status stops this clock."""
        running = periods.running_since is not None
        if periods.answered_at is not None:
            ended_at: float | None = periods.answered_at
        elif stopped and not running:
            ended_at = periods.closed[-1][1] if periods.closed else periods.started_at
        else:
            ended_at = None
        in_force = self.targets_at(ended_at) if ended_at is not None else self.targets[-1][1]
        minutes = in_force.minutes(target)

        spans: list[tuple[float, float | None]] = [*periods.closed]
        if running:
            spans.append((periods.running_since, None))
        lengths = [
            self.calendar.seconds_between(start, self.now if end is None else end)
            for start, end in spans
        ]
        spent = sum(lengths)
        crossing = warning = None
        if minutes is not None:
            crossing = self.reached(spans, lengths, minutes * 60.0)
            if running:
                warning = self.reached(spans, lengths, minutes * 60.0 * self.warning_fraction)

        if minutes is None:
            state = ClockState.NO_TARGET
        elif ended_at is not None:
            state = ClockState.MET if crossing is None else ClockState.MISSED
        elif running:
            state = ClockState.RUNNING
        else:
            state = ClockState.PAUSED
        breached = crossing is not None and crossing <= self.now
        return TargetClock(
            target=target,
            state=state,
            target_minutes=minutes,
            started_at=_utc(periods.started_at),
            due_at=_utc(crossing) if state is ClockState.RUNNING else None,
            warning_at=_utc(warning) if state is ClockState.RUNNING else None,
            breached_at=_utc(crossing) if breached else None,
            spent_minutes=spent / 60.0,
            remaining_minutes=None if minutes is None else minutes - spent / 60.0,
            answered_at=None if periods.answered_at is None else _utc(periods.answered_at),
        )


def _not_started(targets: SlaTargets) -> TargetClock:
    minutes = targets.next_response_minutes
    return TargetClock(
        target=Target.NEXT_RESPONSE,
        state=ClockState.NOT_STARTED if minutes is not None else ClockState.NO_TARGET,
        target_minutes=minutes,
        started_at=None,
        due_at=None,
        warning_at=None,
        breached_at=None,
        spent_minutes=0.0,
        remaining_minutes=minutes,
    )


def _posix(name: str, value: datetime) -> float:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name}: {value!r} must be an aware datetime")
    return value.timestamp()


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _check_status(name: str, value: str) -> None:
    if str(value) not in _KNOWN_STATUSES:
        raise ValueError(f"{name}: {value!r} is not one of {sorted(_KNOWN_STATUSES)}")

"""Loading the text models at start-up, so a server's first request costs what its hundredth does.

The triage models load on first use: the language detector (lingua's n-gram models), the
sentiment lexicon (VADER), the rules' typo index and the team model (trained from the
database). Left to the first create, that was 1.8 to 3.9 s and +245 MiB in the worker. A
create rehearsed and rolled back (`_database`) opens the pool's connection and computes a
service-level clock. `start_warm_up()` runs all that in a background thread as the server
starts; `is_ready()` is False meanwhile, and the health check (`/ping`, `/_health`, see
`api.health`) says "starting" until then, so a load balancer sends no traffic to a cold worker.

A process that never starts a warm-up (the CLI, tests building the API in-process) is ready at
once: its models load on first use, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from ticket_app.enums import ActorKind
from ticket_app.models import Ticket
from ticket_app.models.base import utc_now
from ticket_app.schemas import TicketCreate
from ticket_app.services import search_trigrams
from ticket_app.services.access import Actor
from ticket_app.services.identity.sessions import resolve_session
from ticket_app.services.identity.tokens import TOKEN_PREFIX, resolve_token
from ticket_app.services.rate_limits import SESSION, TOKEN, credential_owner
from ticket_app.services.sla import refresh_ticket_sla
from ticket_app.services.tags import read_ticket
from ticket_app.services.tickets import store_ticket
from ticket_app.triage import get_classifier, get_history_learner
from ticket_app.triage.offline import OfflineClassifier
from ticket_app.triage.signals import read_signals
from ticket_app.triage.similarity import terms

logger = logging.getLogger(__name__)

# Texts that take every path of the signals and the rules: a short one (lingua's high-accuracy
# mode, under 120 characters) and a long one (its low-accuracy mode), with a typo the rules
# correct, a shouted frustration cue and a negative sentiment.
SHORT_TEXT = "Cannot log in since the pasword reset"
LONG_TEXT = (
    "Hello support team, I was charged twice for my subscription this month and the invoice "
    "shows the wrong amount. I have asked three times already and NOTHING happens, this is "
    "unacceptable. Please refund the duplicate payment and fix the billing address."
)


@dataclass(frozen=True)
class ModelCost:
    """What loading one model cost: its name, wall time in seconds, RSS growth in MiB."""

    name: str
    seconds: float
    rss_mib: float


def resident_mib() -> float:
    """The resident set size of this process in MiB (Linux `/proc/self/statm`; 0.0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _language_and_sentiment() -> None:
    # read_signals: language (both lingua modes, by length), sentiment, frustration, title.
    read_signals(SHORT_TEXT, with_title=True)
    read_signals(LONG_TEXT, with_title=True)


def _classifier() -> None:
    # The configured classifier is built (a Gemini client when a key is set) but only the
    # offline path classifies here: a warm-up must not call a remote API or spend its quota.
    get_classifier()
    offline = OfflineClassifier()
    asyncio.run(offline.suggest(LONG_TEXT, SHORT_TEXT))


def _team_model() -> None:
    # Trained now, in this thread, rather than in the background at the first suggestion; a
    # database that is down is logged by the learner and retried at a later suggestion.
    get_history_learner().refresh()


def _similarity() -> None:
    terms(LONG_TEXT)


class _RehearsalDoneError(Exception):
    """Raised inside the rehearsal's transaction so that it rolls back."""


def _database() -> None:
    # A create rehearsed and rolled back: the pool's first connection opens and the create's
    # statements are compiled now, not by the first client; its service-level clock (the
    # policies and calendars read, 1.5 s of the first create on a loaded host) is computed
    # and the ticket read back as `create_ticket` answers it (SQLAlchemy compiles each
    # statement's shape once: the refresh and the tags' read were 1.2 ms of a quiet first
    # create) before the rollback. Nothing stays but, on PostgreSQL, one ticket id the
    # sequence skips.
    def roll_back(session: Session, ticket_id: int) -> None:
        refresh_ticket_sla(session, ticket_id, utc_now())
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            session.refresh(ticket)
            read_ticket(session, ticket)
        raise _RehearsalDoneError

    data = TicketCreate(title=SHORT_TEXT, description=LONG_TEXT)
    with contextlib.suppress(_RehearsalDoneError):
        store_ticket(data, actor=Actor.process(ActorKind.SYSTEM, "warm-up"), and_then=roll_back)


def _credentials() -> None:
    # Every authenticated request looks up its credential's owner (rate limits) and resolves
    # the token or session: compiling a token's two statements was 2.1 ms of a quiet first
    # create (a console session's are prepared alike). Made-up credentials match nothing, so
    # nothing is read back or written.
    nobody = "0" * 64
    credential_owner(TOKEN, nobody)
    credential_owner(SESSION, nobody)
    resolve_token(f"{TOKEN_PREFIX}warm-up")
    resolve_session("warm-up")


def _trigram_sample() -> None:
    # The first sample now (140 to 180 ms at a million tickets), then one an hour in a thread of its
    # own, which is why a served process only runs this step.
    search_trigrams.keep_fresh()


Step = tuple[str, Callable[[], None]]
"""A warm-up step: its name (as reported) and the call that loads its model."""

STEPS: tuple[Step, ...] = (
    ("language and sentiment (lingua, VADER)", _language_and_sentiment),
    ("classifier rules and typo index", _classifier),
    ("team model (trained from the database)", _team_model),
    ("similarity terms", _similarity),
    ("database (a create rolled back)", _database),
    ("credential lookups", _credentials),
)
SERVED_STEPS: tuple[Step, ...] = (("search trigram sample (then hourly)", _trigram_sample),)
"""Steps of a served process's warm-up only (`process_warm_up`): they leave a background thread
running, which `warm_up()`'s STEPS, as tests and the CLI call it, do not."""


def warm_up(steps: tuple[Step, ...] = STEPS) -> list[ModelCost]:
    """Load every model now, in the calling thread; returns what each step cost, in order.

    Idempotent in effect (a second call finds everything loaded, except that the team model is
    retrained). Never raises: a failing step is logged and the next one runs.
    """
    costs = []
    for name, step in steps:
        rss, began = resident_mib(), time.perf_counter()
        try:
            step()
        except Exception:
            logger.exception("Warm-up: %s failed; it loads at first use instead", name)
        costs.append(ModelCost(name, time.perf_counter() - began, resident_mib() - rss))
    return costs


class WarmUp:
    """One process's warm-up: `steps` run once in a background thread by `start()`."""

    def __init__(self, steps: tuple[Step, ...] = STEPS) -> None:
        self._steps = steps
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    def _run(self, steps: tuple[Step, ...]) -> None:
        try:
            costs = warm_up(steps)
            logger.info(
                "Warm-up done: %s",
                "; ".join(f"{c.name} {c.seconds:.2f} s, +{c.rss_mib:.0f} MiB" for c in costs),
            )
        finally:
            self._done.set()

    def start(self, *more: Step) -> threading.Thread | None:
        """Start the steps, then `more`, in a background thread, once.

        Returns the thread (None if started before). From now until it ends, `is_ready()` is
        False.
        """
        with self._lock:
            if self._thread is not None:
                return None
            self._thread = threading.Thread(
                target=self._run, args=((*self._steps, *more),), name="warm-up", daemon=True
            )
            self._thread.start()
            return self._thread

    def is_ready(self) -> bool:
        """Whether the process may take traffic: no warm-up started, or it finished."""
        return self._thread is None or self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds (None: no limit) for the warm-up; returns `is_ready()`."""
        if self._thread is not None:
            self._done.wait(timeout)
        return self.is_ready()


# This process's warm-up, which the server starts and the health check asks.
process_warm_up = WarmUp((*STEPS, *SERVED_STEPS))


def start_warm_up(*more: Step) -> threading.Thread | None:
    """Start this process's warm-up, `more` steps last (`WarmUp.start` of `process_warm_up`)."""
    return process_warm_up.start(*more)


def is_ready() -> bool:
    """Whether this process may take traffic (`WarmUp.is_ready` of `process_warm_up`)."""
    return process_warm_up.is_ready()

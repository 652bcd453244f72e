"""Measure ticket search against the relevance set in `tests/search/` (recall@10 and MRR).

Usage: `python -m ticket_app.search.evaluate [--database-url URL] [--min-recall 0.95]`.

Builds a fresh database (a temporary SQLite file by default; with a PostgreSQL URL, a scratch
database `search_eval_<random>` beside it, dropped at the end; a SQLite URL must name a file
that does not exist yet) through the project's migrations, loads the fixed corpus
(`tests/search/corpus.json`: tickets with requesters, replies and internal notes) through the
ticket and comment services as the system actor, then runs every query of
`tests/search/queries.json` through `services.tickets.list_tickets(TicketFilters(search=q))`,
first page of 10, sorted by relevance with close matches when the words find nothing (as the
API's list and the console ask for them).

A query is `{"query", "expected": [keys], "kind", "excluded": [keys] (optional)}`; keys are the
corpus's stable ticket keys, and `{key}` inside a query is replaced by that ticket's id (so
`#{pay-fail-1}` searches for `#17`). Per query: hits@10 = |expected ∩ top 10|, recall@10 =
hits / min(|expected|, 10), reciprocal rank = 1 / rank of the first expected ticket in the top
10 (0 when none), and any `excluded` ticket found in the top 10 (a phrase, exclusion or field
filter that was not honoured). Prints a line per query, then recall@10 and MRR per kind and
over all queries (means over queries). Exit code 1 when the mean recall@10 is below
`--min-recall` or an excluded ticket was found, 2 when the corpus files are missing or the
SQLite file given exists.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from ticket_app.models import ActorKind
from ticket_app.schemas import CommentCreate, TicketCreate, TicketFilters, TicketSort
from ticket_app.services import comments, tickets
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.migrations import upgrade_database
from ticket_app.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "tests" / "search"
CORPUS_PATH = DATA_DIR / "corpus.json"
QUERIES_PATH = DATA_DIR / "queries.json"
TOP = 10
DEFAULT_MIN_RECALL = 0.95
_KEY_REFERENCE = re.compile(r"\{([a-z0-9-]+)\}")


@dataclass(frozen=True)
class Query:
    """One query of the set.

    The text as typed, the ticket keys it must find, its kind, and ticket keys that must not
    be in its top 10.
    """

    query: str
    expected: tuple[str, ...]
    kind: str
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryResult:
    """How one query did.

    The search text sent (keys resolved to ids) and the keys of its top 10 in rank order (a
    ticket outside the corpus shows as "id N").
    """

    query: Query
    sent: str
    top: tuple[str, ...]

    @property
    def hits(self) -> int:
        """How many expected tickets are in the top 10."""
        return len(set(self.query.expected) & set(self.top))

    @property
    def recall(self) -> float:
        """Recall@10 of this query: hits / min(|expected|, 10), in 0..1."""
        return self.hits / min(len(self.query.expected), TOP)

    @property
    def first_rank(self) -> int | None:
        """1-based rank of the first expected ticket in the top 10; None when there is none."""
        expected = set(self.query.expected)
        return next((rank for rank, key in enumerate(self.top, 1) if key in expected), None)

    @property
    def reciprocal_rank(self) -> float:
        """1 / first_rank, 0 when no expected ticket is in the top 10."""
        rank = self.first_rank
        return 0.0 if rank is None else 1.0 / rank

    @property
    def excluded_found(self) -> tuple[str, ...]:
        """The `excluded` keys that are in the top 10."""
        return tuple(key for key in self.top if key in self.query.excluded)


@dataclass(frozen=True)
class Evaluation:
    """A whole run.

    Every query's result, the sort used, the load and query times (seconds), and how many
    tickets' detected language agreed with the corpus's hint (of those that have one).
    """

    results: tuple[QueryResult, ...]
    sort: TicketSort
    load_seconds: float
    query_seconds: float
    language_agreed: int
    language_hinted: int

    @property
    def recall(self) -> float:
        """Mean recall@10 over the queries."""
        return _mean([result.recall for result in self.results])

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank over the queries."""
        return _mean([result.reciprocal_rank for result in self.results])

    @property
    def excluded_found(self) -> int:
        """How many excluded tickets appeared in a top 10, over all queries."""
        return sum(len(result.excluded_found) for result in self.results)

    def passed(self, min_recall: float) -> bool:
        """Whether recall@10 is at least `min_recall` and no excluded ticket was found."""
        return self.recall >= min_recall and self.excluded_found == 0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def load_corpus(path: Path = CORPUS_PATH) -> list[dict[str, Any]]:
    """The corpus's tickets in load order (dicts as written by tests/search/make_corpus.py)."""
    return json.loads(path.read_text(encoding="utf-8"))["tickets"]


def load_queries(path: Path = QUERIES_PATH) -> list[Query]:
    """The queries of the relevance set; raises ValueError for a query without expected keys."""
    queries = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        if not item["expected"]:
            raise ValueError(f"query {item['query']!r} lists no expected tickets")
        queries.append(
            Query(
                query=item["query"],
                expected=tuple(item["expected"]),
                kind=item["kind"],
                excluded=tuple(item.get("excluded", ())),
            )
        )
    return queries


def load_tickets(corpus: Sequence[dict[str, Any]], actor: Actor) -> dict[str, int]:
    """Create the corpus's tickets and comments in the current database, one by one.

    Through the services (`create_ticket`, `add_comment`) as `actor`, so everything a service
    keeps current (audit, service levels, a search index) is written as in production. Returns
    ticket key -> ticket id.
    """
    ids: dict[str, int] = {}
    for item in corpus:
        created = tickets.create_ticket(
            TicketCreate(
                title=item["title"],
                description=item["description"],
                category=item["category"],
                priority=item["priority"],
                status=item["status"],
                requester_name=item.get("requester_name"),
                requester_email=item.get("requester_email"),
            ),
            actor=actor,
        )
        ids[item["key"]] = created.id
        for comment in item["comments"]:
            comments.add_comment(
                created.id,
                CommentCreate(body=comment["body"], public=not comment["internal"]),
                actor=actor,
            )
    return ids


def resolve(text: str, ids: dict[str, int]) -> str:
    """`text` with every `{key}` replaced by that ticket's id; KeyError for an unknown key."""
    return _KEY_REFERENCE.sub(lambda match: str(ids[match.group(1)]), text)


def run_queries(
    queries: Sequence[Query], ids: dict[str, int], sort: TicketSort
) -> list[QueryResult]:
    """Run each query through the ticket list (first page of 10 in `sort` order)."""
    keys = {ticket_id: key for key, ticket_id in ids.items()}
    results = []
    for query in queries:
        sent = resolve(query.query, ids)
        page = tickets.list_tickets(
            TicketFilters(search=sent), sort=sort, limit=TOP, close_matches=True
        )
        top = tuple(keys.get(item.id, f"id {item.id}") for item in page.items)
        results.append(QueryResult(query=query, sent=sent, top=top))
    return results


def evaluate_current_database(
    corpus: Sequence[dict[str, Any]] | None = None, queries: Sequence[Query] | None = None
) -> Evaluation:
    """Load the corpus into the current (empty, migrated) database and run the queries."""
    corpus = load_corpus() if corpus is None else corpus
    queries = load_queries() if queries is None else queries
    started = time.perf_counter()
    ids = load_tickets(corpus, Actor.process(ActorKind.SYSTEM, "search evaluation"))
    loaded = time.perf_counter()
    sort = TicketSort.RELEVANCE
    results = run_queries(queries, ids, sort)
    finished = time.perf_counter()
    hinted = [item for item in corpus if item.get("language")]
    detected = {item.id: item.language for item in tickets.iter_tickets()}
    agreed = sum(detected[ids[item["key"]]] == item["language"] for item in hinted)
    return Evaluation(
        results=tuple(results),
        sort=sort,
        load_seconds=loaded - started,
        query_seconds=finished - loaded,
        language_agreed=agreed,
        language_hinted=len(hinted),
    )


@contextmanager
def fresh_database(database_url: str | None) -> Iterator[str]:
    """Yield the URL of a new, migrated database, removed afterwards.

    None: a SQLite file in a temporary directory. A PostgreSQL URL: a database
    `search_eval_<random>` on that server (its user must be allowed to create databases),
    dropped with its connections at the end. A SQLite URL: that file, which must not exist yet
    (FileExistsError otherwise), kept afterwards.
    """
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix="search_eval_") as directory:
            url = f"sqlite:///{Path(directory) / 'search_eval.db'}"
            upgrade_database(url)
            yield url
            use_database("sqlite://")
        return
    server = make_url(database_url)
    if server.get_backend_name() == "sqlite":
        if server.database and Path(server.database).exists():
            raise FileExistsError(f"{server.database} exists; give the path of a new file")
        upgrade_database(database_url)
        yield database_url
        return
    name = f"search_eval_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        try:
            upgrade_database(url)
            yield url
        finally:
            use_database("sqlite://")
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def report(evaluation: Evaluation, dialect: str, min_recall: float) -> list[str]:
    """The printed report: a line per query, then recall@10 and MRR per kind and overall."""
    lines = [
        f"Search relevance on {dialect}, sort {evaluation.sort.value}, top {TOP}",
        f"{'kind':<13} {'query':<34} {'hits@10':>7} {'first':>5}  excluded in top 10",
    ]
    for result in evaluation.results:
        hits = f"{result.hits}/{min(len(result.query.expected), TOP)}"
        rank = "-" if result.first_rank is None else str(result.first_rank)
        shown = result.query.query if result.sent == result.query.query else result.sent
        excluded = ", ".join(result.excluded_found)
        line = f"{result.query.kind:<13} {shown:<34} {hits:>7} {rank:>5}  {excluded}"
        lines.append(line.rstrip())
    lines += ["", f"{'kind':<13} {'queries':>7} {'recall@10':>9} {'MRR':>6}"]
    kinds = dict.fromkeys(result.query.kind for result in evaluation.results)
    for kind in kinds:
        group = [result for result in evaluation.results if result.query.kind == kind]
        recall = _mean([result.recall for result in group])
        mrr = _mean([result.reciprocal_rank for result in group])
        lines.append(f"{kind:<13} {len(group):>7} {recall:>9.3f} {mrr:>6.3f}")
    lines += [
        f"{'all':<13} {len(evaluation.results):>7} {evaluation.recall:>9.3f} "
        f"{evaluation.mrr:>6.3f}",
        "",
        f"excluded tickets found in a top 10: {evaluation.excluded_found}",
        f"detected language agrees with the corpus's hint: {evaluation.language_agreed}/"
        f"{evaluation.language_hinted}",
        f"load {evaluation.load_seconds:.1f} s, {len(evaluation.results)} queries "
        f"{evaluation.query_seconds:.2f} s",
        f"recall@10 {evaluation.recall:.3f} (minimum {min_recall:.2f}), MRR {evaluation.mrr:.3f}: "
        + ("PASS" if evaluation.passed(min_recall) else "FAIL"),
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (0 pass, 1 fail, 2 no data or bad URL)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to create a scratch database on, or a new SQLite file "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument("--min-recall", type=float, default=DEFAULT_MIN_RECALL)
    args = parser.parse_args(argv)
    if not (CORPUS_PATH.is_file() and QUERIES_PATH.is_file()):
        sys.stderr.write(f"No relevance set at {DATA_DIR} (corpus.json and queries.json).\n")
        return 2
    corpus, queries = load_corpus(), load_queries()
    try:
        with fresh_database(args.database_url) as url:
            dialect = use_database(url).dialect.name
            evaluation = evaluate_current_database(corpus, queries)
    except FileExistsError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    sys.stdout.write("\n".join(report(evaluation, dialect, args.min_recall)) + "\n")
    return 0 if evaluation.passed(args.min_recall) else 1


if __name__ == "__main__":
    sys.exit(main())

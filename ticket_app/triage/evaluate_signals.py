"""The triage evaluation's signal reports: suggested titles, sentiment, language, duplicates.

`evaluate_signals` prints them for `python -m ticket_app.triage.evaluate` (see that module);
`merge_threshold_table` is the duplicate evaluation's precision and recall per merge threshold.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from ticket_app.triage.evaluate_common import (
    SIGNALS_DIR,
    TOBI_TRAIN_SHARE,
    Example,
    category_report,
    drop_near_duplicates,
    load_reference,
    load_tobi_bueck,
    metric_lines,
    normalised_key,
)
from ticket_app.triage.learner import HistoryLearner
from ticket_app.triage.offline import OfflineClassifier
from ticket_app.triage.signals import read_signals
from ticket_app.triage.similarity import MERGE_MIN_SCORE, rank


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def _timed(call, items) -> tuple[list, str]:
    """Results of `call(item)` for each item, and a p50/p95 latency line (ms)."""
    results, timings = [], []
    for item in items:
        started = time.perf_counter_ns()
        results.append(call(item))
        timings.append((time.perf_counter_ns() - started) / 1e6)
    return results, (
        f"p50={_percentile(timings, 0.5):.2f} ms  p95={_percentile(timings, 0.95):.2f} ms  "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )


def _title_report(reference: Sequence[Example]) -> list[str]:
    signals, latency = _timed(lambda e: read_signals(e.description), reference)
    titles = [s.suggested_title for s in signals]
    lengths = [len(title) for title in titles if title]
    overlaps = []
    for example, title in zip(reference, titles, strict=True):
        wanted = set(normalised_key(example.title).split()) - _TITLE_STOP
        if wanted:
            overlaps.append(len(wanted & set(normalised_key(title).split())) / len(wanted))
    return [
        "== Suggested title (extractive, offline) and signals, reference tickets "
        f"(all {len(reference)}) ==",
        f"  coverage (non-empty title)={len(lengths) / len(reference):.3f}  length: "
        f"mean={sum(lengths) / len(lengths):.1f}  p95={_percentile(lengths, 0.95)}  "
        f"max={max(lengths)} (limit 80)",
        "  share of the human title's content words found in the suggested title: "
        f"mean={sum(overlaps) / len(overlaps):.3f}",
        f"  frustrated: {sum(s.frustrated for s in signals)} of {len(signals)}; sentiment "
        + ", ".join(
            f"{label}={sum(s.sentiment == label for s in signals)}"
            for label in ("negative", "neutral", "positive")
        ),
        f"  latency of all signals (language, sentiment, frustration, title): {latency}",
    ]


_TITLE_STOP = frozenset(
    re.findall(
        r"\w+", "a an the and or of to in on for with my our your is are not can i we it at by from"
    )
)


def _sentiment_report() -> list[str]:
    rows = [
        json.loads(line)
        for line in (SIGNALS_DIR / "sentiment.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    gold = [row["sentiment"] for row in rows]
    pred = [read_signals(row["text"]).sentiment for row in rows]
    return [
        f"== Sentiment (VADER) on the labelled sample ({len(rows)} hand-labelled ticket texts) ==",
        *metric_lines(gold, pred, ("negative", "neutral", "positive")),
    ]


def _language_report(data_dir: Path, mapping: dict) -> list[str]:
    rows = load_tobi_bueck(data_dir, mapping, languages=("en", "de"))
    gold = [e.language for e in rows]
    detected, latency = _timed(lambda e: read_signals(e.description, e.title).language, rows)
    pred = [language or "none" for language in detected]
    return [
        f"== Language detection (lingua, 7 languages) on Tobi-Bueck rows ({len(rows)}, en + de) ==",
        *metric_lines(gold, pred, ("en", "de", "none")),
        f"  latency of all signals per ticket: {latency}",
    ]


def _german_report(data_dir: Path, mapping: dict) -> list[str]:
    everything = load_tobi_bueck(data_dir, mapping, languages=("en", "de"))
    history = [e for e in everything if e.bucket < TOBI_TRAIN_SHARE]
    german_test, dropped = drop_near_duplicates(
        [e for e in everything if e.bucket >= TOBI_TRAIN_SHARE and e.language == "de"], history
    )
    out, _ = category_report(
        f"== German Tobi-Bueck held-out rows ({len(german_test)}, {dropped} near-duplicates "
        "dropped), cold start (rules read English only: neutral confidence) ==",
        OfflineClassifier(),
        german_test,
    )
    rows = [(f"{e.title}\n{e.description}", e.category, e.priority or "") for e in history]
    learner = HistoryLearner(lambda: rows)
    snapshot = learner.refresh()
    lines, _ = category_report(
        f"== German Tobi-Bueck held-out rows, warm: history = Tobi-Bueck development split in "
        f"English and German ({len(history)} rows; the team model decides non-English tickets) ==",
        OfflineClassifier(learner),
        german_test,
    )
    if snapshot is None:
        lines.insert(1, "  no team model (too little history)")
    return [*out, "", *lines, ""]


def _duplicate_report(reference: Sequence[Example]) -> list[str]:
    titles = {e.title: index for index, e in enumerate(reference)}
    candidates = [(index, f"{e.title}\n{e.description}") for index, e in enumerate(reference)]
    pairs = [
        json.loads(line)
        for line in (SIGNALS_DIR / "duplicates.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    matches, latency = _timed(
        lambda pair: rank(f"{pair['title']}\n{pair['description']}", candidates, limit=5), pairs
    )
    first = sum(
        bool(found) and found[0].ticket_id == titles[pair["original"]]
        for pair, found in zip(pairs, matches, strict=True)
    )
    within = sum(
        titles[pair["original"]] in [match.ticket_id for match in found]
        for pair, found in zip(pairs, matches, strict=True)
    )
    return [
        f"== Duplicates: {len(pairs)} paraphrase pairs against all {len(reference)} reference "
        "tickets (the ranking both databases use) ==",
        f"  precision@1={first / len(pairs):.3f}  recall@5={within / len(pairs):.3f}",
        f"  ranking latency for {len(reference)} candidates in memory: {latency}",
        "  PostgreSQL at 100k tickets: see tests/benchmarks/bench_similar.py",
        *_merge_threshold_report(reference, pairs),
    ]


# The similarity scores the merge threshold is chosen among (see MERGE_MIN_SCORE).
MERGE_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def merge_threshold_table(
    reference: Sequence[Example], pairs: Sequence[dict], thresholds: Sequence[float]
) -> list[tuple[float, int, int, float, float]]:
    """Precision and recall of "this is a duplicate" for the similar tickets a page shows.

    The shown matches are each text's five best: every paraphrase's against the reference
    tickets, and every reference ticket's against the others (distinct problems by
    construction, so each of those is a wrong duplicate). For each threshold: `(threshold,
    matches at or above it, true originals among them, precision, recall over the pairs)`;
    precision is 1.0 when no match reaches the threshold.
    """
    titles = {e.title: index for index, e in enumerate(reference)}
    candidates = [(index, f"{e.title}\n{e.description}") for index, e in enumerate(reference)]
    shown: list[tuple[float, bool]] = []
    for pair in pairs:
        original = titles[pair["original"]]
        found = rank(f"{pair['title']}\n{pair['description']}", candidates, limit=5)
        shown.extend((match.score, match.ticket_id == original) for match in found)
    for index, text in candidates:
        others = [candidate for candidate in candidates if candidate[0] != index]
        shown.extend((match.score, False) for match in rank(text, others, limit=5))
    table = []
    for threshold in thresholds:
        kept = [true for score, true in shown if score >= threshold]
        hits = sum(kept)
        precision = hits / len(kept) if kept else 1.0
        table.append((threshold, len(kept), hits, precision, hits / len(pairs)))
    return table


def _merge_threshold_report(reference: Sequence[Example], pairs: Sequence[dict]) -> list[str]:
    lines = [
        "  merge threshold: the five best matches of each paraphrase and of each reference "
        "ticket (against the others), kept at or above a similarity:",
    ]
    for threshold, kept, hits, precision, recall in merge_threshold_table(
        reference, pairs, MERGE_THRESHOLDS
    ):
        chosen = "  <- MERGE_MIN_SCORE" if threshold == MERGE_MIN_SCORE else ""
        lines.append(
            f"    >= {threshold:.2f}: {kept:4d} shown, {hits:2d} duplicates, "
            f"precision={precision:.3f}  recall={recall:.3f}{chosen}"
        )
    return lines


def evaluate_signals(data_dir: Path, mapping: dict) -> list[str]:
    """Title, sentiment, language, German category accuracy and duplicate detection."""
    reference = load_reference()
    return [
        *_title_report(reference),
        "",
        *_sentiment_report(),
        "",
        *_german_report(data_dir, mapping),
        *_language_report(data_dir, mapping),
        "",
        *_duplicate_report(reference),
        "",
    ]

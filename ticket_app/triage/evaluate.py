"""Evaluate the offline classifier on the labelled sets in `../shared/data`.

Usage: `python -m ticket_app.triage.evaluate [--data-dir PATH]`. Prints accuracy, macro-F1,
per-class recall, confusion matrices and latency (ms per ticket) for:

* cold start (rules only) on Bitext: all rows, the development split the lexicons were adjusted
  on, and the held-out split they were not;
* cold start on the English Tobi-Bueck rows (category, and priority low/medium/high): all rows,
  the development split (the "team history" split, also the only part consulted while changing
  the rules), and the held-out split (the headline number);
* warm: the team model trained on history, scored on the held-out Tobi-Bueck rows it never saw,
  with two histories: (a) the Tobi-Bueck development split only; (b) all Bitext rows plus that
  split (both are "imported history");
* cold start on the reference tickets (`reference_tickets/`, written for this project to the
  product's own category and priority definitions; category and all four priorities), split in
  a development half (consulted while changing the rules) and a held-out half;
* the supervised reference for the Tobi-Bueck labels: plain TF-IDF + linear SVM models trained
  on the Tobi-Bueck rows themselves, 5-fold cross-validated. It is not the product; it shows how
  much of the labelling any text model can recover from this data, i.e. a practical ceiling.

`--splits dev` prints only the development splits (what rule changes may be checked against).
`--classifier gemini` scores the configured Gemini model instead (GEMINI_API_KEY, the same prompt,
schema, time budget and offline fallback as the app) on the reference tickets and the second
development set only, and counts how many answers came from Gemini; it needs no shared data.

Splits are by a SHA-256 hash of the normalised text (lower case, letters only, so rows that differ
in digits, case or punctuation fall on the same side), hence stable across runs and machines.
Held-out Tobi-Bueck rows that are near-duplicates of a history row (word 5-gram Jaccard >= 0.5)
are dropped. Latency is `time.perf_counter_ns` around each `classify` call, single-threaded,
printed with the machine's load average. Exit code 2 if the data directory is missing. The data
is read, never copied into the product.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from ticket_app.settings import PROJECT_ROOT, get_settings
from ticket_app.triage.base import TicketClassifier, TriageSuggestion
from ticket_app.triage.gemini import GeminiClassifier
from ticket_app.triage.learner import HistoryLearner
from ticket_app.triage.offline import OfflineClassifier
from ticket_app.triage.signals import read_signals
from ticket_app.triage.similarity import MERGE_MIN_SCORE, rank

DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
CATEGORY_LABELS = ("billing", "technical", "account", "general")
PRIORITY_LABELS = ("low", "medium", "high", "critical")
BITEXT_DEV_SHARE = 3  # tenths of Bitext used to adjust the lexicons
TOBI_TRAIN_SHARE = 7  # tenths of Tobi-Bueck English rows used as "team history" in the warm run
REFERENCE_DIR = Path(__file__).with_name("reference_tickets")
REFERENCE_DEV_SHARE = 5  # tenths of the reference tickets consulted while changing the rules
# A second development set (issue 14, third round): 800 tickets written to the same brief, all
# of them consulted while changing the rules; they never enter the held-out half.
DEVELOPMENT_DIR = Path(__file__).with_name("development_tickets")
# Labels given by readers who followed the prompt's definitions (see that directory's README).
READERS_DIR = Path(__file__).with_name("reference_readers")


@dataclass(frozen=True)
class Example:
    """One labelled ticket.

    `priority` is `None` where the set has no priority label; `derived_priority` is the priority
    with the optional derived rule applied (outage queue + high -> critical); `bucket` (0..9,
    from the text hash) decides the split; `language` is the set's own language label.
    """

    title: str
    description: str
    category: str
    priority: str | None
    derived_priority: str | None
    bucket: int
    language: str = "en"


NEAR_DUPLICATE_JACCARD = 0.5
SHINGLE_WORDS = 5


def _bucket(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 10


def normalised_key(text: str) -> str:
    """Lower-case letters only, single spaces: the text identity used for splits and dedupe."""
    return " ".join(re.sub(r"[^a-z]+", " ", text.lower()).split())


def _shingles(text: str) -> set[str]:
    words = normalised_key(text).split()
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words)}
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def drop_near_duplicates(
    held: Sequence[Example], history: Sequence[Example]
) -> tuple[list[Example], int]:
    """Held-out rows whose word 5-gram Jaccard similarity to any history row is below 0.5."""
    index: dict[str, list[int]] = {}
    history_shingles = [_shingles(f"{e.title} {e.description}") for e in history]
    for i, shingles in enumerate(history_shingles):
        for shingle in shingles:
            index.setdefault(shingle, []).append(i)
    kept = []
    for example in held:
        shingles = _shingles(f"{example.title} {example.description}")
        shared: dict[int, int] = {}
        for shingle in shingles:
            for i in index.get(shingle, ()):
                shared[i] = shared.get(i, 0) + 1
        duplicate = any(
            n / len(shingles | history_shingles[i]) >= NEAR_DUPLICATE_JACCARD
            for i, n in shared.items()
        )
        if not duplicate:
            kept.append(example)
    return kept, len(held) - len(kept)


def load_bitext(data_dir: Path, mapping: dict) -> list[Example]:
    """Bitext rows; the input is `instruction` only, labels mapped by `label_mapping.json`."""
    spec = mapping["bitext"]
    rows = []
    with (data_dir / spec["source_file"]).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            category = spec["intent_overrides"].get(row["intent"]) or spec["category_map"].get(
                row["category"]
            )
            if category is None:
                continue
            text = row["instruction"]
            bucket = _bucket(re.sub(r"\d+", "#", text.lower()))
            rows.append(Example("", text, category, None, None, bucket))
    return rows


def load_tobi_bueck(
    data_dir: Path, mapping: dict, languages: tuple[str, ...] = ("en",)
) -> list[Example]:
    """Tobi-Bueck rows in `languages` with a priority; title = subject, description = body."""
    spec = mapping["tobi_bueck_nc"]
    rows = []
    for name in spec["source_files"]:
        with (data_dir / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                priority = spec["priority_map"].get(row.get("priority") or "")
                category = spec["category_map"].get(row.get("queue") or "")
                if row.get("language") not in languages or priority is None or category is None:
                    continue
                subject, body = row.get("subject") or "", row.get("body") or ""
                outage = row.get("queue") == "Service Outages and Maintenance"
                derived = "critical" if outage and priority == "high" else priority
                bucket = _bucket(normalised_key(f"{subject} {body}"))
                rows.append(
                    Example(subject, body, category, priority, derived, bucket, row["language"])
                )
    return rows


def load_reference(directory: Path = REFERENCE_DIR) -> list[Example]:
    """Examples from every `*.jsonl` file in `directory` (the reference tickets).

    Each line is `{"title", "description", "category", "priority"}`, written to the product's
    definitions (see that directory's README). Raises `KeyError` / `json.JSONDecodeError` on a
    malformed line.
    """
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            title, description = item["title"], item["description"]
            bucket = _bucket(normalised_key(f"{title} {description}"))
            priority = item["priority"]
            rows.append(Example(title, description, item["category"], priority, priority, bucket))
    return rows


def supervised_reference(examples: Sequence[Example]) -> list[str]:
    """5-fold cross-validated accuracy of plain supervised text models trained on `examples`.

    Word (1-2 gram) and character (2-5 gram, within word boundaries) TF-IDF, each with a linear
    SVM at C=0.3 and 1; stratified folds with a fixed seed. What these reach is roughly the most
    any text model can recover of the labels from this much data.
    """
    texts = [f"{e.title}\n{e.description}" for e in examples]
    gold = np.asarray([e.category for e in examples])
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    lines = []
    for name, vectoriser in (
        (
            "word 1-2 grams",
            lambda: TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        ),
        (
            "char 2-5 grams",
            lambda: TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
            ),
        ),
    ):
        scores = []
        for c in (0.3, 1.0):
            model = make_pipeline(vectoriser(), LinearSVC(C=c, max_iter=5000, random_state=0))
            predicted = cross_val_predict(model, texts, gold, cv=folds)
            scores.append(f"C={c:g}: {np.mean(predicted == gold):.3f}")
        lines.append(f"  TF-IDF {name} + linear SVM, 5-fold CV accuracy: {', '.join(scores)}")
    majority = max(np.mean(gold == label) for label in set(gold.tolist()))
    lines.append(f"  majority class alone: {majority:.3f}")
    return lines


def _metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> list[str]:
    """Accuracy, macro-F1 over the gold labels present, per-class recall, confusion matrix."""
    present = [label for label in labels if label in gold]
    correct = sum(g == p for g, p in zip(gold, pred, strict=True))
    lines = [f"  n={len(gold)}  accuracy={correct / len(gold):.3f}"]
    f1s, recalls = [], []
    for label in present:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        gold_n = sum(g == label for g in gold)
        pred_n = sum(p == label for p in pred)
        recall = tp / gold_n
        precision = tp / pred_n if pred_n else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
        recalls.append(f"{label}={recall:.3f}")
    lines[0] += f"  macro-F1={sum(f1s) / len(f1s):.3f}"
    lines.append("  recall: " + "  ".join(recalls))
    width = max(len(label) for label in labels) + 1
    lines.append("  confusion (rows gold, columns predicted):")
    lines.append("  " + " " * width + "".join(f"{label:>{width}}" for label in labels))
    for label in present:
        counts = [
            sum(g == label and p == other for g, p in zip(gold, pred, strict=True))
            for other in labels
        ]
        lines.append("  " + f"{label:<{width}}" + "".join(f"{c:>{width}}" for c in counts))
    return lines


def _run(classifier: OfflineClassifier, examples: Sequence[Example]):
    """Classify each example once (after one warm-up call); per-ticket latency line."""
    if examples:
        classifier.classify(examples[0].description, examples[0].title)
    load_before = os.getloadavg()[0]
    suggestions, timings = [], []
    for example in examples:
        started = time.perf_counter_ns()
        suggestions.append(classifier.classify(example.description, example.title))
        timings.append((time.perf_counter_ns() - started) / 1e6)
    timings.sort()
    latency = (
        f"  latency per ticket (single thread): p50={timings[len(timings) // 2]:.2f} ms  "
        f"p95={timings[int(0.95 * (len(timings) - 1))]:.2f} ms  "
        f"(load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs)"
    )
    return suggestions, latency


def _category_report(title: str, classifier: OfflineClassifier, examples: Sequence[Example]):
    suggestions, latency = _run(classifier, examples)
    gold = [e.category for e in examples]
    pred = [s.category.value for s in suggestions]
    return [title, *_metrics(gold, pred, CATEGORY_LABELS), latency], suggestions


def _priority_report(examples: Sequence[Example], suggestions) -> list[str]:
    gold = [e.priority or "" for e in examples]
    pred = [s.priority.value for s in suggestions]
    as_three = ["high" if p == "critical" else p for p in pred]
    derived = [e.derived_priority or "" for e in examples]
    return [
        "  priority (low/medium/high; predicted critical counted as high):",
        *_metrics(gold, as_three, PRIORITY_LABELS[:3]),
        "  priority with DERIVED critical (Service Outages and Maintenance + high -> critical):",
        *_metrics(derived, pred, PRIORITY_LABELS),
    ]


def _reference_report(title: str, classifier: OfflineClassifier, examples: Sequence[Example]):
    lines, suggestions = _category_report(title, classifier, examples)
    gold = [e.priority or "" for e in examples]
    pred = [s.priority.value for s in suggestions]
    return [*lines, "  priority:", *_metrics(gold, pred, PRIORITY_LABELS), ""]


def evaluate_reference(dev_only: bool = False) -> list[str]:
    """Cold-start report lines for the reference tickets and the second development set.

    Always the reference tickets' development half and all of `development_tickets/`; the
    reference tickets' held-out half too unless `dev_only`.
    """
    cold = OfflineClassifier()
    reference = load_reference()
    dev = [e for e in reference if e.bucket < REFERENCE_DEV_SHARE]
    held = [e for e in reference if e.bucket >= REFERENCE_DEV_SHARE]
    out = _reference_report(
        "== Reference tickets (product definitions), development split, cold start ==", cold, dev
    )
    out += _reference_report(
        "== Development tickets (second set, product definitions, all consulted), cold start ==",
        cold,
        load_reference(DEVELOPMENT_DIR),
    )
    if not dev_only:
        out += _reference_report(
            "== Reference tickets (product definitions), held-out split, cold start ==", cold, held
        )
    return out


def reference_key(title: str, description: str) -> str:
    """The 16-hex-digit key that names a reference ticket in `reference_readers/` files."""
    text = normalised_key(f"{title} {description}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _agreement(first: dict[str, str], second: dict[str, str], keys: Sequence[str]) -> float:
    return sum(first[key] == second[key] for key in keys) / len(keys)


def readers_report(directory: Path = READERS_DIR) -> list[str]:
    """How readers who followed the prompt's definitions agree with the reference labels.

    Each `*.jsonl` file in `directory` is one reader: `{"key", "category", "priority"}` per
    reference ticket (`reference_key`). Prints, per half of the reference tickets, each reader's
    and the majority's category and priority accuracy against the reference labels, and the
    readers' agreement with each other. It measures the labels and the definitions, not the
    product: how far reading each ticket's meaning with the prompt's definitions gets. Raises
    KeyError if a reader misses a reference ticket.
    """
    reference = load_reference()
    readers = {
        path.stem: {
            item["key"]: item
            for item in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        }
        for path in sorted(directory.glob("*.jsonl"))
    }
    lines = [
        f"== Readers following the prompt's definitions ({len(readers)} readers, "
        "each ticket read and labelled by hand; not the product) =="
    ]
    halves = (
        ("development half", [e for e in reference if e.bucket < REFERENCE_DEV_SHARE]),
        ("held-out half", [e for e in reference if e.bucket >= REFERENCE_DEV_SHARE]),
    )
    for name, examples in halves:
        keys = [reference_key(e.title, e.description) for e in examples]
        for field in ("category", "priority"):
            gold = {key: getattr(e, field) for key, e in zip(keys, examples, strict=True)}
            labels = {
                reader: {key: items[key][field] for key in keys}
                for reader, items in readers.items()
            }
            majority = {
                key: max((values := [labels[reader][key] for reader in labels]), key=values.count)
                for key in keys
            }
            each = "  ".join(
                f"{reader}={_agreement(answers, gold, keys):.3f}"
                for reader, answers in labels.items()
            )
            names = sorted(labels)
            pairs = [
                _agreement(labels[a], labels[b], keys)
                for i, a in enumerate(names)
                for b in names[i + 1 :]
            ]
            lines.append(
                f"  {name} (n={len(keys)}) {field}: {each}  majority="
                f"{_agreement(majority, gold, keys):.3f}  readers agree with each other "
                f"{min(pairs):.3f}-{max(pairs):.3f}"
            )
    return [*lines, ""]


async def _suggest_all(
    classifier: TicketClassifier, examples: Sequence[Example], concurrency: int
) -> list[TriageSuggestion]:
    """Suggestions for `examples` in order, at most `concurrency` requests at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(example: Example) -> TriageSuggestion:
        async with gate:
            return await classifier.suggest(example.description, example.title)

    return list(await asyncio.gather(*(one(example) for example in examples)))


def classifier_report(
    classifier: TicketClassifier, name: str, *, concurrency: int = 4
) -> list[str]:
    """Category and priority of any classifier on the reference tickets and the second set.

    For the Gemini path: each answer's `source` is counted, so answers that fell back to the
    offline classifier (timeouts, errors, an open circuit breaker) are visible, and the
    accuracy of the Gemini answers alone is printed next to that of all answers. Sends one
    request per ticket (1,600 in all).
    """
    reference = load_reference()
    sets = (
        (
            "reference tickets, development half",
            [e for e in reference if e.bucket < REFERENCE_DEV_SHARE],
        ),
        (
            "reference tickets, held-out half",
            [e for e in reference if e.bucket >= REFERENCE_DEV_SHARE],
        ),
        ("development tickets (second set)", load_reference(DEVELOPMENT_DIR)),
    )
    lines: list[str] = []
    for title, examples in sets:
        started = time.perf_counter()
        suggestions = asyncio.run(_suggest_all(classifier, examples, concurrency))
        seconds = time.perf_counter() - started
        sources: dict[str, int] = {}
        for suggestion in suggestions:
            sources[suggestion.source] = sources.get(suggestion.source, 0) + 1
        lines.append(f"== {name}: {title} ({len(examples)} tickets, {seconds:.1f} s) ==")
        lines.append("  answered by: " + "  ".join(f"{k}={v}" for k, v in sorted(sources.items())))
        for field, labels in (("category", CATEGORY_LABELS), ("priority", PRIORITY_LABELS)):
            gold = [getattr(e, field) for e in examples]
            pred = [getattr(s, field).value for s in suggestions]
            lines.append(f"  {field}:")
            lines += _metrics(gold, pred, labels)
            own = [
                (g, p)
                for g, p, s in zip(gold, pred, suggestions, strict=True)
                if s.source == "gemini"
            ]
            if own and len(own) < len(examples):
                correct = sum(g == p for g, p in own)
                lines.append(f"  {field} on the Gemini answers alone: {correct / len(own):.3f}")
        lines.append("")
    return lines


def evaluate_dev(data_dir: Path) -> list[str]:
    """Only the development splits: what a rule change may be checked against."""
    mapping = json.loads((data_dir / "label_mapping.json").read_text(encoding="utf-8"))
    cold = OfflineClassifier()
    bitext = [e for e in load_bitext(data_dir, mapping) if e.bucket < BITEXT_DEV_SHARE]
    tobi = [e for e in load_tobi_bueck(data_dir, mapping) if e.bucket < TOBI_TRAIN_SHARE]
    out, _ = _category_report("== Bitext development split, cold start ==", cold, bitext)
    lines, suggestions = _category_report(
        "== Tobi-Bueck development split, cold start ==", cold, tobi
    )
    out += ["", *lines, *_priority_report(tobi, suggestions), ""]
    return out + evaluate_reference(dev_only=True)


def evaluate(data_dir: Path) -> list[str]:
    """Run all evaluations and return the report lines."""
    mapping = json.loads((data_dir / "label_mapping.json").read_text(encoding="utf-8"))
    cold = OfflineClassifier()
    bitext = load_bitext(data_dir, mapping)
    tobi = load_tobi_bueck(data_dir, mapping)
    dev = [e for e in bitext if e.bucket < BITEXT_DEV_SHARE]
    held = [e for e in bitext if e.bucket >= BITEXT_DEV_SHARE]
    out: list[str] = []
    for title, rows in (
        ("== Bitext, cold start, all rows (input: instruction) ==", bitext),
        ("== Bitext, cold start, development split (lexicons adjusted on these) ==", dev),
        ("== Bitext, cold start, held-out split (never looked at) ==", held),
    ):
        lines, _ = _category_report(title, cold, rows)
        out += [*lines, ""]
    lines, suggestions = _category_report(
        "== Tobi-Bueck English, cold start, all rows (input: subject + body) ==", cold, tobi
    )
    out += [*lines, *_priority_report(tobi, suggestions), ""]

    train = [e for e in tobi if e.bucket < TOBI_TRAIN_SHARE]
    test, dropped = drop_near_duplicates([e for e in tobi if e.bucket >= TOBI_TRAIN_SHARE], train)
    for title, rows in (
        (
            f"== Tobi-Bueck development split ({len(train)} rows; the only Tobi-Bueck rows "
            "consulted while changing the rules; also the team history below), cold start ==",
            train,
        ),
        (
            f"== HEADLINE Tobi-Bueck held-out split ({len(test)} rows, {dropped} near-duplicates "
            "of history rows dropped; never consulted), cold start ==",
            test,
        ),
    ):
        lines, suggestions = _category_report(title, cold, rows)
        out += [*lines, *_priority_report(rows, suggestions), ""]

    histories = (
        ("(a) history = Tobi-Bueck development split", train),
        ("(b) history = all Bitext rows + Tobi-Bueck development split", [*bitext, *train]),
    )
    for name, rows in histories:
        # Bitext has no priority labels: its rows are category-only history (priority "").
        history = [(f"{e.title}\n{e.description}", e.category, e.priority or "") for e in rows]
        learner = HistoryLearner(lambda history=history: history)
        started = time.perf_counter()
        snapshot = learner.refresh()
        seconds = time.perf_counter() - started
        out += _warm_report(name, snapshot, seconds, OfflineClassifier(learner), test)
    out += evaluate_reference()
    out += readers_report()
    out += evaluate_signals(data_dir, mapping)
    out += [
        "== Supervised reference: models trained on the Tobi-Bueck English rows themselves "
        f"({len(tobi)} rows; a ceiling, not the product) ==",
        *supervised_reference(tobi),
    ]
    return out


SIGNALS_DIR = Path(__file__).with_name("reference_signals")


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
        *_metrics(gold, pred, ("negative", "neutral", "positive")),
    ]


def _language_report(data_dir: Path, mapping: dict) -> list[str]:
    rows = load_tobi_bueck(data_dir, mapping, languages=("en", "de"))
    gold = [e.language for e in rows]
    detected, latency = _timed(lambda e: read_signals(e.description, e.title).language, rows)
    pred = [language or "none" for language in detected]
    return [
        f"== Language detection (lingua, 7 languages) on Tobi-Bueck rows ({len(rows)}, en + de) ==",
        *_metrics(gold, pred, ("en", "de", "none")),
        f"  latency of all signals per ticket: {latency}",
    ]


def _german_report(data_dir: Path, mapping: dict) -> list[str]:
    everything = load_tobi_bueck(data_dir, mapping, languages=("en", "de"))
    history = [e for e in everything if e.bucket < TOBI_TRAIN_SHARE]
    german_test, dropped = drop_near_duplicates(
        [e for e in everything if e.bucket >= TOBI_TRAIN_SHARE and e.language == "de"], history
    )
    out, _ = _category_report(
        f"== German Tobi-Bueck held-out rows ({len(german_test)}, {dropped} near-duplicates "
        "dropped), cold start (rules read English only: neutral confidence) ==",
        OfflineClassifier(),
        german_test,
    )
    rows = [(f"{e.title}\n{e.description}", e.category, e.priority or "") for e in history]
    learner = HistoryLearner(lambda: rows)
    snapshot = learner.refresh()
    lines, _ = _category_report(
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


def _warm_report(name, snapshot, seconds, classifier, test) -> list[str]:
    if snapshot is None:
        return [f"== Tobi-Bueck held-out split, warm {name}: no model (too little history) =="]
    category, priority = snapshot.model.category, snapshot.model.priority
    title = (
        f"== Tobi-Bueck held-out split ({len(test)} rows), warm {name}: {snapshot.rows} rows, "
        f"trained in {seconds:.1f} s =="
    )
    detail = (
        f"  team model: category C={category.c:g} cv-accuracy={_fmt(category.cv_accuracy)} "
        f"(rules on the same history {_fmt(category.rule_accuracy)}, used: "
        f"{snapshot.category_weight == 1}); priority C={priority.c:g} "
        f"cv-accuracy={_fmt(priority.cv_accuracy)} (rules {_fmt(priority.rule_accuracy)}, used: "
        f"{snapshot.priority_weight == 1})"
    )
    lines, suggestions = _category_report(title, classifier, test)
    return [lines[0], detail, *lines[1:], *_priority_report(test, suggestions), ""]


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code (2 if the data is missing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--splits",
        choices=("all", "dev"),
        default="all",
        help="'dev': only the development splits (for checking a rule change)",
    )
    parser.add_argument(
        "--classifier",
        choices=("offline", "gemini"),
        default="offline",
        help="'gemini': score the configured Gemini model (GEMINI_API_KEY) on the reference "
        "tickets instead",
    )
    args = parser.parse_args(argv)
    if args.classifier == "gemini":
        settings = get_settings()
        if settings.gemini_api_key is None or not settings.gemini_api_key.get_secret_value():
            sys.stderr.write("--classifier gemini needs GEMINI_API_KEY to be set.\n")
            return 2
        gemini = GeminiClassifier.from_settings(settings, OfflineClassifier())
        report = classifier_report(
            gemini,
            f"Gemini ({settings.gemini_model})",
            concurrency=settings.triage_max_concurrency,
        )
        sys.stdout.write("\n".join(report) + "\n")
        return 0
    if not (args.data_dir / "label_mapping.json").is_file():
        sys.stderr.write(
            f"No evaluation data at {args.data_dir} (expected label_mapping.json there). "
            "Put the shared data at ../shared/data or pass --data-dir.\n"
        )
        return 2
    report = evaluate_dev(args.data_dir) if args.splits == "dev" else evaluate(args.data_dir)
    sys.stdout.write("\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from ticket_app.settings import get_settings
from ticket_app.triage.base import TicketClassifier, TriageSuggestion
from ticket_app.triage.evaluate_common import (
    BITEXT_DEV_SHARE,
    CATEGORY_LABELS,
    DEFAULT_DATA_DIR,
    DEVELOPMENT_DIR,
    PRIORITY_LABELS,
    READERS_DIR,
    REFERENCE_DEV_SHARE,
    TOBI_TRAIN_SHARE,
    Example,
    category_report,
    drop_near_duplicates,
    load_bitext,
    load_reference,
    load_tobi_bueck,
    metric_lines,
    normalised_key,
    priority_report,
)
from ticket_app.triage.evaluate_signals import evaluate_signals
from ticket_app.triage.gemini import GeminiClassifier
from ticket_app.triage.learner import HistoryLearner
from ticket_app.triage.offline import OfflineClassifier


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


def _reference_report(title: str, classifier: OfflineClassifier, examples: Sequence[Example]):
    lines, suggestions = category_report(title, classifier, examples)
    gold = [e.priority or "" for e in examples]
    pred = [s.priority.value for s in suggestions]
    return [*lines, "  priority:", *metric_lines(gold, pred, PRIORITY_LABELS), ""]


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
            lines += metric_lines(gold, pred, labels)
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
    out, _ = category_report("== Bitext development split, cold start ==", cold, bitext)
    lines, suggestions = category_report(
        "== Tobi-Bueck development split, cold start ==", cold, tobi
    )
    out += ["", *lines, *priority_report(tobi, suggestions), ""]
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
        lines, _ = category_report(title, cold, rows)
        out += [*lines, ""]
    lines, suggestions = category_report(
        "== Tobi-Bueck English, cold start, all rows (input: subject + body) ==", cold, tobi
    )
    out += [*lines, *priority_report(tobi, suggestions), ""]

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
        lines, suggestions = category_report(title, cold, rows)
        out += [*lines, *priority_report(rows, suggestions), ""]

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
    lines, suggestions = category_report(title, classifier, test)
    return [lines[0], detail, *lines[1:], *priority_report(test, suggestions), ""]


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

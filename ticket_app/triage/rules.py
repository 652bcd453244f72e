"""Rule engine of the offline classifier: text normalisation, typo tolerance, cue scoring.

Everything here is deterministic and pure Python; a ticket of a few kilobytes is scored in about
a millisecond. The cue tables themselves are in `lexicon.py`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ticket_app.enums import Category, Priority
from ticket_app.triage.lexicon import (
    ACTION,
    ASKING_CUES,
    BLOCKED,
    BLOCKING_CUES,
    BOILERPLATE,
    BROKEN_CUES,
    CATEGORY_CUES,
    CATEGORY_PRIOR,
    EASING_CUES,
    EXPOSURE,
    IMPACT_CUES,
    MALFUNCTION_CUES,
    ONLY_ME,
    PROBLEM_CUES,
    SCOPE,
    SEVERE_CUES,
    TIME_CUES,
    URGENCY_CUES,
    Cue,
)

CATEGORIES: tuple[Category, ...] = tuple(Category)
PRIORITIES: tuple[Priority, ...] = tuple(Priority)

# Softmax temperature for category scores. With T = 1.5 a lead of one strong cue (3 points)
# gives about 0.88 against a single rival, two equal scores give 0.5 each: confidences stay
# readable as "how clear was the evidence", not as calibrated probabilities.
CATEGORY_TEMPERATURE = 1.5
# Urgency score at the centre of each priority level; a score is assigned to the nearest
# centre, so the thresholds are the midpoints (-1.5, 1.5, 4.5). No cue at all (0) is medium.
PRIORITY_CENTRES: dict[Priority, float] = {
    Priority.LOW: -3.0,
    Priority.MEDIUM: 0.0,
    Priority.HIGH: 3.0,
    Priority.CRITICAL: 6.0,
}
# Width of the Gaussian kernel that turns the distance to each centre into a confidence.
PRIORITY_SPREAD = 2.0
# Share of the priority confidence given to the level the decision table chose; the rest follows
# the urgency score, so the table's level always wins and the confidence still says how far the
# wording agrees with it.
DECIDED_SHARE = 0.7
# Only the strongest cues of a category count. Long e-mails mention many incidental nouns
# ("system", "data", "update") that would otherwise outweigh the one word naming the topic.
DECAY = 1.0
# A cue that also occurs in the title counts this much extra: titles are summaries.
TITLE_BONUS = 0.5
# Only the start of a long ticket is scored: the topic is stated early, and it bounds the time
# (about 2 ms per 1,000 characters) for the longest accepted descriptions.
MAX_SCORED_CHARS = 3000
# Only words at least this long are corrected for typos; short words collide too often.
MIN_TYPO_LENGTH = 5
# Real English words one edit away from a lexicon word; "correcting" them changes the meaning
# ("never" -> "ever", "contract" -> "contact", "compliant" -> "complaint").
_REAL_WORDS = frozenset(
    {
        "never",
        "though",
        "thorough",
        "takes",
        "taking",
        "table",
        "tables",
        "black",
        "blank",
        "block",
        "contract",
        "contracts",
        "stories",
        "wider",
        "realm",
        "exist",
        "serve",
        "feeds",
        "compliant",
        "mother",
        "others",
        "suite",
        "plain",
        "known",
        "action",
        "likes",
        "named",
        "rights",
    }
)

_APOSTROPHE_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b|\bcan not\b"), "cannot"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (
        re.compile(
            r"\b(do|does|did|is|was|are|were|have|has|had|could|would|should)nt\b",
        ),
        r"\1 not",
    ),
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _lexicon_vocabulary() -> frozenset[str]:
    """Literal words of the cue patterns, plus common endings for stems (`invoic` + `e`...)."""
    words: set[str] = set()
    for cue in (*URGENCY_CUES, *(c for cues in CATEGORY_CUES.values() for c in cues)):
        for word, mark in re.findall(r"([a-z]{4,})(\\w\*|\?)?", cue.pattern):
            words.add(word)
            if mark == "?":
                words.add(word[:-1])
            elif mark:
                words.update(word + end for end in ("e", "es", "ed", "ing", "s", "ion", "ation"))
    return frozenset(words)


_VOCABULARY = _lexicon_vocabulary()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _missing_letter_index(vocabulary: frozenset[str]) -> dict[str, str]:
    """Map each vocabulary word with one letter removed to the (alphabetically first) word."""
    index: dict[str, str] = {}
    for word in sorted(vocabulary):
        for short in _deletions(word):
            index.setdefault(short, word)
    return index


_MISSING_LETTER = _missing_letter_index(_VOCABULARY)


@lru_cache(maxsize=65_536)
def correct_typo(token: str) -> str:
    """Return the lexicon word one edit away from `token` (extra, missing or swapped letter).

    Substitutions are deliberately not corrected: they turn real words into other real words
    ("change" into "charge"). Nor is a missing or extra first letter: typos there are rare, and
    such edits mostly hit real words ("reaching" -> "breaching", "email" -> "mail"). Tokens
    shorter than `MIN_TYPO_LENGTH`, digits, words already in the vocabulary and a short list of
    real words are returned unchanged.
    """
    if (
        len(token) < MIN_TYPO_LENGTH
        or token in _VOCABULARY
        or token in _REAL_WORDS
        or not token.isalpha()
    ):
        return token
    candidates = sorted(short for short in _deletions(token) if short in _VOCABULARY)
    if token in _MISSING_LETTER:
        candidates.append(_MISSING_LETTER[token])
    candidates = [word for word in candidates if word[0] == token[0]]
    for i in range(len(token) - 1):
        swapped = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
        if swapped in _VOCABULARY:
            candidates.append(swapped)
    return candidates[0] if candidates else token


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces, contractions expanded, typos fixed.

    Accents are stripped ("café" -> "cafe"); every other non-alphanumeric character separates
    words, so "sign-up" becomes "sign up" and "e-mail" becomes "e mail".
    """
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("$", " dollars ").replace("\u20ac", " euros ")
    for pattern, replacement in _APOSTROPHE_CONTRACTIONS:
        text = pattern.sub(replacement, text)
    words = " ".join(correct_typo(token) for token in _NON_WORD.sub(" ", text).split())
    return " ".join(BOILERPLATE.sub(" ", words).split())


@dataclass(frozen=True)
class RuleResult:
    """Scores of one ticket.

    `category_probs` and `priority_probs` are probability tuples in the order of `CATEGORIES`
    and `PRIORITIES` (each sums to 1). `category_cues` maps each category to the labels of the
    cues that matched for it; `urgency_cues` lists the matched urgency cue labels with their
    signed weights; `urgency` is the summed urgency score; `priority_rule` names the row of the
    impact decision table that chose the priority ("" when none applied and the urgency score
    decided).
    """

    category_probs: tuple[float, ...]
    priority_probs: tuple[float, ...]
    category_cues: dict[Category, tuple[str, ...]]
    urgency_cues: tuple[tuple[str, float], ...]
    urgency: float
    priority_rule: str = ""


def softmax(scores: list[float], temperature: float = 1.0) -> tuple[float, ...]:
    """Numerically stable softmax of `scores / temperature`."""
    top = max(scores)
    exps = [math.exp((score - top) / temperature) for score in scores]
    total = sum(exps)
    return tuple(value / total for value in exps)


def _matches(cues: tuple[Cue, ...], body: str, title: str) -> list[tuple[Cue, float]]:
    """Cues found in `body` (full text) with their weight, plus the title bonus."""
    found = []
    for cue in cues:
        if cue.found_in(body):
            bonus = TITLE_BONUS * cue.weight if title and cue.found_in(title) else 0.0
            found.append((cue, cue.weight + bonus))
    return found


def decide_priority(
    labels: frozenset[str], text: str, malfunction: bool, question_title: bool
) -> tuple[Priority, str] | None:
    """The priority the product's definitions give for these impact dimensions, and why.

    `labels` are the matched urgency cue labels, `text` the normalised ticket, `malfunction`
    whether a technical malfunction cue matched, `question_title` whether the title ends in "?".
    Rows, first match wins: critical for a security incident or data loss, a takeover with
    data exposed, or many affected by a breakage now; high when a service or feature is broken
    or one customer is blocked or losing money (medium if they say it can wait or there is a
    workaround); low for a question with no problem and nothing asked to be done; high for a
    real problem under time pressure; medium for any other problem or request. `None` when no
    dimension is found (the urgency score decides then).
    """
    many = ("many users affected" in labels or SCOPE.found_in(text)) and not ONLY_ME.found_in(text)
    eased = bool(labels & EASING_CUES)
    if "account takeover" in labels and EXPOSURE.found_in(text):
        return Priority.CRITICAL, "account taken over, data exposed"
    breakage = BROKEN_CUES | {"cannot log in", "wrong charge"}
    now = (TIME_CUES - {"deadline"}) | BROKEN_CUES | {"since when"}
    if many and labels & breakage and labels & now:
        return Priority.CRITICAL, "many affected, broken now"
    if labels & SEVERE_CUES:
        return Priority.CRITICAL, "security incident or data loss"
    if labels & (BROKEN_CUES | BLOCKING_CUES) or BLOCKED.found_in(text):
        if eased:
            return Priority.MEDIUM, "blocked, but it can wait or has a workaround"
        return Priority.HIGH, "broken, blocked or losing money"
    if many and labels & PROBLEM_CUES:
        return Priority.HIGH, "a problem for many"
    problem = labels & PROBLEM_CUES
    if "looking for something" in labels:
        problem -= {"cannot"}
    asked = bool(labels & ASKING_CUES) or question_title
    requested = "change request" in labels or ACTION.found_in(text)
    if asked and not problem - {"failure", "money at stake"} and not requested:
        return Priority.LOW, "a question, nothing broken"
    if labels & TIME_CUES:
        if eased:
            return Priority.MEDIUM, "time pressure, but it can wait"
        return Priority.HIGH, "a problem with time pressure"
    if problem or malfunction or "change request" in labels:
        return Priority.MEDIUM, "a problem or request"
    if labels & ASKING_CUES:
        return Priority.LOW, "a question"
    return None


def score(description: str, title: str = "") -> RuleResult:
    """Score a ticket against the lexicons. Never raises; empty text gives the priors."""
    norm_title = normalise(title[:MAX_SCORED_CHARS])
    body = f"{norm_title} {normalise(description[:MAX_SCORED_CHARS])}".strip()
    category_scores: list[float] = []
    category_cues: dict[Category, tuple[str, ...]] = {}
    for category in CATEGORIES:
        found = _matches(CATEGORY_CUES[category], body, norm_title)
        found.sort(key=lambda item: -item[1])
        category_cues[category] = tuple(cue.label for cue, _ in found)
        strongest = sum(weight * DECAY**rank for rank, (_, weight) in enumerate(found))
        category_scores.append(CATEGORY_PRIOR[category] + strongest)
    urgency_found = [(cue.label, cue.weight) for cue in URGENCY_CUES if cue.found_in(body)]
    urgency = sum(weight for _, weight in urgency_found)
    if not any(label in IMPACT_CUES for label, _ in urgency_found):
        urgency = min(urgency, PRIORITY_CENTRES[Priority.HIGH])
    priority_logits = [
        -((urgency - PRIORITY_CENTRES[p]) ** 2) / (2 * PRIORITY_SPREAD**2) for p in PRIORITIES
    ]
    priority_probs = softmax(priority_logits)
    malfunction = bool(set(category_cues[Category.TECHNICAL]) & MALFUNCTION_CUES)
    decided = decide_priority(
        frozenset(label for label, _ in urgency_found),
        body,
        malfunction,
        title.rstrip().endswith("?"),
    )
    rule = ""
    if decided is not None:
        level, rule = decided
        priority_probs = tuple(
            (1 - DECIDED_SHARE) * prob + (DECIDED_SHARE if p == level else 0.0)
            for p, prob in zip(PRIORITIES, priority_probs, strict=True)
        )
    return RuleResult(
        category_probs=softmax(category_scores, CATEGORY_TEMPERATURE),
        priority_probs=priority_probs,
        category_cues=category_cues,
        urgency_cues=tuple(urgency_found),
        urgency=urgency,
        priority_rule=rule,
    )

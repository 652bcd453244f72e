"""Text similarity between tickets: the terms of a ticket and the score between two of them.

Pure Python and database-free, so the evaluation scores exactly what the service ranks with.
The service layer (`services.similarity`) picks the candidates from the full-text index of
each database, looking up the ticket's rarest terms (`rarest_terms`), and ranks them with
`rank`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Only the start of a description is compared: the problem is stated early, and it bounds the
# time per candidate. PostgreSQL's index covers the same span (migration 0008).
MAX_COMPARED_CHARS = 2000
# Content words of a text considered for the index lookups (longest first).
QUERY_WORDS = 24
# The similarity from which a similar ticket is offered for merging ("Merge into #N"); below it
# the ticket is shown as related only. Merging closes a ticket, so the offer needs a precision
# near 0.9: the duplicate evaluation (`python -m ticket_app.triage.evaluate`, the merge
# threshold table; docs/triage-evaluation.md) gives 0.905 at 0.50 (recall 0.633), and 0.706 at
# 0.45, 0.456 at 0.40, 0.088 at 0.30.
MERGE_MIN_SCORE = 0.5
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")
# Function words and support-ticket boilerplate that two unrelated tickets share.
_STOP = frozenset(
    re.findall(
        r"\w+",
        "the and for with that this from have has had was were are you your our ours their "
        "there here what when where which who how why can could would should will shall not "
        "but all any some been being into onto over under than then them they its it's also "
        "just very really please thanks thank hello dear regards best team support help issue "
        "problem since still again today yesterday morning now get got one two able need want "
        "like know see use using used does did doing done make made account customer hi hey "
        "would we're i'm i've don't can't cannot won't isn't aren't my me we us is am be do so "
        "on in at to of or an as by if no yes a i "
        # PostgreSQL's English stop words not listed above: a query word it drops would turn
        # a pair into a single (common) word.
        "during through about above below further once both each few more most other such "
        "only own same too nor off out down until against between before after while whom "
        "itself themselves yourself yourselves ourselves himself herself myself having doing "
        "these those because",
    )
)


def stem(word: str) -> str:
    """A crude English stem: one common suffix removed from words of 5+ letters."""
    if len(word) >= 5:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


def terms(text: str) -> frozenset[str]:
    """The stemmed content words of a ticket text (stop words and 1-2 letter words dropped)."""
    words = _WORD.findall(text[:MAX_COMPARED_CHARS].lower())
    return frozenset(stem(w) for w in words if len(w) > 2 and w not in _STOP)


def _lexeme_key(word: str) -> str:
    """An approximation of the English stemmer's lexeme, to tell inflections of one word apart.

    "cancelled", "cancelling" and "cancel" give one key, as do "charged" and "charges": such
    words are one lexeme in PostgreSQL's index, so a query pair of two of them matches every
    ticket containing that single (often common) word.
    """
    key = stem(word)
    for suffix in ("al", "ment", "e"):
        if key.endswith(suffix) and len(key) - len(suffix) >= 4:
            key = key[: -len(suffix)]
            break
    if len(key) >= 5 and key[-1] == key[-2] and key[-1] not in "aeiou":
        key = key[:-1]
    return key


def query_words(text: str, limit: int = QUERY_WORDS) -> list[str]:
    """Up to `limit` content words of `text` with distinct lexemes, longest first.

    ASCII letters/digits only: the words SQLite's candidate lookup weighs by how many tickets
    contain them. Of several inflections of one word ("charged", "charges") only the longest
    is kept: they are one term in the index.
    """
    words = _WORD.findall(text[:MAX_COMPARED_CHARS].lower())
    content = dict.fromkeys(w for w in words if len(w) > 3 and w not in _STOP and not w.isdigit())
    chosen: dict[str, str] = {}
    for word in sorted(content, key=lambda w: (-len(w), w)):
        chosen.setdefault(_lexeme_key(word), word)
        if len(chosen) == limit:
            break
    return list(chosen.values())


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine similarity of two term sets, in [0, 1] (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


@dataclass(frozen=True)
class Match:
    """A candidate ticket and its similarity to the query, in [0, 1]."""

    ticket_id: int
    score: float


def rank(
    query: str, candidates: Iterable[tuple[int, str]], *, limit: int = 5, min_score: float = 0.0
) -> list[Match]:
    """The `limit` candidates most similar to `query`, best first (ties: higher id first).

    `candidates` are `(ticket id, text)` pairs, text being title and description. Candidates
    scoring below `min_score` are left out.
    """
    wanted = terms(query)
    scored = [
        Match(ticket_id, round(similarity(wanted, terms(text)), 3))
        for ticket_id, text in candidates
    ]
    scored = [match for match in scored if match.score >= min_score and match.score > 0]
    scored.sort(key=lambda match: (-match.score, -match.ticket_id))
    return scored[:limit]


def rarest_terms(
    document_counts: Mapping[str, float], *, limit: int, max_documents: float
) -> list[str]:
    """Up to `limit` terms of `document_counts` (term -> tickets containing it), rarest first.

    Terms in more than `max_documents` tickets are left out: they pick candidates no better
    than chance and cost the index the most to look up, so a text made only of common words
    gives an empty list. Ties go to the longer term (long words are the specific ones).
    """
    eligible = [term for term, count in document_counts.items() if count <= max_documents]
    eligible.sort(key=lambda term: (document_counts[term], -len(term), term))
    return eligible[:limit]

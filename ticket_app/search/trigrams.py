"""Which part of a searched code the trigram indexes should look up (PostgreSQL's pg_trgm).

A substring search, `ILIKE '%err01234%'`, is served by the pg_trgm GIN indexes of titles and
descriptions, which intersect the posting lists of every trigram of the pattern: "err", "rr0",
"r01", "012", "123" and "234". When some of those trigrams are in most tickets ("err" is in 94
to 97% of the generated ones, from "error"), reading their lists is most of the search's cost
(at 1,000,000 tickets, the two trigram lookups took 15.8 of the 16.2 ms of a code found
nowhere) while hardly narrowing it.
`index_substring` picks the part of the term whose trigrams are rare ("r01234"): the indexes
are asked for that part and the whole term is checked on the rows they return, so a search
matches exactly the same tickets whichever part is looked up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

COMMON_TRIGRAM = 0.2
"""A trigram in at least this share of tickets is left out of the index lookup."""
MAX_EXPECTED_SHARE = 0.001
"""The part looked up must be expected in at most this share of tickets (the product of its
trigrams' shares, as if independent): a part almost every ticket matches would make the
database check the whole term on that many rows, which costs more than the common lists."""
MIN_TERM_LENGTH = 4
"""Shorter terms have one or two trigrams: nothing to leave out."""


def trigrams(word: str) -> list[str]:
    """The trigrams pg_trgm takes from `word` inside a `%...%` pattern, in order (no padding)."""
    return [word[start : start + 3] for start in range(len(word) - 2)]


def index_substring(term: str, shares: Mapping[str, float], floor: float) -> str | None:
    """The part of `term` for the trigram indexes to look up, or None to look up all of it.

    `shares` maps a lower-case trigram to the share of tickets (0 to 1) whose title or
    description holds it, from a sample; a trigram it does not list counts as `floor` (one
    sampled ticket's share). Only a term of ASCII letters and digits is considered: other
    characters split pg_trgm's words and pad them, which this does not model. The part is the
    longest run of consecutive trigrams each under COMMON_TRIGRAM (of equal runs, the one with
    the lower total share), lower-cased; None when that run is the whole term, when there is
    no such run, or when it is expected in more than MAX_EXPECTED_SHARE of tickets.
    """
    word = term.lower()
    if len(word) < MIN_TERM_LENGTH or not (word.isascii() and word.isalnum()):
        return None
    grams = trigrams(word)
    weights = [shares.get(gram, floor) for gram in grams]
    best: tuple[int, int] | None = None
    run_start: int | None = None
    for index, weight in enumerate([*weights, 1.0]):
        if weight < COMMON_TRIGRAM:
            if run_start is None:
                run_start = index
            continue
        if run_start is not None:
            if best is None or _better((run_start, index), best, weights):
                best = (run_start, index)
            run_start = None
    if best is None or best == (0, len(grams)):
        return None
    if math.prod(weights[best[0] : best[1]]) > MAX_EXPECTED_SHARE:
        return None
    return word[best[0] : best[1] + 2]


def _better(run: tuple[int, int], best: tuple[int, int], weights: list[float]) -> bool:
    length, best_length = run[1] - run[0], best[1] - best[0]
    if length != best_length:
        return length > best_length
    return sum(weights[run[0] : run[1]]) < sum(weights[best[0] : best[1]])

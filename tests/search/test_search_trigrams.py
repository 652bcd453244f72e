"""Which part of a searched code the trigram indexes look up (`search.trigrams`)."""

from __future__ import annotations

import pytest

from ticket_app.search.trigrams import COMMON_TRIGRAM, index_substring, trigrams

# Shares measured on a sample of the generated million tickets (docs/performance.md).
SHARES = {"err": 0.936, "rr0": 0.535, "r01": 0.068, "012": 0.041, "123": 0.048, "234": 0.012}
FLOOR = 0.0005


def test_trigrams_are_the_unpadded_triples_in_order() -> None:
    assert trigrams("err01234") == ["err", "rr0", "r01", "012", "123", "234"]
    assert trigrams("abc") == ["abc"] and trigrams("ab") == []


def test_the_common_trigrams_of_a_code_are_left_out() -> None:
    assert index_substring("err01234", SHARES, FLOOR) == "r01234"
    assert index_substring("ERR01234", SHARES, FLOOR) == "r01234"  # ILIKE: case folded


def test_a_term_whose_trigrams_are_all_rare_or_all_common_is_looked_up_whole() -> None:
    assert index_substring("x9z8y7", SHARES, FLOOR) is None
    common = dict.fromkeys(trigrams("password"), COMMON_TRIGRAM)
    assert index_substring("password", common, FLOOR) is None


def test_a_part_most_tickets_would_match_is_not_worth_looking_up() -> None:
    # "r01" and "012" alone: 0.068 * 0.041 = 0.0028 of the tickets, more than the bar.
    assert index_substring("err012", SHARES, FLOOR) is None
    assert index_substring("err0123", SHARES, FLOOR) == "r0123"


def test_of_two_rare_runs_the_longer_then_the_rarer_is_chosen() -> None:
    shares = {"abc": 0.01, "bcx": 0.9, "cxd": 0.9, "xde": 0.01, "def": 0.01}
    assert index_substring("abcxdef", shares, FLOOR) == "xdef"
    shares = {"abc": 0.05, "bcx": 0.05, "cxd": 0.9, "xde": 0.01, "def": 0.01}
    assert index_substring("abcxdef", shares, FLOOR) == "xdef"


@pytest.mark.parametrize("term", ["err-01234", "err 01234", "érr01234", "err", "e%r01234"])
def test_only_plain_letter_and_digit_terms_of_four_or_more_are_considered(term: str) -> None:
    shares = {**SHARES, **dict.fromkeys(trigrams(term.lower()), 0.9)}
    assert index_substring(term, shares, FLOOR) is None

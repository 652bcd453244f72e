"""The search syntax parser and the highlighter: pure functions, no database."""

from __future__ import annotations

import re
import sqlite3

from ticket_app.search.highlight import highlight, snippet
from ticket_app.search.query import (
    TextField,
    compile_fts5,
    compile_tsquery,
    parse,
)


def test_words_phrases_exclusions_and_or() -> None:
    query = parse('"log in" invoice OR bill -refund')
    assert [len(clause.options) for clause in query.clauses] == [1, 2]
    assert query.clauses[0].options[0].words == ("log", "in")
    assert [m.words for m in query.excluded] == [("refund",)]


def test_field_prefixes_split_into_filters_and_restricted_words() -> None:
    query = parse("status:open requester:jane title:Refund priority:HIGH")
    assert query.filters == {"status": "open", "priority": "HIGH"}
    fields = [clause.options[0].field for clause in query.clauses]
    assert fields == [TextField.REQUESTER, TextField.TITLE]


def test_unknown_prefix_and_unclosed_quote_are_searched_as_words() -> None:
    assert [c.options[0].words for c in parse("foo:bar").clauses] == [("foo", "bar")]
    assert [c.options[0].words for c in parse('"never closed').clauses] == [("never", "closed")]


def test_ticket_numbers() -> None:
    assert parse("#42").number_only and parse("#42").ticket_id == 42
    plain = parse("42")
    assert plain.ticket_id == 42 and not plain.number_only and plain.clauses


def test_contractions_and_compounds_get_alternatives() -> None:
    assert compile_fts5(parse("cant login").clauses) == (
        '("cant" OR "can t") AND ("login" OR "log in")'
    )
    assert compile_tsquery(parse("log in").clauses) == "(('log' <-> 'in') | 'login')"


def test_compiled_text_cannot_carry_operators() -> None:
    """Quotes, parentheses and operators typed by a person never reach the engines as syntax."""
    typed = 'a\' OR 1=1) | !x & NEAR(y) "z"* {title}: ^'
    query = parse(typed)
    fts5 = compile_fts5(query.clauses)
    tsquery = compile_tsquery(query.clauses)
    assert all(re.fullmatch(r"[^\W_]+( [^\W_]+)*", s) for s in re.findall(r'"([^"]*)"', fts5))
    assert all(re.fullmatch(r"[^\W_]+", s) for s in re.findall(r"'([^']*)'", tsquery))
    with sqlite3.connect(":memory:") as connection:
        connection.execute("CREATE VIRTUAL TABLE t USING fts5(title, requester, body)")
        connection.execute("SELECT * FROM t WHERE t MATCH ?", (fts5,)).fetchall()


def test_prefix_and_weights() -> None:
    assert compile_tsquery(parse("title:refu*").clauses) == "'refu':*A"
    assert compile_fts5(parse("requester:jane").clauses) == '{requester} : "jane"'


def test_terms_are_bounded() -> None:
    many = " ".join(f"w{n}" for n in range(100))
    assert len(parse(many).clauses) == 32


def test_highlight_marks_other_forms_accents_and_prefixes() -> None:
    pieces = highlight("Payments are failing at the Straße", parse("payment fail strasse"))
    assert [text for text, marked in pieces if marked] == ["Payments", "failing", "Straße"]
    assert "".join(text for text, _ in pieces) == "Payments are failing at the Straße"
    german = highlight("Zahlungen schlagen fehl", parse("zahlung"), "de")
    assert [text for text, marked in german if marked] == ["Zahlungen"]
    assert [t for t, m in highlight("Refunded twice", parse("ref*")) if m] == ["Refunded"]


def test_snippet_centres_on_the_first_match() -> None:
    text = "word " * 100 + "the invoice is wrong " + "tail " * 100
    pieces = snippet(text, parse("invoice"))
    assert pieces[0] == ("…", False) and pieces[-1] == ("…", False)
    assert ("invoice", True) in pieces
    assert sum(len(t) for t, _ in pieces) <= 170

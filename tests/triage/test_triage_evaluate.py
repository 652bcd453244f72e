"""Evaluation helpers: deterministic splits and near-duplicate removal across them."""

from __future__ import annotations

from ticket_app.triage.evaluate import Example, _bucket, drop_near_duplicates, normalised_key


def example(text: str) -> Example:
    return Example("", text, "technical", "low", "low", _bucket(normalised_key(text)))


def test_split_key_ignores_case_digits_and_punctuation() -> None:
    a = normalised_key("Order #123: the App CRASHES!")
    b = normalised_key("order 456 the app crashes")
    assert a == b
    assert _bucket(a) == _bucket(b)


def test_near_duplicates_of_history_are_dropped() -> None:
    base = "the export to csv fails with an error message after the latest update of the app"
    history = [example(base)]
    held = [
        example(base + " again"),  # near-duplicate: dropped
        example("please send me the invoice for march and the one for april as well"),
    ]
    kept, dropped = drop_near_duplicates(held, history)
    assert dropped == 1
    assert [e.description for e in kept] == [held[1].description]

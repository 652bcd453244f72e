"""The new-ticket form's plain logic: its checks, the AI's suggestions, validation messages.

`validation_messages` also words the refusals of the list's inline edits and the ticket page.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from ticket_app.schemas import TITLE_MAX_LENGTH
from ticket_app.settings import get_settings
from ticket_app.triage import TriageSuggestion


def validation_messages(error: ValidationError) -> dict[str, str]:
    """The first message per field of a pydantic error, keyed by field name."""
    messages: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        message = item["msg"].removeprefix("Value error, ")
        messages.setdefault(field, message[:1].upper() + message[1:])
    return messages


def description_limit() -> int:
    """Longest accepted description in characters (`MAX_DESCRIPTION_CHARS`)."""
    return get_settings().max_description_chars


def client_errors(title: str, description: str) -> dict[str, str]:
    """The checks the form runs before asking the server (required fields, lengths)."""
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Title is required."
    elif len(title.strip()) > TITLE_MAX_LENGTH:
        errors["title"] = f"Title must be at most {TITLE_MAX_LENGTH} characters."
    if not description.strip():
        errors["description"] = "Description is required."
    elif len(description) > description_limit():
        errors["description"] = f"Description must be at most {description_limit():,} characters."
    return errors


@dataclass(frozen=True)
class FormChoice:
    """The value a select shows and whether it came from the classifier."""

    value: str
    from_suggestion: bool


def apply_suggestion(current: str, touched: bool, suggested: str) -> FormChoice:
    """What a select holds after a suggestion arrives: a hand-picked value always wins."""
    if touched:
        return FormChoice(current, from_suggestion=False)
    return FormChoice(suggested, from_suggestion=True)


def is_fresh(suggested_for: str, description: str) -> bool:
    """Whether a suggestion computed for `suggested_for` still matches the typed description."""
    return suggested_for.strip() == description.strip() and bool(description.strip())


# A classifier's confidence in words: at least 0.8 is "high", at least 0.5 "medium", else "low"
# (a percentage such as "offline · 100%" claimed more certainty than cue rules have).
CONFIDENCE_WORDS = ((0.8, "high"), (0.5, "medium"))


def confidence_word(confidence: float) -> str:
    """A confidence in [0, 1] as "low", "medium" or "high" (see CONFIDENCE_WORDS)."""
    for floor, word in CONFIDENCE_WORDS:
        if confidence >= floor:
            return word
    return "low"


def suggestion_badge(suggestion: TriageSuggestion, field: str) -> str:
    """Badge text such as "AI suggestion · high confidence" for `field` ("category"/"priority").

    The confidence is said in words (`triage.confidence_word`), not as a percentage.
    """
    confidence = (
        suggestion.category_confidence if field == "category" else suggestion.priority_confidence
    )
    return f"AI suggestion · {confidence_word(confidence)} confidence"

"""The triage reading's plain logic (issue 14): what the form, the list and a ticket show of it.

Similar tickets, the suggested title, language, sentiment and frustration marks, and merge
errors. Rows handed to the browser are flat `dict[str, str]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ticket_app.enums import Priority
from ticket_app.schemas import SimilarTicket, TicketRead
from ticket_app.services.errors import (
    ConflictError,
    DatabaseUnavailableError,
    PermissionDeniedError,
    ServiceError,
    TicketNotFoundError,
)
from ticket_app.triage.similarity import MERGE_MIN_SCORE
from ticket_app.ui.logic.form import confidence_word
from ticket_app.ui.logic.tickets import label_of_value

# The languages the detector reports (schemas.TicketRead.language), by ISO 639-1 code.
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
}
SOURCE_NAMES = {"gemini": "Gemini", "offline": "offline rules"}


# The offline classifier's reason (triage/offline.py): "CATEGORY: cue, cue; urgency +2.5: label
# (+2.5), label (+1); priority: ROW", then " | "-separated notes.
_OFFLINE_REASON = re.compile(
    r"^(?P<category>[a-z_]+): (?P<cues>.*?); urgency [+-][\d.]+: (?P<urgency>.*?)"
    r"(?:; priority: (?P<row>.*))?$"
)
_WEIGHT = re.compile(r" \([+-][\d.]+\)$")
_FRUSTRATED = re.compile(r"^frustrated customer \((?P<cues>.*)\)(?P<raised>: priority raised)?")
_FOREIGN = re.compile(r"^rules read English only \(language (?P<code>[a-z]+)\)")


def _listed(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def reason_in_words(reason: str, priority: str) -> str:
    """A suggestion's reason as a person would say it, for the new-ticket form.

    The offline classifier's reason ("technical: outage, not working; urgency +9.25: many
    users affected (+2.5), payments failing (+2.5); priority: many affected, broken now")
    becomes "Mentions outage and not working → Technical. Many affected, broken now (many users
    affected, payments failing) → Critical."; its notes (a frustrated customer, the team's
    model, a language the rules do not read) follow as sentences. `priority` is the suggested
    priority's value (a frustrated customer may have raised it one step above the rules').
    Any other reason (Gemini's own words) is returned as it is.
    """
    main, *notes = reason.split(" | ")
    parsed = _OFFLINE_REASON.match(main)
    if parsed is None:
        return reason
    final = Priority(priority) if priority in {p.value for p in Priority} else None
    frustration = next((m for note in notes if (m := _FRUSTRATED.match(note))), None)
    ruled = final
    if final is not None and frustration is not None and frustration["raised"]:
        order = list(Priority)
        ruled = order[max(order.index(final) - 1, 0)]
    category = label_of_value(parsed["category"])
    cues = [cue for cue in parsed["cues"].split(", ") if cue and cue != "no topic cues"]
    sentences = [
        f"Mentions {_listed(cues)} → {category}." if cues else f"No clear topic → {category}."
    ]
    urgency = [
        _WEIGHT.sub("", label)
        for label in re.split(r"(?<=\)), ", parsed["urgency"])
        if label and label != "no urgency cues"
    ][:2]
    arrow = f" → {label_of_value(ruled.value)}" if ruled is not None else ""
    if parsed["row"]:
        because = f" ({', '.join(urgency)})" if urgency else ""
        sentences.append(f"{_sentence(parsed['row'])}{because}{arrow}.")
    elif urgency:
        sentences.append(f"{_sentence(_listed(urgency))}{arrow}.")
    else:
        sentences.append(f"Nothing urgent mentioned{arrow}.")
    if frustration is not None:
        raised = f", so one step higher: {label_of_value(final.value)}" if ruled != final else ""
        sentences.append(f"The customer sounds frustrated ({frustration['cues']}){raised}.")
    for note in notes:
        if note.startswith("team model"):
            sentences.append("Your team's past tickets were taken into account.")
        elif foreign := _FOREIGN.match(note):
            language = language_name(foreign["code"])
            sentences.append(
                f"Written in {language}; the rules read English only, so this is a guess."
            )
    return " ".join(sentences)


def percent(score: float | None) -> str:
    """A score in [0, 1] as a whole percentage ("82%"); "" for none."""
    return "" if score is None else f"{round(score * 100)}%"


def similar_rows(items: Iterable[SimilarTicket]) -> list[dict[str, str]]:
    """Similar tickets as rows: `id`, `title`, `status`, `status_label`, `score`, `mergeable`.

    `status` is the value, `score` a percentage ("82%"), `mergeable` "yes" from
    `MERGE_MIN_SCORE` up (the page offers "Merge into #N") and "" below it (shown as related
    only). Kept in the order given (best first).
    """
    return [
        {
            "id": str(item.id),
            "title": item.title,
            "status": item.status.value,
            "status_label": label_of_value(item.status.value),
            "score": percent(item.score),
            "mergeable": "yes" if item.score >= MERGE_MIN_SCORE else "",
        }
        for item in items
    ]


@dataclass(frozen=True)
class TitleChoice:
    """What the title field holds and whether that text is the AI's suggestion."""

    value: str
    from_suggestion: bool


def offer_title(title: str, from_suggestion: bool, suggested: str) -> TitleChoice:
    """The title field after a suggested title arrives.

    An empty field, or one still holding an earlier suggestion, takes `suggested` (when there is
    one); anything the user typed stays. A field holding an earlier suggestion keeps it when the
    new suggestion is empty.
    """
    if title.strip() and not from_suggestion:
        return TitleChoice(title, from_suggestion=False)
    if suggested.strip():
        return TitleChoice(suggested.strip(), from_suggestion=True)
    return TitleChoice(title, from_suggestion=from_suggestion and bool(title.strip()))


def language_name(code: str | None) -> str:
    """A language code in words ("de" -> "German"); the code itself when unknown; "" for none."""
    if not code:
        return ""
    return LANGUAGE_NAMES.get(code, code)


# From this strength on (|score| in [0, 1]) a negative or positive tone is "very" so.
STRONG_TONE = 0.6


def sentiment_text(sentiment: str | None, score: float | None) -> str:
    """The customer's tone in words; "" when it was not read.

    "Negative", "Very negative", "Neutral", "Positive" or "Very positive" (from the score's
    strength, STRONG_TONE); the score itself is not shown.
    """
    if not sentiment:
        return ""
    word = sentiment.capitalize()
    if sentiment != "neutral" and score is not None and abs(score) >= STRONG_TONE:
        return f"Very {sentiment}"
    return word


def _title_words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def title_worth_suggesting(title: str, suggested: str) -> bool:
    """Whether the suggested title tells an agent something the ticket's title does not.

    Yes when the ticket has no title; no when there is no suggestion, or when the two share
    most of their words (at least half of either's), e.g. "Refund for double charge" against
    "Double charge - refund please".
    """
    theirs = _title_words(suggested)
    if not theirs:
        return False
    ours = _title_words(title)
    if not ours:
        return True
    shared = len(ours & theirs)
    return shared < 0.5 * len(theirs) and shared < 0.5 * len(ours)


def suggestion_text(ticket: TicketRead) -> str:
    """The stored AI suggestion with its source and confidences, or "" when none was stored.

    E.g. "Technical (high confidence) / High (medium confidence) · offline rules"; the API keeps
    the numbers, the page says them in words (`confidence_word`).
    """
    parts = []
    for value, confidence in (
        (ticket.suggested_category, ticket.suggested_category_confidence),
        (ticket.suggested_priority, ticket.suggested_priority_confidence),
    ):
        if value is not None:
            label = label_of_value(value.value)
            parts.append(
                f"{label} ({confidence_word(confidence)} confidence)"
                if confidence is not None
                else label
            )
    if not parts:
        return ""
    text = " / ".join(parts)
    if ticket.suggestion_source:
        text += " · " + SOURCE_NAMES.get(ticket.suggestion_source, ticket.suggestion_source)
    return text


def triage_fields(ticket: TicketRead) -> dict[str, str]:
    """The triage reading of a ticket as strings for its page; "" stands for none.

    Keys: `suggestion` (see `suggestion_text`), `suggested_title` (only when
    `title_worth_suggesting`), `language` (a name),
    `sentiment` (see `sentiment_text`), `frustrated` ("true" or ""), `duplicate_of` (an id).
    """
    return {
        "suggestion": suggestion_text(ticket),
        "suggested_title": (
            ticket.suggested_title
            if ticket.suggested_title
            and title_worth_suggesting(ticket.title, ticket.suggested_title)
            else ""
        ),
        "language": language_name(ticket.language),
        "sentiment": sentiment_text(ticket.sentiment, ticket.sentiment_score),
        "frustrated": "true" if ticket.frustrated else "",
        "duplicate_of": str(ticket.duplicate_of_id) if ticket.duplicate_of_id else "",
    }


def merge_error_message(exc: ServiceError, ticket_id: int, into: int) -> str:
    """Why merging ticket `ticket_id` into `into` failed, in words for the page's alert."""
    if isinstance(exc, ConflictError):
        return f"Not merged: {exc}."
    if isinstance(exc, TicketNotFoundError):
        missing = into if exc.ticket_id == into else ticket_id
        return f"Not merged: ticket #{missing} no longer exists."
    if isinstance(exc, PermissionDeniedError):
        return "Not merged: your role does not allow merging tickets."
    if isinstance(exc, DatabaseUnavailableError):
        return "Not merged: the database is unavailable. Nothing was changed; try again."
    return f"Not merged: {exc}."

"""The composer's helpers: `/` for canned responses, `@` for colleagues, and inserting either.

Pure functions over the composer's text; `state/canned.py` calls them on every (debounced)
change. `/` works at the start of the composer only (the whole text is `/words`, one line);
`@` works at the end of the text, after a space or at its start (where one is typing).
"""

from __future__ import annotations

import re

MAX_SUGGESTIONS = 8
SLASH_QUERY_MAX_CHARS = 60
_MENTION_AT_END = re.compile(r"(?:^|(?<=\s))@([^\W_][\w.+-]*|)$")


def slash_query(text: str) -> str | None:
    """What follows `/` when the composer holds only `/words` on one line, else None."""
    if not text.startswith("/") or "\n" in text or len(text) > SLASH_QUERY_MAX_CHARS:
        return None
    return text[1:].strip().lower()


def matching_responses(rows: list[dict[str, str]], query: str) -> list[dict[str, str]]:
    """Canned responses (rows with `title`) whose title contains `query`, ignoring case.

    Those starting with it come first; at most MAX_SUGGESTIONS.
    """
    found = [row for row in rows if query in row["title"].lower()]
    found.sort(key=lambda row: not row["title"].lower().startswith(query))
    return found[:MAX_SUGGESTIONS]


def mention_query(text: str) -> str | None:
    """The handle being typed after `@` at the end of `text`, lower-cased.

    "" right after the `@`; None when the text does not end in one.
    """
    match = _MENTION_AT_END.search(text)
    return match.group(1).lower() if match else None


def matching_staff(staff: list[dict[str, str]], query: str) -> list[dict[str, str]]:
    """Colleagues (rows with `handle` and `name`) whose handle or name starts with `query`.

    Case and the spaces in names are ignored; at most MAX_SUGGESTIONS.
    """
    return [
        row
        for row in staff
        if row["handle"].lower().startswith(query)
        or "".join(row["name"].split()).lower().startswith(query)
    ][:MAX_SUGGESTIONS]


def with_mention(text: str, handle: str) -> str:
    """`text` with the `@partial` at its end completed to `@handle ` (appended when none)."""
    match = _MENTION_AT_END.search(text)
    start = match.start() if match else len(text)
    return f"{text[:start]}@{handle} "


def with_response(text: str, body: str) -> str:
    """`text` with a canned response's filled `body` inserted.

    A `/query` (or blank) composer is replaced; other text keeps its place and the body follows
    on a new line.
    """
    if slash_query(text) is not None or not text.strip():
        return body
    return f"{text.rstrip()}\n{body}"


def response_rows(items: list, *, user_id: int | None, may_share: bool) -> list[dict[str, str]]:
    """The management page's rows from `CannedResponseRead`s, as flat strings.

    Each row: `id`, `title`, `body`, `uses`, `shared` and `editable` ("yes" or ""): one's own
    personal responses are editable, shared ones only by those who may share.
    """
    return [
        {
            "id": str(item.id),
            "title": item.title,
            "body": item.body,
            "uses": f"{item.uses:,}",
            "shared": "yes" if item.shared else "",
            "editable": "yes" if (may_share if item.shared else item.owner_id == user_id) else "",
        }
        for item in items
    ]


def form_problem(error: Exception) -> str:
    """What the canned response form says about refused input (a pydantic ValidationError)."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return "That did not work; nothing was changed."
    parts = []
    for item in errors():
        field = str(item["loc"][0]) if item.get("loc") else "form"
        parts.append(f"{field.capitalize()}: {item['msg'].removeprefix('Value error, ')}.")
    return " ".join(parts)

"""Spreadsheet-safe CSV cells (OWASP "CSV injection").

Ticket text comes from customers; a description such as `=HYPERLINK(...)` would run as a
formula when a support agent opens the export in a spreadsheet. Exported cells that start with
a formula trigger (or with the escape quote itself) get a leading `'`, which spreadsheets show
as text; the importer removes exactly that one quote again, so export -> import round-trips.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def escape_cell(text: str) -> str:
    """`text` made inert for spreadsheets: prefixed with `'` if it could start a formula."""
    if text.startswith((*FORMULA_TRIGGERS, ESCAPE)):
        return ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """Inverse of `escape_cell` for a cell read back from an exported CSV."""
    if text.startswith(ESCAPE) and text[1:].startswith((*FORMULA_TRIGGERS, ESCAPE)):
        return text[1:]
    return text

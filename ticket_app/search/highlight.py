"""Which words of a ticket's text a search matched, for highlighting in the list.

A word of the text is marked when, folded (case, accents, `ß` as `ss`) and stemmed with the
Snowball stemmer of the ticket's language (the same algorithms the database indexes with), it
equals a searched word stemmed alike, or when it starts with a searched prefix. The result is
plain text pieces with a flag, never markup: the console renders each piece as text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from ticket_app.search.query import SearchQuery

_PIECES = re.compile(r"([^\W_]+(?:['\u2019][^\W_]+)*)")
_STEMMERS = {
    "en": "english",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "pt": "portuguese",
}
SNIPPET_CHARS = 160
"""About how many characters of a description `snippet` shows around the first match."""


def fold(word: str) -> str:
    """`word` lower-cased with accents removed and `ß`, `æ`, `œ` spelled out."""
    spelled = word.casefold().replace("ß", "ss").replace("æ", "ae").replace("œ", "oe")
    decomposed = unicodedata.normalize("NFKD", spelled)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=8)
def _stemmer(language: str | None) -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer(_STEMMERS.get(language or "en", "english"))


def _stem(word: str, language: str | None) -> str:
    return _stemmer(language).stemWord(fold(word))


def _marker(query: SearchQuery, language: str | None):
    stems = {_stem(word, language) for word in query.words()} | {
        _stem(word, "en") for word in query.words()
    }
    prefixes = [fold(prefix) for prefix in query.prefixes()]

    def matches(piece: str) -> bool:
        folded = fold(piece.replace("'", "").replace("\u2019", ""))
        if any(folded.startswith(prefix) for prefix in prefixes):
            return True
        return _stem(folded, language) in stems or folded in stems

    return matches


def highlight(text: str, query: SearchQuery, language: str | None = None) -> list[tuple[str, bool]]:
    """`text` cut into `(piece, matched)` pairs, in order; joined they give `text` back.

    Adjacent pieces with the same flag are merged. No search words: one unmarked piece.
    """
    if not query.words():
        return [(text, False)] if text else []
    matches = _marker(query, language)
    pieces: list[tuple[str, bool]] = []
    for index, piece in enumerate(_PIECES.split(text)):
        if not piece:
            continue
        marked = index % 2 == 1 and matches(piece)
        if pieces and pieces[-1][1] == marked:
            pieces[-1] = (pieces[-1][0] + piece, marked)
        else:
            pieces.append((piece, marked))
    return pieces


def snippet(
    text: str, query: SearchQuery, language: str | None = None, width: int = SNIPPET_CHARS
) -> list[tuple[str, bool]]:
    """About `width` characters of `text` around its first matched word, highlighted.

    Starts at the beginning when nothing matches (or nothing is searched); an ellipsis marks
    text left out at either end.
    """
    pieces = highlight(text, query, language)
    offset = 0
    for piece, marked in pieces:
        if marked:
            break
        offset += len(piece)
    else:
        offset = 0
    start = max(0, offset - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < offset else start
    end = min(len(text), start + width)
    window = text[start:end]
    result = highlight(window, query, language)
    if start:
        result.insert(0, ("…", False))
    if end < len(text):
        result.append(("…", False))
    return result

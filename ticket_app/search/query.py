r"""An agent's search text, parsed once and compiled for either database's full-text engine.

The syntax is the one people bring from web search and other help desks (PostgreSQL's
`websearch_to_tsquery`, Zendesk, Zammad):

- words: every word must match (`payment failing`); a word matches its other forms (stemming
  in the ticket's language) and ignores case and accents;
- `"quoted phrases"`: the words next to each other, in order;
- `-word` or `-"a phrase"`: leave out tickets that contain it;
- `OR` between two words or phrases: either will do;
- `word*`: the word as a prefix (the console adds it to a word still being typed);
- `title:word`, `requester:jane` (name or address): the text in that part of the ticket only;
- `status:open`, `priority:high`, `category:billing`, `assignee:7` / `assignee:none`: the list
  filters of the same names;
- `#123` alone: that ticket; `123` alone: that ticket or the text "123".

Words are the runs of letters and digits (`[^\\W_]+`), as both engines' tokenizers see them; an
apostrophe inside a word is dropped (`can't` is `cant`). Two kinds of spelling drift between a
query and the text are bridged by alternatives rather than by a thesaurus:

- negative contractions written without the apostrophe (`cant`, `dont`) also match the
  tokenizers' split form (`can` + `t`), and
- a verb-particle compound (`login`, `signup`, `checkout`) also matches the two-word form
  (`log in`), and two such words in the query (`log in`) also match the compound.

The module is pure (no database); `compile_fts5` and `compile_tsquery` produce the text each
engine parses, built only from words matching `[^\\W_]+`, so user text cannot inject operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

MAX_TERMS = 32
"""At most this many words and phrases are searched; the rest are ignored (bounds the cost)."""

_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile(r"(?<=[^\W_])['\u2019](?=[^\W_])")
_TOKEN = re.compile(
    r"""\s*(?P<neg>-)?(?:(?P<field>[A-Za-z_]+):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))"""
)
_TICKET_NUMBER = re.compile(r"#?([0-9]{1,10})")
_NEGATIVE_CONTRACTIONS = frozenset(
    {
        "aint",
        "arent",
        "cant",
        "couldnt",
        "didnt",
        "doesnt",
        "dont",
        "hadnt",
        "hasnt",
        "havent",
        "isnt",
        "mightnt",
        "mustnt",
        "neednt",
        "shant",
        "shouldnt",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
    }
)
# Particles that form compounds written as one word or two (log in / login, set up / setup).
_PARTICLES = ("in", "on", "out", "up", "off", "down")
_MIN_COMPOUND_HEAD = 3


class TextField(StrEnum):
    """The part of a ticket a word may be restricted to (`title:`, `requester:`)."""

    TITLE = "title"
    REQUESTER = "requester"


FILTER_FIELDS = ("status", "priority", "category", "assignee")
"""Prefixes that set the list filter of the same name instead of searching text."""


@dataclass(frozen=True)
class Match:
    """One thing that must appear: a word (maybe a prefix) or a phrase, maybe in one field.

    `words` holds one word for a word, several for a phrase; all lower-cased, apostrophes gone.
    """

    words: tuple[str, ...]
    prefix: bool = False
    field: TextField | None = None

    def alternatives(self) -> tuple[Match, ...]:
        """The match itself, then the spellings it also accepts (contractions, compounds)."""
        if self.prefix:
            return (self,)
        variants = [self]
        if len(self.words) == 1:
            variants.extend(Match(split, field=self.field) for split in _split_forms(self.words[0]))
        elif len(self.words) == 2 and self.words[1] in _PARTICLES:
            variants.append(Match(("".join(self.words),), field=self.field))
        return tuple(variants)


def _split_forms(word: str) -> list[tuple[str, ...]]:
    """Two-word forms of `word` that the tokenizers may have seen instead (see module doc)."""
    forms: list[tuple[str, ...]] = []
    if word in _NEGATIVE_CONTRACTIONS:
        forms.append((word[:-1], "t"))
    for particle in _PARTICLES:
        head = word.removesuffix(particle)
        if head != word and len(head) >= _MIN_COMPOUND_HEAD:
            forms.append((head, particle))
    return forms


@dataclass(frozen=True)
class Clause:
    """Matches of which at least one must appear (one unless joined by `OR`)."""

    options: tuple[Match, ...]


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: text clauses (all must match), exclusions, filters and a ticket number.

    `clauses` are ANDed; `excluded` lists matches none of which may appear; `filters` maps a
    list-filter name (`FILTER_FIELDS`) to the value written after its prefix; `ticket_id` is
    the number when the whole search is `#123` or `123`; `number_only` is true for `#123`,
    which asks for that ticket and nothing else.
    """

    clauses: tuple[Clause, ...] = ()
    excluded: tuple[Match, ...] = ()
    filters: dict[str, str] = field(default_factory=dict)
    ticket_id: int | None = None
    number_only: bool = False

    @property
    def has_text(self) -> bool:
        """Whether any words are searched (positive or excluded)."""
        return bool(self.clauses or self.excluded)

    def words(self) -> list[str]:
        """Every positive word, in order, without repeats (for highlighting and close matches)."""
        found = [word for clause in self.clauses for m in clause.options for word in m.words]
        return list(dict.fromkeys(found))

    def prefixes(self) -> list[str]:
        """The positive words searched as prefixes."""
        found = [m.words[0] for clause in self.clauses for m in clause.options if m.prefix]
        return list(dict.fromkeys(found))


def words_of(text: str) -> list[str]:
    """The words of `text` as the search sees them: lower-cased, apostrophes inside dropped."""
    return _WORD.findall(_APOSTROPHES.sub("", text).lower())


def _match(text: str, *, phrase: bool, field_name: TextField | None) -> Match | None:
    prefix = not phrase and text.endswith("*")
    words = words_of(text)
    if not words:
        return None
    if len(words) > 1 and prefix:
        # `e-mail*`: the last part is the prefix; searched as a phrase without the prefix.
        prefix = False
    return Match(tuple(words), prefix=prefix, field=field_name)


def parse(text: str) -> SearchQuery:
    """Parse an agent's search text (syntax in the module docstring).

    Never raises: text that is not syntax is searched as words (an unknown `foo:bar` prefix is
    the words `foo bar`; an unclosed quote runs to the end). Filter values are returned as
    written; the caller validates them (`InvalidInputError` naming `search`).
    """
    stripped = text.strip()
    number = _TICKET_NUMBER.fullmatch(stripped)
    if number:
        ticket_id = int(number.group(1))
        if stripped.startswith("#"):
            return SearchQuery(ticket_id=ticket_id, number_only=True)
        return SearchQuery(clauses=(Clause((Match((number.group(1),)),)),), ticket_id=ticket_id)
    clauses: list[list[Match]] = []
    excluded: list[Match] = []
    filters: dict[str, str] = {}
    join_next = False
    count = 0
    for token in _TOKEN.finditer(stripped):
        if not token.group(0).strip():
            continue
        negated = token.group("neg") is not None
        field_name = (token.group("field") or "").lower()
        phrase = token.group("phrase")
        raw = phrase if phrase is not None else token.group("word")
        if field_name in FILTER_FIELDS and raw.strip():
            filters[field_name] = raw.strip()
            continue
        if not negated and phrase is None and field_name == "" and raw == "OR":
            join_next = bool(clauses)
            continue
        restricted = TextField(field_name) if field_name in set(TextField) else None
        if field_name and restricted is None:
            raw = f"{field_name} {raw}"
        match = _match(raw, phrase=phrase is not None, field_name=restricted)
        if match is None or count >= MAX_TERMS:
            continue
        count += 1
        if negated:
            excluded.append(match)
        elif join_next:
            clauses[-1].append(match)
        else:
            clauses.append([match])
        join_next = False
    return SearchQuery(
        clauses=tuple(Clause(tuple(options)) for options in _join_compounds(clauses)),
        excluded=tuple(excluded),
        filters=filters,
    )


def _join_compounds(clauses: list[list[Match]]) -> list[list[Match]]:
    """`log in` as two words also matches `login`: such a pair becomes one clause of options.

    A pair qualifies when both are plain single words (no OR, field or prefix) and the second
    is a particle; the clause is then the phrase `log in` or the word `login`.
    """
    joined: list[list[Match]] = []
    for options in clauses:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and _plain_word(previous)
            and _plain_word(options)
            and options[0].words[0] in _PARTICLES
        ):
            head = previous[0].words[0]
            joined[-1] = [Match((head, options[0].words[0]))]
            continue
        joined.append(options)
    return joined


def _plain_word(options: list[Match]) -> bool:
    only = options[0]
    return len(options) == 1 and len(only.words) == 1 and not only.prefix and only.field is None


# --- SQLite FTS5 -------------------------------------------------------------------------


FTS5_COLUMNS = {TextField.TITLE: "title", TextField.REQUESTER: "requester"}
"""FTS5 column for each restricted field (the table's columns are title, requester,
description, comments)."""


def _fts5_match(match: Match) -> str:
    quoted = '"' + " ".join(match.words) + '"'
    text = quoted + "*" if match.prefix else quoted
    if match.field is not None:
        return "{" + FTS5_COLUMNS[match.field] + "} : " + text
    return text


def _fts5_options(matches: tuple[Match, ...]) -> str:
    variants = [_fts5_match(variant) for m in matches for variant in m.alternatives()]
    return variants[0] if len(variants) == 1 else "(" + " OR ".join(variants) + ")"


def compile_fts5(clauses: tuple[Clause, ...]) -> str:
    """FTS5 MATCH text requiring every clause (empty string when there is none).

    Each word is double-quoted (FTS5's string form, so nothing in it is an operator) and
    tokenized by the table's tokenizer (porter stemming, case and diacritics folded).
    """
    return " AND ".join(_fts5_options(clause.options) for clause in clauses)


def compile_fts5_any(matches: tuple[Match, ...]) -> str:
    """FTS5 MATCH text for "any of `matches`" (the exclusions), empty when there is none."""
    return _fts5_options(matches) if matches else ""


# --- PostgreSQL tsquery ------------------------------------------------------------------

TSQUERY_WEIGHTS = {TextField.TITLE: "A", TextField.REQUESTER: "B"}
"""tsvector weight of each restricted field: the document labels the title A, the requester
B, the description C and the conversation D (migration 0016)."""


def _tsquery_word(word: str, *, prefix: bool, weight: str) -> str:
    suffix = ("*" if prefix else "") + weight
    return f"'{word}'" + (f":{suffix}" if suffix else "")


def _tsquery_match(match: Match) -> str:
    weight = TSQUERY_WEIGHTS[match.field] if match.field is not None else ""
    last = len(match.words) - 1
    parts = [
        _tsquery_word(word, prefix=match.prefix and i == last, weight=weight)
        for i, word in enumerate(match.words)
    ]
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def _tsquery_options(matches: tuple[Match, ...]) -> str:
    variants = [_tsquery_match(variant) for m in matches for variant in m.alternatives()]
    return variants[0] if len(variants) == 1 else "(" + " | ".join(variants) + ")"


def compile_tsquery(clauses: tuple[Clause, ...]) -> str:
    """`to_tsquery` text requiring every clause (empty string when there is none).

    Words are single-quoted lexemes (they hold only letters and digits, so no quote to
    escape); `to_tsquery` then runs each through the configuration's dictionaries (accent
    folding and stemming), `<->` joins a phrase, `:*` marks a prefix, `:A`/`:B` a field.
    """
    return " & ".join(_tsquery_options(clause.options) for clause in clauses)


def compile_tsquery_any(matches: tuple[Match, ...]) -> str:
    """`to_tsquery` text for "any of `matches`" (the exclusions), empty when there is none."""
    return _tsquery_options(matches) if matches else ""

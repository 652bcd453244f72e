"""Full-text search over the whole ticket: title, requester, description and conversation.

PostgreSQL: `tickets.search_document`, a `tsvector` the database keeps current with triggers
(a generated column cannot read the comments), GIN-indexed. Its parts carry weights: title A,
requester (name and address) B, description C, comments (replies and internal notes) D. Text
is stemmed in the ticket's detected language where PostgreSQL has a Snowball stemmer for it
(`td_search_config`), else only folded (`td_simple`); every configuration folds accents with
`unaccent` (which also spells `ß` as `ss`) and keeps stop words, so a phrase such as "log in"
stays searchable. Punctuation is turned into spaces first, so an address or host name is words
(`jane.doe@example.com` is jane, doe, example, com) as in the query parser.

SQLite: an FTS5 table `ticket_search` (rowid = ticket id; columns title, requester,
description, comments) with the `porter` tokenizer over `unicode61` (diacritics removed),
kept in sync by triggers on `tickets` and `ticket_comments`; `ß`, `æ` and `œ`, which
`unicode61` does not fold, are spelled out by the triggers. `ticket_search_vocab`
(`fts5vocab`) lists its terms for close-match suggestions.

Existing tickets are indexed in batches of `BATCH` with progress on the migration log. A
later SQLite migration that rebuilds `tickets` or `ticket_comments` (batch mode) must recreate
these triggers.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 20_000
_log = logging.getLogger("alembic.runtime.migration")

# ISO 639-1 codes the language detector reports (triage.signals.LANGUAGES) -> Snowball stemmer.
STEMMED_LANGUAGES = {
    "en": "english",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "pt": "portuguese",
}
# Word token types of PostgreSQL's default parser (others, such as numbers, stay as they are).
_WORD_TOKENS = (
    "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, "
    "hword_numpart"
)
# ASCII punctuation and typographic quotes and dashes become spaces before parsing.
_PUNCTUATION = "!\"#$%&''()*+,-./:;<=>?@[\\]^_`{|}~\u2018\u2019\u201c\u201d\u2013\u2014\u2026"
_COMMENTS_MAX_CHARS = 400_000


def _pg_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute(
        "CREATE TEXT SEARCH CONFIGURATION td_simple (COPY = simple);"
        f"ALTER TEXT SEARCH CONFIGURATION td_simple ALTER MAPPING FOR {_WORD_TOKENS} "
        "WITH unaccent, simple"
    )
    for language in STEMMED_LANGUAGES.values():
        op.execute(
            f"CREATE TEXT SEARCH DICTIONARY td_{language}_stem "
            f"(TEMPLATE = snowball, Language = {language});"
            f"CREATE TEXT SEARCH CONFIGURATION td_{language} (COPY = simple);"
            f"ALTER TEXT SEARCH CONFIGURATION td_{language} ALTER MAPPING FOR {_WORD_TOKENS} "
            f"WITH unaccent, td_{language}_stem"
        )
    cases = " ".join(
        f"WHEN '{code}' THEN 'td_{language}'::regconfig"
        for code, language in STEMMED_LANGUAGES.items()
    )
    spaces = " " * len(_PUNCTUATION.replace("''", "'"))
    op.execute(
        "CREATE FUNCTION td_search_config(language text) RETURNS regconfig "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT CASE language {cases} "
        "ELSE 'td_simple'::regconfig END $$"
    )
    op.execute(
        "CREATE FUNCTION td_search_text(content text) RETURNS text LANGUAGE sql IMMUTABLE "
        f"AS $$ SELECT translate(coalesce(content, ''), '{_PUNCTUATION}', '{spaces}') $$"
    )
    op.execute(
        "CREATE FUNCTION td_search_document(title text, description text, requester_name text, "
        "requester_email text, language text, comments text) RETURNS tsvector "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT "
        "setweight(to_tsvector(td_search_config(language), td_search_text(title)), 'A') || "
        "setweight(to_tsvector('td_simple', td_search_text(concat_ws(' ', requester_name, "
        "requester_email))), 'B') || "
        "setweight(to_tsvector(td_search_config(language), td_search_text(description)), 'C') || "
        "setweight(to_tsvector(td_search_config(language), "
        f"td_search_text(left(comments, {_COMMENTS_MAX_CHARS}))), 'D') $$"
    )
    conversation = (
        "(SELECT string_agg(c.body, ' ' ORDER BY c.id) FROM ticket_comments c "
        "WHERE c.ticket_id = {ticket})"
    )
    op.execute(
        "CREATE FUNCTION td_ticket_search_document(ticket_id integer) RETURNS tsvector "
        "LANGUAGE sql STABLE AS $$ SELECT td_search_document(t.title, t.description, "
        "t.requester_name, t.requester_email, t.language, "
        f"{conversation.format(ticket='t.id')}) FROM tickets t WHERE t.id = ticket_id $$"
    )
    op.execute("ALTER TABLE tickets ADD COLUMN search_document tsvector")
    op.execute(
        "CREATE FUNCTION td_tickets_search_document() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.search_document := td_search_document(NEW.title, NEW.description, "
        "NEW.requester_name, NEW.requester_email, NEW.language, CASE WHEN TG_OP = 'INSERT' "
        f"THEN NULL ELSE {conversation.format(ticket='NEW.id')} END); RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER tr_tickets_search_document BEFORE INSERT OR UPDATE OF title, "
        "description, requester_name, requester_email, language ON tickets FOR EACH ROW "
        "EXECUTE FUNCTION td_tickets_search_document()"
    )
    # A new comment appends its words (tsvector concatenation shifts their positions after the
    # document's); an edited, moved or deleted one rebuilds the documents it touched.
    op.execute(
        "CREATE FUNCTION td_comments_search_document() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        "UPDATE tickets SET search_document = coalesce(search_document, ''::tsvector) || "
        "setweight(to_tsvector(td_search_config(language), "
        f"td_search_text(left(NEW.body, {_COMMENTS_MAX_CHARS}))), 'D') WHERE id = NEW.ticket_id; "
        "RETURN NULL; END IF; "
        "IF TG_OP = 'UPDATE' THEN UPDATE tickets SET search_document = "
        "td_ticket_search_document(id) WHERE id = NEW.ticket_id; END IF; "
        "UPDATE tickets SET search_document = td_ticket_search_document(id) "
        "WHERE id = OLD.ticket_id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER tr_comments_search_document AFTER INSERT OR DELETE OR UPDATE OF body, "
        "ticket_id ON ticket_comments FOR EACH ROW EXECUTE FUNCTION td_comments_search_document()"
    )
    _backfill(
        "UPDATE tickets SET search_document = td_ticket_search_document(id) "
        "WHERE id > :low AND id <= :high"
    )
    op.execute("CREATE INDEX ix_tickets_search_document ON tickets USING gin (search_document)")
    # The planner's word frequencies: with the default 100 it keeps only the most common
    # lexemes and guesses 0.5% of the table for any other word, so a rare word's first page
    # walked the created_at index through all of a million tickets (11 s) instead of asking
    # the GIN index (0.3 ms).
    op.execute("ALTER TABLE tickets ALTER COLUMN search_document SET STATISTICS 1000")


def _fold(column: str) -> str:
    """SQLite expression spelling out the letters `unicode61` does not fold (ß, æ, œ)."""
    expression = f"coalesce({column}, '')"
    for letter, spelled in (
        ("ß", "ss"),
        ("ẞ", "SS"),
        ("æ", "ae"),
        ("Æ", "AE"),
        ("œ", "oe"),
        ("Œ", "OE"),
    ):
        expression = f"replace({expression}, '{letter}', '{spelled}')"
    return expression


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE ticket_search USING fts5(title, requester, description, comments, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    op.execute("CREATE VIRTUAL TABLE ticket_search_vocab USING fts5vocab(ticket_search, 'row')")
    requester = _fold("new.requester_name") + " || ' ' || " + _fold("new.requester_email")
    conversation = (
        "coalesce((SELECT group_concat({body}, ' ') FROM (SELECT body FROM ticket_comments "
        "WHERE ticket_id = {ticket} ORDER BY id)), '')"
    )
    op.execute(
        "CREATE TRIGGER tr_tickets_search_insert AFTER INSERT ON tickets BEGIN "
        "INSERT INTO ticket_search (rowid, title, requester, description, comments) VALUES "
        f"(new.id, {_fold('new.title')}, {requester}, {_fold('new.description')}, ''); END"
    )
    op.execute(
        "CREATE TRIGGER tr_tickets_search_update AFTER UPDATE OF title, description, "
        "requester_name, requester_email ON tickets BEGIN UPDATE ticket_search SET "
        f"title = {_fold('new.title')}, requester = {requester}, "
        f"description = {_fold('new.description')} WHERE rowid = new.id; END"
    )
    op.execute(
        "CREATE TRIGGER tr_tickets_search_delete AFTER DELETE ON tickets BEGIN "
        "DELETE FROM ticket_search WHERE rowid = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER tr_comments_search_insert AFTER INSERT ON ticket_comments BEGIN "
        f"UPDATE ticket_search SET comments = comments || ' ' || {_fold('new.body')} "
        "WHERE rowid = new.ticket_id; END"
    )
    rebuild = "UPDATE ticket_search SET comments = {conversation} WHERE rowid = {ticket};"
    op.execute(
        "CREATE TRIGGER tr_comments_search_update AFTER UPDATE OF body, ticket_id "
        "ON ticket_comments BEGIN "
        + rebuild.format(
            conversation=conversation.format(body=_fold("body"), ticket="old.ticket_id"),
            ticket="old.ticket_id",
        )
        + rebuild.format(
            conversation=conversation.format(body=_fold("body"), ticket="new.ticket_id"),
            ticket="new.ticket_id",
        )
        + " END"
    )
    op.execute(
        "CREATE TRIGGER tr_comments_search_delete AFTER DELETE ON ticket_comments BEGIN "
        + rebuild.format(
            conversation=conversation.format(body=_fold("body"), ticket="old.ticket_id"),
            ticket="old.ticket_id",
        )
        + " END"
    )
    _backfill(
        "INSERT INTO ticket_search (rowid, title, requester, description, comments) "
        f"SELECT t.id, {_fold('t.title')}, "
        f"{_fold('t.requester_name')} || ' ' || {_fold('t.requester_email')}, "
        f"{_fold('t.description')}, "
        f"{conversation.format(body=_fold('body'), ticket='t.id')} "
        "FROM tickets t WHERE t.id > :low AND t.id <= :high"
    )


def _backfill(statement: str) -> None:
    """Run `statement` over the existing tickets' ids in batches of BATCH, logging progress."""
    bind = op.get_bind()
    highest = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM tickets")).scalar_one()
    for low in range(0, highest, BATCH):
        bind.execute(sa.text(statement), {"low": low, "high": low + BATCH})
        _log.info("search index: tickets up to id %d of %d", min(low + BATCH, highest), highest)


def upgrade() -> None:
    """Create the search index, its triggers and configurations, and index every ticket."""
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    """Drop the index, triggers, functions and configurations (tickets and comments stay)."""
    if op.get_bind().dialect.name != "postgresql":
        for trigger in (
            "tr_comments_search_delete",
            "tr_comments_search_update",
            "tr_comments_search_insert",
            "tr_tickets_search_delete",
            "tr_tickets_search_update",
            "tr_tickets_search_insert",
        ):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE ticket_search_vocab")
        op.execute("DROP TABLE ticket_search")
        return
    op.execute("DROP TRIGGER tr_comments_search_document ON ticket_comments")
    op.execute("DROP TRIGGER tr_tickets_search_document ON tickets")
    op.execute("DROP INDEX ix_tickets_search_document")
    op.execute("ALTER TABLE tickets DROP COLUMN search_document")
    for function in (
        "td_comments_search_document()",
        "td_tickets_search_document()",
        "td_ticket_search_document(integer)",
        "td_search_document(text, text, text, text, text, text)",
        "td_search_text(text)",
        "td_search_config(text)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    for language in ("simple", *STEMMED_LANGUAGES.values()):
        op.execute(f"DROP TEXT SEARCH CONFIGURATION td_{language}")
        if language != "simple":
            op.execute(f"DROP TEXT SEARCH DICTIONARY td_{language}_stem")

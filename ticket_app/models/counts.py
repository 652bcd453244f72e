"""Counts kept by database triggers: tickets per day and key and per key, tags per key, deltas."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import Category, Priority, Status
from ticket_app.models.tags import TAG_MAX_LENGTH


class TicketCount(SQLModel, table=True):
    """How many tickets have one (status, category, priority) and were created on `day` (UTC).

    Kept exact by database triggers on `tickets` (migration 0009) in the same transaction as
    every insert, update, delete and import, so the first day with tickets is one index probe.
    On PostgreSQL the triggers append to `ticket_count_deltas` instead (migration 0022) and a
    fold adds those in here: a count is this row plus its deltas. Rows whose `n` fell to 0 stay
    until `counts rebuild` removes them.
    """

    __tablename__ = "ticket_counts"

    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    status: Status = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    category: Category = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


class TicketCountTotal(SQLModel, table=True):
    """How many tickets have one (status, category, priority), over all days (at most 80 rows).

    The same triggers keep it (on PostgreSQL through `ticket_count_deltas`, as above): the stats
    and enum-filtered totals read these few rows and the pending deltas instead of summing
    `ticket_counts` (one row per key and day: 23,000 rows for a year, 9 ms). `suggested` and
    `overridden` count, among those tickets, the ones with a classifier suggestion and the ones
    whose category or priority differs from it (migration 0030): the dashboard's override
    figure.
    """

    __tablename__ = "ticket_count_totals"

    status: Status = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    category: Category = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    suggested: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    overridden: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )


class TicketCountDelta(SQLModel, table=True):
    """A change of `n` tickets to one (day, status, category, priority) not yet folded in.

    `suggested` and `overridden` change `ticket_count_totals`' columns of the same names.

    PostgreSQL only (migration 0022): the count triggers append one row per key a statement
    changed instead of updating the shared count rows, so concurrent writers never wait on
    each other's count rows. `services.counts.fold_count_deltas` moves them into
    `ticket_counts` and `ticket_count_totals` (every minute, and on read when many are
    pending); readers add what is still here. On SQLite it stays empty (one writer at a time:
    its triggers update the counts directly).
    """

    __tablename__ = "ticket_count_deltas"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    day: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    status: Status = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    category: Category = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    suggested: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    overridden: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )


class TicketTagCount(SQLModel, table=True):
    """How many tickets with one (status, category, priority) carry `tag` (migration 0026).

    Kept exact by database triggers on `ticket_tags` (a tag added, removed or changed) and on
    `tickets` (a key change moves the ticket's tags; a deleted ticket's tags go first), in the
    writer's transaction. On PostgreSQL they append to `ticket_tag_count_deltas` instead and
    the same fold as the ticket counts' adds those in: a count is this row plus its deltas.
    Rows whose `n` fell to 0 stay until `counts rebuild` removes them.
    """

    __tablename__ = "ticket_tag_counts"

    tag: str = Field(sa_column=sa.Column(sa.String(TAG_MAX_LENGTH), primary_key=True))
    status: Status = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    category: Category = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


class TicketTagCountDelta(SQLModel, table=True):
    """A change of `n` to one (tag, status, category, priority) tag count not yet folded in.

    PostgreSQL only (migration 0026), like `TicketCountDelta`: the tag count triggers append
    one row per key a statement changed, so writers never wait on a shared count row, and
    `services.counts.fold_count_deltas` moves them into `ticket_tag_counts`. Empty on SQLite.
    """

    __tablename__ = "ticket_tag_count_deltas"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    tag: str = Field(sa_column=sa.Column(sa.String(TAG_MAX_LENGTH), nullable=False))
    status: Status = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    category: Category = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))

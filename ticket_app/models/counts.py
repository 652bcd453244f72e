"""Ticket counts kept by database triggers: per day and key, and per key overall."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import Category, Priority, Status


class TicketCount(SQLModel, table=True):
    """How many tickets have one (status, category, priority) and were created on `day` (UTC).

    Kept exact by database triggers on `tickets` (migration 0009) in the same transaction as
    every insert, update, delete and import, so the first day with tickets is one index probe.
    Rows whose `n` fell to 0 stay until `counts rebuild` removes them.
    """

    __tablename__ = "ticket_counts"

    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    status: Status = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    category: Category = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


class TicketCountTotal(SQLModel, table=True):
    """How many tickets have one (status, category, priority), over all days (at most 80 rows).

    The same triggers keep it: the stats and enum-filtered totals read these few rows instead
    of summing `ticket_counts` (one row per key and day: 23,000 rows for a year, 9 ms).
    """

    __tablename__ = "ticket_count_totals"

    status: Status = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    category: Category = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))

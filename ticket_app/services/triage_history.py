"""The team's labelled history, which the triage learner trains on (`triage.learner`).

Only labels a person set or confirmed count, and no one account may make up most of them: an
account cannot steer the suggestions everyone sees.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from ticket_app.models import Ticket
from ticket_app.services.database import service_session

# No one person's decisions may make up more than this share of the team model's training rows
# (beyond a floor, so a small team still learns), so one account cannot steer the suggestions.
MAX_ACTOR_SHARE = 0.4
ACTOR_FLOOR_ROWS = 200


def training_rows(limit: int = 5000) -> list[tuple[str, str, str]]:
    """The team's labelled history for the triage learner, newest first.

    Returns up to `limit` rows `(text, category, priority)`, text being the title and the
    description on separate lines, for tickets whose labels an agent or admin set or confirmed
    while signed in (or through their token): `labels_confirmed_by` is set. Intake, import and
    anonymous rows never train the model, nor do the model's own unreviewed guesses. Each
    person contributes at most max(ACTOR_FLOOR_ROWS, MAX_ACTOR_SHARE x the rows) of their
    newest decisions, so a single account cannot outvote the team.
    """
    query = (
        sa.select(
            Ticket.title,
            Ticket.description,
            Ticket.category,
            Ticket.priority,
            Ticket.labels_confirmed_by,
        )
        .where(Ticket.labels_confirmed_by.is_not(None))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    with service_session() as session:
        rows = session.execute(query).all()
    cap = max(ACTOR_FLOOR_ROWS, int(MAX_ACTOR_SHARE * len(rows)))
    taken: Counter[int] = Counter()
    kept = []
    for title, description, category, priority, actor_id in rows:
        taken[actor_id] += 1
        if taken[actor_id] <= cap:
            kept.append((f"{title}\n{description}", category, priority))
    return kept

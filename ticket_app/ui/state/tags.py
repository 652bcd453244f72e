"""Tag suggestions shared by the ticket page and the bulk bar (no state of its own)."""

from __future__ import annotations

import asyncio
import logging

from ticket_app.services.access import Actor
from ticket_app.services.errors import ServiceError
from ticket_app.services.tags import suggest_tags

logger = logging.getLogger(__name__)


async def suggested_tags(actor: Actor, typed: str) -> list[str] | None:
    """The tags in use starting with the last one of `typed` (comma-separated), most used first.

    None when they cannot be read (the database is down, the actor may not read tickets): the
    caller keeps what it offered before.
    """
    prefix = typed.rsplit(",", 1)[-1]
    try:
        found = await asyncio.to_thread(suggest_tags, prefix, actor=actor)
    except ServiceError as exc:
        logger.info("tag suggestions not read: %s", exc)
        return None
    return [row.tag for row in found]

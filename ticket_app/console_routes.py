"""The console's pages, and the only places a sign-in may send a browser afterwards.

A `next=` target comes from a URL anyone can write, so it is never trusted as text: it must name
one of the console's own pages, and what comes back is rebuilt from its parsed parts (the path
matched against the allow-list, the query re-encoded), so no raw `<`, `>`, quote or control
character from the link survives into a redirect.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

HOME = "/"

# Every page `ticket_app.ticket_app` registers that a signed-in person may be sent back to
# (sign-in and setup themselves are left out: returning to them would loop; so are the one-time
# password link pages, whose address holds a secret).
RETURN_PATHS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"/",
        r"/tickets/new",
        r"/tickets/[1-9][0-9]{0,17}",
        r"/dashboard",
        r"/staff",
        r"/account",
        r"/tokens",
        r"/mailboxes",
        r"/quarantine",
        r"/notifications",
        r"/canned-responses",
        r"/service-levels",
        r"/requesters/[1-9][0-9]{0,17}",
    )
)

_MAX_TARGET_CHARS = 2000


def safe_return_path(target: str | None) -> str:
    """A same-site path to open after signing in, or `/` when `target` is not one.

    Args:
        target: the untrusted `next` value (already percent-decoded once, as a query parameter
            is), e.g. `/tickets/17` or `/?status=open&q=refund`.

    Returns:
        `target`'s path when it exactly matches a page in `RETURN_PATHS` (a trailing slash is
        tolerated), followed by its query string re-encoded with `urlencode`; `/` for anything
        else: another site (`//host`, `https:`), a backslash, a fragment-only or relative path,
        an unknown page, or more than 2,000 characters.

    """
    if not target or len(target) > _MAX_TARGET_CHARS:
        return HOME
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    path = parts.path.rstrip("/") or "/"
    if not any(pattern.fullmatch(path) for pattern in RETURN_PATHS):
        return HOME
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return f"{path}?{query}" if query else path

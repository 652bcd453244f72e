"""The password policy for staff accounts.

NIST SP 800-63B and OWASP ASVS: at least 12 characters, no composition rules, and nothing that
is easy to guess. "Easy to guess" is zxcvbn's estimate (Dropbox's strength estimator, through
the maintained `zxcvbn` package): it knows about 30,000 of the most common passwords from
breach corpora, English words, names, keyboard walks, dates, repeats and sequences, and their
l33t and capitalised variants; the account's own email and name count as guessable too.
"""

from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn

from ticket_app.services.errors import InvalidInputError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
# Twelve characters drawn from four or fewer ("abababababab", "1212 1212 12") are a pattern,
# not a password; zxcvbn scores them low as well, but this reason is plainer to read.
MIN_DISTINCT_CHARACTERS = 5
# zxcvbn's score: 3 is "safely unguessable, moderate protection from an offline slow-hash
# attack" (about 10^8 guesses or more). Our hashes are argon2id, so that is the right bar.
MIN_STRENGTH_SCORE = 3
# zxcvbn refuses longer input (its matching is quadratic); a password past this length is
# judged by its first 72 characters, which for any real passphrase decide its strength.
_ZXCVBN_MAX_LENGTH = 72
# Words that anyone attacking this product would try first.
_PRODUCT_WORDS = ("triage", "desk", "triagedesk", "triage desk", "ticket", "tickets", "support")
_COMMON_WARNINGS = ("common password", "commonly used password")


def _account_words(user_inputs: Iterable[str | None]) -> list[str]:
    """The guessable words of an account: each email or name whole and in its parts."""
    words: list[str] = list(_PRODUCT_WORDS)
    for value in user_inputs:
        if not value:
            continue
        text = value.strip().lower()
        words.append(text)
        local, _, domain = text.partition("@")
        words.extend(part for part in (local, domain, *local.replace(".", " ").split()) if part)
    return words


def check_password(password: str, *, user_inputs: Iterable[str | None] = ()) -> None:
    """Raise InvalidInputError('password') unless the password meets the policy.

    `user_inputs` are the account's email and name (None is skipped): a password built from
    them is easy to guess. The error's message says why, starting with "must" or "is", so it
    reads after the field name ("password is one of the most common passwords; ...").
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password", f"must be at most {MAX_PASSWORD_LENGTH} characters long"
        )
    if not password.strip():
        raise InvalidInputError("password", "must not be only spaces")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise InvalidInputError(
            "password", f"must use at least {MIN_DISTINCT_CHARACTERS} different characters"
        )
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=_account_words(user_inputs))
    if result["score"] >= MIN_STRENGTH_SCORE:
        return
    warning = str(result["feedback"]["warning"] or "").strip()
    if any(common in warning for common in _COMMON_WARNINGS):
        raise InvalidInputError("password", "is one of the most common passwords; choose another")
    reason = f" ({warning[:1].lower()}{warning[1:].rstrip('.')})" if warning else ""
    raise InvalidInputError(
        "password",
        f"is too easy to guess{reason}; add another word or two, uncommon words are better",
    )

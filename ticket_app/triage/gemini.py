"""Gemini classifier with a bounded time budget, circuit breaker, cache and offline fallback.

Uses the maintained `google-genai` SDK (`from google import genai`); the older
`google-generativeai` package is deprecated and must not be used. Calls go through the async
client (`client.aio.models.generate_content`) with structured output limited to our enums; the
answer is validated again here and anything else counts as a failure.

Every failure (timeout, quota 429, server error, bad JSON, out-of-enum values, blocked or empty
answer, any exception) returns the fallback classifier's suggestion and logs one warning line
with the reason. Nothing here raises to the caller.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

from google import genai
from google.genai import errors, types
from pydantic import BaseModel, Field, ValidationError

from ticket_app.enums import Category, Priority
from ticket_app.settings import Settings
from ticket_app.triage.base import TicketClassifier, TriageSuggestion
from ticket_app.triage.prompt import SYSTEM_INSTRUCTION, build_prompt
from ticket_app.triage.signals import LANGUAGE_CODES, TITLE_MAX_CHARS, trim_title

logger = logging.getLogger(__name__)

REASON_MAX_CHARS = 200
# A second attempt is only made for transient server errors, and only if this much of the
# budget is left: a retry that cannot finish in time just delays the fallback.
RETRY_MIN_SECONDS = 1.0
# A call that gets its turn at the semaphore with less budget than this (or than half its
# budget, if that is smaller) is not sent: Gemini Flash does not answer that fast, so the
# request would only spend quota and then be cancelled. The half keeps a budget configured
# below 0.5 s from never asking Gemini at all.
ATTEMPT_MIN_SECONDS = 0.25
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
_GOOD_FINISH = {None, types.FinishReason.STOP, types.FinishReason.FINISH_REASON_UNSPECIFIED}


class GeminiAnswer(BaseModel):
    """The JSON object Gemini must return; also the response schema sent to the API."""

    category: Literal["billing", "technical", "account", "general"]
    priority: Literal["low", "medium", "high", "critical"]
    category_confidence: float = Field(ge=0.0, le=1.0)
    priority_confidence: float = Field(ge=0.0, le=1.0)
    reason: str
    suggested_title: str = Field(min_length=1, max_length=2 * TITLE_MAX_CHARS)
    language: str = Field(pattern=r"^[a-z]{2}$")
    sentiment: Literal["negative", "neutral", "positive"]
    sentiment_score: float = Field(ge=-1.0, le=1.0)
    frustrated: bool


class UnusableAnswerError(Exception):
    """A Gemini call that produced no usable answer; `str()` is the one-line log reason."""


class CircuitBreaker:
    """Skips Gemini for `cooldown_seconds` after `failures` consecutive failures.

    After the cooldown the breaker is half-open: calls are allowed again, the first success
    closes it and another failure opens it for a new cooldown. `clock` returns seconds.
    """

    def __init__(
        self, failures: int, cooldown_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = failures
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._consecutive = 0
        self._open_until: float | None = None

    @property
    def cooldown_seconds(self) -> float:
        """How long the breaker stays open."""
        return self._cooldown

    def allows_call(self) -> bool:
        """Whether a call may be made now (closed, or half-open after the cooldown)."""
        return self._open_until is None or self._clock() >= self._open_until

    def record_success(self) -> None:
        """Close the breaker and reset the failure count."""
        self._consecutive = 0
        self._open_until = None

    def record_failure(self) -> bool:
        """Count a failure; open (or re-open) the breaker at the threshold.

        Returns whether this failure opened the breaker.
        """
        self._consecutive += 1
        if self._consecutive < self._threshold:
            return False
        self._open_until = self._clock() + self._cooldown
        return True


class SuggestionCache:
    """Least-recently-used map from ticket text to suggestion; size 0 disables it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, TriageSuggestion] = OrderedDict()

    @staticmethod
    def key(description: str, title: str) -> str:
        """Hash of the exact title and description (identical text -> identical key)."""
        return hashlib.sha256(f"{title}\x00{description}".encode()).hexdigest()

    def get(self, key: str) -> TriageSuggestion | None:
        """Return the cached suggestion and mark it recently used, or `None`."""
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, suggestion: TriageSuggestion) -> None:
        """Store a suggestion, evicting the least recently used one beyond `size`."""
        if self._size <= 0:
            return
        self._items[key] = suggestion
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


def _one_line(text: str) -> str:
    """The text's printable characters on one line, runs of spaces collapsed."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _clean_reason(text: str) -> str:
    """One printable line of at most `REASON_MAX_CHARS` characters."""
    return _one_line(text)[:REASON_MAX_CHARS] or "no reason given"


def parse_answer(response: Any) -> TriageSuggestion:
    """Validate a `GenerateContentResponse` into a suggestion.

    Raises `UnusableAnswerError` if the prompt or answer was blocked, the answer is empty or cut
    off, is not JSON, lacks a field, or has values outside the enums, confidences outside
    [0, 1], a sentiment score outside [-1, 1], a language that is not a two-letter code, or a
    blank title. A title longer than 80 characters is cut at a word boundary. The SDK's
    own `parsed` attribute is ignored: only the raw text, validated here, is trusted.
    """
    feedback = getattr(response, "prompt_feedback", None)
    if feedback is not None and getattr(feedback, "block_reason", None):
        raise UnusableAnswerError(f"prompt blocked ({feedback.block_reason})")
    candidates = getattr(response, "candidates", None) or []
    if not candidates:
        raise UnusableAnswerError("empty answer (no candidates)")
    finish = getattr(candidates[0], "finish_reason", None)
    if finish not in _GOOD_FINISH:
        raise UnusableAnswerError(f"answer refused or cut off (finish reason {finish})")
    try:
        text = response.text
    except (ValueError, AttributeError) as exc:
        raise UnusableAnswerError(f"unreadable answer ({type(exc).__name__})") from exc
    if not text or not text.strip():
        raise UnusableAnswerError("empty answer")
    try:
        answer = GeminiAnswer.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "answer"
        raise UnusableAnswerError(f"invalid answer ({where}: {first.get('type')})") from exc
    title = trim_title(_one_line(answer.suggested_title))
    if not title:
        raise UnusableAnswerError("invalid answer (suggested_title: blank)")
    return TriageSuggestion(
        category=Category(answer.category),
        priority=Priority(answer.priority),
        category_confidence=answer.category_confidence,
        priority_confidence=answer.priority_confidence,
        source="gemini",
        reason=_clean_reason(answer.reason),
        suggested_title=title,
        # Only the languages the list can filter by are stored; any other is "undecided".
        language=answer.language if answer.language in LANGUAGE_CODES else None,
        sentiment=answer.sentiment,
        sentiment_score=round(answer.sentiment_score, 3),
        frustrated=answer.frustrated,
    )


def _api_error_reason(exc: errors.APIError) -> str:
    if exc.code == 429:
        return "quota exceeded (429)"
    if exc.code >= 500:
        return f"server error ({exc.code})"
    return f"API error ({exc.code})"


class GeminiClassifier:
    """Tries Gemini within a time budget and falls back to `fallback` on any failure.

    `client` is a `google.genai.Client` (or any object with `.aio.models.generate_content`).
    `timeout_seconds` bounds one `suggest` call in total: waiting for the concurrency semaphore,
    the first attempt and the optional single retry. A call left with under
    `ATTEMPT_MIN_SECONDS` of budget (or half the budget, if smaller) once it has its turn
    falls back without asking Gemini.
    Successful answers are cached by exact text; fallback answers are not, so the next
    identical ticket tries Gemini again.
    """

    def __init__(
        self,
        client: Any,
        fallback: TicketClassifier,
        *,
        model: str = "gemini-2.5-flash",
        timeout_seconds: float = 3.0,
        max_concurrency: int = 4,
        cache_size: int = 512,
        breaker_failures: int = 3,
        breaker_cooldown_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._fallback = fallback
        self._model = model
        self._timeout = timeout_seconds
        self._attempt_min_seconds = min(ATTEMPT_MIN_SECONDS, timeout_seconds / 2)
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._cache = SuggestionCache(cache_size)
        self._breaker = CircuitBreaker(breaker_failures, breaker_cooldown_seconds, clock)
        self._config = types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            response_mime_type="application/json",
            response_schema=GeminiAnswer,
            temperature=0.0,
            max_output_tokens=384,
            # Flash models accept a zero thinking budget; thinking would spend seconds of the
            # budget on a four-way choice. Other models keep their default.
            thinking_config=types.ThinkingConfig(thinking_budget=0) if "flash" in model else None,
        )

    @classmethod
    def from_settings(cls, settings: Settings, fallback: TicketClassifier) -> GeminiClassifier:
        """Build the SDK client and the classifier from settings.

        The SDK's own retries are switched off and its HTTP timeout is the budget, so
        `triage_timeout_seconds` is the only clock that counts. Raises `ValueError` if no
        Gemini key is configured.
        """
        if settings.gemini_api_key is None:
            raise ValueError("GEMINI_API_KEY is not set")
        client = genai.Client(
            api_key=settings.gemini_api_key.get_secret_value(),
            http_options=types.HttpOptions(
                timeout=int(settings.triage_timeout_seconds * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )
        return cls(
            client,
            fallback,
            model=settings.gemini_model,
            timeout_seconds=settings.triage_timeout_seconds,
            max_concurrency=settings.triage_max_concurrency,
            cache_size=settings.triage_cache_size,
            breaker_failures=settings.triage_breaker_failures,
            breaker_cooldown_seconds=settings.triage_breaker_cooldown_seconds,
        )

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        """Return Gemini's suggestion, a cached one, or the fallback's; never raises."""
        key = SuggestionCache.key(description, title)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if not self._breaker.allows_call():
            logger.debug("Gemini skipped: circuit breaker open")
            return await self._fallback.suggest(description, title)
        try:
            suggestion = await self._ask(build_prompt(description, title))
        except Exception as exc:
            reason = self._describe(exc)
            if self._breaker.record_failure():
                reason += f"; circuit breaker open for {self._breaker.cooldown_seconds:g} s"
            logger.warning("Gemini triage failed, using offline: %s", reason)
            return await self._fallback.suggest(description, title)
        self._breaker.record_success()
        self._cache.put(key, suggestion)
        return suggestion

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, TimeoutError):
            return f"timeout after {self._timeout:g} s"
        if isinstance(exc, UnusableAnswerError):
            return str(exc)
        if isinstance(exc, errors.APIError):
            return _api_error_reason(exc)
        return f"unexpected {type(exc).__name__}"

    async def _ask(self, prompt: str) -> TriageSuggestion:
        """One bounded attempt plus at most one retry on a transient server error."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        async with asyncio.timeout_at(deadline), self._semaphore:
            if deadline - loop.time() < self._attempt_min_seconds:
                raise TimeoutError
            try:
                response = await self._generate(prompt)
            except errors.APIError as exc:
                if exc.code not in RETRYABLE_STATUS or deadline - loop.time() < RETRY_MIN_SECONDS:
                    raise
                logger.info("Gemini %s; retrying once", _api_error_reason(exc))
                response = await self._generate(prompt)
        return parse_answer(response)

    async def _generate(self, prompt: str) -> Any:
        return await self._client.aio.models.generate_content(
            model=self._model, contents=prompt, config=self._config
        )

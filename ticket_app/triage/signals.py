"""Signals read from a ticket's text besides its labels: language, sentiment, frustration, title.

All offline and deterministic. Language comes from `lingua-language-detector` (its models ship
in the wheel), restricted to `LANGUAGES` for speed and accuracy; sentiment from `vaderSentiment`
(a maintained lexicon that ships its data). Frustration and the extractive title are rules
written here, on top of those.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from lingua import Language, LanguageDetector, LanguageDetectorBuilder
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")

# The languages a ticket is told apart between. Restricting the detector to the languages the
# team meets keeps detection about a millisecond and avoids rare-language false positives on
# short or technical text.
LANGUAGES: tuple[Language, ...] = (
    Language.ENGLISH,
    Language.GERMAN,
    Language.FRENCH,
    Language.SPANISH,
    Language.ITALIAN,
    Language.DUTCH,
    Language.PORTUGUESE,
)
LANGUAGE_CODES: tuple[str, ...] = tuple(lang.iso_code_639_1.name.lower() for lang in LANGUAGES)
ENGLISH = "en"
# Below this many letters the detector is not asked: "ok" or "500 error" say nothing.
MIN_LANGUAGE_LETTERS = 12
# Only the start of a ticket is read (bounds the time: the whole classification has a budget of
# 5 ms). Language and tone are settled in the first lines; a title comes from the opening.
MAX_LANGUAGE_CHARS = 300
MAX_SENTIMENT_CHARS = 600
MAX_SIGNAL_CHARS = 1000
# VADER's compound score in [-1, 1]; its authors' thresholds for positive / negative.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
# Titles are at most this long (characters).
TITLE_MAX_CHARS = 80
# A title shorter than this is padded with the next sentence ("Help!" says nothing alone).
TITLE_MIN_CHARS = 25


@dataclass(frozen=True)
class TextSignals:
    """What `read_signals` found in one ticket.

    `language` is an ISO 639-1 code from `LANGUAGE_CODES`, or `None` when the text is too short
    or too ambiguous to tell. `sentiment_score` is VADER's compound score in [-1, 1].
    `frustration_cues` names the frustration cues found (empty: not frustrated).
    """

    language: str | None
    sentiment: Sentiment
    sentiment_score: float
    frustration_cues: tuple[str, ...]
    suggested_title: str

    @property
    def frustrated(self) -> bool:
        """Whether any frustration cue was found."""
        return bool(self.frustration_cues)


# From this many characters on, lingua's low-accuracy mode (trigram models only) is used: its
# README says that mode loses accuracy on texts shorter than about 120 characters and barely on
# longer ones. Measured on the Tobi-Bueck en/de rows cut to 300 characters: 0.124 ms per text
# against 0.437 ms, accuracy 0.910 against 0.909 (bulk imports read every row's language).
FAST_LANGUAGE_CHARS = 120


@lru_cache(maxsize=2)
def _detector(low_accuracy: bool = False) -> LanguageDetector:
    # Models load lazily, per language, at first use (about a second for all of them).
    builder = LanguageDetectorBuilder.from_languages(*LANGUAGES)
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


# Words VADER scores as positive that, in a support ticket, are politeness or the name of the
# thing asked for ("please help", "support", "free shipping"): a neutral request would read as
# positive. They are given no valence; the rest of VADER's lexicon is used as shipped.
NEUTRAL_IN_TICKETS = frozenset(
    {"please", "thanks", "thank", "help", "support", "hope", "kindly", "kind", "care", "free",
     "ok", "yes", "sure", "like", "welcome", "appreciate", "appreciated", "grant", "credit"}
)  # fmt: skip


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    for word in NEUTRAL_IN_TICKETS:
        analyzer.lexicon.pop(word, None)
    return analyzer


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language among `LANGUAGES`, or `None` if undecidable."""
    sample = text[:MAX_LANGUAGE_CHARS]
    if sum(char.isalpha() for char in sample) < MIN_LANGUAGE_LETTERS:
        return None
    language = _detector(len(sample) >= FAST_LANGUAGE_CHARS).detect_language_of(sample)
    return None if language is None else language.iso_code_639_1.name.lower()


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    """`detect_language` of each text, in order, the texts spread over every CPU.

    lingua's parallel detection runs in its Rust threads (rayon), outside Python; each text is
    read with the same detector and mode as `detect_language` picks, so the answers are the
    same. For batches (a bulk import): on one text it only adds the threads' hand-off.
    """
    samples = [text[:MAX_LANGUAGE_CHARS] for text in texts]
    languages: list[str | None] = [None] * len(samples)
    for low_accuracy in (False, True):
        picked = [
            index
            for index, sample in enumerate(samples)
            if (len(sample) >= FAST_LANGUAGE_CHARS) == low_accuracy
            and sum(char.isalpha() for char in sample) >= MIN_LANGUAGE_LETTERS
        ]
        if not picked:
            continue
        found = _detector(low_accuracy).detect_languages_in_parallel_of(
            [samples[index] for index in picked]
        )
        for index, language in zip(picked, found, strict=True):
            languages[index] = None if language is None else language.iso_code_639_1.name.lower()
    return languages


def read_sentiment(text: str) -> tuple[Sentiment, float]:
    """`(label, compound score)` of the text by VADER; thresholds `POSITIVE_AT`/`NEGATIVE_AT`."""
    score = round(float(_analyzer().polarity_scores(text[:MAX_SENTIMENT_CHARS])["compound"]), 3)
    if score >= POSITIVE_AT:
        return "positive", score
    if score <= NEGATIVE_AT:
        return "negative", score
    return "neutral", score


_FRUSTRATION_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        (
            "repeat contact",
            r"\b(?:(?:second|third|fourth|fifth|\d+(?:nd|rd|th)) time|"
            r"(?:several|many|multiple|three|four|five|\d+) times|how many times|"
            r"(?:already|have|'ve) (?:contacted|written|wrote|called|emailed|e-mailed|reached out|"
            r"asked|reported|told) (?:you|support|your team|about this|this|twice)|"
            r"again and again|still (?:no|not|waiting|nothing)|no one (?:has )?(?:replied|answered|"
            r"responded|gets back)|nobody (?:has )?(?:replied|answered|responded)|"
            r"(?:days|weeks) (?:now )?without (?:a )?(?:reply|response|answer|fix)|"
            r"(?:zum )?(?:zweiten|dritten) mal|schon wieder|immer noch)\b",
        ),
        (
            "threat to cancel",
            r"\b(?:(?:will|going to|gonna|about to|ready to|considering|thinking (?:of|about)) "
            r"(?:cancel|cancell?ing|leave|leaving|switch|switching|move|moving|terminate)"
            r"|(?:cancel|terminate|end) (?:my|our|the) (?:subscription|contract|account|plan)"
            r"|(?:take|taking) (?:my|our) (?:business|money) elsewhere|"
            r"(?:switch|move|go|going) to (?:a |another |your )?(?:competitor|another provider)|"
            r"(?:my|our) (?:lawyer|attorney)|legal action|small claims|chargeback|"
            r"k(?:ü|ue)ndigen|k(?:ü|ue)ndigung)\b",
        ),
        ("fed up", r"\b(?:fed up|sick of|tired of|ridiculous|unacceptable|fed-up)\b"),
    )
)
_WORD = re.compile(r"[^\W\d_]{3,}")


def _shouting(text: str) -> bool:
    """Whether most of the text is written in capitals (at least four such words)."""
    words = _WORD.findall(text[:MAX_SIGNAL_CHARS])
    capitals = [word for word in words if word.isupper()]
    return len(capitals) >= 4 and len(capitals) >= 0.5 * len(words)


def frustration_cues(text: str) -> tuple[str, ...]:
    """Labels of the frustration cues in the text: repeat contact, threat to cancel, all caps."""
    sample = text[:MAX_SIGNAL_CHARS]
    folded = sample.lower()
    found = [label for label, pattern in _FRUSTRATION_CUES if pattern.search(folded)]
    if _shouting(sample):
        found.append("all caps")
    return tuple(found)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE_BREAK = re.compile(r"\s*(?:[;:]|,\s+(?:but|and|so|because|which)\b|\s-+\s|\s\u2014\s)\s*")
# A greeting that opens a sentence ("Hello IT helpdesk, ..."): cut off before scoring.
_GREETING_PREFIX = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|to whom)\b"
    r"[^,.!?\n]{0,40}(?:[,.!?:]\s*|$)",
    re.IGNORECASE,
)
# Sentences that say nothing about the problem: sign-offs, pleasantries, bare pleas.
_FILLER = re.compile(
    r"^(?:(?:thanks?|thank you|many thanks|regards|best|cheers|sincerely|kind regards)\b.*"
    r"|i hope (?:you|this)\b.*|(?:i am|i'm|we are|we're) (?:writing|contacting|reaching)\b.*"
    r"|(?:please|pls) (?:help|advise|assist)\W*|any (?:help|ideas?)\b.*)$",
    re.IGNORECASE,
)
_STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the and or but so of to in on at for with from by as is are was were be been being "
        "it its this that these those i me my we our us you your he she they them their there "
        "here have has had do does did can could would should will shall may might must not no "
        "yes just also very really please thanks thank hello hi dear any some all about into "
        "over after before since when while if then than what which who how why where am im ive "
        "dont cant get got again still now today yesterday",
    )
)
_TRAILING = re.compile(r"(?:[\s,;:\-\u2014(]|\b(?:and|or|but|so|of|to|in|on|at|for|with|the|a|an|"
                       r"my|our|is|are|was|that|which|because|from|by|since|when|while)\b)+$",
                       re.IGNORECASE)  # fmt: skip


def _informativeness(sentence: str, position: int) -> float:
    words = re.findall(r"[^\W_]+", sentence.lower())
    content = [word for word in words if word not in _STOP_WORDS and len(word) > 2]
    # Content words count, with diminishing returns so a long rambling sentence does not win;
    # digits and error codes are informative; earlier sentences state the problem.
    score = min(len(content), 10) + 0.5 * sum(word.isdigit() for word in words)
    if "?" in sentence:
        score += 1.0
    return score - 1.5 * position


def trim_title(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """One line of at most `limit` characters, cut at a word boundary, no dangling words."""
    line = " ".join(text.split()).strip(" \"'")
    if len(line) > limit:
        cut = line[: limit + 1]
        line = cut[: cut.rfind(" ")] if " " in cut else cut[:limit]
        line = _TRAILING.sub("", line)
    line = line.rstrip(" .,;:!-")
    return line[:1].upper() + line[1:] if line else ""


def _clauses(sentence: str) -> list[str]:
    """The sentence, or its clauses when it is too long for a title."""
    if len(sentence) <= TITLE_MAX_CHARS:
        return [sentence]
    parts = [part for part in _CLAUSE_BREAK.split(sentence) if part.strip()]
    return parts or [sentence]


def extractive_title(description: str) -> str:
    """A title of at most `TITLE_MAX_CHARS` characters taken from the description.

    The most informative sentence (content words, numbers, a question; earlier ones preferred;
    greetings and sign-offs skipped), or its most informative clause when the sentence is too
    long, cut at a word boundary. Empty only for a description without any words.
    """
    sentences = [
        _GREETING_PREFIX.sub("", s.strip())
        for s in _SENTENCE_END.split(description[:MAX_SIGNAL_CHARS])
    ]
    sentences = [s for s in sentences if re.search(r"[^\W_]", s)]
    candidates = [s for s in sentences if not _FILLER.match(s)] or sentences
    if not candidates:
        return ""
    scored = [
        (_informativeness(clause, index), -index, clause)
        for index, sentence in enumerate(candidates)
        for clause in _clauses(sentence)
    ]
    best = max(scored)[2]
    title = trim_title(best)
    if len(title) < TITLE_MIN_CHARS and len(candidates) > 1:
        following = candidates[candidates.index(next(s for s in candidates if best in s)) + 1 :]
        if following:
            title = trim_title(f"{title}: {following[0]}")
    return title


def _ticket_text(title: str, description: str) -> str:
    return f"{title}\n{description}".strip()


def _signals(text: str, language: str | None, suggested_title: str) -> TextSignals:
    sentiment, score = read_sentiment(text)
    return TextSignals(
        language=language,
        sentiment=sentiment,
        sentiment_score=score,
        frustration_cues=frustration_cues(text),
        suggested_title=suggested_title,
    )


def read_signals(description: str, title: str = "", *, with_title: bool = True) -> TextSignals:
    """Language, sentiment, frustration and an extractive title suggestion for one ticket.

    With `with_title=False` the title suggestion is "" (a caller that stores no suggestion, such
    as a bulk import of labelled rows, saves the time of building one).
    """
    text = _ticket_text(title, description)
    title_suggestion = extractive_title(description) if with_title else ""
    return _signals(text, detect_language(text), title_suggestion)


def read_signals_of_many(tickets: Sequence[tuple[str, str]]) -> list[TextSignals]:
    """`read_signals(description, title, with_title=False)` of each (title, description), in order.

    The same answers, with the languages detected in parallel (`detect_languages`): language
    detection is most of a row's reading, so a bulk import reads its batches this way.
    """
    texts = [_ticket_text(title, description) for title, description in tickets]
    return [
        _signals(text, language, "")
        for text, language in zip(texts, detect_languages(texts), strict=True)
    ]

"""Query interpretation: segment a query into gazetteer slots and free text (pure).

A reading is a left-to-right segmentation of the query's tokens into slot spans (a run of tokens
matching one gazetteer value, exactly or fuzzily) and free tokens. Its score is the product of
``quality * weight(prior)`` over its slots (times :data:`REPEATED_ROLE` for each further slot of
a role already used) and :data:`FREE_TOKEN` per free token, so a token that matches a value is
read as free text only when nothing better explains it. The k best readings
are found by a k-best dynamic programme over token positions (no enumeration of all
segmentations), the all-free-text reading is always kept, and likelihoods are the scores
normalized over the readings returned.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from ..errors import QueryError
from ..folding import query_tokens
from .gazetteer import MAX_SPAN_TOKENS, MAX_TOKEN_CHARS, Entry, Gazetteer, weight

FREE_TOKEN = 0.25  # the chance that a token which matches a value was meant as plain text
REPEATED_ROLE = 0.3  # a second slot of one role ("queen" + "rhapsody" as two artists) is seldom meant
MAX_WORDS = 32  # words of a query that are interpreted at all; the rest is free text
MAX_TOKENS = 24
MAX_MATCHES_PER_START = 12
MAX_K = 50


@dataclass(frozen=True)
class Slot:
    """One span of the query read as a gazetteer value (``value`` is what the index stores)."""

    role: str
    value: str | int
    matched_text: str
    score: float  # match quality times the prior's weight, in (0, 1]

    def to_dict(self) -> dict:
        """Plain JSON-ready data."""
        return {"role": self.role, "value": self.value, "matched_text": self.matched_text, "score": self.score}


@dataclass(frozen=True)
class Interpretation:
    """One reading of a query: its slots in query order, the words left as text, its likelihood."""

    slots: tuple[Slot, ...]
    rest: str
    likelihood: float

    def to_dict(self) -> dict:
        """Plain JSON-ready data."""
        return {"slots": [s.to_dict() for s in self.slots], "rest": self.rest, "likelihood": self.likelihood}


@dataclass(frozen=True)
class _Token:
    text: str  # normalized
    word: int  # index of the whitespace-separated word of the query it came from


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    entry: Entry
    score: float


def interpret(text: str, gazetteer: Gazetteer, k: int = 5) -> tuple[Interpretation, ...]:
    """Up to ``k`` readings of ``text``, most likely first, likelihoods summing to 1.

    The all-free-text reading is always among them. Only the first MAX_WORDS words (MAX_TOKENS
    tokens) are matched; later words stay in ``rest``. Deterministic for a given gazetteer.
    """
    if not isinstance(text, str):
        raise QueryError(f"query text must be a string, not {type(text).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= MAX_K:  # one place is the all-text reading's
        raise QueryError(f"k must be an integer in [2, {MAX_K}], got {k!r}")
    words = text.split()
    tokens = _tokens(words)
    if not tokens:
        return (Interpretation((), " ".join(words), 1.0),)
    spans = _spans(tokens, gazetteer)
    readings = _k_best(len(tokens), spans, max(4 * k, 16))
    free = tuple(None for _ in tokens)
    chosen = [r for r in readings if any(r[1])][: k - 1]
    ranked = sorted([*chosen, (FREE_TOKEN ** len(tokens), free)], key=_reading_order)
    total = sum(score for score, _ in ranked)
    return tuple(_interpretation(segs, tokens, words, score / total) for score, segs in ranked)


def understand(query: Any, gazetteer: Gazetteer, k: int = 5) -> Any:
    """``query`` (a :class:`lrr_es.strategies.Query`) with its interpretations filled in."""
    return dataclasses.replace(query, interpretations=interpret(query.text, gazetteer, k))


class Readings:
    """``interpret``'s readings of recent query texts under one gazetteer, for serving: they depend on
    nothing else, and repeated queries (most of a search app's traffic) skip the gazetteer matching.
    Up to ``size`` texts, least recently used first out; a different gazetteer object (a rebuilt one)
    starts an empty cache. Thread-safe."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._gazetteer: Gazetteer | None = None
        self._cache: LRUCache = LRUCache(size)

    def understand(self, query: Any, gazetteer: Gazetteer, k: int = 5) -> Any:
        """``understand(query, gazetteer, k)``, its readings taken from the cache when the text was read before."""
        key = (query.text, k)
        with self._lock:
            if self._gazetteer is not gazetteer:
                self._gazetteer, self._cache = gazetteer, LRUCache(self.size)
            readings = self._cache.get(key)
        if readings is None:
            readings = interpret(query.text, gazetteer, k)
            with self._lock:
                if self._gazetteer is gazetteer:
                    self._cache[key] = readings
        return dataclasses.replace(query, interpretations=readings)


def _tokens(words: list[str]) -> list[_Token]:
    out: list[_Token] = []
    for index, word in enumerate(words[:MAX_WORDS]):
        for token in query_tokens(word[: 4 * MAX_TOKEN_CHARS]):
            out.append(_Token(token, index))
            if len(out) == MAX_TOKENS:
                return out
    return out


def _spans(tokens: list[_Token], gazetteer: Gazetteer) -> dict[int, list[_Span]]:
    """Candidate slot spans by start position: exact matches, or fuzzy ones where none is exact."""
    longest = min(MAX_SPAN_TOKENS, gazetteer.max_span)
    by_start: dict[int, list[_Span]] = {}
    for start in range(len(tokens)):
        found: list[_Span] = []
        for end in range(start + 1, min(len(tokens), start + longest) + 1):
            key = tuple(t.text for t in tokens[start:end])
            entries = gazetteer.exact(key) or gazetteer.fuzzy(key)
            found += [_Span(start, end, e, round(e.quality * weight(e.prior), 6)) for e in entries]
        found.sort(key=lambda s: (-s.score, s.end, s.entry.role, str(s.entry.value)))
        if found:
            by_start[start] = found[:MAX_MATCHES_PER_START]
    return by_start


def _k_best(n: int, spans: dict[int, list[_Span]], beam: int) -> list[tuple[float, tuple]]:
    """The ``beam`` best segmentations of n tokens; a segmentation holds, per token, its span or None."""
    best: list[list[tuple[float, tuple]]] = [[] for _ in range(n + 1)]
    best[0] = [(1.0, ())]
    for i in range(n):
        best[i] = sorted(best[i], key=_reading_order)[:beam]
        for score, segs in best[i]:
            best[i + 1].append((score * FREE_TOKEN, segs + (None,)))
            roles = {s.entry.role for s in segs if s is not None}
            for span in spans.get(i, ()):
                factor = span.score * (REPEATED_ROLE if span.entry.role in roles else 1.0)
                best[span.end].append((score * factor, segs + (span,) * (span.end - span.start)))
    return sorted(best[n], key=_reading_order)[:beam]


def _reading_order(reading: tuple[float, tuple]) -> tuple:
    score, segs = reading
    return (-score, tuple((-1, "", "") if s is None else (s.start, s.entry.role, str(s.entry.value))
                                     for s in segs))


def _interpretation(segs: tuple, tokens: list[_Token], words: list[str], likelihood: float) -> Interpretation:
    slots: list[Slot] = []
    covered: set[int] = set()  # words holding at least one slotted token
    free_words: set[int] = set()
    for position, span in enumerate(segs):
        if span is None:
            free_words.add(tokens[position].word)
            continue
        covered.add(tokens[position].word)
        if position == span.start:
            first, last = tokens[span.start].word, tokens[span.end - 1].word
            slots.append(Slot(span.entry.role, span.entry.value, " ".join(words[first:last + 1]), span.score))
    rest_words = [w for i, w in enumerate(words) if i in free_words or i not in covered]
    return Interpretation(tuple(slots), " ".join(rest_words), round(likelihood, 6))

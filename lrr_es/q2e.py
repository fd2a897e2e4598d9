"""Q2E (query-to-entity) memory: query keys and cold-start seeds.

A query is normalized into a key that is always a valid ``rank_features`` sub-field name:
accents stripped, case folded, split into letter/digit tokens, tokens sorted (order rarely
matters in music search: "swift taylor" is "taylor swift"), joined with ``_``. No dots, no
whitespace, never empty, at most :data:`MAX_KEY_LENGTH` characters (longer keys end in a hash).
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Iterable, Mapping, Sequence

from .folding import query_tokens
from .templates import script_id

MAX_KEY_LENGTH = 96
_HASH_CHARS = 16
_KEY_SHAPE = re.compile(r"^[^\W_]+(_[^\W_]+)*(__[^\W_]+(_[^\W_]+)*)?$")  # the __ part: a scope

# Prior scores of predicted keys (cold start). Observed engagement (click 1, play 3, ...)
# replaces a prediction the first time it touches that key (see painless/q2e-update.painless).
SEED_WEIGHTS = {"title": 1.0, "title_artist": 2.0, "artist": 0.5, "artist_genre": 0.3}
MAX_SEEDS_PER_DOC = 12


def q2e_key(text: str) -> str:
    """The memory key of a query. Raises ValueError for a query with no visible characters."""
    if not isinstance(text, str):
        raise TypeError(f"a query must be a string, not {type(text).__name__}")
    tokens = sorted(query_tokens(text))
    if tokens:
        key = "_".join(tokens)
    else:
        visible = "".join(text.split())
        if not visible:
            raise ValueError("an empty or whitespace-only query has no Q2E key")
        key = "h_" + _digest(visible)  # punctuation- or symbol-only queries still get a stable key
    if len(key) > MAX_KEY_LENGTH:
        head = key[: MAX_KEY_LENGTH - _HASH_CHARS - 1].rstrip("_")
        key = f"{head}_{_digest(key)}"
    return key


def scoped_key(key: str, scope: Sequence[str | None]) -> str:
    """``key`` scoped by caller values (a locale, a market ...): ``love_story__pt_br``.

    A query's own key never holds a double underscore, so a scoped key never equals an unscoped
    one; a missing value is ``none``. Without scope values the key is returned as it is.
    """
    if not scope:
        return key
    parts = ["_".join(query_tokens(v)) if isinstance(v, str) and query_tokens(v) else "none" for v in scope]
    scoped = f"{key}__{'_'.join(parts)}"
    if len(scoped) > MAX_KEY_LENGTH:
        suffix = _digest(scoped)
        scoped = f"{key[: MAX_KEY_LENGTH - _HASH_CHARS - 2].rstrip('_')}__{suffix}"
    return scoped


def is_key(key: object) -> bool:
    """Whether ``key`` has the shape of a q2e_key result (safe as a rank_features field name)."""
    return (isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH and _KEY_SHAPE.match(key) is not None
            and key == key.casefold())


def seed_keys(title: str | None, artists: Iterable[str] = (), genres: Iterable[str] = (), popularity: float = 0.0) -> dict[str, float]:
    """Predicted Q2E keys of a document with prior scores, strongest first, at most MAX_SEEDS_PER_DOC.

    The prior grows with popularity (0..100) from 0.5x to 1.5x the kind's weight.
    """
    boost = 0.5 + min(max(float(popularity or 0.0), 0.0), 100.0) / 100.0
    artists = [a for a in artists if a and a.strip()][:3]
    genres = [g for g in genres if g and g.strip()][:2]
    candidates: list[tuple[str, float]] = []
    if title and title.strip():
        candidates.append((title, SEED_WEIGHTS["title"]))
        candidates += [(f"{title} {a}", SEED_WEIGHTS["title_artist"]) for a in artists]
    candidates += [(a, SEED_WEIGHTS["artist"]) for a in artists]
    candidates += [(f"{a} {g}", SEED_WEIGHTS["artist_genre"]) for a in artists[:1] for g in genres]
    seeds: dict[str, float] = {}
    for text, weight in candidates:
        try:
            key = q2e_key(text)
        except ValueError:
            continue
        seeds[key] = max(seeds.get(key, 0.0), round(weight * boost, 4))
    strongest = sorted(seeds.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_SEEDS_PER_DOC]
    return dict(strongest)


def seed_fields(doc: Mapping, title_field: str = "title", artist_field: str | None = "artist",
                genre_field: str | None = "genre", popularity_field: str | None = "popularity") -> dict:
    """The lrr-owned Q2E fields to add to a catalog document at index time (a field of None: the
    catalog has no such role)."""
    def value(field: str | None):
        return doc.get(field) if field else None
    seeds = seed_keys(_first(value(title_field)), _as_list(value(artist_field)),
                      _as_list(value(genre_field)), _number(value(popularity_field)))
    return {"q2e": seeds, "q2e_seeded": sorted(seeds)} if seeds else {}


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]


def _first(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _as_list(value) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number else 0.0


DAY_MS = 86_400_000
MAX_EVENTS_REMEMBERED = 64
MAX_SCORE = 10_000.0


def update_script(key: str | None, increment: float, now_ms: int, *, decay_days: float, max_keys: int,
                  max_increment: float, max_queries: int, event_id: str | None = None,
                  query: str | None = None, **budget) -> dict:
    """The ``script`` of a scripted update that applies one engagement to one document's Q2E memory.

    ``key`` must come from :func:`q2e_key`; ``None`` only decays. ``budget``: see :func:`memory_update_script`.
    """
    return memory_update_script({} if key is None else {key: increment}, now_ms, decay_days=decay_days,
                                max_keys=max_keys, max_increment=max_increment, max_queries=max_queries,
                                event_id=event_id, queries=() if query is None else (query,), **budget)


def memory_update_script(increments: Mapping[str, float], now_ms: int, *, decay_days: float, max_keys: int,
                         max_increment: float, max_queries: int, event_id: str | None = None,
                         queries: Iterable[str] = (), pair_cap: float | None = None,
                         pair_window_ms: int = 3_600_000, clock_ms: int | None = None,
                         clock_from_ms: int | None = None) -> dict:
    """The ``script`` of one scripted update applying several keys' increments to one document's Q2E memory.

    ``increments`` maps keys from :func:`q2e_key` to signed increments (empty: only decay). ``pair_cap``
    is the spam bound, across every call: a token bucket per key and document, bursts up to
    ``pair_cap``, refilled at ``pair_cap`` per ``pair_window_ms`` on the writers' clock (the events were
    received from ``clock_from_ms`` to ``clock_ms``; default ``now_ms``); None: no bound.
    Everything travels in params.
    """
    for key, increment in increments.items():
        if not is_key(key):
            raise ValueError(f"{key!r} is not a normalized Q2E key; pass q2e_key(query)")
        if not math.isfinite(float(increment)):
            raise ValueError(f"increment must be a finite number, got {increment!r}")
    if pair_cap is not None and not (math.isfinite(float(pair_cap)) and pair_cap >= 0 and pair_window_ms > 0):
        raise ValueError(f"pair_cap must be a finite number >= 0 and pair_window_ms positive, got {pair_cap!r}, "
                         f"{pair_window_ms!r}")
    clock = int(now_ms if clock_ms is None else clock_ms)
    return {"id": script_id("q2e-update"), "params": {
        "incs": {key: float(inc) for key, inc in increments.items()}, "now": int(now_ms),
        "half_life_ms": float(decay_days) * DAY_MS, "max_keys": int(max_keys), "max_inc": float(max_increment),
        "max_score": MAX_SCORE, "event_id": event_id, "max_events": MAX_EVENTS_REMEMBERED,
        "queries": list(queries), "max_queries": int(max_queries),
        "pair_cap": None if pair_cap is None else float(pair_cap), "pair_window_ms": int(pair_window_ms),
        "clock": clock, "clock_from": clock if clock_from_ms is None else min(int(clock_from_ms), clock),
    }}

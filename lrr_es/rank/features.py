"""Ranking features per (query, candidate), computed only from what the search already returned (pure).

``candidate_features(query, pool, strategies)`` returns a float64 matrix of shape (n, f): one row
per candidate of ``pool`` (merge order), columns named by ``feature_schema(strategies)`` (version
``FEATURE_VERSION``). Nothing is re-queried: strategy features come from the merge provenance,
document features from the candidate's ``_source``, query features from the context vector.

Every entry is finite. Missing-value conventions (documented once, here):

- ``<s>_found`` 1 when strategy ``s`` returned the candidate, else 0; ``<s>_rr`` 1 / rank there, 0
  when not found; ``<s>_score`` its raw score there, 0 when not found or not finite; ``<s>_score_rel``
  that score over the best finite score ``s`` gave in this pool (0 when not found or that best <= 0).
  A configured strategy that did not run (not in the plan, failed) is all zeros.
- ``popularity_log`` log1p(popularity), 0 when absent, negative or not a finite number.
- ``q2e_score`` the document's ``q2e.<query key>`` when the ``q2e`` map is in ``_source`` (the
  engine leaves it out of ``_source`` by default, see ``lrr_es.execute.INTERNAL_SOURCE``), with
  ``q2e_known`` 1; otherwise 0 and ``q2e_known`` 0. Serving therefore relies on the memory strategy's
  provenance (``memory_score`` = 10 * saturation of q2e.<key> plus the q2e_queries match), which
  carries the same signal; the exact value is only used when a caller asked for it.
- ``age_years`` years since ``added_at`` (clipped to [0, 200]) with ``age_known`` 1; 0 and 0 when
  absent or unparseable.
- ``type_*`` one-hot entity type; anything unknown or missing is ``type_other``.
- text match (title, artist; normalized like Q2E keys: case and accents folded): ``*_exact``,
  ``*_prefix`` (the field starts with the query), ``*_overlap`` (share of query tokens in the field),
  ``*_edit`` (1 - Levenshtein distance / longer length, over the first 128 characters); for several
  artists the best one counts; a missing or non-string field gives 0.
- query features ``q_*``: entries of the context vector (lrr_es.context.CONTEXT_SCHEMA).
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Sequence

import Levenshtein
import numpy as np

from ..config import KNOWN_STRATEGIES, FieldMap
from ..context import CONTEXT_SCHEMA, context_vector
from ..errors import QueryError
from ..folding import query_tokens
from ..merge import Candidate
from ..parse import Query
from ..timestamps import parse_iso

FEATURE_VERSION = 1
STRATEGY_FEATURES = ("found", "rr", "score", "score_rel")
ENTITY_TYPES = ("song", "artist", "album", "playlist")
TEXT_FEATURES = ("exact", "prefix", "overlap", "edit")
DOC_FEATURES: tuple[str, ...] = (
    "fused", "found_count", "best_rr",
    "popularity_log", "q2e_score", "q2e_known", "age_years", "age_known",
    *(f"type_{t}" for t in ENTITY_TYPES), "type_other",
    *(f"title_{f}" for f in TEXT_FEATURES), *(f"artist_{f}" for f in TEXT_FEATURES),
    "title_artist_coverage", "title_tokens",
)
QUERY_FEATURES = ("chars", "tokens_1", "tokens_2", "tokens_3", "tokens_4plus", "has_digit", "non_latin",
                  "known_token_share", "qu_top_likelihood", "qu_slot_mass", "qu_free_text_likelihood",
                  "slot_genre", "slot_decade", "slot_artist")
_QUERY_COLUMNS = np.array([CONTEXT_SCHEMA.index(name) for name in QUERY_FEATURES])
EDIT_CHARS = 128  # edit distance is quadratic: a hostile 10,000-character title must not cost milliseconds
_YEAR_S = 365.25 * 86_400


def feature_schema(strategies: Sequence[str] = KNOWN_STRATEGIES) -> tuple[str, ...]:
    """The feature names, in column order, for an index whose configured strategies are ``strategies``."""
    names = list(strategies)
    if len(set(names)) != len(names) or not all(isinstance(s, str) and s for s in names):
        raise QueryError(f"strategies must be distinct non-empty names, got {names!r}")
    return (*(f"{s}_{f}" for s in names for f in STRATEGY_FEATURES), *DOC_FEATURES,
            *(f"q_{name}" for name in QUERY_FEATURES))


FEATURE_SCHEMA = feature_schema(KNOWN_STRATEGIES)


def schema_id(schema: Sequence[str]) -> str:
    """A short stable name of a schema, e.g. ``ltr1-3f2a9c01b2d4`` (stored as lrr-models ``feature_schema``)."""
    digest = hashlib.sha1(",".join(schema).encode()).hexdigest()[:12]
    return f"ltr{FEATURE_VERSION}-{digest}"


def candidate_features(query: Query, pool: Sequence[Candidate], strategies: Sequence[str] = KNOWN_STRATEGIES,
                       fields: FieldMap = FieldMap(), context: np.ndarray | None = None,
                       now: float | None = None, best: np.ndarray | None = None) -> np.ndarray:
    """The feature matrix of ``pool`` for ``query``, shape (len(pool), len(feature_schema(strategies))).

    ``context`` is the search's context vector, shape (CONTEXT_DIM,) (default: computed from the query
    alone); ``now`` the reference time in epoch seconds for freshness (default: the clock). ``best``
    (len(strategies),): the best score per strategy that ``*_score_rel`` divides by, default the best
    in ``pool``; pass ``strategy_best`` of the whole ranked head to compute a few rows exactly as the
    head's matrix has them.
    """
    schema = feature_schema(strategies)
    n = len(pool)
    x = np.zeros((n, len(schema)))
    if n == 0:
        return x
    width = len(strategies) * len(STRATEGY_FEATURES)
    _strategy_block(x[:, :width], pool, list(strategies), best)
    _doc_block(x[:, width:width + len(DOC_FEATURES)], query, pool, fields, time_now(now))
    ctx = context_vector(query) if context is None else np.asarray(context, dtype=float)
    if ctx.shape != (len(CONTEXT_SCHEMA),):
        raise QueryError(f"context must have shape ({len(CONTEXT_SCHEMA)},), got {ctx.shape}")
    x[:, width + len(DOC_FEATURES):] = ctx[_QUERY_COLUMNS]
    np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return x


def time_now(now: float | None) -> float:
    return datetime.now(timezone.utc).timestamp() if now is None else float(now)


def strategy_best(pool: Sequence[Candidate], strategies: Sequence[str]) -> np.ndarray:
    """The best finite score each of ``strategies`` gave in ``pool`` (0 when none), shape (len(strategies),)."""
    column = {s: i for i, s in enumerate(strategies)}
    best = np.zeros(len(strategies))
    for candidate in pool:
        for p in candidate.provenance:
            c = column.get(p.strategy)
            if c is not None:
                best[c] = max(best[c], _finite(p.score))
    return best


def _strategy_block(out: np.ndarray, pool: Sequence[Candidate], strategies: list[str],
                    best: np.ndarray | None = None) -> None:
    """found / rr / score / score_rel per strategy into ``out`` (n, 4 * len(strategies))."""
    column = {s: i * len(STRATEGY_FEATURES) for i, s in enumerate(strategies)}
    width = out.shape[1]
    rows = []  # plain lists, one numpy conversion: per-element numpy writes cost more than the features
    for candidate in pool:
        row = [0.0] * width
        for p in candidate.provenance:
            c = column.get(p.strategy)
            if c is not None:
                row[c] = 1.0
                row[c + 1] = 1.0 / p.rank if isinstance(p.rank, int) and p.rank >= 1 else 0.0
                row[c + 2] = _finite(p.score)
        rows.append(row)
    out[:] = rows
    scores = out[:, 2::4]
    best = np.maximum(scores.max(axis=0), 0.0) if best is None else np.asarray(best, dtype=float)
    out[:, 3::4] = np.where(best > 0, scores / np.where(best > 0, best, 1.0), 0.0)


def _doc_block(out: np.ndarray, query: Query, pool: Sequence[Candidate], fields: FieldMap, now: float) -> None:
    """The DOC_FEATURES of every candidate into ``out`` (n, len(DOC_FEATURES))."""
    q_tokens = tuple(query.tokens)
    q_joined = " ".join(q_tokens)
    q_set = frozenset(q_tokens)
    title_field = next((f for f in fields.title if "." not in f), None)
    artist_field = next((f for f in fields.artist if "." not in f), None)
    roles = (title_field, artist_field, fields.popularity, fields.added_at, fields.entity_type)
    cache = _STATIC.setdefault(roles, {})
    if len(cache) > STATIC_CACHE:
        cache.clear()
    rows = []
    for c in pool:
        source = c.source if isinstance(c.source, dict) else {}
        raw = tuple(source.get(f) if f else None for f in roles)
        cached = cache.get(c.id)
        if cached is None or cached[0] != raw:
            cached = cache[c.id] = (raw, _static(raw))
        title, artists, popularity, added, type_hot, seen, title_tokens = cached[1]
        ranks = [p.rank for p in c.provenance if isinstance(p.rank, int) and p.rank >= 1]
        q2e = _q2e(source, query.key) if "q2e" in source else None
        rows.append((
            _finite(c.fused), len(c.provenance), 1.0 / min(ranks) if ranks else 0.0,
            popularity, q2e or 0.0, q2e is not None,
            0.0 if added is None else min(max((now - added) / _YEAR_S, 0.0), 200.0), added is not None,
            *type_hot, *_match(q_joined, q_set, title), *_match(q_joined, q_set, artists),
            len(q_set & seen) / len(q_set) if q_set else 0.0, title_tokens,
        ))
    out[:] = rows


# The query-independent part of a document's features, per field map and document id, kept while the
# document's values are unchanged (compared on every use): folding titles and artists, parsing dates
# and building token sets cost more than the rest of a row.
_STATIC: dict[tuple, dict[str, tuple]] = {}
STATIC_CACHE = 200_000
_ONE_HOT = {t: tuple(float(t == u) for u in ENTITY_TYPES) + (0.0,) for t in ENTITY_TYPES}
_OTHER = (0.0,) * len(ENTITY_TYPES) + (1.0,)


def _static(raw: tuple) -> tuple:
    """(folded title, folded artists, popularity_log, added seconds or None, type one-hot, token set,
    title token count) of a document's (title, artist, popularity, added_at, entity_type) values."""
    title_value, artist_value, popularity, added_at, entity_type = raw
    title = tuple(_folded(t) for t in _strings(title_value)[:1])
    artists = tuple(_folded(a) for a in _strings(artist_value))
    known = _strings(entity_type)[:1]
    seen = set(title[0][0]) if title else set()
    for tokens, _ in artists:
        seen.update(tokens)
    return (title, artists, _popularity(popularity), _added_seconds(added_at) if added_at is not None else None,
            _ONE_HOT.get(known[0], _OTHER) if known else _OTHER, frozenset(seen), len(title[0][0]) if title else 0)


def _match(q_joined: str, q_set: frozenset[str], values: Sequence[tuple[tuple[str, ...], str]]) -> tuple[float, float, float, float]:
    """(exact, prefix, overlap, edit) of the query against the best of the folded ``values`` ((tokens,
    joined) pairs); zeros for none."""
    best = (0.0, 0.0, 0.0, 0.0)
    if not q_joined:
        return best
    q_edit = q_joined[:EDIT_CHARS]
    for tokens, joined in values:
        if not joined:
            continue
        b = joined[:EDIT_CHARS]
        found = (float(joined == q_joined), float(joined.startswith(q_joined)),
                 len(q_set.intersection(tokens)) / len(q_set),
                 1.0 - Levenshtein.distance(q_edit, b) / max(len(q_edit), len(b)))
        if found > best:
            best = found
    return best


@lru_cache(maxsize=65_536)  # titles and artists repeat across searches; folding is the costly part
def _folded(text: str) -> tuple[tuple[str, ...], str]:
    tokens = tuple(query_tokens(text[:1024]))
    return tokens, " ".join(tokens)


def _tokens(text: str) -> tuple[str, ...]:
    return _folded(text)[0]


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value[:16] if isinstance(v, str))
    return ()


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    value = float(value)
    return value if math.isfinite(value) else 0.0


def _popularity(value: Any) -> float:
    value = _finite(value)
    return math.log1p(value) if value > 0 else 0.0


def _q2e(source: dict, key: str) -> float | None:
    memory = source.get("q2e")
    if not isinstance(memory, dict) or key not in memory:
        return None
    value = memory[key]
    return _finite(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@lru_cache(maxsize=65_536)
def _date_seconds(text: str) -> float | None:
    try:
        return parse_iso(text).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _added_seconds(value: Any) -> float | None:
    """Epoch seconds of ``value`` (ISO date/datetime string, or epoch milliseconds); None if unusable."""
    if isinstance(value, str):
        return _date_seconds(value[:32])
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) / 1000.0
    return None

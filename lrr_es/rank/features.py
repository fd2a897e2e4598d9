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
  artists the best one counts (compared as (exact, prefix, overlap, edit)); a missing or non-string
  field gives 0. Computed for the whole pool at once (lrr_es.rank.textmatch).
- query features ``q_*``: entries of the context vector (lrr_es.context.CONTEXT_SCHEMA).
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import eq, itemgetter, not_
from typing import Any, NamedTuple, Sequence

import numpy as np

from ..config import KNOWN_STRATEGIES, FieldMap
from ..context import CONTEXT_SCHEMA, context_vector
from ..errors import QueryError
from ..folding import query_tokens
from ..merge import Candidate
from ..parse import Query
from ..timestamps import parse_iso
from .textmatch import DocText, doc_text, text_match

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
                  "slot_attr1", "slot_attr2", "slot_people")
# names of context version 1 (music's slot roles) for the same columns: a ranker trained under them still serves
LEGACY_NAMES = {"q_slot_genre": "q_slot_attr1", "q_slot_decade": "q_slot_attr2", "q_slot_artist": "q_slot_people"}


def current_names(names: Sequence[str] | None) -> tuple[str, ...] | None:
    """``names`` (a stored ranker's feature names) with names of an earlier version replaced by today's."""
    return None if names is None else tuple(LEGACY_NAMES.get(n, n) for n in names)
_QUERY_COLUMNS = np.array([CONTEXT_SCHEMA.index(name) for name in QUERY_FEATURES])
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
    provenance = _flat_provenance(pool)
    _strategy_block(x[:, :width], provenance, list(strategies), best)
    _doc_block(x[:, width:width + len(DOC_FEATURES)], query, pool, provenance, fields, time_now(now))
    ctx = context_vector(query) if context is None else np.asarray(context, dtype=float)
    if ctx.shape != (len(CONTEXT_SCHEMA),):
        raise QueryError(f"context must have shape ({len(CONTEXT_SCHEMA)},), got {ctx.shape}")
    x[:, width + len(DOC_FEATURES):] = ctx[_QUERY_COLUMNS]
    unusable = ~np.isfinite(x)  # e.g. a score over a tiny best score, a context entry
    if unusable.any():
        x[unusable] = 0.0
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


class _Provenance(NamedTuple):
    """Every provenance entry of a pool, flattened in pool order (m entries, n candidates)."""

    rows: np.ndarray  # (m,) the candidate each entry belongs to
    strategies: list[str]  # (m,)
    rr: np.ndarray  # (m,) 1 / rank, 0 unless the rank is an integer >= 1
    score: np.ndarray  # (m,) the score, 0 unless a finite number
    counts: np.ndarray  # (n,) entries per candidate


def _flat_provenance(pool: Sequence[Candidate]) -> _Provenance:
    provenance = [c.provenance for c in pool]
    counts = np.array(list(map(len, provenance)), dtype=np.intp)
    entries = list(chain.from_iterable(provenance))
    return _Provenance(np.repeat(np.arange(len(pool)), counts), [p.strategy for p in entries],
                       _reciprocal_ranks([p.rank for p in entries]), _finite_array([p.score for p in entries]), counts)


def _strategy_block(out: np.ndarray, provenance: _Provenance, strategies: list[str],
                    best: np.ndarray | None = None) -> None:
    """found / rr / score / score_rel per strategy into ``out`` (n, 4 * len(strategies))."""
    column = {s: i * len(STRATEGY_FEATURES) for i, s in enumerate(strategies)}
    m = len(provenance.strategies)
    cols = np.array(list(map(column.get, provenance.strategies, repeat(-1))), dtype=np.intp).reshape(m)
    keep = cols >= 0
    rows, cols, rr, score = provenance.rows[keep], cols[keep], provenance.rr[keep], provenance.score[keep]
    cell = rows * out.shape[1] + cols
    if np.unique(cell).size < cell.size:  # a strategy twice in one candidate's provenance: the last one counts
        _, first = np.unique(cell[::-1], return_index=True)
        last = np.sort(cell.size - 1 - first)
        rows, cols, rr, score = rows[last], cols[last], rr[last], score[last]
    out[rows, cols] = 1.0
    out[rows, cols + 1] = rr
    out[rows, cols + 2] = score
    scores = out[:, 2::4]
    best = np.maximum(scores.max(axis=0), 0.0) if best is None else np.asarray(best, dtype=float)
    out[:, 3::4] = np.where(best > 0, scores / np.where(best > 0, best, 1.0), 0.0)


_DOC_COLUMN = {name: i for i, name in enumerate(DOC_FEATURES)}
_TYPE_COLUMNS = slice(_DOC_COLUMN[f"type_{ENTITY_TYPES[0]}"], _DOC_COLUMN["type_other"] + 1)
_TEXT_COLUMNS = slice(_DOC_COLUMN["title_exact"], _DOC_COLUMN["title_artist_coverage"] + 1)
_ONE_HOT = np.eye(len(ENTITY_TYPES) + 1)  # row len(ENTITY_TYPES) is type_other


def _doc_block(out: np.ndarray, query: Query, pool: Sequence[Candidate], provenance: _Provenance,
               fields: FieldMap, now: float) -> None:
    """The DOC_FEATURES of every candidate into ``out`` (n, len(DOC_FEATURES))."""
    column = _DOC_COLUMN
    sources = [c.source if isinstance(c.source, dict) else {} for c in pool]
    static = _Static(*zip(*_statics(pool, sources, fields)))  # one tuple per field, over the pool
    out[:, column["fused"]] = _finite_array([c.fused for c in pool])
    out[:, column["found_count"]] = provenance.counts
    np.maximum.at(out[:, column["best_rr"]], provenance.rows, provenance.rr)  # 1 / best rank
    popularity, added, type_index, title_tokens = np.frombuffer(b"".join(static.numbers)).reshape(-1, 4).T
    out[:, column["popularity_log"]] = popularity
    known = ~np.isnan(added)
    out[:, column["age_years"]] = np.where(known, np.clip((now - added) / _YEAR_S, 0.0, 200.0), 0.0)
    out[:, column["age_known"]] = known
    out[:, _TYPE_COLUMNS] = _ONE_HOT[type_index.astype(np.intp)]
    out[:, column["title_tokens"]] = title_tokens
    for i in (i for i, source in enumerate(sources) if "q2e" in source):
        q2e = _q2e(sources[i], query.key)
        if q2e is not None:
            out[i, column["q2e_score"]], out[i, column["q2e_known"]] = q2e, 1.0
    out[:, _TEXT_COLUMNS] = text_match(query.tokens, static.text)


class _Static(NamedTuple):
    """The query-independent part of a document's features."""

    text: DocText
    numbers: bytes  # 4 float64: popularity_log; epoch seconds of added_at, nan when unknown; the type's
    # index in ENTITY_TYPES, len(ENTITY_TYPES) for any other; title_tokens. Bytes, because joining
    # them is the cheapest way to a matrix (converting tuples of floats costs more than the features)


# The _Static of each document, per field map and document id, kept while the document's values are
# unchanged (compared on every use): folding titles and artists, parsing dates and building token sets
# cost more than the rest of a row.
_STATIC: dict[tuple, dict[str, tuple[tuple, _Static]]] = {}
STATIC_CACHE = 200_000
_MISSING = (object(), None)  # a cache entry whose values equal nothing


def _statics(pool: Sequence[Candidate], sources: list[dict], fields: FieldMap) -> list[_Static]:
    title_field = next((f for f in fields.title if "." not in f), None)
    artist_field = next((f for f in fields.people if "." not in f), None)  # the people role
    roles = (title_field, artist_field, fields.popularity, fields.added_at, fields.entity_type)
    cache = _STATIC.setdefault(roles, {})
    if len(cache) > STATIC_CACHE:
        cache.clear()
    n = len(pool)
    raws = list(zip(*(list(map(dict.get, sources, repeat(f))) if f else [None] * n for f in roles)))
    ids = [c.id for c in pool]
    entries = list(map(cache.get, ids, repeat(_MISSING)))
    fresh = list(map(eq, map(itemgetter(0), entries), raws))
    if not all(fresh):
        for i in compress(range(n), map(not_, fresh)):
            entries[i] = cache[ids[i]] = (raws[i], _static(raws[i]))
    return list(map(itemgetter(1), entries))


def _static(raw: tuple) -> _Static:
    """The _Static of a document's (title, artist, popularity, added_at, entity_type) values."""
    title_value, artist_value, popularity, added_at, entity_type = raw
    title = [_folded(t) for t in _strings(title_value)[:1]]
    known = _strings(entity_type)[:1]
    type_index = ENTITY_TYPES.index(known[0]) if known and known[0] in ENTITY_TYPES else len(ENTITY_TYPES)
    added = _added_seconds(added_at) if added_at is not None else None
    return _Static(doc_text(title[0] if title else None, [_folded(a) for a in _strings(artist_value)]),
                   np.array([_popularity(popularity), math.nan if added is None else added, type_index,
                             len(title[0][0]) if title else 0], dtype=np.float64).tobytes())


def clear_caches() -> None:
    """Forget every folded string and cached document part (benchmarks time the cold path with it)."""
    _folded.cache_clear()
    _STATIC.clear()


@lru_cache(maxsize=65_536)  # titles and artists repeat across searches; folding is the costly part
def _folded(text: str) -> tuple[tuple[str, ...], str]:
    tokens = tuple(query_tokens(text[:1024]))
    return tokens, " ".join(tokens)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value[:16] if isinstance(v, str))
    return ()


def _finite_array(values: list) -> np.ndarray:
    """``_finite`` of each value, shape (len(values),); one conversion when all are plain numbers."""
    if set(map(type, values)) <= {float, int}:
        array = np.array(values, dtype=float)
        array[~np.isfinite(array)] = 0.0
        return array
    return np.array([_finite(v) for v in values], dtype=float)


def _reciprocal_ranks(ranks: list) -> np.ndarray:
    """1 / rank for each rank that is an integer >= 1, else 0, shape (len(ranks),)."""
    if set(map(type, ranks)) <= {int, bool}:
        array = np.array(ranks, dtype=float)
        return np.divide(1.0, array, out=np.zeros_like(array), where=array >= 1)
    return np.array([1.0 / r if isinstance(r, int) and r >= 1 else 0.0 for r in ranks], dtype=float)


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

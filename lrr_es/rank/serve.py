"""The rank stage of the request path: features for the pool, then the live ranker's order or RRF (pure).

``rank_pool`` takes the merged pool (in RRF order) and what serving loaded for the index: a
LiveRanker, None (no live model) or the exception that loading raised. It reorders the first
``limit`` candidates by the ranker's scores when the model's feature schema equals the index's; in
every other case (no model, schema mismatch, load failure, non-finite scores, any exception) it
keeps the RRF order and says why. It never raises: ranking must not fail a search.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..config import FieldMap
from ..merge import Candidate
from ..parse import Query
from .features import candidate_features, feature_schema
from .interleave import team_draft
from .registry import LiveRanker

log = logging.getLogger(__name__)
RRF = "rrf"


@dataclass(frozen=True)
class Ranked:
    """The served order of a pool.

    ``scores`` (len(pool),) are the hits' ``_score``: the ranker's scores for the reranked head and,
    below every one of them, decreasing values for the tail; the fused RRF scores when RRF served.
    ``features`` (k, f) are the rows of ``pool[:k]`` (the reranked head, k = min(len(pool), limit)),
    named by ``schema``; None when they could not be computed.
    """

    pool: tuple[Candidate, ...]
    scores: np.ndarray
    features: np.ndarray | None
    schema: tuple[str, ...]
    version: int | str  # the ranker version that ordered the pool, or "rrf"
    fallback: str | None = None  # why RRF served, None when the ranker did
    features_ms: float = 0.0  # time spent computing the features, and in the ranker's predict
    predict_ms: float = 0.0


def rank_pool(query: Query, pool: Sequence[Candidate], strategies: Sequence[str], fields: FieldMap,
              context: np.ndarray | None, live: LiveRanker | BaseException | None, limit: int = 200,
              now: float | None = None, always_features: bool = True) -> Ranked:
    """Order ``pool`` (RRF order) with ``live`` when it can serve, else keep RRF; never raises.

    Without a live ranker the features are computed only when ``always_features`` (they cost a
    few milliseconds for 200 candidates).
    """
    pool = tuple(pool)
    fused = np.array([c.fused for c in pool], dtype=float)
    schema: tuple[str, ...] = ()
    head = pool[:max(limit, 0)]
    if live is None and not always_features:
        return Ranked(pool, fused, None, schema, RRF, "no live ranker")
    started = time.perf_counter()
    try:
        schema = feature_schema(strategies)
        features = candidate_features(query, head, strategies, fields, context, now)
    except Exception as exc:  # noqa: BLE001 - a feature bug must cost the ranking, not the search
        log.warning("rank: features not computed, serving RRF: %s", exc)
        return Ranked(pool, fused, None, schema, RRF, f"features failed: {str(exc)[:200]}")
    featured = time.perf_counter()
    features_ms = (featured - started) * 1000
    reason = _unusable(live, schema)
    if reason is not None or not head:
        return Ranked(pool, fused, features, schema, RRF, reason or "empty pool", features_ms)
    try:
        scores = live.ranker.predict(features)
    except Exception as exc:  # noqa: BLE001
        log.warning("rank: ranker v%s failed, serving RRF: %s", live.version, exc)
        return Ranked(pool, fused, features, schema, RRF, f"predict failed: {str(exc)[:200]}")
    if scores.shape != (len(head),) or not np.isfinite(scores).all():
        return Ranked(pool, fused, features, schema, RRF, "ranker gave non-finite scores")
    order = np.argsort(-scores, kind="stable")  # ties keep the RRF order
    tail = len(pool) - len(head)
    served = tuple(head[i] for i in order) + pool[len(head):]
    tail_scores = scores.min() - 1.0 - np.arange(tail) * 1e-3
    return Ranked(served, np.concatenate([scores[order], tail_scores]), features[order], schema, live.version,
                  None, features_ms, (time.perf_counter() - featured) * 1000)


def interleave_ranked(ranked: Ranked, candidate: LiveRanker | BaseException | None, rng: random.Random,
                      page: int) -> tuple[Ranked, dict | None]:
    """``ranked`` with its head (the featured candidates) in the team-draft interleaving of its served
    order and ``candidate``'s order of the same head, and the record the decision log keeps:
    ``{"candidate": version, "live": the served version or "rrf", "teams": the team of each of the
    first ``page`` hits}``. The scores stay the served ones, sorted down the new order. ``ranked``
    unchanged and None when the candidate cannot serve (never raises: a trial must not fail a search).
    """
    features = ranked.features
    if features is None or not len(features) or _unusable(candidate, ranked.schema) is not None:
        return ranked, None
    k = len(features)
    try:
        scores = candidate.ranker.predict(features)
    except Exception as exc:  # noqa: BLE001
        log.warning("interleave: candidate ranker v%s failed, serving without it: %s", candidate.version, exc)
        return ranked, None
    if scores.shape != (k,) or not np.isfinite(scores).all():
        return ranked, None
    order, teams = team_draft(range(k), [int(i) for i in np.argsort(-scores, kind="stable")], rng)
    head = tuple(ranked.pool[i] for i in order)
    served = np.concatenate([np.sort(ranked.scores[:k])[::-1], ranked.scores[k:]])
    record = {"candidate": candidate.version, "live": ranked.version, "teams": teams[:page]}
    return replace(ranked, pool=head + ranked.pool[k:], scores=served, features=features[order]), record


def _unusable(live: LiveRanker | BaseException | None, schema: tuple[str, ...]) -> str | None:
    if live is None:
        return "no live ranker"
    if isinstance(live, BaseException):
        return f"ranker not loaded: {str(live)[:200]}"
    if tuple(live.feature_names or ()) != schema:
        return f"ranker v{live.version} expects feature schema {live.schema_id}, the index has another"
    return None

"""Stage 8 of the request path, respond: the served page as hits and as an Elasticsearch response (pure).

:class:`SearchResult` is what ``LrrEngine.search`` returns: the page of hits with provenance, the
plan that ran, what failed, the versions that served. ``to_response`` turns it into an ordinary
Elasticsearch search response plus an ``lrr`` section. The hit shaping (``page_hits``,
``fallback_hits``) and the randomized top swap for position-bias estimation (``randomized_swap``)
live here too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from .decide import Decision, PlanItem
from .execute import StrategyResult
from .merge import Candidate
from .parse import Query


@dataclass(frozen=True)
class SearchResult:
    """One served search: the page of hits with provenance, the plan that ran, what failed."""

    search_id: str
    index: str
    query: Query
    plan: tuple[PlanItem, ...]
    hits: list[dict]
    pool_size: int
    results: tuple[StrategyResult, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)  # strategy -> why it did not run
    timings: Mapping[str, float] = field(default_factory=dict)  # ms per stage and "total"
    pool: tuple[Candidate, ...] = ()  # every merged candidate, in ranked order
    versions: Mapping[str, Any] = field(default_factory=dict)  # policy / ranker versions that served
    context: tuple[float, ...] = ()  # the bandit's context vector (lrr_es.context.CONTEXT_SCHEMA)
    decision: Decision | None = None  # the bandit's decision; None when the plan was given or defaulted
    features: Any = None  # ranking features (k, f) of pool[:k] as served, named by feature_schema; None if not computed
    feature_schema: tuple[str, ...] = ()  # lrr_es.rank.features.feature_schema of the index's strategies
    swap: tuple[int, int] | None = None  # shown positions (1-based) swapped for position-bias estimation
    pool_scores: tuple[float, ...] = ()  # the served score of every pool candidate, aligned with pool
    extra: tuple[dict, ...] = ()  # raw answers of the extra searches that rode along in the _msearch
    # a trial page (lrr_es.rank.interleave): {"candidate": version, "live": version or "rrf", "teams": the
    # team of each of the first hits}; None on other searches
    interleave: Mapping[str, Any] | None = None

    @property
    def failed(self) -> dict[str, str]:
        """Strategies whose sub-search failed or timed out, with the reason."""
        return {r.strategy: r.error or r.status for r in self.results if r.status != "ok"}

    def to_response(self) -> dict:
        """An ordinary Elasticsearch search response plus an ``lrr`` section."""
        return {
            "took": round(self.timings.get("total", 0.0)),
            "timed_out": any(r.status == "timed_out" for r in self.results),
            "hits": {"total": {"value": self.pool_size, "relation": "gte"},
                     "max_score": self.hits[0]["_score"] if self.hits else None, "hits": self.hits},
            "lrr": {"search_id": self.search_id, "plan": [vars(i) for i in self.plan],
                    "failed": self.failed, "skipped": dict(self.skipped),
                    "policy": self.versions.get("policy"), "ranker": self.versions.get("ranker", "rrf"),
                    "query_truncated": self.query.truncated},
        }


def hit(candidate: Candidate, score: float) -> dict:
    """One hit of the page: _index (and _type where the server gives one), _id, _score, _source and the
    candidate's provenance under ``lrr``."""
    out = {"_index": candidate.index, "_id": candidate.id, "_score": score, "_source": candidate.source,
           "lrr": {"strategies": {p.strategy: {"rank": p.rank, "score": p.score} for p in candidate.provenance}}}
    if candidate.type is not None:
        out["_type"] = candidate.type
    return out


def page_hits(pool: Sequence[Candidate], scores: Sequence[float], from_: int, size: int) -> list[dict]:
    """The hits of ``pool[from_:from_ + size]`` (ranked order) with their served ``scores`` (aligned with pool)."""
    return [hit(c, float(s)) for c, s in zip(pool[from_:from_ + size], scores[from_:from_ + size])]


def fallback_hits(hits: Sequence[Mapping], from_: int) -> list[dict]:
    """The hits of a lexical search with ``from`` (a page beyond the candidate pool), marked as fallback."""
    return [{"_index": h.get("_index"), **({"_type": h["_type"]} if "_type" in h else {}), "_id": h["_id"],
             "_score": h["_score"], "_source": h.get("_source", {}),
             "lrr": {"strategies": {"lexical": {"rank": from_ + i + 1, "score": h["_score"]}}, "fallback": True}}
            for i, h in enumerate(hits)]


def randomized_swap(page: list[dict], search_id: str, rate: float) -> tuple[int, int] | None:
    """With probability ``rate`` (drawn from the search id), swap the top hit with a random other one
    of ``page`` in place; the swapped positions (1-based), else None."""
    if rate <= 0 or len(page) < 2:
        return None
    draw = int(search_id[:12], 16)
    if (draw % 1_000_000) / 1_000_000 >= rate:
        return None
    k = 2 + (draw // 1_000_000) % (len(page) - 1)
    page[0], page[k - 1] = page[k - 1], page[0]
    return 1, k

"""A replay simulator for learning to retrieve: every strategy's candidates fetched once per query
from the real node, then any plan's outcome derived from them without searching again.

Why a replay: a plan's candidates are the union of its strategies' top-``quota`` lists, and a
strategy's list for a query does not depend on which other strategies run, so 20,000 simulated
searches under a dozen policies cost one real ``_msearch`` per distinct query instead of 240,000
searches. What it leaves out, honestly: the memory strategy does not learn from the simulated
feedback inside a run (its Q2E scores stay at their cold-start seeds), and explore's random order is
fixed per query rather than per search.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Iterable, Mapping, Sequence

from lrr_es.engine import LrrEngine
from lrr_es.decide import PlanItem
from lrr_es.execute import Hit, StrategyResult
from lrr_es.fusion import fuse
from lrr_es.simulate.queries import GeneratedQuery
from lrr_es.parse import Query

MAX_QUOTA = 100


@dataclass(frozen=True)
class CachedQuery:
    query: GeneratedQuery
    parsed: Query  # with interpretations, as the engine saw it
    lists: Mapping[str, tuple[str, ...]]  # strategy -> ranked doc ids (top MAX_QUOTA)
    took_ms: Mapping[str, float]


def fetch(engine: LrrEngine, index: str, queries: Iterable[GeneratedQuery], progress: bool = True) -> dict[str, CachedQuery]:
    """Every strategy's top MAX_QUOTA for every distinct query text, from one ``_msearch`` each."""
    from tqdm import tqdm
    names = [n for n, s in engine.strategies(index).items() if s.available]
    plan = tuple(PlanItem(n, MAX_QUOTA, timeout_ms=5000) for n in names)
    cache: dict[str, CachedQuery] = {}
    distinct = {q.text: q for q in queries}
    for text, q in tqdm(distinct.items(), desc="fetch strategy lists", disable=not progress, mininterval=1):
        result = engine.search(index, text, size=1, plan=plan, seed=zlib.crc32(q.qid.encode()), source=False)
        cache[text] = CachedQuery(q, result.query, {r.strategy: tuple(h.id for h in r.hits) for r in result.results},
                                  {r.strategy: float(r.took_ms or 0) for r in result.results})
    return cache


@dataclass(frozen=True)
class Outcome:
    """What running a plan for one query gives, before any user reacts: the page and the pool."""

    shown: tuple[str, ...]
    pool: frozenset[str]
    recall: float
    subsearches: int
    candidates_by_arm: Mapping[str, frozenset[str]]


def play(cached: CachedQuery, plan: Sequence[tuple[str, int]], weights: Mapping[str, float] | None = None,
         page: int = 10, k: int = 100, chosen: bool = True) -> Outcome:
    """The page and candidate pool of ``plan`` ([(strategy, quota)]) for one cached query, and its recall.

    The page is the engine's cold-start order (lrr_es.fusion.fuse: prior weights with ``weights``
    configured, a confident reading leading); ``chosen`` says the plan was chosen (a policy's or a fixed
    plan: explore, when in it, runs on purpose) rather than every strategy by default (explore held back).
    """
    results = [StrategyResult(name, tuple(Hit(doc_id, 0.0) for doc_id in cached.lists.get(name, ())[:quota]))
               for name, quota in plan]
    decision = SimpleNamespace(policy="replay", arms=tuple(name for name, _ in plan)) if chosen else None
    pool = fuse(results, cached.parsed, decision, None, weights)
    shown = tuple(c.id for c in pool[:page])
    ids = frozenset(c.id for c in pool)
    by_arm = {r.strategy: frozenset(h.id for h in r.hits) for r in results}
    return Outcome(shown, ids, cached.query.recall(ids, k), len(plan), by_arm)

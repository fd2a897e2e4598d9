"""Fusion weights: how much each strategy's list counts in the RRF order before a ranker is live.

Cold start. Weighted RRF with equal weights lets two weak lists outrank a strong one: on the demo
catalog "80s pop" showed a 2010s song at #2 because semantic (#5) and explore (#40) together beat
structured's #1, a 1980s pop song. So every strategy has a prior weight (``PRIORS``: the
text, memory and structured strategies 1.0; popular and fuzzy, which add popular or approximate
matches, less; semantic, topical neighbours, and explore, random-in-category, far less), the
configured ``retrieval.weights`` replacing the priors they name, and the structured strategy's
weight grows with query understanding's confidence when it read slots (decade, genre, artist...):
``w_structured * (1 + SLOT_BOOST * likelihood of the top reading)``. Its best hits then lead the
page when the query asked for what the catalog's fields say.

Learning. ``lrr-es learn`` counts, over the searches with a positive engagement, how often each
strategy that ran had found an engaged document, and publishes the posterior mean of that rate
with the prior as ``PRIOR_STRENGTH`` pseudo-searches: ``w_s = (PRIOR_STRENGTH * prior_s + found_s)
/ (PRIOR_STRENGTH + engaged_runs_s)``. A strategy that finds what users want gains weight; one whose
candidates are never taken loses it. The weights are stored per index in lrr-models (document
``fusion-<alias>``, kind "fusion") and read by serving like the other models.

A confident reading leads. RRF rewards agreement, and the text strategies (lexical, popular, fuzzy,
semantic) agree with each other about the words of the query: for "metal 80s" on the demo catalog,
an indie band called "Metal Club" is #1 in four text lists and would lead whatever the weights.
When query understanding's top reading has slots and a likelihood of at least ``CONFIDENT_READING``,
the structured strategy's first ``HEAD`` hits (the documents with those field values that also match
the words left as text, when the catalog has them) lead the page in its order (``leading_strategy``;
lrr_es.merge.lead); the fused order follows. ("love songs 90s": the text strategies agree on "Love"
songs of any decade; structured's head holds 1990s songs about love.)

Explore. Candidates that only the explore strategy found are kept below the first ``EXPLORE_FLOOR``
positions of the RRF order unless a bandit policy chose to run explore for this search (then the
exploration is the policy's deliberate choice; in cold start every strategy runs, by default).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from elasticsearch import Elasticsearch

from . import es as esio
from .errors import ModelError
from .merge import RRF_K, Candidate, hold_back, lead, merge
from .models import stored_version
from .names import MODELS_INDEX

PRIORS: Mapping[str, float] = {"lexical": 1.0, "popular": 0.7, "structured": 1.0, "memory": 1.0, "fuzzy": 0.6,
                               "semantic": 0.3, "explore": 0.1}
DEFAULT_PRIOR = 0.5  # a strategy the priors do not name
SLOT_BOOST = 2.0
PRIOR_STRENGTH = 50.0
EXPLORE_FLOOR = 3
CONFIDENT_READING = 0.5
HEAD = 3
EXPLORATORY = ("explore",)
KIND = "fusion"


@dataclass(frozen=True)
class FusionWeights:
    """Learned per-strategy weights of one index, with the engaged searches each was learned from."""

    weights: Mapping[str, float]
    engaged_runs: Mapping[str, int] = field(default_factory=dict)
    found: Mapping[str, int] = field(default_factory=dict)
    version: int = 0

    def summary(self) -> str:
        """One line per strategy, strongest first."""
        return "\n".join(f"  {s:<12} weight {w:.3f}  (found an engaged document in {self.found.get(s, 0)} of "
                         f"{self.engaged_runs.get(s, 0)} engaged searches it ran in)"
                         for s, w in sorted(self.weights.items(), key=lambda kv: -kv[1]))


def prior_weights(configured: Mapping[str, float] | None = None) -> dict[str, float]:
    """The priors with the configured weights replacing the ones they name."""
    return {**PRIORS, **(configured or {})}


def query_weights(query: Any, strategies: Iterable[str], learned: FusionWeights | None = None,
                  configured: Mapping[str, float] | None = None) -> dict[str, float]:
    """The RRF weight of every strategy for ``query``: learned, else prior; structured boosted by QU."""
    base = prior_weights(configured)
    if learned is not None:
        base.update(learned.weights)
    weights = {s: float(base.get(s, DEFAULT_PRIOR)) for s in strategies}
    if "structured" in weights:
        weights["structured"] *= 1.0 + SLOT_BOOST * slot_confidence(query)
    return weights


def slot_confidence(query: Any) -> float:
    """The likelihood of query understanding's top reading when it read at least one slot, else 0."""
    readings = getattr(query, "interpretations", ()) or ()
    if not readings or not getattr(readings[0], "slots", ()):
        return 0.0
    return min(1.0, max(0.0, float(readings[0].likelihood)))


def leading_strategy(query: Any, strategies: Iterable[str]) -> str | None:
    """"structured" when it ran and query understanding's top reading has slots and a likelihood of at
    least CONFIDENT_READING; else None (the fused order stands)."""
    if "structured" not in set(strategies) or slot_confidence(query) < CONFIDENT_READING:
        return None
    return "structured"


def learn_fusion(searches: Iterable[tuple[Iterable[str], Iterable[str]]], priors: Mapping[str, float],
                 previous: FusionWeights | None = None) -> FusionWeights:
    """Posterior fusion weights from engaged searches: (strategies that ran, strategies that found an
    engaged document) per search, added to the counts ``previous`` was learned from; see the module
    docstring."""
    runs: dict[str, int] = dict(previous.engaged_runs) if previous is not None else {}
    found: dict[str, int] = {s: previous.found.get(s, 0) for s in runs} if previous is not None else {}
    for ran, finders in searches:
        finders = set(finders)
        for s in ran:
            runs[s] = runs.get(s, 0) + 1
            found[s] = found.get(s, 0) + (s in finders)
    weights = {s: (PRIOR_STRENGTH * float(priors.get(s, DEFAULT_PRIOR)) + found[s]) / (PRIOR_STRENGTH + runs[s])
               for s in runs}
    return FusionWeights(weights, runs, found)


def explore_held_back(decision: Any) -> bool:
    """Whether explore-only candidates stay off the top of the page: unless a policy chose explore."""
    from .decide import COLD_START
    if decision is None or decision.policy == COLD_START:
        return True
    return not any(s in decision.arms for s in EXPLORATORY)


def fuse(results: Sequence[Any], query: Any, decision: Any = None, learned: FusionWeights | None = None,
         configured: Mapping[str, float] | None = None, k: float = RRF_K) -> list[Candidate]:
    """The merged pool of ``results`` (lrr_es.execute.StrategyResult) in the order a page shows before a
    ranker is live: weighted RRF with this query's weights, a confident reading's strategy leading,
    explore's own picks held back unless the policy behind ``decision`` chose to explore."""
    names = [r.strategy for r in results]
    pool = merge(results, query_weights(query, names, learned, configured), k)
    leader = leading_strategy(query, [r.strategy for r in results if r.hits])
    if leader is not None:
        pool = lead(pool, leader, HEAD)
    if explore_held_back(decision):
        pool = hold_back(pool, EXPLORATORY, EXPLORE_FLOOR)
    return pool


# ------------------------------------------------------------------ lrr-models
def model_id(alias: str) -> str:
    return f"fusion-{alias}"


def save_fusion(es: Elasticsearch, alias: str, fusion: FusionWeights, window: Mapping[str, Any] | None = None) -> int:
    """Publish ``fusion`` as the next version of ``alias``'s weights; returns that version."""
    version = stored_version(es, model_id(alias)) + 1
    esio.put_document(es, MODELS_INDEX, model_id(alias), {
        "model_id": model_id(alias), "kind": KIND, "index": alias, "version": version, "status": "live",
        "created_at": int(time.time() * 1000), "params": {"weights": dict(fusion.weights)},
        "metrics": {"engaged_runs": dict(fusion.engaged_runs), "found": dict(fusion.found)},
        "training_window": dict(window or {}),
    }, refresh="wait_for")
    return version


def fusion_version(es: Elasticsearch, alias: str) -> int:
    """The published version of ``alias``'s fusion weights; 0 when none was published."""
    return stored_version(es, model_id(alias))


def load_fusion(es: Elasticsearch, alias: str) -> FusionWeights | None:
    """The published fusion weights of ``alias``, or None."""
    found = esio.get_document(es, MODELS_INDEX, model_id(alias))
    if found is None:
        return None
    source = found.get("_source") or {}
    try:
        if source.get("kind") != KIND:
            raise ValueError(f"kind {source.get('kind')!r}")
        weights = {str(k): float(v) for k, v in source["params"]["weights"].items()}
        metrics = source.get("metrics") or {}
        return FusionWeights(weights, {str(k): int(v) for k, v in (metrics.get("engaged_runs") or {}).items()},
                             {str(k): int(v) for k, v in (metrics.get("found") or {}).items()},
                             int(source.get("version", 0)))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"fusion weights {model_id(alias)} in {MODELS_INDEX} are damaged: {exc}") from None

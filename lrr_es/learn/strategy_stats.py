"""Each strategy over time, from the logged searches joined with their feedback (the admin panel's
Strategies page).

Per strategy and time bucket: the share of plans that included it, how often its sub-search failed
or timed out, how often its candidates held an engaged document and how often it alone did, its
mean semi-bandit reward (lrr_es.bandit.arm_rewards, as the learner computes it), its relative cost,
and its latency: the median of Elasticsearch's ``took`` of its sub-search, from the decision log's
``subsearches`` (searches logged before lrr-decisions v4 have none and count only as "failed or
timed out", not split). :func:`strategy_stats` is pure over :class:`lrr_es.learn.join.SearchFeedback`
records; :func:`load_strategy_stats` reads a window of one alias's logs.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from elasticsearch import Elasticsearch

from ..bandit import Decision, RewardParams, arm_rewards
from ..errors import PolicyError
from ..insights import pick_interval, INTERVALS
from ..timestamps import epoch_ms
from .join import SearchFeedback, join_feedback
from .logged import arm_finds


@dataclass
class ArmCounts:
    """What one strategy did over a set of searches."""

    planned: int = 0  # searches whose plan included it
    failed: int = 0  # ... whose sub-search failed or timed out
    timed_out: int = 0  # ... whose sub-search timed out (logged status; part of failed)
    found: int = 0  # ... whose candidates held an engaged document
    alone: int = 0  # ... where it was the only strategy to find one
    reward_sum: float = 0.0
    rewarded: int = 0  # searches with a logged decision (rewards need its costs)
    cost_sum: float = 0.0
    took: Counter = field(default_factory=Counter)  # took (ms, as Elasticsearch reports it) -> sub-searches

    def share(self, part: int) -> float:
        return part / self.planned if self.planned else 0.0

    @property
    def p50_ms(self) -> float | None:
        """The median took of its logged sub-searches (ms), None when none was logged."""
        return took_percentile(self.took, 50)

    @property
    def reward(self) -> float | None:
        return self.reward_sum / self.rewarded if self.rewarded else None

    @property
    def cost(self) -> float | None:
        return self.cost_sum / self.rewarded if self.rewarded else None


@dataclass
class StatsBucket:
    start_ms: int
    searches: int = 0
    engaged: int = 0  # searches with an engaged document
    arms: dict[str, ArmCounts] = field(default_factory=dict)


@dataclass(frozen=True)
class StrategyStats:
    interval: str | None
    buckets: tuple[StatsBucket, ...]
    total: StatsBucket


def strategy_stats(feedback: Iterable[SearchFeedback], buckets: int = 24, params: RewardParams = RewardParams(),
                   min_grade: float = 1.0) -> StrategyStats:
    """Per-strategy counts overall and per round time bucket of the logged searches (pure)."""
    rows = [(ms, item) for item in feedback if (ms := epoch_ms(item.timestamp)) is not None]
    total = StatsBucket(rows[0][0] if rows else 0)
    if not rows:
        return StrategyStats(None, (), total)
    first, last = min(ms for ms, _ in rows), max(ms for ms, _ in rows)
    interval = pick_interval(last - first, buckets)
    width = dict(INTERVALS)[interval] * 1000
    by_start: dict[int, StatsBucket] = {}
    for ms, item in rows:
        start = ms - ms % width
        bucket = by_start.setdefault(start, StatsBucket(start))
        for target in (bucket, total):
            _add(target, item, params, min_grade)
    return StrategyStats(interval, tuple(by_start[k] for k in sorted(by_start)), total)


def _add(bucket: StatsBucket, item: SearchFeedback, params: RewardParams, min_grade: float) -> None:
    arms = [p.get("strategy") for p in item.plan if isinstance(p, Mapping) and p.get("strategy")]
    candidates, engaged = arm_finds(arms, item, min_grade)
    bucket.searches += 1
    bucket.engaged += bool(engaged)
    finders = {arm for arm, ids in candidates.items() if ids & engaged}
    rewards, costs = _rewards(item, candidates, engaged, params)
    for arm in arms:
        counts = bucket.arms.setdefault(arm, ArmCounts())
        counts.planned += 1
        counts.failed += arm in item.failed
        sub = (item.subsearches or {}).get(arm)
        if isinstance(sub, Mapping):
            counts.timed_out += sub.get("status") == "timed_out"
            if isinstance(sub.get("took"), (int, float)) and not isinstance(sub.get("took"), bool):
                counts.took[int(sub["took"])] += 1
        counts.found += arm in finders
        counts.alone += finders == {arm}
        if arm in rewards:
            counts.reward_sum += rewards[arm]
            counts.cost_sum += costs[arm]
            counts.rewarded += 1


def took_percentile(took: Counter, percent: float) -> float | None:
    """The nearest-rank ``percent`` percentile of a histogram {ms: count} (pure); None when empty."""
    total = sum(took.values())
    if not total:
        return None
    rank, seen = max(1, -(-total * percent // 100)), 0
    for ms in sorted(took):
        seen += took[ms]
        if seen >= rank:
            return float(ms)
    return float(max(took))


def _rewards(item: SearchFeedback, candidates: Mapping[str, set[str]], engaged: frozenset[str],
             params: RewardParams) -> tuple[dict[str, float], dict[str, float]]:
    """The learner's reward per arm that ran, and its cost, for a search with a logged decision."""
    if item.bandit is None:
        return {}, {}
    try:
        decision = Decision.from_dict(item.bandit)
    except PolicyError:
        return {}, {}
    costs = {arm: float(decision.costs.get(arm, 1.0)) for arm in candidates}
    return arm_rewards(candidates, engaged, costs, params), costs


def load_strategy_stats(es: Elasticsearch, alias: str, since: Any = None, grades: Mapping[str, float] | None = None,
                        buckets: int = 24) -> StrategyStats:
    """:func:`strategy_stats` of the searches of ``alias`` logged since ``since`` (epoch ms or ISO)."""
    return strategy_stats(join_feedback(es, since, None, grades, where=[{"term": {"index": alias}}]), buckets)

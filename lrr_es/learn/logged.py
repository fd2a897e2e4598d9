"""Logged bandit searches for the learners: the decision, the per-arm rewards, the high-water mark.

Pure parts (unit-tested with literal data): :class:`Mark` orders decisions by (timestamp, search_id)
and says which are new; :func:`search_rewards` turns one logged search (its Decision, its candidates'
provenance and the engaged documents) into per-arm semi-bandit rewards with
:func:`lrr_es.bandit.rewards.arm_rewards`; :func:`logged_searches` pairs joined feedback with its
Decision and counts what cannot be used. :func:`stream_logged` yields one alias's bandit decisions
with their rewards from Elasticsearch in (timestamp, search_id) order, a page at a time, through
:func:`lrr_es.learn.join.join_feedback`; :func:`load_logged` collects them (off-policy evaluation
needs them all at once). :class:`Tally` sums a stream of them for the learning report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from elasticsearch import Elasticsearch

from ..bandit import Decision, RewardParams, arm_rewards
from ..errors import ConfigError, PolicyError
from ..timestamps import epoch_ms
from .join import SearchFeedback, check_time, count_decisions, join_feedback


@dataclass(frozen=True, order=True)
class Mark:
    """The last decision a policy learned from: decisions are ordered by (timestamp ms, search_id)."""

    timestamp: int
    search_id: str

    def to_dict(self) -> dict:
        """The mark as kept in ``params["learned_through"]``."""
        return {"timestamp": self.timestamp, "search_id": self.search_id}

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> "Mark | None":
        """The mark kept in a policy document's ``params["learned_through"]``; None when absent or unreadable."""
        raw = (params or {}).get("learned_through")
        if not isinstance(raw, Mapping):
            return None
        ts, sid = epoch_ms(raw.get("timestamp")), raw.get("search_id")
        return cls(ts, sid) if ts is not None and isinstance(sid, str) else None


@dataclass(frozen=True)
class LoggedSearch:
    """One usable logged bandit search: its decision, when it happened, and its per-arm rewards."""

    search_id: str
    timestamp: int
    decision: Decision
    rewards: Mapping[str, float]  # arm -> reward, for the chosen arms that ran
    engaged: frozenset[str]  # positively engaged document ids

    @property
    def mark(self) -> Mark:
        """This search's place in the (timestamp, search_id) order."""
        return Mark(self.timestamp, self.search_id)


@dataclass
class Logged:
    """Usable searches in time order, and how many were left out, by reason."""

    searches: list[LoggedSearch] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        """Count one search left out for ``reason``."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1



def check_min_grade(value: Any) -> float:
    """A finite positive grade threshold, else ConfigError naming it."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    if not ok:
        raise ConfigError(f"min_grade must be a finite number > 0, got {value!r}")
    return float(value)


def arm_finds(arms: Iterable[str], feedback: SearchFeedback, min_grade: float = 1.0
              ) -> tuple[dict[str, set[str]], frozenset[str]]:
    """(the candidates of each of ``arms`` whose sub-search ran, the engaged documents) of one logged search.

    An arm's candidates are the logged candidates whose provenance names it; a document is engaged
    when its strongest action's grade is at least ``min_grade``.
    """
    failed = set(feedback.failed)
    candidates: dict[str, set[str]] = {arm: set() for arm in arms if arm not in failed}
    for label in feedback.labels:
        for arm in label.strategies:
            if arm in candidates:
                candidates[arm].add(label.doc_id)
    return candidates, frozenset(e.doc_id for e in feedback.engaged if e.grade >= min_grade)


def search_rewards(decision: Decision, feedback: SearchFeedback, params: RewardParams = RewardParams(),
                   min_grade: float = 1.0) -> tuple[dict[str, float], frozenset[str]]:
    """(reward per chosen arm that ran, engaged documents) of one logged search.

    An arm ran when the decision chose it and its sub-search did not fail; its candidates are the
    logged candidates whose provenance names it. A document is engaged when its strongest action's
    grade is at least ``min_grade`` (grades: FeedbackConfig.weights).
    """
    candidates, engaged = arm_finds(decision.arms, feedback, min_grade)
    costs = {arm: decision.costs.get(arm, 1.0) for arm in candidates}
    return arm_rewards(candidates, engaged, costs, params), engaged


def logged_searches(feedback: Iterable[SearchFeedback], after: Mark | None = None, dim: int | None = None,
                    params: RewardParams = RewardParams(), min_grade: float = 1.0) -> Logged:
    """The usable bandit searches of ``feedback`` strictly after ``after``, sorted by (timestamp, search_id).

    Left out and counted: searches without a logged Decision (an explicit plan, or logged before
    decisions carried one), unreadable decisions or timestamps, contexts of another length than
    ``dim``, and searches at or before the mark (already learned).
    """
    out = Logged()
    out.searches = sorted(usable_searches(feedback, out, after, dim, params, min_grade), key=lambda s: s.mark)
    return out


def usable_searches(feedback: Iterable[SearchFeedback], skipped: Logged, after: Mark | None = None,
                    dim: int | None = None, params: RewardParams = RewardParams(),
                    min_grade: float = 1.0) -> Iterator[LoggedSearch]:
    """The usable bandit searches of ``feedback`` strictly after ``after``, in the order given; the others
    are counted in ``skipped`` (see :func:`logged_searches`)."""
    for item in feedback:
        ts = epoch_ms(item.timestamp)
        if item.bandit is None:
            skipped.skip("no bandit decision")
            continue
        if ts is None:
            skipped.skip("unreadable timestamp")
            continue
        if after is not None and Mark(ts, item.search_id) <= after:
            skipped.skip("already learned")
            continue
        try:
            decision = Decision.from_dict(item.bandit)
        except PolicyError:
            skipped.skip("unreadable decision")
            continue
        if dim is not None and len(decision.context) != dim:
            skipped.skip("context of another length")
            continue
        rewards, engaged = search_rewards(decision, item, params, min_grade)
        yield LoggedSearch(item.search_id, ts, decision, rewards, engaged)


def stream_logged(es: Elasticsearch, alias: str, since: Any = None, until: Any = None,
                  grades: Mapping[str, float] | None = None, after: Mark | None = None, dim: int | None = None,
                  params: RewardParams = RewardParams(), min_grade: float = 1.0,
                  skipped: Logged | None = None) -> Iterator[LoggedSearch]:
    """The bandit searches of ``alias`` logged in [since, until) and after ``after``, with their rewards,
    in (timestamp, search_id) order; memory holds one page of decisions. Searches left out are
    counted in ``skipped``."""
    since_ms, until_ms = _since(since, after), check_time("until", until)
    min_grade = check_min_grade(min_grade)
    joined = join_feedback(es, since_ms, until_ms, grades, where=logged_where(alias))
    yield from usable_searches(joined, skipped if skipped is not None else Logged(), after, dim, params, min_grade)


def count_logged(es: Elasticsearch, alias: str, since: Any = None, until: Any = None, after: Mark | None = None) -> int:
    """How many decisions :func:`stream_logged` reads for the same arguments (for a progress bar)."""
    return count_decisions(es, _since(since, after), check_time("until", until), logged_where(alias))


def _since(since: Any, after: Mark | None) -> int | None:
    since_ms = check_time("since", since)
    if after is not None:  # the mark's own millisecond is re-read: its other searches may be new
        since_ms = after.timestamp if since_ms is None else max(since_ms, after.timestamp)
    return since_ms


def logged_where(alias: str) -> list[dict]:
    """The filter clauses of ``alias``'s bandit decisions (the ones a policy version made)."""
    return [{"term": {"index": alias}}, {"exists": {"field": "policy_version"}}]


def load_logged(es: Elasticsearch, alias: str, since: Any = None, until: Any = None,
                grades: Mapping[str, float] | None = None, after: Mark | None = None, dim: int | None = None,
                params: RewardParams = RewardParams(), min_grade: float = 1.0) -> Logged:
    """The bandit searches of ``alias`` logged in [since, until) and after ``after``, with their rewards, in a list."""
    out = Logged()
    out.searches = list(stream_logged(es, alias, since, until, grades, after, dim, params, min_grade, out))
    return out


@dataclass
class Tally:
    """Sums over a stream of logged searches: how many, how many engaged, reward and pulls per arm, the
    first and last (the high-water mark)."""

    searches: int = 0
    engaged: int = 0
    reward_totals: dict[str, float] = field(default_factory=dict)
    pulls: dict[str, int] = field(default_factory=dict)
    first: Mark | None = None
    last: Mark | None = None

    def add(self, search: LoggedSearch) -> None:
        """Count one search."""
        self.searches += 1
        self.engaged += bool(search.engaged)
        for arm, reward in search.rewards.items():
            self.reward_totals[arm] = self.reward_totals.get(arm, 0.0) + reward
            self.pulls[arm] = self.pulls.get(arm, 0) + 1
        self.first = self.first or search.mark
        self.last = search.mark

    @property
    def reward_per_arm(self) -> dict[str, float]:
        """The mean reward of each arm over the searches where it ran."""
        return {arm: self.reward_totals[arm] / self.pulls[arm] for arm in self.pulls}

"""Logged bandit searches for the learners: the decision, the per-arm rewards, the high-water mark.

Pure parts (unit-tested with literal data): :class:`Mark` orders decisions by (timestamp, search_id)
and says which are new; :func:`search_rewards` turns one logged search (its Decision, its candidates'
provenance and the engaged documents) into per-arm semi-bandit rewards with
:func:`lrr_es.bandit.rewards.arm_rewards`; :func:`logged_searches` pairs joined feedback with its
Decision and counts what cannot be used. :func:`load_logged` reads one alias's bandit decisions and
their events from Elasticsearch through :func:`lrr_es.learn.join.join_feedback`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from elasticsearch import Elasticsearch

from ..bandit import Decision, RewardParams, arm_rewards
from ..errors import ConfigError, PolicyError
from ..timestamps import epoch_ms
from .join import SearchFeedback, join_feedback


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



def check_time(name: str, value: Any) -> int | None:
    """``since``/``until`` as epoch ms (None stays None); ConfigError naming the bad value."""
    if value is None:
        return None
    ms = epoch_ms(value)
    if ms is None:
        raise ConfigError(f"{name} must be epoch milliseconds or an ISO 8601 date, got {value!r}")
    return ms


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
    for item in feedback:
        ts = epoch_ms(item.timestamp)
        if item.bandit is None:
            out.skip("no bandit decision")
            continue
        if ts is None:
            out.skip("unreadable timestamp")
            continue
        if after is not None and Mark(ts, item.search_id) <= after:
            out.skip("already learned")
            continue
        try:
            decision = Decision.from_dict(item.bandit)
        except PolicyError:
            out.skip("unreadable decision")
            continue
        if dim is not None and len(decision.context) != dim:
            out.skip("context of another length")
            continue
        rewards, engaged = search_rewards(decision, item, params, min_grade)
        out.searches.append(LoggedSearch(item.search_id, ts, decision, rewards, engaged))
    out.searches.sort(key=lambda s: s.mark)
    return out


def load_logged(es: Elasticsearch, alias: str, since: Any = None, until: Any = None,
                grades: Mapping[str, float] | None = None, after: Mark | None = None, dim: int | None = None,
                params: RewardParams = RewardParams(), min_grade: float = 1.0) -> Logged:
    """The bandit searches of ``alias`` logged in [since, until) and after ``after``, with their rewards."""
    since_ms, until_ms = check_time("since", since), check_time("until", until)
    if after is not None:  # the mark's own millisecond is re-read: its other searches may be new
        since_ms = after.timestamp if since_ms is None else max(since_ms, after.timestamp)
    where = [{"term": {"index": alias}}, {"exists": {"field": "policy_version"}}]
    joined = join_feedback(es, since_ms, until_ms, grades, where=where)
    return logged_searches(joined, after, dim, params, check_min_grade(min_grade))

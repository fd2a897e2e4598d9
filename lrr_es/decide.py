"""Stage 3 of the request path, decide: which strategies run for a query, and how many candidates each.

A plan is a tuple of :class:`PlanItem`. The serving policy of an index (a bandit policy of
:mod:`lrr_es.bandit`, published to lrr-models by the learner) chooses it from the query's context
and returns the :class:`Decision` that the decision log keeps. Before a policy is published (cold
start), and whenever the policy cannot decide, every available strategy runs with propensity 1: the
page is as good as the strategies allow and the log holds full information for the first learning
round. :class:`Decider` holds each index's serving copy of its policy and makes the policy call.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, field
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .errors import LrrError, PolicyError, QueryError

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_MS = 500
COLD_START = "cold-start"  # the policy version of plans made before any policy was published
MAX_QUOTA = 10_000  # Elasticsearch's default result window: one sub-search returns at most this many hits


@dataclass(frozen=True)
class PlanItem:
    """One arm of a plan: run ``strategy`` for ``quota`` candidates, chosen with ``propensity``."""

    strategy: str
    quota: int
    propensity: float | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS


@dataclass(frozen=True)
class Decision:
    """What a policy chose for one context.

    ``arms`` are the chosen arms, safe arm first then in the order they were added, and ``quotas``
    the candidate count for each (aligned with ``arms``). ``propensities`` maps EVERY offered arm to
    the probability that the policy includes it for this context and state (1.0 for the safe arm; see
    each policy for how it is computed: ``propensity_method`` is "deterministic", "exact" or
    "monte_carlo:<N>"). ``plan_propensity`` is the probability that the policy serves exactly this
    plan (these arms at these quotas) for this context and state, when the policy knows it (exact for
    the vw policy, LinUCB, epsilon-greedy and the cold-start plan; a Monte Carlo estimate for Thompson;
    None in records logged before it existed). ``context`` is the (sanitized) context the decision
    was made for, shape (d,), kept so that ``update`` and off-policy evaluation need nothing else.
    """

    arms: tuple[str, ...]
    quotas: tuple[int, ...]
    propensities: Mapping[str, float]
    context: tuple[float, ...]
    budget: float
    policy: str
    policy_version: str
    propensity_method: str = "deterministic"
    costs: Mapping[str, float] = field(default_factory=dict)
    plan_propensity: float | None = None

    @property
    def quota_by_arm(self) -> dict[str, int]:
        """The quota of each chosen arm."""
        return dict(zip(self.arms, self.quotas))

    @property
    def cost(self) -> float:
        """Total relative cost of the chosen arms."""
        return float(sum(self.costs.get(a, 0.0) for a in self.arms))

    def plan(self, timeout_ms: int | None = None) -> tuple[PlanItem, ...]:
        """The decision as PlanItems (strategy, quota, propensity[, timeout])."""
        extra = {} if timeout_ms is None else {"timeout_ms": timeout_ms}
        return tuple(PlanItem(a, q, self.propensities[a], **extra) for a, q in zip(self.arms, self.quotas))

    def to_dict(self) -> dict:
        """Plain JSON-ready data (for the decision log)."""
        d = asdict(self)
        d.update(arms=list(self.arms), quotas=list(self.quotas), context=list(self.context),
                 propensities=dict(self.propensities), costs=dict(self.costs))
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Decision":
        """The inverse of ``to_dict``; a record missing fields raises PolicyError."""
        try:
            return cls(arms=tuple(data["arms"]), quotas=tuple(int(q) for q in data["quotas"]),
                       propensities={str(k): float(v) for k, v in data["propensities"].items()},
                       context=tuple(float(v) for v in data["context"]), budget=float(data["budget"]),
                       policy=str(data["policy"]), policy_version=str(data["policy_version"]),
                       propensity_method=str(data.get("propensity_method", "deterministic")),
                       costs={str(k): float(v) for k, v in (data.get("costs") or {}).items()},
                       plan_propensity=_optional_float(data.get("plan_propensity")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PolicyError(f"not a decision record ({type(exc).__name__}: {exc})") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def check_plan(plan: Any) -> tuple[PlanItem, ...]:
    """An explicit plan, checked once: a non-empty iterable of PlanItem with a strategy name, a quota in
    [1, MAX_QUOTA] and a positive timeout; QueryError names the bad item."""
    if isinstance(plan, (str, bytes, PlanItem, Mapping)) or not isinstance(plan, Iterable):
        raise QueryError(f"plan must be a list of PlanItem, got {type(plan).__name__} {plan!r:.80}")
    items = tuple(plan)
    if not items:
        raise QueryError("plan must name at least one strategy")
    for n, item in enumerate(items):
        if not isinstance(item, PlanItem):
            raise QueryError(f"plan item #{n} must be a PlanItem(strategy, quota), got {type(item).__name__} {item!r:.80}")
        if not isinstance(item.strategy, str):
            raise QueryError(f"plan item #{n}: strategy must be a name, got {item.strategy!r:.80}")
        for name, value, top in (("quota", item.quota, MAX_QUOTA), ("timeout_ms", item.timeout_ms, None)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (top and value > top):
                raise QueryError(f"plan item #{n} ({item.strategy}): {name} must be an integer in [1, {top or 'inf'}], "
                                 f"got {value!r:.80}")
    return items


def plan_from_text(text: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> tuple[PlanItem, ...]:
    """A plan typed by a person, ``"lexical:50, memory:20"`` (pure); QueryError names the bad part.

    Propensity is None: a plan given by hand was not drawn by a policy.
    """
    items = []
    for part in (p.strip() for p in str(text).replace(";", ",").split(",")):
        if not part:
            continue
        name, sep, quota = part.partition(":")
        if not sep or not name.strip() or not quota.strip().isdigit():
            raise QueryError(f"plan item {part[:80]!r} is not strategy:quota (e.g. lexical:50)")
        items.append(PlanItem(name.strip(), int(quota), None, timeout_ms))
    return check_plan(items)


def default_plan(strategies: Mapping[str, Any], quota: int, timeout_ms: int) -> tuple[PlanItem, ...]:
    """Every strategy of ``strategies`` (name -> Strategy) that can run, at ``quota`` and ``timeout_ms``."""
    return tuple(PlanItem(name, quota, 1.0, timeout_ms) for name, s in strategies.items() if s.available)


def cold_start_decision(plan: Sequence[PlanItem], arms: Sequence[Mapping[str, Any]], context: Sequence[float]) -> Decision:
    """The deterministic Decision of a default ``plan`` over the offered ``arms`` (descriptor dicts)."""
    costs = {a["name"]: float(a["cost"]) for a in arms}
    return Decision(arms=tuple(i.strategy for i in plan), quotas=tuple(i.quota for i in plan),
                    propensities={i.strategy: 1.0 for i in plan}, context=tuple(float(v) for v in context),
                    budget=float(sum(costs.values())), policy=COLD_START, policy_version=COLD_START,
                    propensity_method="deterministic", costs=costs, plan_propensity=1.0)


class Decider:
    """The decide stage of one engine: each index's serving policy and the policy call.

    ``published(index)`` returns the policy the learner published (None before that) and may raise
    LrrError for a damaged one; a new published object replaces the serving copy, a damaged one is
    logged and the current copy kept. ``budget`` caps the plan's cost, ``timeout_ms`` goes to every
    plan item.
    """

    def __init__(self, published: Callable[[str], Any], budget: float, timeout_ms: int) -> None:
        self.published, self.budget, self.timeout_ms = published, budget, timeout_ms
        self._policies: dict[str, tuple[Any, Any]] = {}  # index -> (published, serving copy)
        self._lock = threading.Lock()

    def policy(self, index: str) -> Any:
        """The serving policy of ``index``: a copy of the published one, or None before that."""
        stored = None
        try:
            stored = self.published(index)
        except LrrError as exc:
            log.warning("policy of %s not loaded, keeping the current one: %s", index, exc)
        with self._lock:
            current = self._policies.get(index)
            if stored is not None and (current is None or current[0] is not stored):
                current = self._policies[index] = (stored, stored.copy())
            return current[1] if current is not None else None

    def decide(self, index: str, context: Any, strategies: Mapping[str, Any],
               default: tuple[PlanItem, ...]) -> tuple[tuple[PlanItem, ...], Decision]:
        """The plan for ``context`` over the available ``strategies`` and the decision to log with it;
        ``default`` (every available strategy) when no policy serves or it cannot decide."""
        arms = [s.descriptors() for s in strategies.values() if s.available]
        try:
            policy = self.policy(index)
            if policy is not None:
                with self._lock:
                    decision = policy.select(context, arms, budget=self.budget)
                return decision.plan(timeout_ms=self.timeout_ms), decision
        except LrrError as exc:  # never fail a search for the bandit's sake
            log.warning("bandit could not decide for %s, running the default plan: %s", index, exc)
        return default, cold_start_decision(default, arms, context)

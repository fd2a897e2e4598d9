"""The arms a policy decides over and the plan rules every policy shares (pure). The Decision a policy
returns is the decide stage's record (:class:`lrr_es.decide.Decision`, re-exported here).

A decision is a subset of arms (strategies) plus a quota per chosen arm, built from one score per arm:

Subset rule (``greedy_subset``): the safe arm always runs, whatever its cost and the budget. The other
arms are visited in decreasing score order (ties: the order the arms were given in) and each is added
when its score is above ``min_score`` (default 0: the arm's reward, which is net of its cost, is
expected to be positive) and its cost fits what remains of the budget; an arm that does not fit is
skipped and cheaper ones after it may still be added. The budget is in units of the arms' relative
cost (lexical = 1.0), so the plan's total cost is at most ``max(budget, cost of the safe arm)``.

Quota rule (``quotas_for``): quotas come from a small sorted set of levels, by default (20, 50, 100).
The safe arm always gets the largest level (the page and its pagination fall back on it). Any other
arm gets the level indexed by its estimated mean reward ``mu`` (the model's point estimate, never the
optimistic or sampled score): ``levels[min(L - 1, floor(clip(mu, 0, 1) * L))]``, so an arm expected to
contribute little draws few candidates. The quota is a deterministic function of the policy state and
the context, so it adds no randomness: the propensity of an (arm, quota) pair is the arm's propensity.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..decide import Decision  # noqa: F401 - re-exported: the record every policy returns
from ..errors import PolicyError

SAFE_ARM = "lexical"
DEFAULT_QUOTAS = (20, 50, 100)


@dataclass(frozen=True)
class Arm:
    """One strategy as the bandit sees it: its name and static descriptors."""

    name: str
    kind: str = "unknown"
    cost: float = 1.0  # relative Elasticsearch work, lexical = 1.0


def parse_arms(arms: Sequence[Arm | Mapping[str, Any]], safe_arm: str) -> tuple[Arm, ...]:
    """Arms from ``Arm``s or descriptor dicts (``Strategy.descriptors()``), validated.

    Names must be unique non-empty strings, costs finite and positive, and the safe arm present.
    """
    if isinstance(arms, (str, bytes, Mapping)) or not isinstance(arms, Sequence) or not arms:
        raise PolicyError(f"arms must be a non-empty sequence of arm descriptors, got {arms!r}")
    parsed = tuple(_arm(a) for a in arms)
    names = [a.name for a in parsed]
    if len(set(names)) != len(names):
        raise PolicyError(f"arm names must be unique, got {names}")
    if safe_arm not in names:
        raise PolicyError(f"the safe arm {safe_arm!r} must be offered, got arms {names}")
    return parsed


def _arm(a: Arm | Mapping[str, Any]) -> Arm:
    if type(a) is dict or isinstance(a, Mapping):
        try:
            a = Arm(a["name"], a.get("kind", "unknown"), a.get("cost", 1.0))
        except KeyError:
            raise PolicyError(f"an arm descriptor needs a name, got {dict(a)!r}") from None
    if not isinstance(a, Arm):
        raise PolicyError(f"an arm must be an Arm or a descriptor mapping, got {a!r}")
    if not isinstance(a.name, str) or not a.name:
        raise PolicyError(f"an arm name must be a non-empty string, got {a.name!r}")
    cost = a.cost
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not math.isfinite(cost) or cost <= 0:
        raise PolicyError(f"arm {a.name!r}: cost must be a finite positive number, got {cost!r}")
    return a if isinstance(cost, float) else Arm(a.name, a.kind, float(cost))


def check_budget(budget: Any) -> float:
    """A finite positive budget as float, else PolicyError naming it."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget <= 0:
        raise PolicyError(f"budget must be a finite positive number, got {budget!r}")
    return float(budget)


def check_quota_levels(quotas: Any) -> tuple[int, ...]:
    """Sorted distinct positive integer quota levels, else PolicyError naming them."""
    try:
        levels = tuple(sorted(set(quotas)))
    except TypeError:
        raise PolicyError(f"quotas must be a collection of positive integers, got {quotas!r}") from None
    if not levels or any(isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 1 for q in levels):
        raise PolicyError(f"quotas must be a non-empty collection of positive integers, got {quotas!r}")
    return tuple(int(q) for q in levels)


def greedy_subset(scores: Sequence[float], costs: Sequence[float], safe: int, budget: float,
                  min_score: float = 0.0) -> list[int]:
    """Indices of the chosen arms for one score vector (shape (k,)), safe arm first; see module doc."""
    chosen = [safe]
    remaining = budget - costs[safe] + 1e-9  # tolerance: costs like 1.1 + 0.9 must fit a budget of 2
    for i in sorted(range(len(scores)), key=lambda j: -scores[j]):  # sorted() is stable: ties keep order
        if i != safe and scores[i] > min_score and costs[i] <= remaining:
            chosen.append(i)
            remaining -= costs[i]
    return chosen


def greedy_masks(scores: np.ndarray, costs: np.ndarray, safe: int, budget: float,
                 min_score: float = 0.0) -> np.ndarray:
    """``greedy_subset`` for many score vectors at once: scores (n, k) -> inclusion mask (n, k) bool."""
    n, k = scores.shape
    order = np.argsort(-scores, axis=1, kind="stable")
    wanted = (np.take_along_axis(scores, order, axis=1) > min_score) & (order != safe)
    cost = costs[order]  # (n, k): the cost of the j-th best arm of each row
    take = np.zeros((n, k), dtype=bool)
    remaining = np.full(n, budget - costs[safe] + 1e-9)
    for j in range(k):  # the budget makes each step depend on the previous ones: k vector steps
        ok = wanted[:, j] & (cost[:, j] <= remaining)
        take[:, j] = ok
        remaining -= cost[:, j] * ok
    mask = np.zeros((n, k), dtype=bool)
    mask[np.arange(n)[:, None], order] = take
    mask[:, safe] = True
    return mask


def quotas_for(chosen: Sequence[int], means: np.ndarray, safe: int, levels: tuple[int, ...]) -> tuple[int, ...]:
    """The quota of each chosen arm from its estimated mean reward (shape (k,)); see module doc."""
    top = len(levels) - 1
    out = []
    for i in chosen:
        if i == safe:
            out.append(levels[top])
        else:
            mu = min(1.0, max(0.0, float(means[i])))
            out.append(levels[min(top, int(mu * len(levels)))])
    return tuple(out)


def feasible_subsets(costs: Sequence[float], safe: int, budget: float) -> list[tuple[int, ...]]:
    """Every subset of the non-safe arms that fits the budget beside the safe arm, as sorted index
    tuples (the empty one first, then by size and index order): the plans a plan-level policy
    chooses among. Same budget rule and tolerance as ``greedy_subset``."""
    room = budget - costs[safe] + 1e-9
    others = [i for i in range(len(costs)) if i != safe and costs[i] <= room]
    out: list[tuple[int, ...]] = [()]
    for size in range(1, len(others) + 1):
        out += [s for s in itertools.combinations(others, size) if sum(costs[i] for i in s) <= room]
    return out

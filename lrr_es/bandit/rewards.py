"""Per-arm rewards of one search from provenance and engagement (pure).

For every arm that ran, with E the positively engaged documents of the search:

    r_a = hit * [some engaged doc is among a's candidates]
          + unique_bonus * [some engaged doc was found by a and by no other arm that ran]
          - cost_weight * cost_a

No engagement (E empty) is exactly 0 for every arm that ran, cost term included, unless
``charge_cost_without_engagement`` is set. Why the default leaves the cost out: a search nobody
engaged with says nothing about which arm was useful, and with the cost charged only on engaged
searches an arm's expected reward is ``P(engaged) * (P(found | engaged) * hit + ... - cost_weight * cost)``,
so whether an arm is worth its cost (reward > 0) does not depend on how often users engage with a kind
of query at all. Charging it always would make the policy cut arms on queries that are merely rarely
clicked. The bonus is paid once per arm, however many engaged documents only it found.

``credit="shared"`` replaces the hit and bonus terms by each arm's share of the page's success, its
marginal contribution averaged over the orders the arms could have run in (the Shapley value of the
game "engaged documents found"): every engaged document gives ``hit / |E|``, split equally among
the arms that found it, so

    r_a = hit / |E| * sum over engaged d found by a of 1 / (number of arms that ran and found d)
          - cost_weight * cost_a

An arm that only repeats what others found earns a fraction, an arm that alone found what the user
wanted earns it all, and the rewards of one search sum to ``hit`` minus the plan's cost when every
engaged document was a candidate (the page's reward): the objective of a policy that scores whole
plans (the vw policy), and a reward that does not grow with the number of arms that ran. "auto" is
"found" for the per-arm policies and "shared" for plan-level ones (``RewardParams.for_policy``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from ..errors import ConfigError, PolicyError

CREDITS = ("auto", "found", "shared")


@dataclass(frozen=True)
class RewardParams:
    """Weights of the reward terms; see the module docstring."""

    hit: float = 1.0
    unique_bonus: float = 0.5
    cost_weight: float = 0.1
    charge_cost_without_engagement: bool = False
    credit: str = "auto"  # "found", "shared" or "auto" (see the module docstring)

    def __post_init__(self) -> None:
        for name in ("hit", "unique_bonus", "cost_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"reward {name} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.charge_cost_without_engagement, bool):
            raise ConfigError("reward charge_cost_without_engagement must be true or false, "
                              f"got {self.charge_cost_without_engagement!r}")
        if self.credit not in CREDITS:
            raise ConfigError(f"reward credit must be one of {', '.join(CREDITS)}, got {self.credit!r}")

    def for_policy(self, policy: Any) -> "RewardParams":
        """These parameters with "auto" credit resolved for ``policy`` (its ``reward_credit``)."""
        if self.credit != "auto":
            return self
        return replace(self, credit=getattr(policy, "reward_credit", "found"))


def arm_rewards(candidates_by_arm: Mapping[str, Iterable[str]], engaged: Iterable[str],
                costs: Mapping[str, float], params: RewardParams = RewardParams()) -> dict[str, float]:
    """The reward of every arm that ran.

    ``candidates_by_arm`` maps each arm that ran to the ids of the documents it retrieved (an arm
    that ran and found nothing maps to an empty collection); ``engaged`` holds the ids of documents
    with positive engagement; ``costs`` gives every arm's relative cost (lexical = 1.0).
    """
    found = {arm: set(_ids(ids, arm)) for arm, ids in candidates_by_arm.items()}
    missing = sorted(set(found) - set(costs))
    if missing:
        raise PolicyError(f"no cost given for arms {missing}")
    for arm in found:
        c = costs[arm]
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c) or c < 0:
            raise PolicyError(f"cost of arm {arm!r} must be a finite number >= 0, got {c!r}")
    positive = set(_ids(engaged, "engaged"))
    if not positive:
        charge = params.cost_weight if params.charge_cost_without_engagement else 0.0
        return {arm: 0.0 - charge * float(costs[arm]) for arm in found}
    finders: dict[str, int] = {}
    for arm, ids in found.items():
        for doc in ids & positive:
            finders[doc] = finders.get(doc, 0) + 1
    if params.credit == "shared":
        share = params.hit / len(positive)
        return {arm: share * sum(1.0 / finders[doc] for doc in ids & positive) - params.cost_weight * float(costs[arm])
                for arm, ids in found.items()}
    return {arm: params.hit * bool(ids & positive)
            + params.unique_bonus * any(finders[doc] == 1 for doc in ids & positive)
            - params.cost_weight * float(costs[arm])
            for arm, ids in found.items()}


def candidates_by_arm(pool: Iterable[Any], ran: Iterable[str]) -> dict[str, set[str]]:
    """Document ids per arm from merged candidates (``lrr_es.merge.Candidate``: ``id``, ``strategies``).

    ``ran`` names the arms that ran (served sub-searches); an arm that found nothing maps to an empty set.
    """
    out: dict[str, set[str]] = {arm: set() for arm in ran}
    for candidate in pool:
        for arm in candidate.strategies:
            if arm in out:
                out[arm].add(candidate.id)
    return out


def _ids(ids: Iterable[str], what: str) -> Iterable[str]:
    if isinstance(ids, (str, bytes)):
        raise PolicyError(f"{what}: expected a collection of document ids, got the string {ids!r}")
    return ids

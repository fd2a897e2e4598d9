"""Learning to retrieve: contextual semi-bandit policies, arm rewards and off-policy evaluation.

``make_policy(name, dim=..., **params)`` builds a policy from the registry; ``policy_from_state``
restores any registered policy from ``to_state()`` data.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import ConfigError, ModelError
from .decision import DEFAULT_QUOTAS, SAFE_ARM, Arm, Decision
from .linear import EpsilonGreedyPolicy, LinUCBPolicy, ThompsonPolicy
from .ope import OPEResult, logged_arrays, off_policy_value, target_propensities
from .policy import Policy
from .rewards import RewardParams, arm_rewards, candidates_by_arm
from .vw import VowpalPolicy

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (ThompsonPolicy, LinUCBPolicy, EpsilonGreedyPolicy, VowpalPolicy)}


def make_policy(name: str, **params: Any) -> Policy:
    """A new policy called ``name`` (thompson, linucb, epsilon_greedy, vw); an unknown name lists the known ones."""
    try:
        cls = POLICIES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown policy {name!r} (known: {', '.join(sorted(POLICIES))})") from None
    try:
        return cls(**params)
    except TypeError as exc:  # a parameter the policy does not take
        raise ConfigError(f"policy {name!r}: {exc}") from None


def policy_from_state(state: Mapping[str, Any]) -> Policy:
    """Restore whichever registered policy ``state`` describes; ModelError when it cannot be."""
    name = state.get("policy") if isinstance(state, Mapping) else None
    if name not in POLICIES:
        raise ModelError(f"policy state names unknown policy {name!r} (known: {', '.join(sorted(POLICIES))})")
    return POLICIES[name].from_state(state)


__all__ = ["DEFAULT_QUOTAS", "POLICIES", "SAFE_ARM", "Arm", "Decision", "EpsilonGreedyPolicy", "LinUCBPolicy",
           "OPEResult", "Policy", "RewardParams", "ThompsonPolicy", "VowpalPolicy", "arm_rewards", "candidates_by_arm",
           "logged_arrays", "make_policy", "off_policy_value", "policy_from_state", "target_propensities"]

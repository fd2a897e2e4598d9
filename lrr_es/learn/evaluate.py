"""``lrr-es evaluate-policy``: the off-policy value of a candidate policy on logged bandit decisions.

The logged searches of one alias (every bandit decision with its propensities, rewards from the
feedback) are replayed through :mod:`lrr_es.bandit.ope`: IPS, SNIPS and doubly robust estimates of
the expected total arm reward per search the candidate would have earned, next to the logging
policy's own average, with the effective sample size and a warning when the importance weights are
extreme. The candidate is evaluated on a copy (``target_propensities``): its state and random
generator are left untouched.

The candidate is the published policy (``published``) or a fresh policy of a registered kind built
from ``config.bandit`` (seed) — what would serve if that kind were configured now. The DR reward
model is each arm's mean logged reward (a constant per arm, fitted on the same logs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
from elasticsearch import Elasticsearch

from ..bandit import OPEResult, POLICIES, Policy, RewardParams, logged_arrays, make_policy, off_policy_value, target_propensities
from ..bandit.store import load_policy
from ..config import Config
from ..context import CONTEXT_DIM
from ..errors import ConfigError, ModelError
from .logged import LoggedSearch, load_logged

Echo = Callable[[str], None]
CANDIDATES = ("published", *sorted(POLICIES))


@dataclass(frozen=True)
class PolicyEvaluation:
    """The candidate's estimated value and the logging policy's observed one, per search."""

    index: str
    candidate: str  # the candidate's version string
    logged_value: float  # mean total reward of the arms that ran, as logged
    result: OPEResult
    arms: tuple[str, ...]
    skipped: Mapping[str, int]

    def summary(self) -> str:
        """A readable report for the terminal."""
        r = self.result
        dr = f"{r.dr:+.4f} ± {r.dr_se:.4f}" if r.dr is not None else "n/a"
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        lines = [
            f"{self.index}: off-policy value of {self.candidate} on {r.n} logged bandit decisions "
            f"({r.pairs} arm pulls; skipped: {skipped})",
            f"  logged policy (observed) {self.logged_value:+.4f} per search",
            f"  IPS                      {r.ips:+.4f} ± {r.ips_se:.4f}",
            f"  SNIPS                    {r.snips:+.4f}",
            f"  DR                       {dr}",
            f"  effective sample size    {r.ess:.1f} ({r.ess_ratio:.1%} of pulls), "
            f"largest weight share {r.max_weight_share:.3f}",
        ]
        if r.warning:
            lines.append("  WARNING: importance weights are extreme; these estimates are not reliable:")
            lines += [f"    - {why}" for why in r.reasons]
        return "\n".join(lines)


def candidate_policy(es: Elasticsearch, config: Config, index: str, name: str) -> Policy:
    """The policy to evaluate: the published one, or a fresh ``name`` policy from config.bandit."""
    if name == "published":
        policy = load_policy(es, index)
        if policy is None:
            raise ModelError(f"no policy published for {index!r}: run `lrr-es learn --index {index}` first")
        return policy
    if name not in POLICIES:
        raise ConfigError(f"unknown candidate policy {name!r} (known: {', '.join(CANDIDATES)})")
    return make_policy(name, dim=CONTEXT_DIM, seed=config.bandit.seed)


def evaluate_searches(policy: Policy, searches: list[LoggedSearch], min_ess_ratio: float = 0.1,
                      max_weight_share: float = 0.2) -> tuple[OPEResult, tuple[str, ...], float]:
    """(OPE result, arms in column order, logged value per search) of ``policy`` on ``searches`` (pure)."""
    if not searches:
        raise ModelError("no logged bandit decisions to evaluate on (is the window empty, or were all plans explicit?)")
    decisions = [s.decision for s in searches]
    rewards = [s.rewards for s in searches]
    arms = tuple(dict.fromkeys(a for d in decisions for a in d.costs))
    L, mu, r = logged_arrays(decisions, rewards, arms)
    pi = target_propensities(policy, decisions, arms)
    per_arm = np.array([np.nanmean(r[:, j]) if L[:, j].any() else 0.0 for j in range(len(arms))])
    q = np.broadcast_to(per_arm, L.shape).copy()
    result = off_policy_value(L, mu, pi, r, q, min_ess_ratio=min_ess_ratio, max_weight_share=max_weight_share)
    logged_value = float(np.where(L, r, 0.0).sum(axis=1).mean())
    return result, arms, logged_value


def evaluate_policy(es: Elasticsearch, config: Config, index: str, policy: str | Policy = "published",
                    since: Any = None, until: Any = None, rewards: RewardParams = RewardParams(),
                    min_grade: float = 1.0, echo: Echo = print) -> PolicyEvaluation:
    """Estimate what ``policy`` (a Policy, ``published`` or a registered name) would earn on ``index``'s logs."""
    config.index(index)
    candidate = policy if isinstance(policy, Policy) else candidate_policy(es, config, index, policy)
    rewards = rewards.for_policy(candidate)
    logged = load_logged(es, index, since, until, config.feedback.weights, None, candidate.dim, rewards, min_grade)
    result, arms, logged_value = evaluate_searches(candidate, logged.searches)
    evaluation = PolicyEvaluation(index, candidate.version, logged_value, result, arms, dict(logged.skipped))
    echo(evaluation.summary())
    return evaluation

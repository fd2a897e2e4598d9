"""Off-policy evaluation of a subset policy from logged decisions (pure numpy).

Logged data: n searches, k arms. For search i and arm a: ``L[i, a]`` = 1 when the arm ran and its
reward ``r[i, a]`` was observed, ``mu[i, a]`` the logging policy's propensity of including it,
``pi[i, a]`` the target policy's propensity of including it for the same context, and optionally a
reward model ``q[i, a]`` estimating ``E[r | x_i, a]``. The value of a policy is the expected total
reward of the arms it runs per search, ``V(pi) = E_x sum_a pi(a | x) E[r_a | x]``. That is the
semi-bandit assumption: an arm's reward does not depend on which other arms ran beside it (the
uniqueness bonus of ``lrr_es.bandit.rewards`` bends this a little: it is an approximation there).

With per-arm importance weights ``w[i, a] = L[i, a] * pi[i, a] / mu[i, a]`` (``E[w | x] = pi``):

    IPS   = 1/n sum_i sum_a w[i, a] r[i, a]
    SNIPS = sum_a (1/n sum_i pi[i, a]) * (sum_i w[i, a] r[i, a]) / (sum_i w[i, a])
            (per arm the weighted mean reward, times the target's known inclusion mass; an arm whose
            weights are all 0 contributes 0 and is listed in the warning reasons when pi gives it mass)
    DR    = 1/n sum_i sum_a [pi[i, a] q[i, a] + w[i, a] (r[i, a] - q[i, a])]

IPS and DR are unbiased when mu > 0 wherever pi > 0 (DR also when q is wrong, and has low variance
when q is right); SNIPS is consistent, slightly biased, and far less variable when rewards carry a
large common offset. Standard errors are those of the per-search terms. Diagnostics are over the
logged pairs (L = 1): the effective sample size ``ESS = (sum w)^2 / sum w^2``, ``ess_ratio = ESS /
pairs`` and the largest single weight's share of the total; ``warning`` is set when ess_ratio falls
below ``min_ess_ratio`` or the share exceeds ``max_weight_share``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import PolicyError
from .decision import Arm, Decision
from .policy import Policy


@dataclass(frozen=True)
class OPEResult:
    """Value estimates of a target policy and how far the logged data can be trusted for it."""

    ips: float
    snips: float
    dr: float | None
    ips_se: float
    dr_se: float | None
    n: int
    pairs: int
    ess: float
    ess_ratio: float
    max_weight_share: float
    warning: bool
    reasons: tuple[str, ...] = ()


def off_policy_value(logged: np.ndarray, logging_propensities: np.ndarray, target_propensities: np.ndarray,
                     rewards: np.ndarray, reward_model: np.ndarray | None = None, min_ess_ratio: float = 0.1,
                     max_weight_share: float = 0.2) -> OPEResult:
    """IPS, SNIPS and (given ``reward_model``) DR estimates; every array has shape (n, k).

    ``logged`` is boolean (arm ran, reward observed); ``rewards`` is read only where logged (may be NaN
    elsewhere); ``logging_propensities`` must be in (0, 1] where logged; ``target_propensities`` in [0, 1].
    """
    L, mu, pi, r, q = _checked(logged, logging_propensities, target_propensities, rewards, reward_model)
    n = L.shape[0]
    w = np.where(L, pi / np.where(L, mu, 1.0), 0.0)
    r = np.where(L, r, 0.0)
    ips_terms = (w * r).sum(axis=1)
    arm_w, arm_wr = w.sum(axis=0), (w * r).sum(axis=0)
    arm_mean = np.divide(arm_wr, arm_w, out=np.zeros_like(arm_wr), where=arm_w > 0)
    snips = float((pi.mean(axis=0) * arm_mean).sum())
    dr = dr_se = None
    if q is not None:
        dr_terms = (pi * q).sum(axis=1) + (w * (r - q)).sum(axis=1)
        dr, dr_se = float(dr_terms.mean()), _se(dr_terms)
    pair_w = w[L]
    total = float(pair_w.sum())
    ess = total ** 2 / float((pair_w ** 2).sum()) if total > 0 else 0.0
    pairs = int(L.sum())
    ess_ratio = ess / pairs if pairs else 0.0
    share = float(pair_w.max()) / total if total > 0 else 1.0
    reasons = []
    if ess_ratio < min_ess_ratio:
        reasons.append(f"effective sample size {ess:.1f} is {ess_ratio:.3f} of {pairs} logged pairs (< {min_ess_ratio})")
    if share > max_weight_share:
        reasons.append(f"one weight carries {share:.3f} of the total (> {max_weight_share})")
    unsupported = np.flatnonzero((arm_w == 0) & (pi.sum(axis=0) > 0))
    if unsupported.size:
        reasons.append(f"arms {unsupported.tolist()} have target mass but no logged weight")
    return OPEResult(float(ips_terms.mean()), snips, dr, _se(ips_terms), dr_se, n, pairs, ess, ess_ratio,
                     share, bool(reasons), tuple(reasons))


def logged_arrays(decisions: Sequence[Decision], rewards: Sequence[Mapping[str, float]],
                  arms: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(logged (n, k) bool, logging propensities (n, k), rewards (n, k), NaN where not logged).

    An arm counts as logged when the decision chose it and a reward for it was observed.
    """
    if len(decisions) != len(rewards):
        raise PolicyError(f"{len(decisions)} decisions but {len(rewards)} reward mappings")
    n, k = len(decisions), len(arms)
    logged, mu, r = np.zeros((n, k), dtype=bool), np.zeros((n, k)), np.full((n, k), np.nan)
    for i, (decision, observed) in enumerate(zip(decisions, rewards)):
        for j, arm in enumerate(arms):
            mu[i, j] = decision.propensities.get(arm, 0.0)
            if arm in decision.arms and arm in observed:
                logged[i, j], r[i, j] = True, float(observed[arm])
    return logged, mu, r


def target_propensities(policy: Policy, decisions: Sequence[Decision], arms: Sequence[str]) -> np.ndarray:
    """The target policy's inclusion propensities (n, k) for each logged decision's context and budget.

    The policy is evaluated on a copy (its own state and generator are left alone); every decision is
    offered the arms it was offered when logged (names and costs from ``decision.costs``).
    """
    clone = policy.copy()
    out = np.zeros((len(decisions), len(arms)))
    for i, decision in enumerate(decisions):
        offered = [Arm(name, cost=cost) for name, cost in decision.costs.items()]
        chosen = clone.select(np.array(decision.context), offered, decision.budget)
        out[i] = [chosen.propensities.get(arm, 0.0) for arm in arms]
    return out


def _checked(logged, mu, pi, r, q) -> tuple[np.ndarray, ...]:
    L = np.asarray(logged)
    if L.ndim != 2 or L.dtype != bool:
        raise PolicyError(f"logged must be a boolean array of shape (n, k), got {L.dtype} {L.shape}")
    arrays = [np.asarray(a, dtype=np.float64) for a in (mu, pi, r)] + ([None] if q is None else [np.asarray(q, dtype=np.float64)])
    for name, a in zip(("logging_propensities", "target_propensities", "rewards", "reward_model"), arrays):
        if a is not None and a.shape != L.shape:
            raise PolicyError(f"{name} must have shape {L.shape}, got {a.shape}")
    mu, pi, r, q = arrays
    if L.shape[0] == 0:
        raise PolicyError("off-policy evaluation needs at least one logged decision")
    if not (np.isfinite(mu[L]).all() and (mu[L] > 0).all() and (mu[L] <= 1).all()):
        raise PolicyError(f"logging propensities must be in (0, 1] where logged, got min {np.nanmin(mu[L]) if L.any() else None}")
    if not (np.isfinite(pi).all() and (pi >= 0).all() and (pi <= 1).all()):
        raise PolicyError("target propensities must be finite numbers in [0, 1]")
    if not np.isfinite(r[L]).all():
        raise PolicyError("rewards must be finite where logged")
    if q is not None and not np.isfinite(q).all():
        raise PolicyError("reward_model must be finite everywhere")
    return L, mu, pi, r, q


def _se(terms: np.ndarray) -> float:
    return float(terms.std(ddof=1) / np.sqrt(len(terms))) if len(terms) > 1 else float("nan")

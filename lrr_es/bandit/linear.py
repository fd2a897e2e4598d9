"""Three policies over the same per-arm ridge models: LinUCB, linear Thompson sampling, epsilon-greedy.

They differ only in the score each arm gets for a context x (shape (d,)) and therefore in how the
propensity of including an arm is known:

- ``LinUCBPolicy``: ``theta_a . x + alpha * sqrt(x^T A_a^-1 x)`` (Li et al. 2010). Deterministic given
  the state: propensity 1 for the chosen arms, 0 for the others ("deterministic").
- ``ThompsonPolicy``: a draw from each arm's Gaussian posterior ``theta ~ N(theta_a, v^2 A_a^-1)``.
  Only ``theta . x`` matters for the decision, and it is distributed as
  ``N(theta_a . x, v^2 x^T A_a^-1 x)``, so the policy draws that scalar per arm (same decision
  distribution as drawing theta, at the cost of one normal per arm). Inclusion probabilities have no
  closed form under the budget rule; they are estimated by Monte Carlo ("monte_carlo:<N>"): N further
  independent draws from the policy's own seeded generator go through the same subset rule, and
  ``p_a = (count_a + served_a) / (N + 1)``, counting the draw that was served as one of N + 1 draws.
  The served draw's arms therefore have ``p_a >= 1 / (N + 1) > 0``; the standard error is
  ``sqrt(p (1 - p) / N)`` (about 0.035 at p = 0.5 for the default N = 200).
- ``EpsilonGreedyPolicy``: the ridge estimate ``theta_a . x``; arms updated fewer than ``warmup`` times
  score first (an optimistic start, so a new arm is tried). With probability ``1 - epsilon`` the plan is
  the greedy subset G; with probability ``epsilon`` one arm u is drawn uniformly from the m non-safe
  arms that fit the budget next to the safe arm, forced into the plan, and the rest filled greedily
  (subset S_u). Exact propensity ("exact"): ``p_a = (1 - epsilon) [a in G] + epsilon / m * sum_u [a in S_u]``
  (with m = 0 the plan is G).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .decision import greedy_masks, greedy_subset
from .policy import Policy, _float_param, _int_param

WARMUP_SCORE = 1e6  # above any reward: arms still in warm-up go first, ordered by their estimate


class LinUCBPolicy(Policy):
    """LinUCB over per-arm ridge models; ``alpha`` scales the confidence width (0 = greedy)."""

    name: ClassVar[str] = "linucb"
    extra_params: ClassVar[tuple[str, ...]] = ("alpha",)

    def __init__(self, dim: int, alpha: float = 1.0, **params: Any) -> None:
        super().__init__(dim, **params)
        self.alpha = _float_param("alpha", alpha, low=0.0)

    def ucb(self, context: Any) -> dict[str, float]:
        """The upper confidence bound of every held arm for ``context`` (shape (d,))."""
        x = self._check_context(context)
        return dict(zip(self._names, self._ucb(x, self._means(x)).tolist()))

    def _ucb(self, x: np.ndarray, means: np.ndarray) -> np.ndarray:
        return means + self.alpha * self._widths(x)

    def _select(self, x: np.ndarray, costs: np.ndarray, safe: int, budget: float
                ) -> tuple[list[int], np.ndarray, np.ndarray, str, float]:
        means = self._means(x)
        chosen = greedy_subset(self._ucb(x, means).tolist(), costs.tolist(), safe, budget, self.min_score)
        propensities = np.zeros(len(costs))
        propensities[chosen] = 1.0
        return chosen, propensities, means, "deterministic", 1.0


class ThompsonPolicy(Policy):
    """Linear Thompson sampling; ``v`` scales the posterior spread, ``mc_draws`` the propensity estimate."""

    name: ClassVar[str] = "thompson"
    extra_params: ClassVar[tuple[str, ...]] = ("v", "mc_draws")

    def __init__(self, dim: int, v: float = 0.5, mc_draws: int = 200, **params: Any) -> None:
        super().__init__(dim, **params)
        self.v = _float_param("v", v, low=0.0, open_low=True)
        self.mc_draws = _int_param("mc_draws", mc_draws, 1)

    def _select(self, x: np.ndarray, costs: np.ndarray, safe: int, budget: float
                ) -> tuple[list[int], np.ndarray, np.ndarray, str, float]:
        means = self._means(x)
        spread = self.v * self._widths(x)
        k = len(costs)
        draws = means + spread * self._rng.standard_normal((self.mc_draws + 1, k))  # row 0 is served
        chosen = greedy_subset(draws[0].tolist(), costs.tolist(), safe, budget, self.min_score)
        masks = greedy_masks(draws[1:], costs, safe, budget, self.min_score)
        served = np.zeros(k, dtype=bool)
        served[chosen] = True
        counts = masks.sum(axis=0)
        counts[chosen] += 1
        same_plan = int((masks == served).all(axis=1).sum()) + 1
        n = self.mc_draws + 1
        return chosen, counts / n, means, f"monte_carlo:{self.mc_draws}", same_plan / n


class EpsilonGreedyPolicy(Policy):
    """Epsilon-greedy over per-arm ridge models with exact inclusion propensities."""

    name: ClassVar[str] = "epsilon_greedy"
    extra_params: ClassVar[tuple[str, ...]] = ("epsilon", "warmup")

    def __init__(self, dim: int, epsilon: float = 0.1, warmup: int = 1, **params: Any) -> None:
        super().__init__(dim, **params)
        self.epsilon = _float_param("epsilon", epsilon, low=0.0, high=1.0)
        self.warmup = _int_param("warmup", warmup, 0)

    def _select(self, x: np.ndarray, costs: np.ndarray, safe: int, budget: float
                ) -> tuple[list[int], np.ndarray, np.ndarray, str, float]:
        means = self._means(x)
        scores = np.where(self._n < self.warmup, WARMUP_SCORE + means, means).tolist()
        cost_list = costs.tolist()
        room = budget - cost_list[safe] + 1e-9
        eligible = [i for i, c in enumerate(cost_list) if i != safe and c <= room]
        greedy = greedy_subset(scores, cost_list, safe, budget, self.min_score)
        explored = [greedy_subset(_forced(scores, u), cost_list, safe, budget, self.min_score) for u in eligible]
        propensities = np.zeros(len(costs))
        propensities[greedy] += 1.0 - self.epsilon if explored else 1.0
        for subset in explored:
            propensities[subset] += self.epsilon / len(explored)
        # one uniform per decision that can explore, an integer only when it does
        if explored and self._rng.random() < self.epsilon:
            chosen = explored[int(self._rng.integers(len(explored)))]
        else:
            chosen = greedy
        return chosen, np.minimum(propensities, 1.0), means, "exact", _plan_probability(chosen, greedy, explored, self.epsilon)


def _plan_probability(chosen: list[int], greedy: list[int], explored: list[list[int]], epsilon: float) -> float:
    """The exact probability of serving the subset ``chosen``: greedy with 1 - epsilon, each forced subset
    with epsilon / m (the subsets are compared as sets: the order of addition does not change the plan)."""
    if not explored:
        return 1.0
    target = set(chosen)
    p = (1.0 - epsilon) * (set(greedy) == target)
    p += epsilon / len(explored) * sum(set(s) == target for s in explored)
    return min(p, 1.0)


def _forced(scores: list[float], u: int) -> list[float]:
    forced = list(scores)
    forced[u] = float("inf")
    return forced


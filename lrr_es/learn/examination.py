"""The examination estimate: how likely users are to look at each shown position (DESIGN.md §7).

Position bias is estimated from the logs, for the ranker trainer's inverse propensity weighting
(:mod:`lrr_es.learn.ranker`): from randomized top swaps (``estimate_from_swaps``; reliable with 50
or more swapped pages) or by expectation-maximization under the position-based model over the
(query, document) pairs shown at more than one position (``estimate_examination``); with too little
of either, the prior 1 / position. Pure: numpy in, :class:`Examination` out.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import numpy as np

MAX_POSITION = 50


@dataclass(frozen=True)
class Examination:
    """Examination probability per shown position (index 0 = position 1), as estimated."""

    probabilities: np.ndarray  # (P,), position 1 = 1
    support: np.ndarray  # (P,) shown impressions per position
    method: str  # "em" or "prior" (1 / position, when the logs hold too little)
    iterations: int = 0

    def at(self, position: int, floor: float) -> float:
        """The clipped examination probability of a 1-based ``position``."""
        p = self.probabilities
        value = p[position - 1] if 1 <= position <= len(p) else (p[-1] if len(p) else 1.0 / max(position, 1))
        return max(float(value), floor)


def estimate_examination(keys: Sequence[Any], docs: Sequence[Any], positions: Sequence[int],
                         engaged: Sequence[bool], iterations: int = 300, tol: float = 1e-6,
                         min_impressions: int = 200, prior: float = 0.0, smooth: bool = True) -> Examination:
    """EM for the position-based model over impressions (query key, doc, 1-based position, engaged?).

    Only (key, doc) pairs shown at two or more different positions inform the estimate (a pair
    always shown at one position cannot tell examination from attractiveness, and fitting a free
    attractiveness to each such pair biases the positions toward each other). Attractiveness gets a
    Beta(``prior``, ``prior``) smoothing. With ``smooth`` the per-position estimates are replaced
    by the power law k^-eta fitted to them (weighted by impressions), which is monotone and far
    less noisy when each query has few searches. Fewer than ``min_impressions`` informative
    impressions give the prior 1 / position (method "prior").
    """
    pos = np.asarray(positions, dtype=int)
    clicks = np.asarray(engaged, dtype=float)
    top = int(min(pos.max(), MAX_POSITION)) if len(pos) else 0
    support = np.bincount(pos[(pos >= 1) & (pos <= top)] - 1, minlength=top).astype(float) if top else np.zeros(0)
    keep = (pos >= 1) & (pos <= top)
    pairs = np.zeros(0, dtype=int)
    if keep.any():
        labels = np.array([f"{k}\x1f{d}" for k, d in zip(keys, docs)], dtype=object)
        pairs = np.unique(labels[keep], return_inverse=True)[1]
        pos, clicks = pos[keep] - 1, clicks[keep]
        lowest = np.full(pairs.max() + 1, top)
        highest = np.full(pairs.max() + 1, -1)
        np.minimum.at(lowest, pairs, pos)
        np.maximum.at(highest, pairs, pos)
        moved = (highest > lowest)[pairs]
        pairs, pos, clicks = np.unique(pairs[moved], return_inverse=True)[1], pos[moved], clicks[moved]
    if len(pos) < min_impressions or clicks.sum() == 0:
        return Examination(1.0 / np.arange(1, max(top, 1) + 1), support, "prior")
    theta = 1.0 / np.sqrt(np.arange(1, top + 1))
    gamma = np.full(pairs.max() + 1, 0.5)
    n_pair = np.bincount(pairs).astype(float)
    seen = np.bincount(pos, minlength=top).astype(float)
    n_pos = np.maximum(seen, 1.0)
    it = 0
    for it in range(1, iterations + 1):
        t, g = theta[pos], gamma[pairs]
        miss = np.maximum(1.0 - t * g, 1e-12)
        examined = clicks + (1 - clicks) * t * (1 - g) / miss
        relevant = clicks + (1 - clicks) * (1 - t) * g / miss
        new_theta = np.bincount(pos, examined, minlength=top) / n_pos
        # position 1 is examined (the scale PBM leaves open): attractiveness then is P(engaged | examined)
        new_theta = np.clip(new_theta / max(new_theta[0], 1e-6), 1e-6, 1.0)
        gamma = np.clip((np.bincount(pairs, relevant) + prior) / (n_pair + 2 * prior), 1e-6, 1.0)
        change = float(np.abs(new_theta - theta).max())
        theta = new_theta
        if change < tol:
            break
    if not smooth:
        return Examination(np.minimum(_fill_forward(np.where(seen > 0, theta, np.nan)), 1.0), support, "em", it)
    eta = _power_law(np.arange(1, top + 1), theta, seen)
    return Examination(np.arange(1, top + 1) ** -eta, support, f"em (eta {eta:.2f})", it)


def _power_law(positions: np.ndarray, ratios: np.ndarray, weights: np.ndarray) -> float:
    """eta of the weighted least-squares fit of log ratio = -eta log position (positions > 1), in [0, 5]."""
    keep = (positions > 1) & (ratios > 0) & (weights > 0)
    if not keep.any():
        return 1.0
    x, y, w = np.log(positions[keep]), np.log(ratios[keep]), weights[keep].astype(float)
    return float(np.clip(-(w * x * y).sum() / (w * x * x).sum(), 0.0, 5.0))


def estimate_from_swaps(swapped: Sequence[tuple[int, bool, bool]], unswapped: Sequence[Sequence[bool]],
                        min_swaps: int = 50, pages: int = 10) -> Examination | None:
    """Examination by position from randomized top swaps (the intervention of Joachims et al., 2017).

    ``swapped``: per swapped page (k, was the ranker's top document engaged at position k, was the
    document the ranker put at k engaged at position 1); ``unswapped``: per other page, engaged?
    by position. Randomization makes the ranker's top document equally good whether it is shown at
    1 or at k, so its engagement rate at k over its rate at 1 estimates examination(k) /
    examination(1); the document from k moved to 1 gives a second estimate, and the two are
    combined by their geometric mean (rates get half a pseudo-count). A power law k^-eta is fitted
    to the ratios (weighted by swaps per position), which keeps a few dozen swaps per position from
    giving a jagged curve. None with fewer than ``min_swaps`` swapped pages.
    """
    if len(swapped) < min_swaps or not unswapped:
        return None
    top = max(max(k for k, _, _ in swapped), max(len(u) for u in unswapped), 2)
    at = np.zeros((top + 1, 2))  # engaged, shown of the unswapped pages' documents by position
    for page in unswapped:
        for position, engaged in enumerate(page, 1):
            at[position] += (engaged, 1)
    if at[1, 0] == 0:
        return None
    ks, ratios, weights = [], [], []
    for k in range(2, top + 1):
        moved = [(a, b) for kk, a, b in swapped if kk == k]
        if not moved or at[k, 1] == 0:
            continue
        n = len(moved)
        top_at_k = (sum(a for a, _ in moved) + 0.5) / (n + 1) / (at[1, 0] / at[1, 1])
        k_at_top = ((at[k, 0] + 0.5) / (at[k, 1] + 1)) / ((sum(b for _, b in moved) + 0.5) / (n + 1))
        ks.append(k)
        ratios.append(np.sqrt(top_at_k * k_at_top))  # the geometric mean of the two estimates
        weights.append(n)
    if not ks:
        return None
    eta = _power_law(np.array(ks), np.array(ratios), np.array(weights, dtype=float))
    positions = np.arange(1, max(top, pages) + 1)
    support = np.zeros(len(positions))
    support[:top] = at[1:top + 1, 1]
    return Examination(positions ** -eta, support, f"swaps (eta {eta:.2f}, {len(swapped)} swapped pages)")


def _fill_forward(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for i in range(1, len(out)):
        if not np.isfinite(out[i]):
            out[i] = out[i - 1]
    return out

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
                         engaged: Sequence[bool], **options: Any) -> Examination:
    """EM for the position-based model over impressions (query key, doc, 1-based position, engaged?).

    The impressions are counted into :class:`Impressions` and estimated there (``options``: those of
    :meth:`Impressions.estimate`).
    """
    impressions = Impressions()
    for key, doc, position, hit in zip(keys, docs, positions, engaged):
        impressions.add(key, doc, int(position), bool(hit))
    return impressions.estimate(**options)


class Impressions:
    """Shown impressions counted by (query key, document, 1-based position): shown and engaged.

    Memory grows with the distinct (key, document, position) triples, not with the searches read,
    so the estimate can be fed from a stream of logged searches.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[Any, Any, int], list[int]] = {}  # triple -> [shown, engaged]

    def add(self, key: Any, doc: Any, position: int, engaged: bool) -> None:
        """Count one impression."""
        counts = self._counts.get((key, doc, position))
        if counts is None:
            counts = self._counts[(key, doc, position)] = [0, 0]
        counts[0] += 1
        counts[1] += bool(engaged)

    def estimate(self, iterations: int = 300, tol: float = 1e-6, min_impressions: int = 200, prior: float = 0.0,
                 smooth: bool = True) -> Examination:
        """EM for the position-based model, P(engaged) = examination(position) x attractiveness(key, doc).

        Only (key, doc) pairs shown at two or more different positions inform the estimate (a pair
        always shown at one position cannot tell examination from attractiveness, and fitting a free
        attractiveness to each such pair biases the positions toward each other). Attractiveness gets a
        Beta(``prior``, ``prior``) smoothing. With ``smooth`` the per-position estimates are replaced
        by the power law k^-eta fitted to them (weighted by impressions), which is monotone and far
        less noisy when each query has few searches. Fewer than ``min_impressions`` informative
        impressions give the prior 1 / position (method "prior").
        """
        pairs, pos, shown, hits = self._arrays()
        top = int(min(pos.max(), MAX_POSITION)) if len(pos) else 0
        keep = (pos >= 1) & (pos <= top)
        support = np.bincount(pos[keep] - 1, shown[keep], minlength=top) if top else np.zeros(0)
        pairs, pos, shown, hits = pairs[keep], pos[keep] - 1, shown[keep], hits[keep]
        if len(pos):
            lowest = np.full(pairs.max() + 1, top)
            highest = np.full(pairs.max() + 1, -1)
            np.minimum.at(lowest, pairs, pos)
            np.maximum.at(highest, pairs, pos)
            moved = (highest > lowest)[pairs]
            pairs, pos, shown, hits = pairs[moved], pos[moved], shown[moved], hits[moved]
        if shown.sum() < min_impressions or hits.sum() == 0:
            return Examination(1.0 / np.arange(1, max(top, 1) + 1), support, "prior")
        pairs = np.unique(pairs, return_inverse=True)[1]
        # one row per (pair, position, engaged?) with its impression count as weight
        pairs, pos = np.concatenate([pairs, pairs]), np.concatenate([pos, pos])
        clicks = np.concatenate([np.ones(len(hits)), np.zeros(len(hits))])
        weight = np.concatenate([hits, shown - hits])
        return _em(pairs, pos, clicks, weight, top, iterations, tol, prior, smooth, support)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pair number, position, shown, engaged), one entry per counted triple."""
        numbers: dict[tuple[Any, Any], int] = {}
        pairs = [numbers.setdefault((key, doc), len(numbers)) for key, doc, _ in self._counts]
        counts = np.array(list(self._counts.values()), dtype=float).reshape(-1, 2)
        positions = np.array([position for _, _, position in self._counts], dtype=int)
        return np.array(pairs, dtype=int), positions, counts[:, 0], counts[:, 1]


def _em(pairs: np.ndarray, pos: np.ndarray, clicks: np.ndarray, weight: np.ndarray, top: int, iterations: int,
        tol: float, prior: float, smooth: bool, support: np.ndarray) -> Examination:
    """The EM iterations over weighted impression rows (pair (m,), 0-based position (m,), engaged (m,), count (m,))."""
    theta = 1.0 / np.sqrt(np.arange(1, top + 1))
    gamma = np.full(pairs.max() + 1, 0.5)
    n_pair = np.bincount(pairs, weight)
    seen = np.bincount(pos, weight, minlength=top)
    n_pos = np.maximum(seen, 1.0)
    it = 0
    for it in range(1, iterations + 1):
        t, g = theta[pos], gamma[pairs]
        miss = np.maximum(1.0 - t * g, 1e-12)
        examined = clicks + (1 - clicks) * t * (1 - g) / miss
        relevant = clicks + (1 - clicks) * (1 - t) * g / miss
        new_theta = np.bincount(pos, weight * examined, minlength=top) / n_pos
        # position 1 is examined (the scale PBM leaves open): attractiveness then is P(engaged | examined)
        new_theta = np.clip(new_theta / max(new_theta[0], 1e-6), 1e-6, 1.0)
        gamma = np.clip((np.bincount(pairs, weight * relevant) + prior) / (n_pair + 2 * prior), 1e-6, 1.0)
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
    """Examination by position from randomized top swaps (see :class:`SwapCounts`, which counts them).

    ``swapped``: per swapped page (k, was the ranker's top document engaged at position k, was the
    document the ranker put at k engaged at position 1); ``unswapped``: per other page, engaged?
    by position. None with fewer than ``min_swaps`` swapped pages.
    """
    counts = SwapCounts()
    for k, top_engaged, moved_engaged in swapped:
        counts.add_swapped(k, top_engaged, moved_engaged)
    for page in unswapped:
        counts.add_unswapped(page)
    return counts.estimate(min_swaps, pages)


class SwapCounts:
    """Engagement counted by position on unswapped pages and by swapped position on swapped ones.

    Memory grows with the positions, not with the pages counted (the estimate can be fed from a
    stream of logged searches).
    """

    def __init__(self) -> None:
        self.swapped_pages = 0
        self.unswapped_pages = 0
        self._at: list[list[int]] = [[0, 0]]  # per position (index 0 unused): [engaged, shown], unswapped pages
        self._moved: dict[int, list[int]] = {}  # k -> [pages, top document engaged at k, k's document engaged at 1]

    def add_swapped(self, k: int, top_engaged: bool, moved_engaged: bool) -> None:
        """One page whose positions 1 and ``k`` were swapped, and who was engaged where."""
        moved = self._moved.setdefault(k, [0, 0, 0])
        moved[0] += 1
        moved[1] += bool(top_engaged)
        moved[2] += bool(moved_engaged)
        self.swapped_pages += 1

    def add_unswapped(self, engaged: Sequence[bool]) -> None:
        """One page served in the ranker's order: engaged? by position."""
        while len(self._at) <= len(engaged):
            self._at.append([0, 0])
        for position, hit in enumerate(engaged, 1):
            self._at[position][0] += bool(hit)
            self._at[position][1] += 1
        self.unswapped_pages += 1

    def estimate(self, min_swaps: int = 50, pages: int = 10) -> Examination | None:
        """Examination by position from the swaps (the intervention of Joachims et al., 2017).

        Randomization makes the ranker's top document equally good whether it is shown at 1 or at k,
        so its engagement rate at k over its rate at 1 estimates examination(k) / examination(1); the
        document from k moved to 1 gives a second estimate, and the two are combined by their
        geometric mean (rates get half a pseudo-count). A power law k^-eta is fitted to the ratios
        (weighted by swaps per position), which keeps a few dozen swaps per position from giving a
        jagged curve. None with fewer than ``min_swaps`` swapped pages.
        """
        if self.swapped_pages < min_swaps or not self.unswapped_pages:
            return None
        top = max(max(self._moved), len(self._at) - 1, 2)
        at = np.zeros((top + 1, 2))  # engaged, shown of the unswapped pages' documents by position
        at[:len(self._at)] = self._at
        if at[1, 0] == 0:
            return None
        ks, ratios, weights = [], [], []
        for k in range(2, top + 1):
            if k not in self._moved or at[k, 1] == 0:
                continue
            n, top_hits, moved_hits = self._moved[k]
            top_at_k = (top_hits + 0.5) / (n + 1) / (at[1, 0] / at[1, 1])
            k_at_top = ((at[k, 0] + 0.5) / (at[k, 1] + 1)) / ((moved_hits + 0.5) / (n + 1))
            ks.append(k)
            ratios.append(np.sqrt(top_at_k * k_at_top))  # the geometric mean of the two estimates
            weights.append(n)
        if not ks:
            return None
        eta = _power_law(np.array(ks), np.array(ratios), np.array(weights, dtype=float))
        positions = np.arange(1, max(top, pages) + 1)
        support = np.zeros(len(positions))
        support[:top] = at[1:top + 1, 1]
        return Examination(positions ** -eta, support, f"swaps (eta {eta:.2f}, {self.swapped_pages} swapped pages)")


def _fill_forward(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for i in range(1, len(out)):
        if not np.isfinite(out[i]):
            out[i] = out[i - 1]
    return out

"""Ranking metrics (pure): NDCG@k from graded relevance or from per-row gains."""
from __future__ import annotations

import numpy as np


def ndcg_at_k(scores: np.ndarray, grades: np.ndarray, qid: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k (gain 2^grade - 1) over the queries with some relevant row; scores, grades, qid (n,).

    Ties in ``scores`` keep the rows' order (so the RRF order is judged as served)."""
    return ndcg_from_gains(scores, 2.0 ** np.asarray(grades, dtype=float) - 1.0, qid, k)


def ndcg_from_gains(scores: np.ndarray, gains: np.ndarray, qid: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k with the given gain per row (n,), over the queries whose best gain is positive."""
    scores, gains, qid = np.asarray(scores, dtype=float), np.asarray(gains, dtype=float), np.asarray(qid)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    order = np.argsort(qid, kind="stable")  # one slice per query (in np.unique's order), rows in their given order
    _, starts = np.unique(qid[order], return_index=True)
    for rows in np.split(order, starts[1:]):
        g = gains[rows]
        ideal = np.sort(g)[::-1][:k]
        best = float((ideal * discounts[:len(ideal)]).sum())
        if best <= 0:
            continue
        got = g[np.argsort(-scores[rows], kind="stable")][:k]
        values.append(float((got * discounts[:len(got)]).sum()) / best)
    return float(np.mean(values)) if values else 0.0

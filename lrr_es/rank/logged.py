"""The ranking features a decision record carries, so that training uses what serving saw (pure).

``logged_features`` picks the rows a learner can use: the first ``depth`` candidates of the served
order and every shown hit (clicks can only land on those), and returns them with their ids and the
feature schema id. When the search computed features (a live ranker served) those rows are reused;
otherwise they are computed here, from the same query, pool and context, with ``*_score_rel``
normalized over the same ranked head as serving would, so the values match what a ranker would have
been given. Values are rounded to 7 significant digits (XGBoost works in float32 anyway).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..config import FieldMap
from .features import candidate_features, feature_schema, schema_id, strategy_best

SIGNIFICANT = 7


def logged_features(result: Any, strategies: Sequence[str], fields: FieldMap, depth: int, limit: int,
                    now: float | None = None) -> dict | None:
    """``{"schema": id, "ids": [...], "rows": [[...], ...]}`` for a SearchResult, or None when no
    candidate qualifies (an empty pool; depth 0 and a page beyond the pool)."""
    pool = list(result.pool)
    wanted = logged_positions(pool, result.hits, depth)
    if not wanted:
        return None
    schema = feature_schema(strategies)
    served = result.features
    if served is not None and tuple(result.feature_schema) == schema and wanted[-1] < len(served):
        rows = np.asarray(served)[wanted]
    else:
        head = pool[:max(limit, wanted[-1] + 1)]
        rows = candidate_features(result.query, [pool[i] for i in wanted], strategies, fields,
                                  np.asarray(result.context, dtype=float) if len(result.context) else None,
                                  now, best=strategy_best(head, strategies))
    return {"schema": schema_id(schema), "ids": [pool[i].id for i in wanted],
            "rows": significant(rows).tolist()}


def significant(values: np.ndarray, digits: int = SIGNIFICANT) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits, elementwise: the float nearest to the
    rounded decimal (what ``float(f"{v:.7g}")`` gives, bar ties in the last digit), whose repr is that
    short decimal. Vectorized: a decision's 30 rows of about 100 features formatted one by one cost
    milliseconds of the log thread per search."""
    x = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
    exponent = np.where(np.isfinite(magnitude), magnitude, 0.0) - (digits - 1)
    scale = 10.0 ** np.abs(exponent)  # exact up to 1e22: a correctly rounded division or product by it
    small = exponent < 0  # x = k * 10**exponent with k an integer of ``digits`` digits
    with np.errstate(over="ignore", invalid="ignore"):
        digits_k = np.round(np.where(small, x * scale, x / scale))
        rounded = np.where(small, digits_k / scale, digits_k * scale)
    return np.where(np.isfinite(rounded), rounded, x)


def logged_positions(pool: Sequence[Any], hits: Sequence[dict], depth: int) -> list[int]:
    """The pool positions whose features a decision record carries: the first ``depth`` and every shown hit."""
    position = {c.id: n for n, c in enumerate(pool)}
    return sorted(set(range(min(depth, len(pool)))) | {position[h["_id"]] for h in hits if h["_id"] in position})

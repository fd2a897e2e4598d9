"""The ranking features a decision record carries, so that training uses what serving saw (pure).

``logged_features`` picks the rows a learner can use: the first ``depth`` candidates of the served
order and every shown hit (clicks can only land on those), and returns them with their ids and the
feature schema id. When the search computed features (a live ranker served) those rows are reused;
otherwise they are computed here, from the same query, pool and context, with ``*_score_rel``
normalized over the same ranked head as serving would, so the values match what a ranker would have
been given. The rows are stored as one base64 text of little-endian float32 values in row order
(``f32``; XGBoost compares float32 values anyway): encoding 30 rows of about 100 features as JSON
numbers cost the log thread 2 ms per search, this about 20 µs, and the learner decodes it as fast.
Records written before hold the rows as JSON lists (``rows``); :func:`logged_rows` reads both.
"""
from __future__ import annotations

import base64
from typing import Any, Mapping, Sequence

import numpy as np

from ..config import FieldMap
from .features import candidate_features, feature_schema, schema_id, strategy_best

F32 = np.dtype("<f4")


def logged_features(result: Any, strategies: Sequence[str], fields: FieldMap, depth: int, limit: int,
                    now: float | None = None) -> dict | None:
    """``{"schema": id, "ids": [...], "f32": base64 text of the rows}`` for a SearchResult, or None
    when no candidate qualifies (an empty pool; depth 0 and a page beyond the pool)."""
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
            "f32": base64.b64encode(np.ascontiguousarray(rows, dtype=F32).tobytes()).decode("ascii")}


def logged_rows(logged: Mapping[str, Any], width: int) -> np.ndarray:
    """The feature rows of a record's ``features`` (shape (len(ids), width), float64), from ``f32`` or,
    in records written before it, ``rows``; ValueError when they do not have that shape."""
    ids = logged.get("ids") or []
    if "f32" in logged:
        try:
            raw = base64.b64decode(str(logged["f32"]), validate=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"features.f32 is not base64: {exc}") from None
        if len(raw) != len(ids) * width * F32.itemsize:
            raise ValueError(f"features.f32 holds {len(raw)} bytes, not {len(ids)} rows of {width} float32")
        return np.frombuffer(raw, dtype=F32).reshape(len(ids), width).astype(float)
    return np.asarray(logged.get("rows") or [], dtype=float).reshape(len(ids), width)


def logged_positions(pool: Sequence[Any], hits: Sequence[dict], depth: int) -> list[int]:
    """The pool positions whose features a decision record carries: the first ``depth`` and every shown hit."""
    position = {c.id: n for n, c in enumerate(pool)}
    return sorted(set(range(min(depth, len(pool)))) | {position[h["_id"]] for h in hits if h["_id"] in position})

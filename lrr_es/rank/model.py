"""The learned ranker: XGBoost ``rank:ndcg`` with query groups, read like a scikit-learn estimator.

``LtrRanker(**params)`` stores its parameters; ``fit(X, y, group=None, qid=None, sample_weight=None)``
trains and returns self with ``model_`` (an ``xgboost.Booster``) and ``n_features_in_`` set;
``predict(X)`` returns one score per row and refuses a matrix with another feature count.
``fit_batches(batches)`` trains on the same rows given as a sequence of batches, through XGBoost's
external-memory input (``ExtMemQuantileDMatrix`` over a ``DataIter``): the quantized rows are kept in
a disk cache, never as one float matrix in memory, so a log of any size trains. A model
serializes to bytes in XGBoost's own UBJSON format (never pickle) with the feature schema, its
version and the parameters stored as booster attributes, so a loaded model knows what it expects.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import xgboost as xgb

from ..errors import ModelError
from .features import FEATURE_VERSION, schema_id
from .predict import inplace_scores

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 100, "max_depth": 5, "learning_rate": 0.1, "min_child_weight": 1.0,
    "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 1.0, "random_state": 0, "n_jobs": 1,
}


class LtrRanker:
    """A learning-to-rank model over candidate features (see lrr_es.rank.features).

    ``feature_names`` (optional at fit time) is the schema the columns follow; ``predict`` checks the
    column count, the engine checks the names before serving.
    """

    def __init__(self, n_estimators: int = 100, max_depth: int = 5, learning_rate: float = 0.1,
                 min_child_weight: float = 1.0, subsample: float = 1.0, colsample_bytree: float = 1.0,
                 reg_lambda: float = 1.0, random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's ``get_params`` gives them."""
        return {name: getattr(self, name) for name in DEFAULT_PARAMS}

    def fit(self, X: Any, y: Any, group: Sequence[int] | None = None, qid: Sequence[Any] | None = None,
            sample_weight: Sequence[float] | None = None, feature_names: Sequence[str] | None = None) -> "LtrRanker":
        """Train on X (n, f) with graded labels y (n,); returns self.

        Queries are given either as ``group`` (sizes of consecutive row blocks, summing to n) or as
        ``qid`` (n,) query ids, in which case rows are sorted by qid (stably) before the groups are
        computed. Neither: one query. ``sample_weight`` is per query, as XGBoost ranking defines it:
        shape (n_queries,), or (n,) constant within each query.
        """
        self._check_params()
        X = _matrix(X, "X")
        y = np.asarray(y, dtype=float).reshape(-1)
        if y.shape[0] != X.shape[0] or not np.isfinite(y).all() or (y < 0).any():
            raise ModelError(f"y must hold {X.shape[0]} finite non-negative grades, got shape {y.shape}")
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float).reshape(-1)
        if qid is not None:
            if group is not None:
                raise ModelError("give group or qid, not both")
            order, sizes = _sort_by_qid(qid, X.shape[0])
            X, y = X[order], y[order]
            weight = weight[order] if weight is not None and weight.shape[0] == len(order) else weight
        else:
            sizes = _check_group(group, X.shape[0])
        names = _check_names(feature_names, X.shape[1])
        data = xgb.DMatrix(X, label=y, feature_names=list(names) if names else None, nthread=self.n_jobs)
        data.set_group(sizes)
        if weight is not None:
            data.set_weight(_group_weights(weight, sizes))
        return self._train(data, X.shape[1], names)

    def fit_batches(self, batches: Callable[[], Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]],
                    feature_names: Sequence[str] | None = None, cache_dir: str | Path | None = None) -> "LtrRanker":
        """Train on rows given in batches; returns self.

        ``batches()`` yields (X (m, f), y (m,), qid (m,)) and is called once per pass XGBoost makes over
        the data; qid must not decrease from row to row across the batches (a query's rows are
        consecutive). The quantized rows are cached under ``cache_dir`` (a temporary directory by
        default) and read back page by page while the trees grow.
        """
        self._check_params()
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix="lrr-train-") as cache:
            rows = _Batches(batches, str(Path(cache) / "rows"))
            data = xgb.ExtMemQuantileDMatrix(rows, nthread=self.n_jobs, max_bin=256)
            if rows.width is None:
                raise ModelError("no rows to train on: the batches were empty")
            names = _check_names(feature_names, rows.width)
            if names:
                data.feature_names = list(names)
            return self._train(data, rows.width, names)

    def _train(self, data: xgb.DMatrix, width: int, names: tuple[str, ...] | None) -> "LtrRanker":
        booster = xgb.train(self._xgb_params(), data, num_boost_round=int(self.n_estimators))
        booster.set_param({"nthread": 1})  # one request scores a few hundred rows: threads cost more than they give
        attrs = {"lrr_params": json.dumps(self.get_params()), "lrr_feature_version": str(FEATURE_VERSION)}
        if names:
            attrs.update(lrr_feature_schema=json.dumps(list(names)), lrr_schema_id=schema_id(names))
        booster.set_attr(**attrs)
        self.model_ = booster
        self.n_features_in_ = width
        self.feature_names_in_ = names
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Scores, shape (n,), for X of shape (n, n_features_in_); higher ranks first."""
        booster = self._fitted()
        X = _matrix(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ModelError(f"X has {X.shape[1]} features, but this ranker was fitted with {self.n_features_in_}")
        if X.shape[0] == 0:
            return np.zeros(0)
        return inplace_scores(booster, X)

    @property
    def feature_importances_(self) -> dict[str, float]:
        """Total gain per feature name (features never split on are left out)."""
        gains = self._fitted().get_score(importance_type="total_gain")
        names = self.feature_names_in_
        return {(names[int(k[1:])] if names and k.startswith("f") and k[1:].isdigit() else k): float(v)
                for k, v in gains.items()}

    def importance_shares(self) -> list[tuple[str, float]]:
        """(feature, share of the total gain) of every feature split on, largest first."""
        importance = sorted(self.feature_importances_.items(), key=lambda kv: (-kv[1], kv[0]))
        total = sum(v for _, v in importance) or 1.0
        return [(name, value / total) for name, value in importance]

    @property
    def schema_id(self) -> str | None:
        """The stored schema's short name (lrr_es.rank.features.schema_id), None without names."""
        return schema_id(self.feature_names_in_) if self.feature_names_in_ else None

    def to_bytes(self) -> bytes:
        """The model in XGBoost's UBJSON format, schema and parameters included."""
        return bytes(self._fitted().save_raw(raw_format="ubj"))

    @classmethod
    def from_bytes(cls, data: bytes) -> "LtrRanker":
        """A ranker from ``to_bytes`` output; ModelError when it is not one."""
        booster = xgb.Booster(params={"nthread": 1})
        try:
            booster.load_model(bytearray(data))
            params = json.loads(booster.attr("lrr_params") or "{}")
            names = booster.attr("lrr_feature_schema")
            version = int(booster.attr("lrr_feature_version") or -1)
        except (xgb.core.XGBoostError, ValueError, TypeError) as exc:
            raise ModelError(f"not an lrr-es ranker model: {str(exc)[:200]}") from None
        ranker = cls(**{k: v for k, v in params.items() if k in DEFAULT_PARAMS})
        ranker.model_ = booster
        ranker.n_features_in_ = booster.num_features()
        ranker.feature_names_in_ = tuple(json.loads(names)) if names else None
        ranker.feature_version_ = version
        return ranker

    # --- private -----------------------------------------------------------------------------

    def _fitted(self) -> xgb.Booster:
        booster = getattr(self, "model_", None)
        if booster is None:
            raise ModelError("this LtrRanker is not fitted yet: call fit(X, y, ...) first")
        return booster

    def _xgb_params(self) -> dict[str, Any]:
        return {"objective": "rank:ndcg", "eval_metric": "ndcg@10", "max_depth": int(self.max_depth),
                "eta": float(self.learning_rate), "min_child_weight": float(self.min_child_weight),
                "subsample": float(self.subsample), "colsample_bytree": float(self.colsample_bytree),
                "lambda": float(self.reg_lambda), "seed": int(self.random_state), "nthread": int(self.n_jobs),
                "tree_method": "hist", "verbosity": 0}

    def _check_params(self) -> None:
        for name, low in (("n_estimators", 1), ("max_depth", 1), ("n_jobs", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ModelError(f"{name} must be an integer >= {low}, got {value!r}")
        for name in ("learning_rate", "subsample", "colsample_bytree"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ModelError(f"{name} must be in (0, 1], got {value!r}")


class _Batches(xgb.DataIter):
    """XGBoost's view of ``batches()``: one pass per reset, each batch checked like ``fit``'s input."""

    def __init__(self, batches: Callable[[], Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]],
                 cache_prefix: str) -> None:
        self._batches = batches
        self._current: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self.width: int | None = None
        self._last_qid: Any = None
        super().__init__(cache_prefix=cache_prefix)

    def reset(self) -> None:
        self._current, self._last_qid = None, None

    def next(self, input_data: Callable) -> bool:
        if self._current is None:
            self._current = iter(self._batches())
        for X, y, qid in self._current:
            X, y, qid = _matrix(X, "X"), np.asarray(y, dtype=float).reshape(-1), np.asarray(qid).reshape(-1)
            if X.shape[0] == 0:
                continue
            self._check(X, y, qid)
            input_data(data=X, label=y, qid=qid)
            return True
        return False

    def _check(self, X: np.ndarray, y: np.ndarray, qid: np.ndarray) -> None:
        if self.width is not None and X.shape[1] != self.width:
            raise ModelError(f"a batch has {X.shape[1]} features, the first had {self.width}")
        if y.shape[0] != X.shape[0] or not np.isfinite(y).all() or (y < 0).any():
            raise ModelError(f"y must hold {X.shape[0]} finite non-negative grades, got shape {y.shape}")
        if qid.shape[0] != X.shape[0]:
            raise ModelError(f"qid must have one entry per row ({X.shape[0]}), got shape {qid.shape}")
        if (np.diff(qid) < 0).any() or (self._last_qid is not None and qid[0] < self._last_qid):
            raise ModelError("qid must not decrease across the batches: a query's rows must be consecutive")
        self.width, self._last_qid = X.shape[1], qid[-1]


def _matrix(X: Any, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ModelError(f"{name} must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    return X


def _sort_by_qid(qid: Sequence[Any], n: int) -> tuple[np.ndarray, list[int]]:
    ids = np.asarray(qid)
    if ids.shape != (n,):
        raise ModelError(f"qid must have one entry per row ({n}), got shape {ids.shape}")
    order = np.argsort(ids, kind="stable")
    _, sizes = np.unique(ids[order], return_counts=True)
    return order, sizes.tolist()


def _check_group(group: Sequence[int] | None, n: int) -> list[int]:
    if group is None:
        return [n]
    sizes = [int(g) for g in group]
    if any(g < 1 for g in sizes) or sum(sizes) != n:
        raise ModelError(f"group sizes must be positive and sum to {n} rows, got {sizes[:10]}{'...' if len(sizes) > 10 else ''}")
    return sizes


def _group_weights(weight: np.ndarray, sizes: list[int]) -> np.ndarray:
    if weight.shape[0] == len(sizes):
        return weight
    if weight.shape[0] != sum(sizes):
        raise ModelError(f"sample_weight must have one entry per query ({len(sizes)}) or per row ({sum(sizes)}), "
                         f"got {weight.shape[0]}")
    starts = np.cumsum([0] + sizes[:-1])
    per_group = weight[starts]
    if not np.allclose(weight, np.repeat(per_group, sizes)):
        raise ModelError("sample_weight varies within a query; XGBoost ranking weighs whole queries")
    return per_group


def _check_names(names: Sequence[str] | None, width: int) -> tuple[str, ...] | None:
    if names is None:
        return None
    names = tuple(names)
    if len(names) != width:
        raise ModelError(f"feature_names has {len(names)} names for {width} columns")
    return names

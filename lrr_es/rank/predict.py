"""Scores of a dense float32 matrix from an XGBoost booster, as ``Booster.inplace_predict`` gives them.

``inplace_scores(booster, X)`` calls XGBoost's C function ``XGBoosterPredictFromDense`` (what
``inplace_predict`` calls) with a proxy DMatrix kept per thread. ``inplace_predict`` creates a proxy
on every call, and creating one reads the cgroup CPU quota files (four system calls on /sys, about
0.05-0.1 ms), besides its Python checks for pandas, arrow, cupy and the like: together a fifth of
the budget for ranking 200 candidates. The C API is XGBoost's stable one; only the handle to the
loaded library (``xgboost.core._LIB``) is internal, so when it is missing this falls back to
``inplace_predict``. The scores are the same numbers either way (tests/unit/test_rank_model.py).
"""
from __future__ import annotations

import ctypes
import json
import threading

import numpy as np
import xgboost as xgb

_CONFIG = json.dumps({"type": 0, "training": False, "iteration_begin": 0, "iteration_end": 0,
                      "missing": float("nan"), "strict_shape": False, "cache_id": 0}).encode()
_LIB = getattr(xgb.core, "_LIB", None)
_local = threading.local()


def inplace_scores(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """The booster's scores of ``X`` (n, f), shape (n,) float64. ``X`` is converted to a C-contiguous
    float32 array first (XGBoost compares float32 values with float32 split thresholds anyway)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if _LIB is None or not hasattr(_LIB, "XGBoosterPredictFromDense"):
        return np.asarray(booster.inplace_predict(X, validate_features=False), dtype=float).reshape(-1)
    shape = ctypes.POINTER(ctypes.c_uint64)()
    dims = ctypes.c_uint64()
    scores = ctypes.POINTER(ctypes.c_float)()
    _check(_LIB.XGBoosterPredictFromDense(booster.handle, json.dumps(X.__array_interface__).encode(), _CONFIG,
                                          _proxy(), ctypes.byref(shape), ctypes.byref(dims), ctypes.byref(scores)))
    size = int(np.prod([shape[i] for i in range(dims.value)])) if dims.value else 0
    if size != X.shape[0]:
        raise ValueError(f"XGBoost returned {size} scores for {X.shape[0]} rows")
    # the buffer belongs to the booster and is reused by its next prediction: copy it out now
    return np.ctypeslib.as_array(scores, (size,)).astype(float) if size else np.zeros(0)


class _Proxy:
    """A proxy DMatrix handle, freed with its thread."""

    def __init__(self) -> None:
        self.handle = ctypes.c_void_p()
        _check(_LIB.XGProxyDMatrixCreate(ctypes.byref(self.handle)))

    def __del__(self) -> None:
        if self.handle and _LIB is not None:
            _LIB.XGDMatrixFree(self.handle)


def _proxy() -> ctypes.c_void_p:
    proxy = getattr(_local, "proxy", None)
    if proxy is None:
        proxy = _local.proxy = _Proxy()
    return proxy.handle


def _check(code: int) -> None:
    if code != 0:
        raise xgb.core.XGBoostError(_LIB.XGBGetLastError().decode() if _LIB is not None else "prediction failed")

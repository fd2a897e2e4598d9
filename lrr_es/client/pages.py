"""Pages after the first: the ranked pool of a recent search, kept so page 2 continues page 1.

The engine ranks a fresh pool for every search, and its plan and the explore strategy are drawn at
random, so a page-2 request run from scratch could repeat page-1 hits or skip others. The wrapper
keeps the ranked ids of each recent first page (bounded, for ``ttl`` seconds) and serves the next
pages from them; only a page beyond the pool runs a search again (the engine's lexical fallback).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Mapping

from cachetools import TTLCache

from .translate import EngineRequest


@dataclass(frozen=True)
class RankedPool:
    """The ranked pool of one served search: (id, index, type, score) per candidate, and its lrr section."""

    entries: tuple[tuple[str, str | None, str | None, float], ...]
    lrr: Mapping[str, Any]


def pool_key(request: EngineRequest, context: Any) -> str:
    """What makes two requests pages of one result list: index, text, every filter and the context."""
    return json.dumps([request.index, request.text, list(request.filters), context], sort_keys=True, default=str)


class PageCache:
    """Recent ranked pools by :func:`pool_key`, at most ``maxsize`` for ``ttl`` seconds (thread-safe)."""

    def __init__(self, maxsize: int = 1024, ttl: float = 600.0) -> None:
        self._pools: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl)
        self._lock = threading.Lock()

    def put(self, key: str, pool: RankedPool) -> None:
        with self._lock:
            self._pools[key] = pool

    def get(self, key: str) -> RankedPool | None:
        with self._lock:
            return self._pools.get(key)

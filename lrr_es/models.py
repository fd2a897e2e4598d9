"""The lrr-models index: one document per stored model (gazetteer, semantic model, policy, ranker).

Each document carries a ``version`` that counts publications; saving a model writes the next one.
Serving processes read every kind of artifact through one cache, :class:`ModelCache`.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from elasticsearch import Elasticsearch

from . import es as esio
from .errors import ConfigError
from .names import MODELS_INDEX

Reader = Callable[[Elasticsearch, str], Any]


def stored_version(es: Elasticsearch, doc_id: str) -> int:
    """The ``version`` of lrr-models document ``doc_id`` (its artifact is not read); 0 when there is none."""
    found = esio.get_document(es, MODELS_INDEX, doc_id, source_excludes=["artifact"])
    return int(((found or {}).get("_source") or {}).get("version", 0))


class ModelCache:
    """In-process artifacts of lrr-models by alias, for every kind (gazetteer, semantic, policy, ranker).

    ``load(es, alias)`` reads and decodes the artifact (None when there is none); ``version(es,
    alias)`` reads only its version (cheap). Within ``ttl`` seconds of the last check the cached
    artifact is returned without I/O; after that the version is read and the artifact loaded again
    only when the version differs from the cached one's, so an unchanged artifact is never decoded
    twice and the same object keeps being returned. A load that raises caches nothing (the next call
    tries again). Thread-safe; ``loads`` counts artifact loads.
    """

    def __init__(self, load: Reader, version: Reader, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl < 0:
            raise ConfigError(f"ttl must be a non-negative number of seconds, got {ttl!r}")
        self.load, self.version, self.ttl, self.clock = load, version, float(ttl), clock
        self._entries: dict[str, tuple[Any, Any, float]] = {}  # alias -> (artifact, version, checked at)
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, es: Elasticsearch, alias: str) -> Any:
        """The current artifact of ``alias`` (None when none is stored)."""
        now = self.clock()
        with self._lock:
            cached = self._entries.get(alias)
        if cached is not None and now - cached[2] < self.ttl:
            return cached[0]
        version = self.version(es, alias)
        if cached is not None and version == cached[1]:
            value = cached[0]
        else:
            value = self.load(es, alias)
            with self._lock:
                self.loads += 1
        with self._lock:
            self._entries[alias] = (value, version, now)
        return value

    def forget(self, alias: str | None = None) -> None:
        """Drop the cached artifact of ``alias`` (of every alias when None)."""
        with self._lock:
            if alias is None:
                self._entries.clear()
            else:
                self._entries.pop(alias, None)

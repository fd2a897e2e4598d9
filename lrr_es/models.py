"""The lrr-models index: one document per stored model (gazetteer, semantic model, policy, ranker).

Each document carries a ``version`` that counts publications; saving a model writes the next one.
Serving processes read every kind of artifact through one cache, :class:`ModelCache`.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from elasticsearch import Elasticsearch

from . import es as esio
from .errors import ConfigError, EsUnavailableError
from .names import MODELS_INDEX

log = logging.getLogger(__name__)
Reader = Callable[[Elasticsearch, str], Any]
# What a read of lrr-models raises when the store cannot answer (node down or restarting, index closed,
# shards unavailable): the client's connection errors and error answers (readers handle 404 themselves)
UNREACHABLE = (*esio.TransportErrors, esio.ApiError, EsUnavailableError)


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
    tries again). While lrr-models cannot be read (see UNREACHABLE) the artifact read before keeps
    serving, stale, and the next read is tried ``ttl`` seconds later; with nothing read before, that is
    an EsUnavailableError. Thread-safe; ``loads`` counts artifact loads.
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
        try:
            version = self.version(es, alias)
            if cached is not None and version == cached[1]:
                value = cached[0]
            else:
                value = self.load(es, alias)
                with self._lock:
                    self.loads += 1
        except UNREACHABLE as exc:
            return self._stale(alias, cached, now, exc)
        with self._lock:
            self._entries[alias] = (value, version, now)
        return value

    def _stale(self, alias: str, cached: tuple[Any, Any, float] | None, now: float, exc: Exception) -> Any:
        """The artifact read before, kept for another ``ttl`` while lrr-models cannot be read."""
        reason = f"{type(exc).__name__}: {exc}"[:300]
        if cached is None:
            raise EsUnavailableError(f"lrr-models could not be read for {alias} ({reason})") from None
        log.warning("lrr-models could not be read for %s (%s); serving the copy read before", alias, reason)
        with self._lock:
            self._entries[alias] = (cached[0], cached[1], now)
        return cached[0]

    def forget(self, alias: str | None = None) -> None:
        """Drop the cached artifact of ``alias`` (of every alias when None)."""
        with self._lock:
            if alias is None:
                self._entries.clear()
            else:
                self._entries.pop(alias, None)

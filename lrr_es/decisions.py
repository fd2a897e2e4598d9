"""Decision logging: one ``lrr-decisions`` document per search, written off the hot path.

``decision_document`` (pure) turns a served search into the logged record: the query and its Q2E
key, the plan with propensities, the bandit's whole Decision (``bandit``: every offered arm's
propensity, quotas, budget, costs, propensity method, policy and version; null for an explicit plan,
which learning and off-policy evaluation skip), every candidate of the pool with its provenance, the shown order
(and the positions a randomized swap exchanged, or on a trial page the interleaving team of each shown
hit: ``interleave``), the ranking features of the first candidates and the
shown hits (lrr_es.rank.logged), each sub-search's ``took`` (Elasticsearch's, ms) and status (ok,
timed_out, failed), failures and versions. ``DecisionLog`` queues records and a background thread writes them with
``_bulk`` in batches, each record on its own (a record that cannot be built or sent is counted in
``stats.failed`` and never costs the others); a search never waits for it. When Elasticsearch is down the thread retries
with backoff; when the bounded queue is full the newest record is dropped and counted (a log that
slows or fails searches would be worse than a gap in the log), and ``stats`` says so.

Memory: a search's result holds every candidate's ``_source`` (hundreds of KB), so the engine queues
``log_input(result, ...)`` instead: the ids, provenance and scores of the whole pool, the sources
only of the candidates whose features the record logs, and its approximate size. The queue is also
bounded in those bytes (``max_bytes``): past it a record is shed, counted in ``stats.shed`` and the
first shed is logged, until the writer catches up.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, NamedTuple, Sequence, Union

import numpy as np

from elasticsearch import Elasticsearch

from . import es as esio
from .errors import LrrError
from .names import DECISIONS_INDEX
from .rank.features import feature_schema
from .rank.logged import logged_positions

log = logging.getLogger(__name__)


def decision_document(result: Any, timestamp_ms: int | None = None,
                      features: Callable[[], dict | None] | None = None) -> dict:
    """The lrr-decisions record of a SearchResult (``_id`` = search id).

    ``features`` builds the logged ranking features (lrr_es.rank.logged.logged_features) or is None.
    """
    logged = features() if features is not None else None
    return {
        "search_id": result.search_id,
        "timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        "index": result.index,
        "query": result.query.text,
        "q2e_key": result.query.key,
        "context": list(result.context),
        "plan": [{"strategy": i.strategy, "quota": i.quota, "propensity": i.propensity} for i in result.plan],
        "policy_version": result.versions.get("policy"),
        "bandit": result.decision.to_dict() if getattr(result, "decision", None) is not None else None,
        "ranker_version": result.versions.get("ranker"),
        "candidates": [{"id": c.id, "fused": round(c.fused, 6),
                        "found": {p.strategy: [p.rank, round(p.score, 4)] for p in c.provenance}}
                       for c in result.pool],
        "shown": [h["_id"] for h in result.hits],
        "swap": list(result.swap) if getattr(result, "swap", None) else None,
        "feature_schema": logged["schema"] if logged else None,
        "features": {"ids": logged["ids"], "f32": logged["f32"]} if logged else None,
        "failed_strategies": sorted(result.failed),
        "subsearches": {r.strategy: {"took": r.took_ms, "status": r.status} for r in result.results},
        "took_ms": round(result.timings.get("total", 0.0), 3),
        # only on trial pages: a log index created before the field existed keeps taking the others
        **({"interleave": dict(result.interleave)} if getattr(result, "interleave", None) else {}),
    }


_NO_SOURCE: dict = {}  # the source of a candidate whose features are not logged (never mutated)
_FIXED_BYTES = 4096  # query, plan, decision, context, timings: small and bounded
_CANDIDATE_BYTES, _PROVENANCE_BYTES = 160, 120  # a Candidate and each of its provenance entries, roughly


class LoggedCandidate(NamedTuple):
    """What the record reads of a pool candidate (lrr_es.merge.Candidate's fields of that name):
    a tuple, as a frozen dataclass copy per candidate costs the search thread a few microseconds each."""

    id: str
    source: dict
    provenance: tuple
    fused: float


def log_input(result: Any, strategies: Sequence[str], feature_depth: int | None) -> tuple[Any, int]:
    """What the decision record of a SearchResult needs, and its approximate size in bytes (pure).

    Built on the search thread: ``decision_document`` of the returned result equals that of ``result``.
    It keeps the ids, provenance and scores of the whole pool, the ids of the shown hits and the failed
    strategies, but ``_source`` only of the candidates whose features are logged (the first
    ``feature_depth`` and the shown hits, lrr_es.rank.logged; none when ``feature_depth`` is None or the
    search's own feature rows cover them) and never the strategies' hits nor the extra answers.
    """
    pool, served = tuple(result.pool), result.features
    keep: set[int] = set()
    if feature_depth is not None:
        wanted = logged_positions(pool, result.hits, feature_depth)
        covered = (served is not None and wanted and tuple(result.feature_schema) == feature_schema(strategies)
                   and wanted[-1] < len(served))
        if covered:
            served = np.asarray(served)[:wanted[-1] + 1]
        else:  # logged_features computes them from these sources
            served, keep = None, set(wanted)
    compact = replace(result, hits=[{"_id": h["_id"]} for h in result.hits],
                      results=tuple(replace(r, hits=()) for r in result.results), extra=(), pool_scores=(),
                      pool=tuple(LoggedCandidate(c.id, c.source if n in keep else _NO_SOURCE, c.provenance, c.fused)
                                 for n, c in enumerate(pool)),
                      features=served if feature_depth is not None else None)
    sources = json.dumps([pool[n].source for n in sorted(keep)], default=str)
    size = (_FIXED_BYTES + len(sources) + sum(_CANDIDATE_BYTES + len(c.id) + _PROVENANCE_BYTES * len(c.provenance)
                                              for c in pool)
            + (np.asarray(compact.features).nbytes if compact.features is not None else 0))
    return compact, size


Record = Union[dict, Callable[[], dict]]


@dataclass
class LogStats:
    queued: int = 0
    written: int = 0
    dropped: int = 0  # queue full
    failed: int = 0  # rejected by Elasticsearch after retries
    shed: int = 0  # over max_bytes: the queued records held too many bytes
    held_bytes: int = 0  # approximate bytes of the records queued or being written
    peak_bytes: int = 0  # the most held_bytes ever was


class DecisionLog:
    """A bounded queue of decision records and one writer thread (started on first use)."""

    def __init__(self, es: Elasticsearch, batch: int = 200, flush_s: float = 1.0, max_queue: int = 10_000,
                 retries: int = 5, max_bytes: int = 64 * 2 ** 20) -> None:
        self.es, self.batch, self.flush_s, self.retries = es, batch, flush_s, retries
        self.max_bytes = max_bytes
        self._queue: queue.Queue[tuple[Record, int] | None] = queue.Queue(maxsize=max_queue)
        self._bytes_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self.stats = LogStats()

    def log(self, record: Record, size: int | None = None) -> bool:
        """Queue one record, or a callable that builds it; False (and counted) when the queue is full or
        holds ``max_bytes`` already. ``size``: the record's approximate bytes (``log_input``; default: a
        dict's JSON length, 0 for a callable).

        Never blocks.
        """
        self._ensure_thread()
        if size is None:
            size = len(json.dumps(record, default=str)) if isinstance(record, dict) else 0
        if not self._hold(size):
            return False
        try:
            self._idle.clear()
            self._queue.put_nowait((record, size))
            self.stats.queued += 1
            return True
        except queue.Full:
            self._release(size)
            self.stats.dropped += 1
            if self.stats.dropped == 1 or self.stats.dropped % 1000 == 0:
                log.warning("decision log queue full: %d decision(s) dropped so far", self.stats.dropped)
            return False

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued record was written (or given up on)."""
        deadline = time.monotonic() + timeout
        while not (self._queue.empty() and self._idle.is_set()):
            if time.monotonic() > deadline:
                raise LrrError(f"decision log: {self._queue.qsize()} record(s) still queued after {timeout}s")
            time.sleep(0.01)
        esio.refresh(self.es, DECISIONS_INDEX)

    def _hold(self, size: int) -> bool:
        with self._bytes_lock:
            if self.stats.held_bytes + size > self.max_bytes:
                self.stats.shed += 1
                if self.stats.shed == 1:
                    log.warning("decision log holds %d bytes (max_bytes %d): decisions are shed until the writer "
                                "catches up (stats.shed counts them; logged once)",
                                self.stats.held_bytes, self.max_bytes)
                return False
            self.stats.held_bytes += size
            self.stats.peak_bytes = max(self.stats.peak_bytes, self.stats.held_bytes)
            return True

    def _release(self, size: int) -> None:
        with self._bytes_lock:
            self.stats.held_bytes -= size

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="lrr-decision-log", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            pending: list[tuple[Record, int]] = []
            stop = False
            try:
                item = self._queue.get(timeout=self.flush_s)
            except queue.Empty:
                self._idle.set()
                continue
            deadline = time.monotonic() + self.flush_s
            while item is not None:
                pending.append(item)
                if len(pending) >= self.batch:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            stop = item is None
            if pending:
                try:
                    self._write([record for record, _ in pending])
                finally:
                    self._release(sum(size for _, size in pending))
            if self._queue.empty():
                self._idle.set()
            if stop:
                return

    def _write(self, items: list[Record]) -> None:
        """Bulk-index the records, each on its own: a record that cannot be built, encoded or stored is
        counted and logged, never the others; what failed for a transient reason is retried."""
        units = []
        for item in items:
            try:
                record = item() if callable(item) else item
                units.append([{"index": {"_index": DECISIONS_INDEX, "_id": record["search_id"]}}, record])
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the writer
                self.stats.failed += 1
                log.warning("decision log: record not built: %r", exc)
        for attempt in range(self.retries + 1):
            if not units:
                return
            try:
                results = esio.bulk_units(self.es, units)
            except Exception as exc:  # noqa: BLE001 - a log writer must outlive any client error
                log.debug("decision log: bulk failed: %s", exc)
                results = [{"status": None}] * len(units)
            retry = []
            for unit, result in zip(units, results):
                status = result.get("status")
                if status in (200, 201):
                    self.stats.written += 1
                elif _transient(status):
                    retry.append(unit)
                else:
                    self.stats.failed += 1
                    log.warning("decision log: record %s refused: %s", unit[1].get("search_id"), result.get("error"))
            units = retry
            if units and attempt < self.retries:
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
        self.stats.failed += len(units)
        log.warning("decision log: %d record(s) not written after %d attempts", len(units), self.retries + 1)


def _transient(status: Any) -> bool:
    """Whether a record answered ``status`` (None: the request failed) may be written on a retry."""
    return not isinstance(status, int) or status == 429 or status >= 500

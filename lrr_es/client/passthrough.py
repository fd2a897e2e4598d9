"""Counts of the searches the client wrapper passed through to Elasticsearch unchanged, by reason.

``PassThroughCounts.add`` is on the pass-through path, so it only increments two counters under a
lock (and logs a reason the first time it is seen). Given a client, a daemon thread started at the
first pass-through writes the counts gathered since its last write to ``lrr-passthrough`` every
``interval_s`` seconds, one document per (index, reason) — a handful of small documents per
interval whatever the traffic — so the admin panel can chart them. A write that fails keeps its
counts for the next one; while ``lrr-passthrough`` does not exist (``lrr-es migrate`` creates it)
nothing is written and the counts wait. ``close`` writes what is left.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from typing import Any

from .. import es as esio
from ..names import PASSTHROUGH_INDEX

log = logging.getLogger(__name__)
MAX_KEYS = 1000  # distinct (index, reason) pairs waiting to be written; past it, one (OTHER, reason) per reason
OTHER = "(other)"
NO_INDEX = "(none)"


def index_label(index: Any) -> str:
    """What a pass-through's ``index`` argument is recorded as (pure): the name, names joined by
    commas, or "(none)"; at most 200 characters."""
    if index is None or index == "":
        return NO_INDEX
    if isinstance(index, (list, tuple)):
        return ",".join(str(i) for i in index)[:200] or NO_INDEX
    return str(index)[:200]


def passthrough_documents(counts: Counter, timestamp_ms: int, process: str) -> list[dict]:
    """The lrr-passthrough documents of ``counts`` by (index, reason) (pure)."""
    return [{"timestamp": timestamp_ms, "index": index, "reason": reason, "count": n, "process": process}
            for (index, reason), n in sorted(counts.items()) if n > 0]


class PassThroughCounts:
    """How many searches passed through, by reason (thread-safe); each reason is logged once.

    ``snapshot()`` is every count since the wrapper was made. With ``es`` (a client), the counts are
    also written to lrr-passthrough every ``interval_s`` seconds (see the module's doc).
    """

    def __init__(self, es: Any = None, interval_s: float = 30.0) -> None:
        self._counts: Counter[str] = Counter()
        self._pending: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._es, self.interval_s = es, float(interval_s)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._process = f"{socket.gethostname()}:{os.getpid()}"
        self.written = 0  # documents written
        self._warned = False

    def add(self, reason: str, detail: str = "", index: Any = None) -> None:
        key = (index_label(index), reason)
        with self._lock:
            first = reason not in self._counts
            self._counts[reason] += 1
            if key not in self._pending and len(self._pending) >= MAX_KEYS:
                key = (OTHER, reason)
            self._pending[key] += 1
            start = self._es is not None and self._thread is None
            if start:
                self._thread = threading.Thread(target=self._run, name="lrr-passthrough", daemon=True)
        if start:
            self._thread.start()
        if first:
            log.info("lrr-es passes searches through to Elasticsearch: %s%s (logged once per reason)", reason,
                     f" ({detail})" if detail else "")

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> int:
        """Write the counts gathered since the last write; the documents written (0 when nothing is
        pending, there is no client, or the write failed: the counts then wait for the next one)."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending or self._es is None:
            return 0
        docs = passthrough_documents(pending, int(time.time() * 1000), self._process)
        try:
            if not esio.index_exists(self._es, PASSTHROUGH_INDEX):
                raise LookupError(f"{PASSTHROUGH_INDEX} does not exist (lrr-es migrate creates it)")
            items = esio.bulk_items(self._es, [line for d in docs for line in ({"index": {"_index": PASSTHROUGH_INDEX}}, d)])
        except Exception as exc:  # noqa: BLE001 - counting must never fail the app; the counts wait
            self._keep(pending)
            self._warn(f"pass-through counts not written (kept for the next try): {str(exc)[:300]}")
            return 0
        refused = [item for item in items if item.get("status", 500) >= 300]
        if refused:  # refused for their content: trying again would not help
            self._warn(f"{len(refused)} pass-through count document(s) refused: {str(refused[0].get('error'))[:300]}")
        self.written += len(docs) - len(refused)
        return len(docs) - len(refused)

    def close(self) -> None:
        """Stop the writer thread and write what is left."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(5.0, self.interval_s))
        self.flush()

    def _warn(self, message: str) -> None:
        if not self._warned:  # once per wrapper: the app's log is not the place for a stream of these
            self._warned = True
            log.warning(message)

    def _keep(self, pending: Counter) -> None:
        with self._lock:
            for key, n in pending.items():
                if key not in self._pending and len(self._pending) >= MAX_KEYS:
                    key = (OTHER, key[1])
                self._pending[key] += n

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

"""The feedback writer: validate, queue, write events to lrr-events and Q2E updates to the catalog.

``feedback()`` validates and enqueues; one background thread drains the queue in batches:

1. resolve each event's search (explicit query+index, the in-process map of recent searches, else
   the decision logged in lrr-decisions, one _mget per batch) and cap its Q2E increment;
2. create the events in lrr-events under their event ids (one _bulk; 409 = already stored: a
   duplicate, unless this writer sent it before, which means an earlier attempt got through);
3. apply the Q2E increments of the newly stored events (one _bulk of scripted updates).

Elasticsearch down or slow: the batch is retried with exponential backoff, the queue fills, then
``feedback()`` blocks up to ``block_timeout_s`` and raises FeedbackBacklogError. ``close()`` flushes
until its timeout and spools whatever is left to a JSONL file, replayed by the next writer.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from elasticsearch import Elasticsearch

from .. import es as esio
from ..config import Config
from ..errors import EsUnavailableError, FeedbackBacklogError, FeedbackError
from ..names import DECISIONS_INDEX
from .cap import SessionCap
from .events import BUILTIN_ACTIONS, FeedbackEvent, make_event
from .plan import RecentSearches, Resolved, context_from_decision, event_lines, plan_updates, resolve
from .spool import default_spool_path, read_spool, write_spool
from .ubi import ubi_feedback

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 5.0


@dataclass
class _Item:
    event: FeedbackEvent
    attempted: bool = False  # a write of it may have reached Elasticsearch
    replayed: bool = False


@dataclass
class WriterStats:
    """Counters of one writer since it started (events unless named otherwise)."""

    accepted: int = 0
    written: int = 0  # newly stored in lrr-events
    duplicates: int = 0  # already stored: counted once
    orphans: int = 0
    capped: int = 0
    q2e_events: int = 0  # events whose increment reached a document
    q2e_updates: int = 0  # scripted update requests (fewer than q2e_events when coalesced)
    missing_docs: int = 0  # events whose document is not in the index
    rejected: int = 0  # refused by Elasticsearch for good (logged)
    retries: int = 0  # batch requests retried after a failure
    replayed: int = 0  # read back from the spool at start
    spooled: int = 0  # left unwritten at close, saved to the spool
    spool_path: str = ""


class _GiveUp(Exception):
    def __init__(self, remaining: list[_Item]) -> None:
        super().__init__(f"{len(remaining)} events left")
        self.remaining = remaining


class FeedbackWriter:
    """Accepts feedback events and writes them durably, with their Q2E memory updates, in batches.

    One writer per process; thread-safe. ``recent`` is shared with the engine, which records each
    search there so that feedback finds its query without a lookup.
    """

    def __init__(self, es: Elasticsearch, config: Config, recent: RecentSearches | None = None,
                 spool_path: str | Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.es, self.config, self.fb = es, config, config.feedback
        self.recent = recent if recent is not None else RecentSearches()
        self.clock = clock
        self.actions = tuple(sorted(set(BUILTIN_ACTIONS) | set(self.fb.weights)))
        self.cap = SessionCap.from_config(self.fb)
        self.request_timeout = min(config.elasticsearch.timeout, 10.0)
        path = spool_path or self.fb.spool_path
        self.spool_path = Path(path).expanduser() if path else default_spool_path()
        self.stats = WriterStats(spool_path=str(self.spool_path))
        self._queue: deque[_Item] = deque()
        self._in_flight: list[_Item] = []
        self._leftover: list[_Item] = []
        self._cond = threading.Condition()
        self._closing = self._closed = False
        self._close_deadline = float("inf")
        self._replay_left = 0
        self._replay()
        self._thread = threading.Thread(target=self._run, name="lrr-feedback-writer", daemon=True)
        self._thread.start()
        atexit.register(self._atexit)

    # --- public ------------------------------------------------------------------------------

    def feedback(self, search_id: str | None, doc_id: str, action: str, position: int | None = None,
                 session_id: str | None = None, event_id: str | None = None, timestamp: Any = None,
                 value: float | None = None, query: str | None = None, index: str | None = None) -> str:
        """Validate and queue one event; its event id. Blocks while the queue is full (see module doc)."""
        event = make_event(search_id, doc_id, action, position=position, session_id=session_id, event_id=event_id,
                           timestamp=timestamp, value=value, query=query, index=index, now_ms=self._now_ms(),
                           actions=self.actions)
        self._enqueue(_Item(event))
        return event.event_id

    def feedback_many(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Validate every event (FeedbackError names the first bad one by position), then queue them all."""
        built = []
        for n, raw in enumerate(events):
            if not isinstance(raw, Mapping):
                raise FeedbackError(f"event #{n} must be a mapping of feedback arguments, got {type(raw).__name__}")
            unknown = set(raw) - _ARGUMENTS
            if unknown:
                raise FeedbackError(f"event #{n}: unknown field(s) {sorted(unknown)} (known: {', '.join(sorted(_ARGUMENTS))})")
            try:
                built.append(make_event(raw.get("search_id"), raw.get("doc_id"), raw.get("action"),
                                        now_ms=self._now_ms(), actions=self.actions,
                                        **{k: v for k, v in raw.items() if k not in ("search_id", "doc_id", "action")}))
            except FeedbackError as exc:
                raise FeedbackError(f"event #{n}: {exc}") from None
        for n, event in enumerate(built):
            try:
                self._enqueue(_Item(event))
            except FeedbackBacklogError as exc:
                raise FeedbackBacklogError(f"{exc}; {n} of {len(built)} events were queued") from None
        return [e.event_id for e in built]

    def feedback_ubi(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Feedback from OpenSearch User Behavior Insights events (see lrr_es.feedback.ubi for the
        mapping); validated like ``feedback_many``: a bad event is named and nothing is queued."""
        if isinstance(events, Mapping):
            events = [events]
        converted = []
        for n, event in enumerate(events):
            try:
                converted.append(ubi_feedback(event))
            except FeedbackError as exc:
                raise FeedbackError(f"event #{n}: {exc}") from None
        return self.feedback_many(converted)

    def remember_search(self, search_id: str, index: str, query: str, timestamp_ms: int | None = None) -> None:
        """Record a served search so that its feedback needs no lookup."""
        self.recent.remember(search_id, index, query, timestamp_ms or self._now_ms())

    @property
    def pending(self) -> int:
        """Events accepted but not yet written (queued or in flight)."""
        with self._cond:
            return len(self._queue) + len(self._in_flight)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every accepted event is written; False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> WriterStats:
        """Write what can be written within ``timeout``, spool the rest; the stats (``spooled``: not written)."""
        with self._cond:
            if self._closed:
                return self.stats
            self._closing, self._close_deadline = True, time.monotonic() + timeout
            self._cond.notify_all()
        self._thread.join(timeout + self.request_timeout + 1.0)
        with self._cond:
            self._closed = True
            left = self._leftover + self._in_flight + list(self._queue)
            self._queue.clear()
            self._in_flight, self._leftover = [], []
        if left or self._replay_left or self.spool_path.exists():
            self.stats.spooled = write_spool(self.spool_path, ((i.event, i.attempted) for i in left))
        if self.stats.spooled:
            log.warning("feedback writer closed with %d events not written; spooled to %s (replayed at next start)",
                        self.stats.spooled, self.spool_path)
        atexit.unregister(self._atexit)
        return self.stats

    def __enter__(self) -> "FeedbackWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- queue -------------------------------------------------------------------------------

    def _enqueue(self, item: _Item) -> None:
        deadline = time.monotonic() + self.fb.block_timeout_s
        with self._cond:
            while len(self._queue) >= self.fb.queue_size and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FeedbackBacklogError(
                        f"feedback queue full: {len(self._queue)} events waiting (queue_size {self.fb.queue_size}) "
                        f"for {self.fb.block_timeout_s}s; Elasticsearch at {self.config.elasticsearch.url} is down "
                        f"or too slow ({self.stats.retries} retried requests)")
                self._cond.wait(remaining)
            if self._closing:
                raise FeedbackBacklogError("the feedback writer is closed")
            self._queue.append(item)
            self.stats.accepted += 1
            self._cond.notify_all()

    def _replay(self) -> None:
        items = read_spool(self.spool_path)
        for event, attempted in items:
            self._queue.append(_Item(event, attempted, replayed=True))
        self._replay_left = self.stats.replayed = len(items)
        if items:
            log.info("replaying %d feedback events from %s", len(items), self.spool_path)

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_batch()
                if batch is None:
                    return
            try:
                self._write(batch)
            except _GiveUp as give_up:
                with self._cond:
                    self._leftover += give_up.remaining
            except Exception:  # never let the thread die with events in hand: keep them for the spool
                log.exception("feedback writer failed on a batch of %d events; kept for the spool", len(batch))
                with self._cond:
                    self._leftover += batch
            with self._cond:
                self._finish_replayed(batch)
                self._in_flight = []
                self._cond.notify_all()

    def _next_batch(self) -> list[_Item] | None:
        while not self._queue:
            if self._closing:
                return None
            self._cond.wait(0.5)
        if self._closing and time.monotonic() > self._close_deadline:
            return None  # out of time: what is queued goes to the spool
        fill_until = time.monotonic() + self.fb.flush_ms / 1000
        while len(self._queue) < self.fb.batch_size and not self._closing:
            remaining = fill_until - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        batch = [self._queue.popleft() for _ in range(min(self.fb.batch_size, len(self._queue)))]
        self._in_flight = batch
        self._cond.notify_all()
        return batch

    def _finish_replayed(self, batch: list[_Item]) -> None:
        if not self._replay_left:
            return
        self._replay_left -= sum(1 for i in batch if i.replayed)
        if self._replay_left <= 0 and not self._leftover:
            self.spool_path.unlink(missing_ok=True)  # every replayed event is stored: the spool is done

    # --- one batch ---------------------------------------------------------------------------

    def _write(self, batch: list[_Item]) -> None:
        batch = self._unique(batch)
        contexts = self._contexts(batch)
        resolved = [resolve(i.event, contexts.get(i.event.search_id), self.fb, self.cap) for i in batch]
        stored = self._store_events(list(zip(batch, resolved)))
        self._apply_q2e(stored)

    def _unique(self, batch: list[_Item]) -> list[_Item]:
        seen: dict[str, _Item] = {}
        for item in batch:
            if item.event.event_id in seen:
                self.stats.duplicates += 1
            else:
                seen[item.event.event_id] = item
        return list(seen.values())

    def _contexts(self, batch: list[_Item]) -> dict:
        contexts, wanted = {}, set()
        for item in batch:
            event = item.event
            if event.search_id is None or (event.query is not None and event.index is not None):
                continue
            known = self.recent.get(event.search_id)
            if known is not None:
                contexts[event.search_id] = known
            else:
                wanted.add(event.search_id)
        attempt = 0
        while wanted:
            try:
                found = esio.mget_sources(self.es, DECISIONS_INDEX, sorted(wanted), ["index", "query", "timestamp"],
                                          self.request_timeout)
                break
            except EsUnavailableError as exc:
                attempt = self._backoff(attempt, exc, batch)
        else:
            found = {}
        contexts.update({sid: context_from_decision(src) for sid, src in found.items()})
        return {sid: c for sid, c in contexts.items() if c is not None}

    def _store_events(self, todo: list[tuple[_Item, Resolved]]) -> list[tuple[_Item, Resolved]]:
        stored: list[tuple[_Item, Resolved]] = []
        attempt = 0
        while todo:
            sent_before = [item.attempted for item, _ in todo]
            for item, _ in todo:
                item.attempted = True
            try:
                results = esio.bulk_items(self.es, event_lines(r for _, r in todo), self.request_timeout)
            except EsUnavailableError as exc:
                attempt = self._backoff(attempt, exc, [i for i, _ in todo + stored])
                continue
            retry = []
            for (item, r), before, result in zip(todo, sent_before, results):
                status = result.get("status", 0)
                if status == 201 or (status == 409 and before):
                    stored.append((item, r))
                    self._count_stored(r)
                elif status == 409:
                    self.stats.duplicates += 1
                elif status in esio.RETRYABLE_STATUSES or status >= 500:
                    retry.append((item, r))
                else:
                    self.stats.rejected += 1
                    log.error("lrr-events refused event %s: %s", item.event.event_id, result.get("error"))
            todo = retry
            if retry:
                attempt = self._backoff(attempt, EsUnavailableError(f"{len(retry)} events answered 429/5xx"),
                                        [i for i, _ in retry + stored])
        return stored

    def _count_stored(self, r: Resolved) -> None:
        self.stats.written += 1
        self.stats.orphans += "orphan" in r.flags
        self.stats.capped += "capped" in r.flags

    def _apply_q2e(self, stored: list[tuple[_Item, Resolved]]) -> None:
        items = {item.event.event_id: item for item, _ in stored}
        todo = plan_updates((r for _, r in stored), self.fb)
        attempt = 0
        while todo:
            lines = [line for u in todo for line in (u.action, u.body)]
            try:
                results = esio.bulk_items(self.es, lines, self.request_timeout)
            except EsUnavailableError as exc:
                attempt = self._backoff(attempt, exc, [items[e] for u in todo for e in u.event_ids])
                continue
            retry = []
            for update, result in zip(todo, results):
                status = result.get("status", 0)
                if status in (200, 201):
                    self.stats.q2e_updates += 1
                    self.stats.q2e_events += len(update.event_ids)
                elif status == 404:
                    self.stats.missing_docs += len(update.event_ids)
                elif status in esio.RETRYABLE_STATUSES or status >= 500 or status == 409:
                    retry.append(update)
                else:
                    self.stats.rejected += len(update.event_ids)
                    log.error("Q2E update of %s/%s refused: %s", update.index, update.doc_id, result.get("error"))
            todo = retry
            if retry:
                attempt = self._backoff(attempt, EsUnavailableError(f"{len(retry)} updates answered 409/429/5xx"),
                                        [items[e] for u in retry for e in u.event_ids])

    def _backoff(self, attempt: int, exc: Exception, remaining: list[_Item]) -> int:
        """Sleep before a retry (0.1 s doubling to MAX_BACKOFF_S); give up only when closing runs out of time."""
        self.stats.retries += 1
        delay = min(MAX_BACKOFF_S, 0.1 * 2 ** attempt)
        log.warning("feedback batch not written (%s); retrying in %.1fs", exc, delay)
        with self._cond:
            if self._closing and time.monotonic() + delay > self._close_deadline:
                raise _GiveUp(remaining)
            self._cond.wait(delay)  # close() wakes this up
            if self._closing and time.monotonic() > self._close_deadline:
                raise _GiveUp(remaining)
        return attempt + 1

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _atexit(self) -> None:
        if not self._closed:
            self.close(timeout=2.0)


_ARGUMENTS = frozenset({"search_id", "doc_id", "action", "position", "session_id", "event_id", "timestamp", "value",
                        "query", "index"})

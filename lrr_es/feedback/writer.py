"""The feedback writer: validate, queue, write events to lrr-events and Q2E updates to the catalog.

``feedback()`` validates and enqueues; one background thread drains the queue in batches and writes
each one (lrr_es.feedback.batch: lrr-events, then the Q2E updates; an event Elasticsearch refuses for
good goes to the dead-letter file ``<spool>.rejected`` and never holds the others).

Elasticsearch down or slow: the batch is retried with exponential backoff, the queue fills, then
``feedback()`` blocks up to ``block_timeout_s`` and raises FeedbackBacklogError. ``close()`` flushes
until its timeout and spools whatever is left to a JSONL file, replayed by the next writer; each
writer owns one spool file under a file lock, across processes (lrr_es.feedback.spool).
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Callable

from elasticsearch import Elasticsearch

from ..config import Config
from ..errors import FeedbackBacklogError, FeedbackError
from .batch import BatchWriting, GiveUp, QueuedEvent, WriterStats
from .cap import SessionCap
from .events import BUILTIN_ACTIONS, FeedbackEvent, make_event
from .plan import RecentSearches
from .spool import claim_slot, dead_letter, default_spool_path, orphaned_slots, read_spool, write_spool
from .ubi import ubi_feedback

log = logging.getLogger(__name__)


class FeedbackWriter(BatchWriting):
    """Accepts feedback events and writes them durably, with their Q2E memory updates, in batches.

    One writer per process is enough; thread-safe. ``recent`` is shared with the engine, which records
    each search there so that feedback finds its query without a lookup. The writer owns one spool slot
    (see lrr_es.feedback.spool) until it closes: ``spool_path`` is the one it took.
    """

    def __init__(self, es: Elasticsearch, config: Config, recent: RecentSearches | None = None,
                 spool_path: str | Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.es, self.config, self.fb = es, config, config.feedback
        self.recent = recent if recent is not None else RecentSearches()
        self.clock = clock
        self.actions = tuple(sorted(set(BUILTIN_ACTIONS) | set(self.fb.weights)))
        self.indices = tuple(sorted(config.indices))  # the only catalogs whose Q2E fields feedback may write
        self.cap = SessionCap.from_config(self.fb)
        self.request_timeout = min(config.elasticsearch.timeout, 10.0)
        path = spool_path or self.fb.spool_path
        configured = Path(path).expanduser() if path else default_spool_path()
        self.spool_path, self._spool_lock = claim_slot(configured)
        self._adopted = orphaned_slots(configured, self.spool_path)  # spools of writers that did not come back
        self.rejected_path = configured.with_name(configured.name + ".rejected")
        self.stats = WriterStats(spool_path=str(self.spool_path))
        self._queue: deque[QueuedEvent] = deque()
        self._in_flight: list[QueuedEvent] = []
        self._leftover: list[QueuedEvent] = []
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
        self._check_index(event)
        self._enqueue(QueuedEvent(event))
        return event.event_id

    def feedback_many(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Validate every event (FeedbackError names the first bad one by position), then queue them all."""
        if isinstance(events, (Mapping, str, bytes)) or not isinstance(events, Iterable):
            raise FeedbackError(f"events must be an iterable of mappings of feedback arguments, "
                                f"got {type(events).__name__} {events!r:.80}")
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
                self._check_index(built[-1])
            except FeedbackError as exc:
                raise FeedbackError(f"event #{n}: {exc}") from None
        for n, event in enumerate(built):
            try:
                self._enqueue(QueuedEvent(event))
            except FeedbackBacklogError as exc:
                raise FeedbackBacklogError(f"{exc}; {n} of {len(built)} events were queued") from None
        return [e.event_id for e in built]

    def feedback_ubi(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Feedback from OpenSearch User Behavior Insights events (see lrr_es.feedback.ubi for the
        mapping); validated like ``feedback_many``: a bad event is named and nothing is queued."""
        if isinstance(events, Mapping):
            events = [events]
        elif isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
            raise FeedbackError(f"events must be a UBI event or an iterable of them, got {type(events).__name__} {events!r:.80}")
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
        """Wait until every accepted event is written (or rejected for good: ``stats.rejected``); False when
        ``timeout`` passed first or events are held for the spool."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(min(remaining, 0.05))
            return not self._leftover

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
        self._release_adopted()  # after our own spool holds what they had left
        self._spool_lock.release()
        atexit.unregister(self._atexit)
        return self.stats

    def __enter__(self) -> "FeedbackWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_index(self, event: FeedbackEvent) -> None:
        """Refuse an event naming an index that is not a configured catalog alias: its Q2E update would
        write lrr-es's fields into an index lrr-es does not manage."""
        if event.index is not None and event.index not in self.indices:
            raise FeedbackError(f"index {event.index!r} is not a configured catalog alias "
                                f"(configured: {', '.join(self.indices)})")

    # --- queue -------------------------------------------------------------------------------

    def _enqueue(self, item: QueuedEvent) -> None:
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
        for path in [self.spool_path] + [p for p, _ in self._adopted]:
            items = [(event, attempted) for event, attempted in read_spool(path) if self._replayable(event, path)]
            for event, attempted in items:
                self._queue.append(QueuedEvent(event, attempted, replayed=True))
            self._replay_left += len(items)
            if items:
                log.info("replaying %d feedback events from %s", len(items), path)
        self.stats.replayed = self._replay_left

    def _replayable(self, event: FeedbackEvent, path: Path) -> bool:
        """False (and the event dead-lettered) when a spooled event names an index no longer configured."""
        try:
            self._check_index(event)
        except FeedbackError as exc:
            log.error("feedback spool %s: event %s not replayed: %s", path, event.event_id, exc)
            dead_letter(self.rejected_path, event, None, str(exc))
            self.stats.rejected += 1
            return False
        return True

    def _release_adopted(self) -> None:
        """Remove the adopted spool files (their events are written, or in our own spool now) and unlock them."""
        for path, lock in self._adopted:
            path.unlink(missing_ok=True)
            lock.release()
        self._adopted = []

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_batch()
                if batch is None:
                    return
            try:
                self._write(batch)
            except GiveUp as give_up:
                with self._cond:
                    self._leftover += give_up.remaining
            except Exception as exc:  # noqa: BLE001 - never let the thread die, nor one event hold the others
                self._write_alone(batch, exc)
            with self._cond:
                self._finish_replayed(batch)
                self._in_flight = []
                self._cond.notify_all()

    def _next_batch(self) -> list[QueuedEvent] | None:
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

    def _finish_replayed(self, batch: list[QueuedEvent]) -> None:
        if not self._replay_left or self._closed:  # closed: close() wrote the spool, which stays
            return
        self._replay_left -= sum(1 for i in batch if i.replayed)
        if self._replay_left <= 0 and not self._leftover:
            self.spool_path.unlink(missing_ok=True)  # every replayed event is stored: the spool is done
            self._release_adopted()

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _atexit(self) -> None:
        if not self._closed:
            self.close(timeout=2.0)


_ARGUMENTS = frozenset({"search_id", "doc_id", "action", "position", "session_id", "event_id", "timestamp", "value",
                        "query", "index"})

"""The feedback writer: validate, queue, write events to lrr-events and Q2E updates to the catalog.

``feedback()`` validates and enqueues; one background thread drains the queue in batches and stores
each one in lrr-events (lrr_es.feedback.batch; an event Elasticsearch refuses for good goes to the
dead-letter file ``<spool>.rejected`` and never holds the others); a second thread applies the Q2E
increments of stored events, one scripted update per document per window (lrr_es.feedback.apply).

Memory is bounded in bytes (``queue_max_bytes``, approximate): the events queued, in flight, awaiting
their Q2E update and replayed from the spool all count. At the bound, or at ``queue_size`` queued
events, ``feedback()`` blocks up to ``block_timeout_s`` and then raises FeedbackBacklogError (nothing
is dropped silently); the spool is replayed a piece at a time as the bound allows, the rest stays on
disk; the dead-letter file stops growing at ``rejected_max_bytes`` (events past it are counted in
``stats.not_kept`` and logged).

Elasticsearch down or slow: requests are retried with exponential backoff, the queue fills, then
``feedback()`` blocks as above. ``close()`` flushes until its timeout and spools whatever is left to a
JSONL file, replayed by the next writer; each writer owns one spool file under a file lock, across
processes (lrr_es.feedback.spool).
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
from .apply import Awaiting, Q2EApplying
from .batch import BatchWriting, GiveUp, QueuedEvent, WriterStats
from .cap import SessionCap
from .events import BUILTIN_ACTIONS, FeedbackEvent, event_bytes, make_event
from .plan import RecentSearches
from .spool import SpoolReplay, claim_slot, default_spool_path, orphaned_slots, write_spool
from .ubi import ubi_feedback

log = logging.getLogger(__name__)


class FeedbackWriter(BatchWriting, Q2EApplying):
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
        self._awaiting: Awaiting = {}  # (index, doc) -> stored events whose Q2E increment waits for the applier
        self._awaiting_since: float | None = None
        self._applying: list[QueuedEvent] = []
        self._flushes = 0  # flush() calls waiting: the applier does not wait for its window
        self._updates_unchecked: dict[str, int] = {}
        self._closing = self._closed = self._writer_done = False
        self._close_deadline = float("inf")
        self._replay_left = 0  # replayed events taken from the spool and not settled yet
        self._replay = SpoolReplay([self.spool_path] + [p for p, _ in self._adopted])
        self._thread = threading.Thread(target=self._run, name="lrr-feedback-writer", daemon=True)
        self._applier = threading.Thread(target=self._apply_run, name="lrr-feedback-q2e", daemon=True)
        self._thread.start()
        self._applier.start()
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
        """Events accepted but not yet written with their Q2E update (queued, in flight, awaiting Q2E)."""
        with self._cond:
            return self._pending_count()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every accepted event is written with its Q2E update, and the spool replayed (or
        rejected for good: ``stats.rejected``); False when ``timeout`` passed first or events are held for
        the spool."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushes += 1
            self._cond.notify_all()
            try:
                while self._pending_count() or not self._replay.exhausted:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._thread.is_alive():
                        return False
                    self._cond.wait(min(remaining, 0.05))
                return not self._leftover
            finally:
                self._flushes -= 1

    def close(self, timeout: float = 10.0) -> WriterStats:
        """Write what can be written within ``timeout``, spool the rest; the stats (``spooled``: not written)."""
        with self._cond:
            if self._closed:
                return self.stats
            self._closing, self._close_deadline = True, time.monotonic() + timeout
            self._cond.notify_all()
        self._thread.join(timeout + self.request_timeout + 1.0)
        self._applier.join(max(0.0, self._close_deadline - time.monotonic()) + self.request_timeout + 1.0)
        with self._cond:
            self._closed = True
            awaiting = [item for members in self._awaiting.values() for item, _ in members]
            applying = [item for item in self._applying if not item.applied]
            left = _unique(self._leftover + self._in_flight + list(self._queue) + applying + awaiting)
            self._queue.clear()
            self._in_flight, self._leftover, self._awaiting, self._applying = [], [], {}, []
            self.stats.held_bytes = 0
        if left or self._replay_left or self.spool_path.exists() or not self._replay.exhausted:
            self.stats.spooled = write_spool(self.spool_path, ((i.event, i.attempted) for i in left),
                                             unread=self._replay.unread())
        self._replay.close()
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
        item.size = event_bytes(item.event)
        with self._cond:
            while self._full(item.size) and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FeedbackBacklogError(
                        f"feedback queue full: {len(self._queue)} events waiting (queue_size {self.fb.queue_size}), "
                        f"{self.stats.held_bytes:,} bytes held (queue_max_bytes {self.fb.queue_max_bytes:,}) "
                        f"for {self.fb.block_timeout_s}s; Elasticsearch at {self.config.elasticsearch.url} is down "
                        f"or too slow ({self.stats.retries} retried requests)")
                self._cond.wait(remaining)
            if self._closing:
                raise FeedbackBacklogError("the feedback writer is closed")
            self._queue.append(item)
            self._hold(item.size)
            self.stats.accepted += 1
            self._cond.notify_all()

    def _full(self, size: int) -> bool:
        held = self.stats.held_bytes
        return len(self._queue) >= self.fb.queue_size or (held > 0 and held + size > self.fb.queue_max_bytes)

    def _hold(self, size: int) -> None:
        self.stats.held_bytes += size
        self.stats.peak_bytes = max(self.stats.peak_bytes, self.stats.held_bytes)

    def _release(self, items: list[QueuedEvent]) -> None:
        """The events are settled (written with their Q2E update, or refused): free their bytes, and finish
        the spool when they were the last replayed ones. Called under ``_cond``."""
        for item in items:
            self.stats.held_bytes -= item.size
            item.size = 0
            if item.replayed:
                item.replayed = False
                self._replay_left -= 1
        self._finish_replay()

    def _pending_count(self) -> int:
        return (len(self._queue) + len(self._in_flight) + len(self._applying)
                + sum(len(members) for members in self._awaiting.values()))

    def _top_up(self) -> None:
        """Queue replayed spool events as the byte bound allows (the rest stays on disk). Under ``_cond``."""
        room = self.fb.queue_max_bytes - self.stats.held_bytes
        if self._replay.exhausted or len(self._queue) >= self.fb.batch_size or (room <= 0 and self._pending_count()):
            return
        for event, attempted, size in self._replay.take(max(room, 1)):
            if not self._replayable(event):
                continue
            item = QueuedEvent(event, attempted, replayed=True, size=size)
            self._queue.append(item)
            self._hold(item.size)
            self._replay_left += 1
            self.stats.replayed += 1
            if self.stats.replayed == 1:
                log.info("replaying feedback events spooled in %s", self.spool_path.parent)

    def _replayable(self, event: FeedbackEvent) -> bool:
        """False (and the event dead-lettered) when a spooled event names an index no longer configured."""
        try:
            self._check_index(event)
        except FeedbackError as exc:
            log.error("feedback spool: event %s not replayed: %s", event.event_id, exc)
            self._dead_letter(event, None, str(exc))
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
        try:
            self._write_batches()
        finally:
            with self._cond:
                self._writer_done = True
                self._cond.notify_all()

    def _write_batches(self) -> None:
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
                self._release([item for item in batch if not item.awaiting])
                self._in_flight = []
                self._cond.notify_all()

    def _next_batch(self) -> list[QueuedEvent] | None:
        self._top_up()
        while not self._queue:
            if self._closing:
                return None
            self._cond.wait(0.5)
            self._top_up()
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

    def _finish_replay(self) -> None:
        if self._closing or self._replay_left > 0 or self._leftover or not self._replay.exhausted:
            return  # closing: close() writes the spool, which stays
        if self.stats.replayed or self._adopted:
            self.spool_path.unlink(missing_ok=True)  # every replayed event is settled: the spool is done
            self._release_adopted()

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _atexit(self) -> None:
        if not self._closed:
            self.close(timeout=2.0)


def _unique(items: list[QueuedEvent]) -> list[QueuedEvent]:
    """``items`` without repeats of the same object (an event may be in flight and in the leftovers)."""
    seen: set[int] = set()
    return [i for i in items if not (id(i) in seen or seen.add(id(i)))]


_ARGUMENTS = frozenset({"search_id", "doc_id", "action", "position", "session_id", "event_id", "timestamp", "value",
                        "query", "index"})

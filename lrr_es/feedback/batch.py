"""Writing one batch of feedback events: lrr-events, then the Q2E updates (the writer's thread).

:class:`BatchWriting` is the half of :class:`lrr_es.feedback.writer.FeedbackWriter` that talks to
Elasticsearch; the writer holds the queue and the lifecycle. Per batch:

1. resolve each event's search (explicit query+index, the in-process map of recent searches, else
   the decision logged in lrr-decisions, one _mget per batch) and cap its Q2E increment;
2. create the events in lrr-events under their event ids (one _bulk; 409 = already stored: a
   duplicate, unless this writer sent it before, which means an earlier attempt got through);
3. hand the Q2E increments of the newly stored events to the applier thread (lrr_es.feedback.apply),
   which combines them per document over a window while this thread writes the next batch.

Elasticsearch unavailable: the request is retried with backoff until the writer closes. One bad event
never costs another: an event Elasticsearch refuses for good (alone, or by spoiling a whole _bulk,
which ``lrr_es.es.bulk_units`` then sends again in halves until the culprit is alone) is counted in
``stats.rejected``, logged with the reason and appended to the dead-letter file (never retried, never
spooled); a batch that fails for another reason is written event by event, and only an event that
still fails is set aside the same way.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from .. import es as esio
from ..config import FeedbackConfig
from ..errors import EsUnavailableError
from ..names import DECISIONS_INDEX
from .cap import SessionCap
from .events import FeedbackEvent
from .plan import RecentSearches, Resolved, context_from_decision, event_lines, resolve
from .spool import dead_letter

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 5.0


@dataclass
class QueuedEvent:
    event: FeedbackEvent
    attempted: bool = False  # a write of it may have reached Elasticsearch
    replayed: bool = False
    size: int = 0  # approximate bytes held for it (lrr_es.feedback.events.event_bytes)
    awaiting: bool = False  # stored, its Q2E increment handed to the applier
    applied: bool = False  # its Q2E update settled (applied, or refused for good)


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
    rejected: int = 0  # refused by Elasticsearch for good (logged; events also go to the dead-letter file)
    not_kept: int = 0  # rejected events the dead-letter file had no room for (rejected_max_bytes): logged only
    retries: int = 0  # batch requests retried after a failure
    replayed: int = 0  # read back from the spool at start
    spooled: int = 0  # left unwritten at close, saved to the spool
    spool_path: str = ""
    expunges: int = 0  # times the writer had a catalog's deleted copies expunged (max_deleted_share)
    held_bytes: int = 0  # approximate bytes of the events held now (queued, in flight, awaiting Q2E)
    peak_bytes: int = 0  # the most held_bytes ever was


class GiveUp(Exception):
    """Closing ran out of time: ``remaining`` go to the spool."""

    def __init__(self, remaining: list[QueuedEvent]) -> None:
        super().__init__(f"{len(remaining)} events left")
        self.remaining = remaining


class BatchWriting:
    """Writes batches of queued events (see the module doc). The writer provides the attributes below,
    its condition ``_cond`` guarding ``_leftover``, ``_closing`` and ``_close_deadline``."""

    es: Elasticsearch
    fb: FeedbackConfig
    cap: SessionCap
    recent: RecentSearches
    stats: WriterStats
    request_timeout: float
    rejected_path: Path
    _cond: threading.Condition
    _leftover: list[QueuedEvent]
    _closing: bool
    _close_deadline: float

    def _write_alone(self, batch: list[QueuedEvent], exc: Exception) -> None:
        """A batch failed for a reason of its own (not an unavailable node): write each event alone, and
        set aside (dead-letter) only the ones that still fail."""
        if len(batch) == 1:
            log.error("feedback event %s not written: %r", batch[0].event.event_id, exc, exc_info=exc)
            self._reject(batch[0].event, None, f"{type(exc).__name__}: {exc}")
            return
        log.warning("feedback batch of %d events failed (%r); writing them one by one", len(batch), exc)
        for n, item in enumerate(batch):
            try:
                self._write([item])
            except GiveUp as give_up:
                with self._cond:
                    self._leftover += give_up.remaining + batch[n + 1:]
                return
            except Exception as alone:  # noqa: BLE001 - this event is at fault
                log.error("feedback event %s not written: %r", item.event.event_id, alone, exc_info=alone)
                self._reject(item.event, None, f"{type(alone).__name__}: {alone}")

    def _reject(self, event: FeedbackEvent, status: int | None, error: Any) -> None:
        """Count an event refused for good, log why, and keep it in the dead-letter file (never retried)."""
        self.stats.rejected += 1
        reason = _reason(error)
        log.error("lrr-events refused event %s (%s): %s; kept in %s", event.event_id, status, reason,
                  self.rejected_path)
        self._dead_letter(event, status, reason)

    def _dead_letter(self, event: FeedbackEvent, status: int | None, reason: str) -> None:
        try:
            if dead_letter(self.rejected_path, event, status, reason, self.fb.rejected_max_bytes):
                return
            why = f"it holds rejected_max_bytes ({self.fb.rejected_max_bytes}) already"
        except OSError as exc:
            why = f"it cannot be written ({exc})"
        self.stats.not_kept += 1
        log.error("dead-letter file %s: %s; event %s not kept (%d so far): %s", self.rejected_path, why,
                  event.event_id, self.stats.not_kept, event.to_dict())

    # --- one batch ---------------------------------------------------------------------------

    def _write(self, batch: list[QueuedEvent]) -> None:
        batch = self._unique(batch)
        contexts = self._contexts(batch)
        resolved = [resolve(i.event, contexts.get(i.event.search_id), self.fb, self.cap) for i in batch]
        stored = self._store_events(list(zip(batch, resolved)))
        self._hand_over(stored)  # lrr_es.feedback.apply: the Q2E updates, in the applier's thread

    def _unique(self, batch: list[QueuedEvent]) -> list[QueuedEvent]:
        seen: dict[str, QueuedEvent] = {}
        for item in batch:
            if item.event.event_id in seen:
                self.stats.duplicates += 1
            else:
                seen[item.event.event_id] = item
        return list(seen.values())

    def _contexts(self, batch: list[QueuedEvent]) -> dict:
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
                found = esio.mget_sources(self.es, DECISIONS_INDEX, sorted(wanted),
                                          ["index", "query", "timestamp", "q2e_key"],
                                          self.request_timeout)
                break
            except EsUnavailableError as exc:
                attempt = self._backoff(attempt, exc, batch)
        else:
            found = {}
        contexts.update({sid: context_from_decision(src) for sid, src in found.items()})
        return {sid: c for sid, c in contexts.items() if c is not None}

    def _store_events(self, todo: list[tuple[QueuedEvent, Resolved]]) -> list[tuple[QueuedEvent, Resolved]]:
        stored: list[tuple[QueuedEvent, Resolved]] = []
        attempt = 0
        while todo:
            sent_before = [item.attempted for item, _ in todo]
            for item, _ in todo:
                item.attempted = True
            try:
                results = esio.bulk_units(self.es, [event_lines([r]) for _, r in todo], self.request_timeout)
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
                    self._reject(item.event, status, result.get("error"))
            todo = retry
            if retry:
                attempt = self._backoff(attempt, EsUnavailableError(f"{len(retry)} events answered 429/5xx"),
                                        [i for i, _ in retry + stored])
        return stored

    def _count_stored(self, r: Resolved) -> None:
        self.stats.written += 1
        self.stats.orphans += "orphan" in r.flags
        self.stats.capped += "capped" in r.flags

    def _backoff(self, attempt: int, exc: Exception, remaining: list[QueuedEvent]) -> int:
        """Sleep before a retry (0.1 s doubling to MAX_BACKOFF_S); give up only when closing runs out of time."""
        self.stats.retries += 1
        delay = min(MAX_BACKOFF_S, 0.1 * 2 ** attempt)
        log.warning("feedback batch not written (%s); retrying in %.1fs", exc, delay)
        with self._cond:
            if self._closing and time.monotonic() + delay > self._close_deadline:
                raise GiveUp(remaining)
            self._cond.wait(delay)  # close() wakes this up
            if self._closing and time.monotonic() > self._close_deadline:
                raise GiveUp(remaining)
        return attempt + 1


def _reason(error: Any) -> str:
    """``type: reason`` of a per-item error of _bulk (a dict, or text)."""
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"[:500]
    return str(error)[:500]

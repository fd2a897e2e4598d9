"""Applying the Q2E increments of stored events: one scripted update per document per window, in a
thread of its own (the half of the writer that updates the catalog).

The writer's thread stores each batch's events in lrr-events and hands the stored ones over
(``_hand_over``); this thread gathers every increment a document receives within
``feedback.apply_window_ms`` (all its keys; late events pre-decayed to the newest, see
lrr_es.feedback.plan) into one scripted update, and sends them while the writer already stores the
next batch. So a hot document costs one update per window, not one per event or per key: every
update of a document changed since the last refresh makes Elasticsearch refresh the shard to read
it (a small segment, and the old copy a deleted document), the cost docs/benchmarks.md "Feedback"
measures.

Every update leaves the document's old copy deleted in its segment; on a small catalog the merge
policy rarely reclaims them (docs/benchmarks.md measured 37% deleted after 30,000 events on 2,000
documents, whatever ``deletes_pct_allowed``), so every HEALTH_CHECK_UPDATES updates this thread
reads the index's counts and, past ``feedback.max_deleted_share``, has Elasticsearch expunge them.

An update Elasticsearch cannot take now (down, 409/429/5xx) is retried with the writer's backoff; at
close, what is not applied in time goes to the spool with its events (already stored: replayed, they
answer 409 "ours" and their increments are applied then).
"""
from __future__ import annotations

import logging
import threading
import time

from .. import es as esio
from ..config import FeedbackConfig
from ..errors import EsUnavailableError
from .batch import GiveUp, QueuedEvent, WriterStats
from .plan import Q2EUpdate, Resolved, plan_updates

log = logging.getLogger(__name__)
HEALTH_CHECK_UPDATES = 500  # scripted updates between two looks at a catalog index's deleted share
EXPUNGE_TIMEOUT_S = 300.0
Awaiting = dict[tuple[str, str], list[tuple[QueuedEvent, Resolved]]]


class Q2EApplying:
    """The applier half of :class:`lrr_es.feedback.writer.FeedbackWriter` (see the module doc). The writer
    provides the attributes below (``_cond`` guards them), ``_release`` (the bytes of settled events) and
    ``_backoff`` (BatchWriting)."""

    es: object
    fb: FeedbackConfig
    stats: WriterStats
    request_timeout: float
    _cond: threading.Condition
    _leftover: list[QueuedEvent]
    _closing: bool
    _awaiting: Awaiting
    _awaiting_since: float | None
    _applying: list[QueuedEvent]
    _flushes: int
    _writer_done: bool
    _updates_unchecked: dict[str, int]  # index -> scripted updates since its deleted share was last read

    def _hand_over(self, stored: list[tuple[QueuedEvent, Resolved]]) -> None:
        """Queue the Q2E increments of newly stored events for the applier thread."""
        with self._cond:
            for item, r in stored:
                if r.increment != 0.0 and r.key is not None:
                    item.awaiting = True
                    self._awaiting.setdefault((r.event.index, r.event.doc_id), []).append((item, r))
            if self._awaiting and self._awaiting_since is None:
                self._awaiting_since = time.monotonic()
            self._cond.notify_all()

    def _apply_run(self) -> None:
        while True:
            with self._cond:
                taken = self._take_awaiting()
                if taken is None:
                    return
            try:
                self._apply(taken)
            except GiveUp as give_up:
                with self._cond:
                    self._leftover += give_up.remaining
            except Exception as exc:  # noqa: BLE001 - never let the thread die; the events are stored already
                log.error("Q2E updates of %d documents not applied: %r", len(taken), exc, exc_info=exc)
                self.stats.rejected += sum(len(members) for members in taken.values())
            with self._cond:
                self._release(self._applying)
                self._applying = []
                self._cond.notify_all()

    def _take_awaiting(self) -> Awaiting | None:
        """Wait until the oldest awaiting increment is ``apply_window_ms`` old (or a flush, close, or a
        full batch of documents asks for it now); take everything awaiting. None: closed and done."""
        while True:
            if self._awaiting:
                due = self._awaiting_since + self.fb.apply_window_ms / 1000
                remaining = due - time.monotonic()
                if remaining <= 0 or self._closing or self._flushes or len(self._awaiting) >= self.fb.batch_size:
                    break
                self._cond.wait(remaining)
            elif self._closing and self._writer_done:
                return None
            else:
                self._cond.wait(0.5)
        taken, self._awaiting, self._awaiting_since = self._awaiting, {}, None
        self._applying = [item for members in taken.values() for item, _ in members]
        return taken

    def _apply(self, taken: Awaiting) -> None:
        updates = [u for members in taken.values() for u in plan_updates((r for _, r in members), self.fb)]
        items = {item.event.event_id: item for members in taken.values() for item, _ in members}
        for start in range(0, len(updates), self.fb.batch_size):
            self._send_updates(updates[start:start + self.fb.batch_size], items)
        for update in updates:
            self._updates_unchecked[update.index] = self._updates_unchecked.get(update.index, 0) + 1
        for index, count in list(self._updates_unchecked.items()):
            if count >= HEALTH_CHECK_UPDATES:
                self._updates_unchecked[index] = 0
                self._keep_healthy(index)

    def _keep_healthy(self, index: str) -> None:
        """Expunge the deleted copies of ``index`` when they exceed ``max_deleted_share`` (best effort)."""
        if self.fb.max_deleted_share is None:
            return
        try:
            health = esio.index_health(self.es, index)
            share = health["deleted"] / max(1, health["deleted"] + health["live"])
            if share <= self.fb.max_deleted_share:
                return
            log.info("catalog %s holds %d deleted copies (%.0f%%, over max_deleted_share %.0f%%); expunging them",
                     index, health["deleted"], 100 * share, 100 * self.fb.max_deleted_share)
            esio.expunge_deletes(self.es, index, EXPUNGE_TIMEOUT_S)
            self.stats.expunges += 1
        except EsUnavailableError as exc:
            log.warning("catalog %s: deleted copies not expunged now (%s); tried again later", index, exc)

    def _send_updates(self, todo: list[Q2EUpdate], items: dict[str, QueuedEvent]) -> None:
        attempt = 0
        while todo:
            try:
                results = esio.bulk_units(self.es, [[u.action, u.body] for u in todo], self.request_timeout)
            except EsUnavailableError as exc:
                attempt = self._backoff(attempt, exc, self._unapplied())
                continue
            retry = []
            for update, result in zip(todo, results):
                status = result.get("status", 0)
                if not (status in esio.RETRYABLE_STATUSES or status >= 500 or status == 409):
                    for event_id in update.event_ids:
                        items[event_id].applied = True
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
                                        self._unapplied())

    def _unapplied(self) -> list[QueuedEvent]:
        """The events taken whose update is not settled yet (what goes to the spool on GiveUp)."""
        with self._cond:
            return [item for item in self._applying if not item.applied]

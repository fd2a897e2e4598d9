"""Planning one batch of feedback (pure): which search each event belongs to, its Q2E increment after
the cap, the lrr-events documents and the scripted Q2E updates, one per (index, document)."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from ..config import FeedbackConfig
from ..errors import QueryError
from ..names import EVENTS_INDEX
from ..q2e import DAY_MS, memory_update_script
from ..parse import Query, parse_query
from ..timestamps import epoch_ms
from .cap import SessionCap, event_weight, session_of
from .events import FeedbackEvent, event_source


@dataclass(frozen=True)
class SearchContext:
    """What feedback needs to know of the search it answers."""

    index: str
    query: str
    timestamp: int | None  # epoch ms of the search (None: unknown, never expires)
    key: str | None = None  # the search's Q2E key when it differs from the query's (scoped by locale ...)


class RecentSearches:
    """In-process map of the latest searches (search_id -> SearchContext), bounded, thread-safe."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, SearchContext] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, search_id: str, index: str, query: str, timestamp: int, key: str | None = None) -> None:
        with self._lock:
            self._items[search_id] = SearchContext(index, query, int(timestamp), key)
            self._items.move_to_end(search_id)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get(self, search_id: str | None) -> SearchContext | None:
        with self._lock:
            return self._items.get(search_id) if search_id is not None else None


def context_from_decision(decision: Mapping | None) -> SearchContext | None:
    """The SearchContext of a logged lrr-decisions document (None when it lacks index or query)."""
    if not decision or not isinstance(decision.get("index"), str) or not isinstance(decision.get("query"), str):
        return None
    key = decision.get("q2e_key")
    return SearchContext(decision["index"], decision["query"], epoch_ms(decision.get("timestamp")),
                         key if isinstance(key, str) and "__" in key else None)



@dataclass(frozen=True)
class Resolved:
    """An event with its search resolved: the Q2E key, the increment after the cap, its flags."""

    event: FeedbackEvent
    key: str | None
    query_text: str | None  # the normalized text remembered in q2e_queries
    increment: float
    flags: tuple[str, ...]

    def source(self) -> dict:
        return event_source(self.event, self.key, self.flags, self.increment != 0.0)


def resolve(event: FeedbackEvent, context: SearchContext | None, config: FeedbackConfig,
            cap: SessionCap) -> Resolved:
    """Attach ``event`` to its search (explicit query+index win over ``context``) and cap its increment."""
    flags: list[str] = []
    explicit = event.query is not None and event.index is not None
    if context is None and event.search_id is not None and not explicit:
        flags.append("orphan")
    elif (context is not None and not explicit and context.timestamp is not None
          and event.timestamp - context.timestamp > config.search_ttl_s * 1000):
        flags += ["orphan", "expired"]
        context = None
    if context is not None:
        event = event.with_context(context.query, context.index)
    if event.query is None or event.index is None or "orphan" in flags:
        return Resolved(event, None, None, 0.0, tuple(flags))
    try:
        parsed = _parsed(event.query)
    except QueryError:
        return Resolved(event, None, None, 0.0, tuple(flags + ["no_key"]))
    key = context.key if context is not None and not explicit and context.key else parsed.key
    weight = event_weight(event, config)
    increment = cap.allow(session_of(event), event.index, key, event.doc_id, weight, event.received_at)
    if abs(increment) < abs(weight):
        flags.append("capped")
    return Resolved(event, key, parsed.text, increment, tuple(flags))


@lru_cache(maxsize=4096)
def _parsed(text: str) -> Query:
    """parse_query, remembered: feedback repeats the same few queries many times."""
    return parse_query(text)


@dataclass(frozen=True)
class Q2EUpdate:
    """One scripted update of one document's Q2E memory, applying one or more events (of one or more keys)."""

    index: str
    doc_id: str
    keys: tuple[str, ...]
    update_id: str  # the event id (one event) or a digest of the group's event ids
    event_ids: tuple[str, ...]
    action: dict  # the _bulk action line
    body: dict  # the _bulk update body (script)


def plan_updates(resolved: Iterable[Resolved], config: FeedbackConfig) -> list[Q2EUpdate]:
    """The scripted updates for ``resolved`` events with an increment: one per (index, document), applying
    all its keys, when ``config.coalesce`` (late events pre-decayed to the group's newest timestamp, each
    key's bound scaled by its number of events); else one per event."""
    groups: dict[tuple, list[Resolved]] = {}
    for n, r in enumerate(x for x in resolved if x.increment != 0.0 and x.key is not None):
        slot = (r.event.index, r.event.doc_id) if config.coalesce else (n,)
        groups.setdefault(slot, []).append(r)
    return [_update(members, config) for members in groups.values()]


def _update(members: list[Resolved], config: FeedbackConfig) -> Q2EUpdate:
    first = members[0]
    now = max(m.event.timestamp for m in members)
    half_life_ms = config.decay_days * DAY_MS
    increments: dict[str, float] = {}
    counts: dict[str, int] = {}
    for m in members:
        increments[m.key] = increments.get(m.key, 0.0) + m.increment * 0.5 ** ((now - m.event.timestamp) / half_life_ms)
        counts[m.key] = counts.get(m.key, 0) + 1
    ids = tuple(m.event.event_id for m in members)
    update_id = ids[0] if len(ids) == 1 else "g-" + hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:30]
    latest_first = sorted(members, key=lambda m: m.event.timestamp, reverse=True)
    queries = list(dict.fromkeys(m.query_text for m in latest_first if m.query_text is not None))
    queries = queries[:config.max_queries][::-1]  # the newest last, as the document keeps them
    pair_window_ms = int(config.pair_window_s * 1000)
    script = memory_update_script(increments, now, decay_days=config.decay_days, max_keys=config.max_keys,
                                  max_increment=config.max_increment * max(counts.values()),
                                  max_queries=config.max_queries, event_id=update_id, queries=queries,
                                  pair_cap=config.pair_cap, pair_window_ms=pair_window_ms,
                                  clock_ms=max(m.event.received_at for m in members),
                                  clock_from_ms=min(m.event.received_at for m in members))
    action = {"update": {"_index": first.event.index, "_id": first.event.doc_id, "retry_on_conflict": 5}}
    return Q2EUpdate(first.event.index, first.event.doc_id, tuple(increments), update_id, ids, action, {"script": script})


def event_lines(resolved: Iterable[Resolved]) -> list[dict]:
    """_bulk lines that create each event in lrr-events under its event id (a duplicate answers 409)."""
    lines: list[dict] = []
    for r in resolved:
        lines += [{"create": {"_index": EVENTS_INDEX, "_id": r.event.event_id}}, r.source()]
    return lines

"""Feedback events: validation, deterministic ids, the lrr-events document (all pure).

Event id rule (when the caller gives none): ``ev-`` + the first 32 hex digits of SHA-256 over the
canonical JSON of ``[search_id, doc_id, action, position, session_id, timestamp_ms, value, query,
index]``, where ``timestamp_ms`` is the caller's timestamp or null when the caller gave none (the
writer's clock never enters the id). So the same call repeated (a client retry) is one event, and
two clicks on the same result of the same search in the same session count once; an app that wants
repeated identical actions counted separately passes an ``event_id`` or a ``timestamp``.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from ..errors import FeedbackError
from ..timestamps import datetime_ms, parse_iso

BUILTIN_ACTIONS = ("click", "like", "add_to_favorites", "play", "skip", "impression", "dislike")
MAX_ID_CHARS = 200  # event ids are kept in each document's q2e_events ring: keep them short
MAX_DOC_ID_BYTES = 512  # Elasticsearch's own _id limit
MAX_ID_BYTES = 512  # an event id is the lrr-events _id: Elasticsearch refuses a whole _bulk over a longer one
MAX_VALUE = 3.4028234663852886e38  # the largest float32: lrr-events maps ``value`` as a float
MAX_TEXT_CHARS = {"search_id": 200, "session_id": 256, "index": 255}
MAX_QUERY_CHARS = 10_000
MAX_POSITION = 100_000
MIN_TIMESTAMP_MS = 946_684_800_000  # 2000-01-01
FUTURE_SLACK_MS = 86_400_000  # clocks of devices drift; a day ahead is still accepted
_ACTION = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class FeedbackEvent:
    """One validated piece of feedback. ``timestamp`` is epoch milliseconds (UTC)."""

    event_id: str
    search_id: str | None
    doc_id: str
    action: str
    timestamp: int
    position: int | None = None
    session_id: str | None = None
    value: float | None = None
    query: str | None = None
    index: str | None = None
    received_at: int = 0

    def with_context(self, query: str | None, index: str | None) -> "FeedbackEvent":
        """The event with the query and index of its search filled in where it had none."""
        return replace(self, query=self.query if self.query is not None else query,
                       index=self.index if self.index is not None else index)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "FeedbackEvent":
        """Rebuild an event written by :meth:`to_dict` (the spool), re-validating every field."""
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise FeedbackError(f"unknown event field(s) {sorted(unknown)}")
        event = make_event(raw.get("search_id"), raw.get("doc_id"), raw.get("action"), position=raw.get("position"),
                           session_id=raw.get("session_id"), event_id=raw.get("event_id"),
                           timestamp=raw.get("timestamp"), value=raw.get("value"), query=raw.get("query"),
                           index=raw.get("index"), now_ms=raw.get("received_at") or None, actions=None)
        return replace(event, received_at=int(raw.get("received_at") or event.received_at))


def make_event(search_id: Any, doc_id: Any, action: Any, *, position: Any = None, session_id: Any = None,
               event_id: Any = None, timestamp: Any = None, value: Any = None, query: Any = None,
               index: Any = None, now_ms: int | None = None, actions: Iterable[str] | None = BUILTIN_ACTIONS
               ) -> FeedbackEvent:
    """Validate the arguments of one feedback call into an event; FeedbackError names the bad field.

    ``actions`` are the known action names (None: any lowercase name is accepted).
    """
    now = int(now_ms if now_ms is not None else datetime.now(timezone.utc).timestamp() * 1000)
    search_id = _text("search_id", search_id, MAX_TEXT_CHARS["search_id"], optional=True)
    doc_id = _doc_id(doc_id)
    action = _action(action, actions)
    position = _position(position)
    session_id = _text("session_id", session_id, MAX_TEXT_CHARS["session_id"], optional=True)
    given_ts = None if timestamp is None else parse_timestamp(timestamp, now)
    value = _value(value)
    query = _text("query", query, MAX_QUERY_CHARS, optional=True, strip=False)
    index = _text("index", index, MAX_TEXT_CHARS["index"], optional=True)
    if search_id is None and (query is None or index is None):
        raise FeedbackError("search_id is required unless both query and index are given")
    if event_id is None:
        event_id = derive_event_id(search_id, doc_id, action, position, session_id, given_ts, value, query, index)
    else:
        event_id = _event_id(event_id)
    return FeedbackEvent(event_id, search_id, doc_id, action, given_ts if given_ts is not None else now, position,
                         session_id, value, query, index, now)


def derive_event_id(search_id: str | None, doc_id: str, action: str, position: int | None, session_id: str | None,
                    timestamp_ms: int | None, value: float | None, query: str | None, index: str | None) -> str:
    """The deterministic id of an event the caller gave no id (rule in the module docstring)."""
    canonical = json.dumps([search_id, doc_id, action, position, session_id, timestamp_ms, value, query, index],
                           ensure_ascii=True, separators=(",", ":"))
    return "ev-" + hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]


def parse_timestamp(raw: Any, now_ms: int) -> int:
    """Epoch milliseconds from a datetime (naive = UTC), an ISO 8601 string or epoch milliseconds."""
    if isinstance(raw, bool):
        raise FeedbackError(f"timestamp must be a datetime, an ISO 8601 string or epoch milliseconds, got {raw!r}")
    if isinstance(raw, datetime):
        ms = datetime_ms(raw)
    elif isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):  # (math.isfinite overflows on a huge int)
            raise FeedbackError(f"timestamp must be finite epoch milliseconds, got {raw!r}")
        ms = int(raw)
    elif isinstance(raw, str) and len(raw) <= 64:
        try:
            ms = datetime_ms(parse_iso(raw))
        except ValueError:
            raise FeedbackError(f"timestamp {raw!r} is not an ISO 8601 date-time") from None
    else:
        raise FeedbackError(f"timestamp must be a datetime, an ISO 8601 string or epoch milliseconds, got {raw!r:.80}")
    if ms < MIN_TIMESTAMP_MS:
        raise FeedbackError(f"timestamp {raw!r} is before 2000 (epoch milliseconds expected, not seconds?)")
    if ms > now_ms + FUTURE_SLACK_MS:
        raise FeedbackError(f"timestamp {raw!r} is more than a day in the future")
    return ms


def event_source(event: FeedbackEvent, q2e_key: str | None, flags: Iterable[str], q2e_applied: bool) -> dict:
    """The lrr-events document of ``event`` (the template's strict mapping)."""
    source = {"event_id": event.event_id, "search_id": event.search_id, "index": event.index,
              "doc_id": event.doc_id, "action": event.action, "value": event.value, "position": event.position,
              "session_id": event.session_id, "query": event.query, "q2e_key": q2e_key,
              "timestamp": event.timestamp, "received_at": event.received_at, "flags": sorted(set(flags)),
              "q2e_applied": q2e_applied}
    return {k: v for k, v in source.items() if v is not None}



def _text(name: str, value: Any, limit: int, optional: bool = False, strip: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise FeedbackError(f"{name} must be a string, got {type(value).__name__} {value!r:.80}")
    if strip and (not value.strip() or value != value.strip()):
        raise FeedbackError(f"{name} must be non-empty without surrounding whitespace, got {value!r:.80}")
    if not strip and not value.strip():
        raise FeedbackError(f"{name} must not be empty, got {value!r:.80}")
    if len(value) > limit:
        raise FeedbackError(f"{name} is {len(value)} characters long; at most {limit} are accepted")
    if "\x00" in value and name != "query":
        raise FeedbackError(f"{name} must not contain NUL characters, got {value!r:.80}")
    _encodable(name, value)
    return value


def _encodable(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FeedbackError(f"{name} holds a lone surrogate (not valid Unicode text): {value!r:.80}") from None


def _doc_id(value: Any) -> str:
    doc_id = _text("doc_id", value, MAX_DOC_ID_BYTES)
    if len(doc_id.encode("utf-8")) > MAX_DOC_ID_BYTES:
        raise FeedbackError(f"doc_id is longer than {MAX_DOC_ID_BYTES} bytes in UTF-8")
    return doc_id


def _event_id(value: Any) -> str:
    event_id = _text("event_id", value, MAX_ID_CHARS)
    size = len(event_id.encode("utf-8"))
    if size > MAX_ID_BYTES:
        raise FeedbackError(f"event_id is {size} bytes long in UTF-8; at most {MAX_ID_BYTES} are accepted "
                            f"(Elasticsearch's _id limit): {event_id!r:.40}")
    return event_id


def _action(value: Any, actions: Iterable[str] | None) -> str:
    if not isinstance(value, str) or not _ACTION.match(value):
        raise FeedbackError(f"action must be a lowercase name like 'click', got {value!r:.80}")
    known = None if actions is None else tuple(actions)
    if known is not None and value not in known:
        raise FeedbackError(f"unknown action {value!r} (known: {', '.join(sorted(known))})")
    return value


def _position(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FeedbackError(f"position must be an integer (1 = first result), got {value!r:.80}")
    if value < 0 or value > MAX_POSITION:
        raise FeedbackError(f"position must be in [0, {MAX_POSITION}], got {value}")
    return value


def _value(value: Any) -> float | None:
    if value is None:
        return None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or (isinstance(value, float) and not math.isfinite(value)) or value < 0:
        raise FeedbackError(f"value must be a non-negative number (play seconds, or completion 0..1), got {value!r:.80}")
    if value > MAX_VALUE:  # checked before float(): a huge int would overflow it
        raise FeedbackError(f"value must be at most {MAX_VALUE:.7g} (a float field in lrr-events), got {value!r:.80}")
    return float(value)


EVENT_OVERHEAD_BYTES = 600  # the event object, its queue entry and the fixed-size fields, in CPython


def event_bytes(event: FeedbackEvent) -> int:
    """Approximate bytes an event holds in memory (what the writer's byte bound counts)."""
    texts = (event.event_id, event.search_id, event.doc_id, event.action, event.session_id, event.query, event.index)
    return EVENT_OVERHEAD_BYTES + sum(len(t) for t in texts if t is not None)

"""The context stage: one dense feature vector per search for the bandit (pure).

``context_vector(query, caller, vocabulary)`` returns a float64 array of shape (CONTEXT_DIM,) whose
entries are named, in order, by ``CONTEXT_SCHEMA`` (version ``CONTEXT_VERSION``); every entry is
finite and roughly in [0, 1]. Query features come from the parsed query and its interpretations
(query understanding); caller features from what the app passes (all optional):

- ``timestamp``: epoch seconds or milliseconds, or a datetime (hour and weekday, in UTC),
- ``device``: one of DEVICES (anything else counts as "other"),
- ``user_searches``: how many searches the user made before (an activity aggregate).

``vocabulary`` (optional, e.g. the semantic model's vocabulary) gives the share of query tokens the
catalog knows, a strong signal of misspellings. Bad caller values raise QueryError naming the field.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Collection, Mapping

import numpy as np

from .errors import QueryError
from .parse import Query

CONTEXT_VERSION = 1
DEVICES = ("mobile", "desktop", "tv", "speaker")
SLOT_ROLES = ("genre", "decade", "year", "artist", "entity_type", "mood")
CONTEXT_SCHEMA: tuple[str, ...] = (
    "bias",
    "chars",  # text length / 64, capped at 1
    "tokens_1", "tokens_2", "tokens_3", "tokens_4plus",
    "has_digit",
    "non_latin",  # share of letters outside Latin scripts
    "truncated",
    "known_token_share", "vocabulary_given",
    "qu_top_likelihood", "qu_slot_mass", "qu_free_text_likelihood", "qu_rest_share", "qu_readings",
    *(f"slot_{role}" for role in SLOT_ROLES),
    "hour_sin", "hour_cos", "weekend", "time_given",
    *(f"device_{d}" for d in DEVICES), "device_other",
    "user_activity",
)
CONTEXT_DIM = len(CONTEXT_SCHEMA)
CALLER_FIELDS = ("timestamp", "device", "user_searches")


def context_vector(query: Query, caller: Mapping[str, Any] | None = None,
                   vocabulary: Collection[str] | None = None) -> np.ndarray:
    """The context of one search, shape (CONTEXT_DIM,), float64, named by CONTEXT_SCHEMA."""
    caller = _check_caller({} if caller is None else caller)  # (0 or "" is no context either: refused)
    x = np.zeros(CONTEXT_DIM)
    put = _Writer(x)
    put("bias", 1.0)
    put("chars", min(len(query.text) / 64, 1.0))
    n = len(query.tokens)
    if n:
        put("tokens_4plus" if n >= 4 else f"tokens_{n}", 1.0)
    put("has_digit", float(any(ch.isdigit() for ch in query.text)))
    letters = [ch for ch in query.text if ch.isalpha()]
    put("non_latin", sum(not _latin(ch) for ch in letters) / len(letters) if letters else 0.0)
    put("truncated", float(query.truncated))
    if vocabulary is not None and n:
        put("known_token_share", sum(t in vocabulary for t in query.tokens) / n)
        put("vocabulary_given", 1.0)
    _put_interpretations(put, query)
    _put_caller(put, caller)
    return x


class _Writer:
    _index = {name: i for i, name in enumerate(CONTEXT_SCHEMA)}

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __call__(self, name: str, value: float) -> None:
        self.x[self._index[name]] = value


def _put_interpretations(put: _Writer, query: Query) -> None:
    readings = tuple(query.interpretations)
    if not readings:
        return
    put("qu_top_likelihood", float(readings[0].likelihood))
    put("qu_slot_mass", float(sum(r.likelihood for r in readings if r.slots)))
    put("qu_free_text_likelihood", float(sum(r.likelihood for r in readings if not r.slots)))
    top = readings[0]
    words = max(len(query.tokens), 1)
    put("qu_rest_share", min(len(top.rest.split()) / words, 1.0))
    put("qu_readings", min(len(readings) / 5, 1.0))
    for role in SLOT_ROLES:  # likelihood mass of the readings that fill this role
        mass = sum(r.likelihood for r in readings if any(s.role == role for s in r.slots))
        put(f"slot_{role}", float(min(mass, 1.0)))


def _put_caller(put: _Writer, caller: Mapping[str, Any]) -> None:
    when = caller.get("timestamp")
    if when is not None:
        hour = when.hour + when.minute / 60
        put("hour_sin", math.sin(2 * math.pi * hour / 24))
        put("hour_cos", math.cos(2 * math.pi * hour / 24))
        put("weekend", float(when.weekday() >= 5))
        put("time_given", 1.0)
    device = caller.get("device")
    if device is not None:
        put(f"device_{device}" if device in DEVICES else "device_other", 1.0)
    searches = caller.get("user_searches")
    if searches is not None:
        put("user_activity", min(math.log1p(searches) / math.log1p(1000), 1.0))


def _check_caller(caller: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(caller, Mapping):
        raise QueryError(f"context must be a mapping of {', '.join(CALLER_FIELDS)}, not {type(caller).__name__}")
    unknown = sorted(map(repr, set(caller) - set(CALLER_FIELDS)))  # (keys of any type: compared by repr)
    if unknown:
        raise QueryError(f"context: unknown field(s) {', '.join(unknown)[:200]} (known: {', '.join(CALLER_FIELDS)})")
    out = dict(caller)
    if out.get("timestamp") is not None:
        out["timestamp"] = _as_datetime(out["timestamp"])
    device = out.get("device")
    if device is not None and (not isinstance(device, str) or len(device) > 64):
        raise QueryError(f"context.device must be a short string, got {device!r:.80}")
    searches = out.get("user_searches")
    if searches is not None:
        number = _number(searches)
        if number is None or number < 0:
            raise QueryError(f"context.user_searches must be a non-negative number, got {searches!r:.80}")
        out["user_searches"] = number
    return out


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is no number or too large for one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)  # an int past 1e308 raises OverflowError
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value
    number = _number(value)
    if number is not None and number >= 0:
        seconds = number / 1000 if number > 1e11 else number  # epoch milliseconds or seconds
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    raise QueryError(f"context.timestamp must be epoch seconds/milliseconds or a datetime, got {value!r:.80}")


def _latin(ch: str) -> bool:
    return ord(ch) < 0x250 or 0x1E00 <= ord(ch) <= 0x1EFF  # Basic Latin to Latin Extended-B, Latin Extended Additional

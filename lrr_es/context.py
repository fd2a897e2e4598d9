"""The context stage: one dense feature vector per search for the bandit (pure).

``context_vector(query, caller, vocabulary, slot_roles, caller_fields)`` returns a float64 array of
shape (CONTEXT_DIM,) whose
entries are named, in order, by ``CONTEXT_SCHEMA`` (version ``CONTEXT_VERSION``); every entry is
finite and roughly in [0, 1]. Query features come from the parsed query and its interpretations
(query understanding); caller features from what the app passes (all optional):

- ``timestamp``: epoch seconds or milliseconds, or a datetime (hour and weekday, in UTC),
- ``device``: one of DEVICES (anything else counts as "other"),
- ``user_searches``: how many searches the user made before (an activity aggregate),
- ``locale``: a BCP 47 language tag such as ``pt-BR`` (hashed, with its language, into LOCALE_BUCKETS),
- any field the index's configuration names in ``context.fields`` (``caller_fields``; a short
  string, a boolean or a number; hashed by name and value into ATTRIBUTE_BUCKETS).

Query understanding's slot features are positional, so that every catalog has them: ``slot_attr1``
.. ``slot_attr4`` are the index's first four configured attributes (``slot_roles``; music: genre,
decade, year, mood), ``slot_people`` the people role (music: artist), ``slot_entity_type`` the
entity type.

``vocabulary`` (optional, e.g. the semantic model's vocabulary) gives the share of query tokens the
catalog knows, a strong signal of misspellings. Bad caller values raise QueryError naming the field.
"""
from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timezone
from typing import Any, Collection, Mapping, Sequence

import numpy as np

from .errors import QueryError
from .parse import Query

CONTEXT_VERSION = 2  # 2: positional slot features, locale and caller attributes
DEVICES = ("mobile", "desktop", "tv", "speaker")
SLOT_FEATURES = ("attr1", "attr2", "attr3", "people", "entity_type", "attr4")  # music's layout of version 1
MUSIC_SLOT_ROLES = ("genre", "decade", "year", "mood")
PEOPLE_ROLES = ("artist", "people")
LOCALE_BUCKETS = 8
ATTRIBUTE_BUCKETS = 8
CONTEXT_SCHEMA: tuple[str, ...] = (
    "bias",
    "chars",  # text length / 64, capped at 1
    "tokens_1", "tokens_2", "tokens_3", "tokens_4plus",
    "has_digit",
    "non_latin",  # share of letters outside Latin scripts
    "truncated",
    "known_token_share", "vocabulary_given",
    "qu_top_likelihood", "qu_slot_mass", "qu_free_text_likelihood", "qu_rest_share", "qu_readings",
    *(f"slot_{name}" for name in SLOT_FEATURES),
    "hour_sin", "hour_cos", "weekend", "time_given",
    *(f"device_{d}" for d in DEVICES), "device_other",
    "user_activity",
    "locale_given", *(f"locale_h{i}" for i in range(LOCALE_BUCKETS)),
    "attributes_given", *(f"attribute_h{i}" for i in range(ATTRIBUTE_BUCKETS)),
)
CONTEXT_DIM = len(CONTEXT_SCHEMA)
CALLER_FIELDS = ("timestamp", "device", "user_searches", "locale")
MAX_ATTRIBUTE_CHARS = 128
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,4}$")


def context_vector(query: Query, caller: Mapping[str, Any] | None = None,
                   vocabulary: Collection[str] | None = None, slot_roles: Sequence[str] = MUSIC_SLOT_ROLES,
                   caller_fields: Collection[str] = ()) -> np.ndarray:
    """The context of one search, shape (CONTEXT_DIM,), float64, named by CONTEXT_SCHEMA.

    ``slot_roles`` are the index's attribute slot names in configured order (the first four have a
    feature), ``caller_fields`` the extra caller fields its configuration accepts.
    """
    caller = check_caller({} if caller is None else caller, caller_fields)  # (0 or "" is no context either: refused)
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
    _put_interpretations(put, query, slot_roles)
    _put_caller(put, caller)
    _put_attributes(put, {k: v for k, v in caller.items() if k not in CALLER_FIELDS})
    return x


class _Writer:
    _index = {name: i for i, name in enumerate(CONTEXT_SCHEMA)}

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __call__(self, name: str, value: float) -> None:
        self.x[self._index[name]] = value

    def get(self, name: str) -> float:
        return float(self.x[self._index[name]])


def _put_interpretations(put: _Writer, query: Query, slot_roles: Sequence[str]) -> None:
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
    features = {role: f"attr{n}" for n, role in enumerate(slot_roles[:4], 1)}
    features.update({role: "people" for role in PEOPLE_ROLES}, entity_type="entity_type")
    mass: dict[str, float] = {}
    for reading in readings:  # likelihood mass of the readings that fill each slot feature
        for feature in {features[s.role] for s in reading.slots if s.role in features}:
            mass[feature] = mass.get(feature, 0.0) + reading.likelihood
    for feature, value in mass.items():
        put(f"slot_{feature}", float(min(value, 1.0)))


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
    locale = caller.get("locale")
    if locale is not None:  # the language and the whole tag, so pt-BR and pt-PT share half their signal
        put("locale_given", 1.0)
        for part in (locale.split("-")[0], locale):  # "en" alone: one bucket at 1
            name = f"locale_h{_bucket(part, LOCALE_BUCKETS)}"
            put(name, put.get(name) + 0.5)


def _put_attributes(put: _Writer, attributes: Mapping[str, Any]) -> None:
    """Each attribute hashed by name and value into ATTRIBUTE_BUCKETS (a number by name, its value
    squashed into [0, 1]), scaled so that the vector stays bounded however many there are."""
    given = {k: v for k, v in attributes.items() if v is not None}
    if not given:
        return
    put("attributes_given", 1.0)
    share = 1.0 / len(given)
    for name, value in sorted(given.items()):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            slot, amount = _bucket(name, ATTRIBUTE_BUCKETS), min(math.log1p(abs(value)) / math.log1p(1e6), 1.0)
        else:
            slot, amount = _bucket(f"{name}={str(value).lower()}", ATTRIBUTE_BUCKETS), 1.0
        feature = f"attribute_h{slot}"
        put(feature, min(put.get(feature) + share * amount, 1.0))


def _bucket(text: str, buckets: int) -> int:
    """A stable bucket of ``text`` (the same in every process and Python version)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big") % buckets


def check_caller(caller: Mapping[str, Any], caller_fields: Collection[str] = ()) -> dict[str, Any]:
    """The caller context, validated: the built-in CALLER_FIELDS and the index's ``caller_fields``;
    QueryError names a bad field. The locale comes back normalized (``pt-br``)."""
    known = (*CALLER_FIELDS, *caller_fields)
    if not isinstance(caller, Mapping):
        raise QueryError(f"context must be a mapping of {', '.join(known)}, not {type(caller).__name__}")
    unknown = sorted(map(repr, set(caller) - set(known)))  # (keys of any type: compared by repr)
    if unknown:
        raise QueryError(f"context: unknown field(s) {', '.join(unknown)[:200]} (known: {', '.join(known)}; "
                         f"an app's own fields are named in the index's context.fields)")
    out = dict(caller)
    for name in caller_fields:
        out[name] = _attribute(name, out.get(name))
    if out.get("locale") is not None:
        out["locale"] = _locale(out["locale"])
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


def _locale(value: Any) -> str:
    if not isinstance(value, str) or not _LOCALE.match(value):
        raise QueryError(f"context.locale must be a language tag such as 'en' or 'pt-BR', got {value!r:.80}")
    return value.replace("_", "-").lower()


def _attribute(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > MAX_ATTRIBUTE_CHARS or not value.strip():
            raise QueryError(f"context.{name} must be a non-blank string of at most {MAX_ATTRIBUTE_CHARS} "
                             f"characters, got {value!r:.80}")
        return value.strip()
    number = _number(value)
    if number is None:
        raise QueryError(f"context.{name} must be a string, a boolean or a finite number, got {value!r:.80}")
    return number


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

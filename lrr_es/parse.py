"""Stage 1 of the request path, parse: the request's text, page and filters, checked once (pure).

``parse_query`` turns user text into the :class:`Query` every later stage reads; ``check_page`` and
``check_filters`` validate the rest of a search request. Bad input raises QueryError.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import QueryError
from .folding import query_tokens
from .q2e import q2e_key

MAX_QUERY_CHARS = 256  # longer text is cut: no user needs more, and it bounds clause counts
MAX_PAGE = 1000
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window: from + size beyond it fails
MAX_FILTER_DEPTH = 64  # nested objects and lists in one filter (about 20 nested bools); deeper is refused


@dataclass(frozen=True)
class Query:
    """What every strategy sees of one search request."""

    text: str
    tokens: tuple[str, ...]
    key: str
    seed: int = 0
    truncated: bool = False
    interpretations: tuple[Any, ...] = ()  # query understanding's readings, most likely first (lrr_es.qu)


def parse_query(text: object, seed: int = 0) -> Query:
    """Validate and normalize user text; a blank or non-string query raises QueryError.

    A lone surrogate (text that is not valid Unicode, e.g. half of an emoji cut by a client) becomes
    U+FFFD, so that every later stage, Elasticsearch and the decision log get text they can encode.
    """
    if not isinstance(text, str):
        raise QueryError(f"query text must be a string, not {type(text).__name__}")
    cleaned = " ".join(valid_unicode(text).split())
    if not cleaned:
        raise QueryError("query text is empty")
    truncated = len(cleaned) > MAX_QUERY_CHARS
    cleaned = cleaned[:MAX_QUERY_CHARS]
    return Query(text=cleaned, tokens=tuple(query_tokens(cleaned)), key=q2e_key(cleaned), seed=seed, truncated=truncated)


def valid_unicode(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (a well-formed surrogate pair is joined)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def check_page(size: Any, from_: Any) -> None:
    """QueryError unless ``size`` and ``from_`` are non-negative integers, ``size`` is at most MAX_PAGE and
    ``from_ + size`` stays within MAX_RESULT_WINDOW."""
    for name, value in (("size", size), ("from", from_)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RESULT_WINDOW:
            raise QueryError(f"{name} must be a non-negative integer, got {value!r:.80}")
    if size > MAX_PAGE:
        raise QueryError(f"size must be at most {MAX_PAGE}, got {size}")
    if from_ + size > MAX_RESULT_WINDOW:
        raise QueryError(f"from + size must be at most {MAX_RESULT_WINDOW} (Elasticsearch's result window), "
                         f"got from={from_} size={size}")


def check_filters(filters: Any) -> list[dict]:
    """The app's filters as a list of query clauses, read once: one clause (a mapping with one key,
    like ``{"term": {...}}``) or any iterable of clauses (a list, a tuple, a generator...).

    Each clause comes back as plain JSON data (dates as ISO text); QueryError names what is not a
    clause, or a value Elasticsearch could not take (not JSON, not valid Unicode, a non-finite
    number, nesting deeper than MAX_FILTER_DEPTH).
    """
    if filters is None:
        return []
    if isinstance(filters, Mapping):
        filters = [filters]
    elif isinstance(filters, (str, bytes)) or not isinstance(filters, Iterable):
        raise QueryError(f"filters must be a query clause like {{\"term\": {{...}}}} or an iterable of them, "
                         f"got {type(filters).__name__} {filters!r:.80}")
    clauses = []
    for n, clause in enumerate(filters):
        if not isinstance(clause, Mapping) or len(clause) != 1:
            raise QueryError(f"filter #{n} must be a query clause: a mapping with one key like {{\"term\": {{...}}}}, "
                             f"got {type(clause).__name__} {clause!r:.80}")
        clauses.append(_json(clause, f"filter #{n}", 0))
    return clauses


def _json(value: Any, where: str, depth: int) -> Any:
    """``value`` as plain JSON data, or QueryError naming where in the filter it cannot be sent."""
    if depth > MAX_FILTER_DEPTH:
        raise QueryError(f"{where}: nested deeper than {MAX_FILTER_DEPTH} levels")
    if isinstance(value, str):
        return _text(value, where)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QueryError(f"{where}: {value!r} is not a number JSON can carry")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise QueryError(f"{where}: keys must be strings, got {type(key).__name__} {key!r:.80}")
            _text(key, where)
            out[key] = _json(item, f"{where}.{key[:40]}", depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if hasattr(value, "item") and type(value).__module__ == "numpy":  # a numpy scalar
        return _json(value.item(), where, depth)
    raise QueryError(f"{where}: a {type(value).__name__} is not JSON, got {value!r:.80}")


def _text(value: str, where: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError(f"{where}: {value!r:.80} holds a lone surrogate (not valid Unicode text)") from None
    return value

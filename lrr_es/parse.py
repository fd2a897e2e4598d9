"""Stage 1 of the request path, parse: the request's text, page and filters, checked once (pure).

``parse_query`` turns user text into the :class:`Query` every later stage reads; ``check_page`` and
``check_filters`` validate the rest of a search request. Bad input raises QueryError.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .errors import QueryError
from .folding import query_tokens
from .q2e import q2e_key

MAX_QUERY_CHARS = 256  # longer text is cut: no user needs more, and it bounds clause counts
MAX_PAGE = 1000


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
    """QueryError unless ``size`` and ``from_`` are non-negative integers and ``size`` is at most MAX_PAGE."""
    for name, value in (("size", size), ("from", from_)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAGE * 10:
            raise QueryError(f"{name} must be a non-negative integer, got {value!r}")
    if size > MAX_PAGE:
        raise QueryError(f"size must be at most {MAX_PAGE}, got {size}")


def check_filters(filters: Sequence[dict] | dict | None) -> list[dict]:
    """The app's filters as a list of query clauses; QueryError when they are not query clauses."""
    if filters is None:
        return []
    items = [filters] if isinstance(filters, dict) else filters
    if isinstance(items, (str, bytes)) or not all(isinstance(f, dict) and len(f) == 1 for f in items):
        raise QueryError("filters must be query clauses: a dict like {\"term\": {...}} or a list of them")
    return list(items)

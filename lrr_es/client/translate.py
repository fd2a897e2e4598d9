"""Translation of an app's search request into an engine request, or the reason it passes through (pure).

The wrapper serves a search through the engine only when it can keep the request's meaning: free
text from the query shapes apps use (``match``, ``multi_match``, ``match_phrase``,
``match_bool_prefix``, ``simple_query_string``/``query_string`` holding plain words, ``bool`` whose
``must``/``should`` carry such text and whose ``filter``/``must_not`` carry filters,
``function_score``/``boosting`` around those), paging, ``_source``, ``highlight``, ``aggs``,
``post_filter``, ``track_total_hits`` and ``timeout``. Everything else is a :class:`PassThrough` with
a short reason, and the app's request goes to Elasticsearch untouched.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

from .response import field_names

# body keys the engine serves; any other key makes the request pass through under its own name
SERVED_KEYS = frozenset({"query", "from", "size", "_source", "highlight", "aggs", "aggregations", "post_filter",
                         "track_total_hits", "timeout", "sort"})
# keys that always pass through, with the reason the counters show
PASS_KEYS = {"scroll": "scroll", "search_after": "search_after", "collapse": "collapse", "rescore": "rescore",
             "suggest": "suggest", "knn": "knn", "pit": "pit", "script_fields": "script",
             "runtime_mappings": "script", "min_score": "min_score"}
# keyword arguments of the client's search() that do not change what Elasticsearch answers
TRANSPORT_KWARGS = frozenset({"request_timeout", "headers", "opaque_id", "ignore", "preference", "request_cache",
                              "allow_no_indices", "ignore_unavailable", "expand_wildcards", "params"})
# 8.x keyword forms of body keys
KWARG_BODY_KEYS = {"query": "query", "size": "size", "from_": "from", "source": "_source", "_source": "_source",
                   "highlight": "highlight", "aggs": "aggs", "aggregations": "aggs", "post_filter": "post_filter",
                   "track_total_hits": "track_total_hits", "timeout": "timeout", "sort": "sort",
                   "source_includes": "_source_includes", "_source_includes": "_source_includes",
                   "source_excludes": "_source_excludes", "_source_excludes": "_source_excludes",
                   "scroll": "scroll", "search_after": "search_after", "collapse": "collapse", "rescore": "rescore",
                   "suggest": "suggest", "knn": "knn", "pit": "pit", "script_fields": "script_fields",
                   "runtime_mappings": "runtime_mappings", "min_score": "min_score"}
TEXT_QUERIES = ("match", "match_phrase", "match_bool_prefix", "match_phrase_prefix")
# query_string syntax: an app that writes operators, fields, wildcards or ranges means them
QUERY_STRING_SYNTAX = re.compile(r'[+\-=&|><!(){}\[\]^"~*?:\\/]|\b(AND|OR|NOT|TO)\b')
SIMPLE_QUERY_SYNTAX = re.compile(r'[+|\-"*()~]')
SYNTAX = {"query_string": QUERY_STRING_SYNTAX, "simple_query_string": SIMPLE_QUERY_SYNTAX}
FILTER_QUERIES = frozenset({"term", "terms", "range", "exists", "ids", "prefix", "wildcard", "regexp", "geo_distance",
                            "geo_bounding_box", "geo_shape", "match_all", "nested", "has_child", "has_parent",
                            "terms_set", "constant_score"})
MAX_DEPTH = 20


@dataclass(frozen=True)
class EngineRequest:
    """What the engine needs to serve one search, and what the response needs from the app's request.

    ``filters`` hold every clause that narrows the result (the app's ``filter``, ``must_not`` as a
    bool, filter-like ``must`` clauses, and ``post_filter``); ``query`` is the app's own query, on which
    aggregations and the total run so they are exactly what the app had before.
    """

    index: str
    text: str
    filters: tuple[dict, ...] = ()
    size: int = 10
    from_: int = 0
    source: Any = None  # the app's _source: None (all), bool, a field list, or {"includes", "excludes"}
    highlight: dict | None = None
    aggs: dict | None = None
    post_filter: dict | None = None
    track_total_hits: Any = None
    timeout: str | None = None
    query: dict = field(default_factory=lambda: {"match_all": {}})


@dataclass(frozen=True)
class PassThrough:
    """The request goes to Elasticsearch unchanged, for ``reason``."""

    reason: str


class _NotServed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def request_body(body: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> tuple[dict, dict] | PassThrough:
    """One body from ``body=`` and the 8.x keyword form; the remaining transport keyword arguments.

    A keyword argument that is neither a body key nor transport-only (``routing``, ``filter_path``,
    ``q``, ``search_type``, ...) makes the request pass through.
    """
    if body is not None and not isinstance(body, Mapping):
        return PassThrough("body is not a JSON object")
    merged = dict(body or {})
    transport = {}
    for key, value in kwargs.items():
        if key in KWARG_BODY_KEYS:
            merged[KWARG_BODY_KEYS[key]] = value
        elif key in TRANSPORT_KWARGS:
            transport[key] = value
        else:
            return PassThrough(f"parameter {key}")
    if "aggregations" in merged:
        merged["aggs"] = merged.pop("aggregations")
    includes, excludes = merged.pop("_source_includes", None), merged.pop("_source_excludes", None)
    if includes is not None or excludes is not None:
        merged["_source"] = {"includes": field_names(includes), "excludes": field_names(excludes)}
    return merged, transport


def translate(index: Any, body: Mapping[str, Any], configured: Mapping[str, Collection[str]]) -> EngineRequest | PassThrough:
    """The engine request for ``body`` on ``index``, or why it passes through.

    ``configured`` maps each index the engine serves (the alias) to the text fields its strategies
    search; a text query over none of those fields passes through.
    """
    if isinstance(index, (list, tuple)) and len(index) == 1:  # elasticsearch-dsl passes a list
        index = index[0]
    if not isinstance(index, str) or "," in index or "*" in index:
        return PassThrough("several indices" if index else "no index")
    if index not in configured:
        return PassThrough("index not configured")
    for key in body:
        if key in PASS_KEYS:
            return PassThrough(PASS_KEYS[key])
        if key not in SERVED_KEYS:
            return PassThrough(f"body key {key}")
    if not _score_sort(body.get("sort")):
        return PassThrough("sort")
    size, from_ = body.get("size", 10), body.get("from", 0)
    if not _count(size) or not _count(from_):
        return PassThrough("size or from")
    if size == 0:
        return PassThrough("size 0")
    query = body.get("query")
    if not isinstance(query, Mapping):
        return PassThrough("no query" if query is None else "query is not an object")
    try:
        texts, filters = _clause(query, frozenset(configured[index]), 0)
    except _NotServed as exc:
        return PassThrough(exc.reason)
    if not texts:
        return PassThrough("no text")
    if len(set(texts)) > 1:
        return PassThrough("several texts")
    for key in ("post_filter", "highlight", "aggs"):
        if body.get(key) is not None and not isinstance(body[key], Mapping):
            return PassThrough(f"{key} is not an object")
    post_filter = body.get("post_filter")
    all_filters = tuple(filters) + ((dict(post_filter),) if post_filter else ())
    return EngineRequest(index, texts[0], all_filters, size, from_, body.get("_source"), _object(body, "highlight"),
                         _object(body, "aggs"), dict(post_filter) if post_filter else None,
                         body.get("track_total_hits"), body.get("timeout"), dict(query))


def _clause(query: Mapping[str, Any], fields: frozenset[str], depth: int) -> tuple[list[str], list[dict]]:
    """(texts, filters) of one query clause; raises _NotServed for a shape the engine cannot keep."""
    if depth > MAX_DEPTH:
        raise _NotServed("query nested too deep")
    if len(query) != 1:
        raise _NotServed("query clause with several keys")
    (kind, spec), = query.items()
    if not isinstance(spec, Mapping):
        raise _NotServed(f"query {kind}")
    if kind in TEXT_QUERIES:
        return [_match_text(kind, spec, fields)], []
    if kind in ("multi_match", "query_string", "simple_query_string"):
        _fields(spec.get("fields") or spec.get("default_field"), fields, kind)
        return [_plain(spec.get("query"), kind, SYNTAX.get(kind))], []
    if kind == "bool":
        return _bool(spec, fields, depth)
    if kind == "function_score":
        if "min_score" in spec:
            raise _NotServed("function_score min_score")
        return _clause(_inner(spec, "query", kind), fields, depth + 1)
    if kind == "boosting":
        return _clause(_inner(spec, "positive", kind), fields, depth + 1)
    raise _NotServed(f"query {kind}")


def _bool(spec: Mapping[str, Any], fields: frozenset[str], depth: int) -> tuple[list[str], list[dict]]:
    unknown = set(spec) - {"must", "should", "filter", "must_not", "minimum_should_match", "boost", "_name"}
    if unknown:
        raise _NotServed(f"bool {sorted(unknown)[0]}")
    texts: list[str] = []
    filters = [dict(c) for c in _clauses(spec.get("filter"))]
    must_not = _clauses(spec.get("must_not"))
    if must_not:
        filters.append({"bool": {"must_not": [dict(c) for c in must_not]}})
    for clause in _clauses(spec.get("must")):
        if _is_filter(clause):
            filters.append(dict(clause))
            continue
        found, inner = _clause(clause, fields, depth + 1)
        texts += found
        filters += inner
    should = _clauses(spec.get("should"))
    if should and spec.get("minimum_should_match") not in (None, 1, "1", "100%") and len(should) > 1:
        raise _NotServed("bool minimum_should_match")
    for clause in should:
        found, inner = _clause(clause, fields, depth + 1)
        if inner:
            raise _NotServed("filter inside should")
        texts += found
    return texts, filters


def _match_text(kind: str, spec: Mapping[str, Any], fields: frozenset[str]) -> str:
    if len(spec) != 1:
        raise _NotServed(f"{kind} over several fields")
    (name, value), = spec.items()
    if isinstance(value, Mapping):
        value = value.get("query")
    _fields([name], fields, kind)
    return _plain(value, kind)


def _plain(value: Any, kind: str, syntax: re.Pattern | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _NotServed(f"{kind} without text")
    if syntax is not None and syntax.search(value):
        raise _NotServed(f"{kind} syntax")
    return " ".join(value.split())


def _fields(given: Any, fields: frozenset[str], kind: str) -> None:
    """Checks that the query searches at least one configured text field (none given: all fields)."""
    if given is None:
        return
    names = [given] if isinstance(given, str) else given
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise _NotServed(f"{kind} fields")
    patterns = [n.split("^", 1)[0] for n in names]
    if not any(p in ("*", "_all") or any(fnmatch.fnmatchcase(p, f) or fnmatch.fnmatchcase(f, p) for f in fields)
               for p in patterns):
        raise _NotServed("field not configured")


def _is_filter(clause: Any) -> bool:
    return isinstance(clause, Mapping) and len(clause) == 1 and next(iter(clause)) in FILTER_QUERIES


def _clauses(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    items = [value] if isinstance(value, Mapping) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(c, Mapping) for c in items):
        raise _NotServed("bool clause is not an object")
    return list(items)


def _inner(spec: Mapping[str, Any], key: str, kind: str) -> Mapping[str, Any]:
    inner = spec.get(key)
    if not isinstance(inner, Mapping):
        raise _NotServed(f"{kind} without {key}")
    return inner


def _score_sort(sort: Any) -> bool:
    if sort is None:
        return True
    items = sort if isinstance(sort, list) else [sort]
    for item in items:
        if item == "_score" or item == {"_score": "desc"} or item == {"_score": {"order": "desc"}}:
            continue
        return False
    return True


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _object(body: Mapping[str, Any], key: str) -> dict | None:
    value = body.get(key)
    return dict(value) if isinstance(value, Mapping) else None


"""The Elasticsearch-shaped answer of an engine-served search (pure).

``search_response`` puts together what an app reads from a search response: ``took``,
``timed_out``, ``_shards``, ``hits.total`` (from the app's own query, run once beside the strategies,
so its ``relation`` is Elasticsearch's), ``hits.max_score``, ``hits.hits`` (``_index``, ``_type`` where
the server gives one, ``_id``, ``_score``, ``_source`` filtered as the app asked, ``highlight``),
``aggregations`` (from the same run of the app's query), and an ``lrr`` section an app can ignore.
"""
from __future__ import annotations

import fnmatch
from typing import Any, Mapping, Sequence


def source_filter(spec: Any) -> tuple[list[str], list[str]] | None:
    """(includes, excludes) of an app's ``_source`` value; None when no ``_source`` is returned.

    ``None``/``True``: everything; ``False``: nothing; a string or list: those fields;
    ``{"includes"|"include": ..., "excludes"|"exclude": ...}``: Elasticsearch's object form.
    """
    if spec is None or spec is True:
        return [], []
    if spec is False:
        return None
    if isinstance(spec, str):
        return spec.split(","), []
    if isinstance(spec, Mapping):
        return field_names(spec.get("includes", spec.get("include"))), field_names(spec.get("excludes", spec.get("exclude")))
    return field_names(spec), []


def filter_source(source: Mapping[str, Any], includes: Sequence[str], excludes: Sequence[str],
                  prefix: str = "") -> dict:
    """``source`` with only the fields matching ``includes`` (all when empty) and none matching
    ``excludes``; patterns are dotted paths with ``*`` wildcards, as in Elasticsearch's source filtering."""
    out: dict[str, Any] = {}
    for key, value in source.items():
        path = prefix + key
        if _matches(path, excludes):
            continue
        if not includes or _matches(path, includes):
            kept = _filter_value(value, (), excludes, path) if excludes else value
        elif _may_hold(path, includes):
            kept = _filter_value(value, includes, excludes, path)
            if kept in ({}, []):
                continue
        else:
            continue
        out[key] = kept
    return out


def _filter_value(value: Any, includes: Sequence[str], excludes: Sequence[str], path: str) -> Any:
    if isinstance(value, Mapping):
        return filter_source(value, includes, excludes, path + ".")
    if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
        return [filter_source(v, includes, excludes, path + ".") if isinstance(v, Mapping) else v for v in value]
    return value if not includes else ([] if isinstance(value, list) else {})


def _matches(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def _may_hold(path: str, patterns: Sequence[str]) -> bool:
    """Whether a pattern can match a field below the object at ``path``."""
    return any(p.startswith(path + ".") or ("*" in p and fnmatch.fnmatchcase(path + ".", p.split("*", 1)[0] + "*"))
               for p in patterns)


def _total(counted: Any, pool_size: int, page: int) -> Any:
    """``hits.total``: the app's own query's total, as Elasticsearch counted it. When the engine found
    more candidates than that query matches (fuzzy or remembered documents it would have missed), the
    pool size, marked ``gte``: at least that many documents answer the search. An integer total (the
    app asked ``rest_total_hits_as_int``) stays an integer."""
    found = max(pool_size, page)
    if isinstance(counted, Mapping):
        value = int(counted.get("value", 0))
        return dict(counted) if value >= found else {"value": found, "relation": "gte"}
    if isinstance(counted, int) and not isinstance(counted, bool):
        return max(counted, found)
    return {"value": found, "relation": "gte"}


def field_names(value: Any) -> list[str]:
    """A ``_source`` field list as a list: a comma-separated string split, None empty."""
    if value is None:
        return []
    return value.split(",") if isinstance(value, str) else [str(v) for v in value]


def page_hit(hit: Mapping[str, Any], source: tuple[list[str], list[str]] | None,
             highlight: Mapping[str, Any] | None) -> dict:
    """One ``hits.hits`` entry as Elasticsearch gives it, from an engine hit (``_index``, ``_id``,
    ``_score``, ``_source``, optional ``_type``)."""
    out: dict[str, Any] = {"_index": hit.get("_index")}
    if hit.get("_type") is not None:
        out["_type"] = hit["_type"]
    out["_id"], out["_score"] = hit["_id"], hit["_score"]
    if source is not None:
        includes, excludes = source
        out["_source"] = filter_source(hit.get("_source") or {}, includes, excludes) if (includes or excludes) \
            else dict(hit.get("_source") or {})
    if highlight:
        out["highlight"] = dict(highlight)
    return out


def search_response(hits: Sequence[Mapping[str, Any]], source_spec: Any, took_ms: float, timed_out: bool,
                    app_query_response: Mapping[str, Any] | None, highlights: Mapping[str, Mapping] | None,
                    lrr: Mapping[str, Any], pool_size: int = 0) -> dict:
    """The whole response of one engine-served page.

    ``app_query_response`` is Elasticsearch's answer to the app's own query at ``size`` 0 (total,
    ``_shards``, aggregations); ``highlights`` maps a document id to its highlight fragments;
    ``pool_size`` is how many candidates the engine ranked.
    """
    spec = source_filter(source_spec)
    page = [page_hit(h, spec, (highlights or {}).get(h["_id"])) for h in hits]
    counted = app_query_response or {}
    total = _total((counted.get("hits") or {}).get("total"), pool_size, len(page))
    response: dict[str, Any] = {
        "took": int(round(took_ms)),
        "timed_out": bool(timed_out or counted.get("timed_out")),
        "_shards": counted.get("_shards", {"total": 1, "successful": 1, "skipped": 0, "failed": 0}),
        "hits": {"total": total, "max_score": max((h["_score"] for h in page), default=None), "hits": page},
    }
    if "aggregations" in counted:
        response["aggregations"] = counted["aggregations"]
    response["lrr"] = dict(lrr)
    return response

"""What the logs say about one configured index: searches, engagement, latency, plans over time.

Read from ``lrr-decisions`` (one record per search: timestamp, plan, took_ms, versions) and
``lrr-events`` (feedback) with aggregations; the request bodies are pure functions (``*_body``),
the readers turn the answers into plain rows. The admin panel's overview and bandit pages draw
these rows; nothing here writes.

Pass-throughs (searches the client wrapper sent to Elasticsearch unchanged) are read from
``lrr-passthrough``, where each app process writes its counts by index and reason every few seconds
(lrr_es.client.passthrough).

Engagement per time bucket is counted by the time of the event, not of its search (the two are
seconds apart for people and the simulator; a search engaged hours later is counted then).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from elasticsearch import Elasticsearch

from . import es as esio
from .decide import COLD_START
from .names import DECISIONS_INDEX, EVENTS_INDEX, PASSTHROUGH_INDEX, SYSTEM_INDICES

BUCKETS = 24  # at most this many time buckets in a chart, of a round width (pick_interval)


@dataclass(frozen=True)
class TimeBucket:
    """Searches of one time bucket."""

    start_ms: int
    searches: int
    subsearches_per_search: float
    p50_ms: float | None
    p99_ms: float | None
    engaged: int = 0  # distinct searches with positive feedback in the bucket

    @property
    def engaged_share(self) -> float:
        return self.engaged / self.searches if self.searches else 0.0


@dataclass(frozen=True)
class Traffic:
    """Searches of one index over time, with the totals."""

    index: str
    interval: str | None  # the bucket width Elasticsearch chose ("1m", "3h"...), None without searches
    buckets: tuple[TimeBucket, ...]
    searches: int
    p50_ms: float | None
    p99_ms: float | None
    subsearches_per_search: float


def _index_filter(index: str) -> dict:
    return {"term": {"index": index}}


INTERVALS = (("1s", 1), ("5s", 5), ("10s", 10), ("30s", 30), ("1m", 60), ("5m", 300), ("10m", 600),
             ("30m", 1800), ("1h", 3600), ("3h", 10_800), ("6h", 21_600), ("12h", 43_200), ("1d", 86_400),
             ("7d", 604_800), ("30d", 2_592_000))


def pick_interval(span_ms: float, buckets: int = BUCKETS) -> str:
    """The shortest round interval that covers ``span_ms`` in at most ``buckets`` buckets (pure)."""
    return next((name for name, seconds in INTERVALS if seconds * 1000 * buckets >= span_ms), INTERVALS[-1][0])


def bounds_body(index: str) -> dict:
    """The first and last search of ``index`` in lrr-decisions (pure)."""
    return {"size": 0, "track_total_hits": True, "query": _index_filter(index),
            "aggs": {"first": {"min": {"field": "timestamp"}}, "last": {"max": {"field": "timestamp"}}}}


def traffic_body(index: str, interval: str) -> dict:
    """The aggregation of lrr-decisions behind :func:`traffic`: ``interval`` buckets (pure)."""
    per_bucket = {"latency": {"percentiles": {"field": "took_ms", "percents": [50, 99]}},
                  "arms": {"value_count": {"field": "plan.strategy"}}}
    return {"size": 0, "track_total_hits": True, "query": _index_filter(index),
            "aggs": {"time": {"date_histogram": {"field": "timestamp", "fixed_interval": interval}, "aggs": per_bucket},
                     **per_bucket}}


def engaged_body(index: str, interval: str, positive_actions: Sequence[str]) -> dict:
    """Distinct searches with positive feedback per ``interval`` bucket of lrr-events (pure)."""
    histogram = {"field": "timestamp", "fixed_interval": interval}  # the same buckets as traffic_body's
    return {"size": 0, "query": {"bool": {"filter": [_index_filter(index), {"terms": {"action": list(positive_actions)}}]}},
            "aggs": {"time": {"date_histogram": histogram,
                              "aggs": {"searches": {"cardinality": {"field": "search_id"}}}}}}


def positive_actions(weights: Mapping[str, float]) -> list[str]:
    """The feedback actions that count as engagement (a positive weight)."""
    return sorted(a for a, w in weights.items() if w > 0)


def traffic(es: Elasticsearch, index: str, weights: Mapping[str, float], buckets: int = BUCKETS) -> Traffic:
    """Searches, engaged share, sub-searches per search and p50/p99 latency of ``index`` over time."""
    if not esio.index_exists(es, DECISIONS_INDEX):
        return Traffic(index, None, (), 0, None, None, 0.0)
    bounds = esio.search(es, DECISIONS_INDEX, bounds_body(index))
    if not bounds["hits"]["total"]["value"]:
        return Traffic(index, None, (), 0, None, None, 0.0)
    aggs = bounds["aggregations"]
    interval = pick_interval(aggs["last"]["value"] - aggs["first"]["value"], buckets)
    answer = esio.search(es, DECISIONS_INDEX, traffic_body(index, interval))
    aggs, total = answer["aggregations"], answer["hits"]["total"]["value"]
    engaged = _engaged(es, index, interval, weights)
    rows = tuple(_bucket(b, engaged.get(b["key"], 0)) for b in aggs["time"]["buckets"])
    p50, p99 = _percentiles(aggs["latency"])
    return Traffic(index, interval, rows, total, p50, p99, aggs["arms"]["value"] / total if total else 0.0)


def _engaged(es: Elasticsearch, index: str, interval: str, weights: Mapping[str, float]) -> dict[int, int]:
    actions = positive_actions(weights)
    if not actions or not esio.index_exists(es, EVENTS_INDEX):
        return {}
    answer = esio.search(es, EVENTS_INDEX, engaged_body(index, interval, actions))
    return {b["key"]: int(b["searches"]["value"]) for b in answer["aggregations"]["time"]["buckets"]}


def _bucket(raw: Mapping[str, Any], engaged: int) -> TimeBucket:
    n = raw["doc_count"]
    p50, p99 = _percentiles(raw["latency"])
    return TimeBucket(raw["key"], n, raw["arms"]["value"] / n if n else 0.0, p50, p99, min(engaged, n))


def _percentiles(raw: Mapping[str, Any]) -> tuple[float | None, float | None]:
    values = raw.get("values") or {}
    return values.get("50.0"), values.get("99.0")


@dataclass(frozen=True)
class ArmShare:
    """How often a strategy was in the plan, per slice of the context."""

    strategy: str
    share: float  # of all searches
    by_slice: Mapping[str, float]  # slice name -> share of that slice's searches


def plan_shares_body(index: str) -> dict:
    """Plans by strategy: overall, per query length (words of the logged query), and of the plans a
    learned policy chose (not the cold-start plan) (pure)."""
    per = {"arms": {"terms": {"field": "plan.strategy", "size": 50}}}
    short = {"script": {"script": {"source": "doc['query.keyword'].size() > 0 && "
                                             "doc['query.keyword'].value.trim().splitOnToken(' ').length <= 1"}}}
    return {"size": 0, "track_total_hits": True, "query": _index_filter(index),
            "aggs": {**per, "slices": {"filters": {"filters": {"one word": short, "several words": {"bool": {"must_not": short}}}},
                                       "aggs": per},
                     "bandit": {"filter": {"bool": {"filter": [{"exists": {"field": "policy_version"}}],
                                                    "must_not": [{"term": {"policy_version": COLD_START}}]}},
                                "aggs": per}}}


def plan_shares(es: Elasticsearch, index: str) -> tuple[int, list[ArmShare]]:
    """(searches, each strategy's share of plans overall and by query length), most frequent first."""
    if not esio.index_exists(es, DECISIONS_INDEX):
        return 0, []
    answer = esio.search(es, DECISIONS_INDEX, plan_shares_body(index))
    total, aggs = answer["hits"]["total"]["value"], answer["aggregations"]
    slices = {name: (b["doc_count"], {t["key"]: t["doc_count"] for t in b["arms"]["buckets"]})
              for name, b in aggs["slices"]["buckets"].items()}
    slices["plans of a learned policy"] = (aggs["bandit"]["doc_count"], {t["key"]: t["doc_count"] for t in aggs["bandit"]["arms"]["buckets"]})
    return total, [ArmShare(b["key"], b["doc_count"] / total if total else 0.0,
                            {name: (counts.get(b["key"], 0) / n if n else 0.0) for name, (n, counts) in slices.items()})
                   for b in aggs["arms"]["buckets"]]


def policy_history_body(index: str) -> dict:
    """The policy versions that served ``index``: searches, first and last time each (pure)."""
    return {"size": 0, "query": _index_filter(index),
            "aggs": {"versions": {"terms": {"field": "policy_version", "size": 100, "missing": "none"},
                                  "aggs": {"first": {"min": {"field": "timestamp"}},
                                           "last": {"max": {"field": "timestamp"}}}}}}


def policy_history(es: Elasticsearch, index: str) -> list[dict]:
    """Rows {version, searches, first_ms, last_ms} of every policy version that served, oldest first."""
    if not esio.index_exists(es, DECISIONS_INDEX):
        return []
    answer = esio.search(es, DECISIONS_INDEX, policy_history_body(index))
    rows = [{"version": b["key"], "searches": b["doc_count"], "first_ms": int(b["first"]["value"] or 0),
             "last_ms": int(b["last"]["value"] or 0)} for b in answer["aggregations"]["versions"]["buckets"]]
    return sorted(rows, key=lambda r: r["first_ms"])


def health(es: Elasticsearch) -> tuple[dict, list[dict]]:
    """(the cluster's health, one row per lrr-* system index)."""
    rows = [r for name in SYSTEM_INDICES for r in esio.index_rows(es, f"{name}*")]
    return esio.cluster_health(es), rows


# --- pass-throughs of the client wrapper --------------------------------------------------------

@dataclass(frozen=True)
class PassThroughs:
    """Searches passed through to Elasticsearch, by reason over time (every index) and in total by
    (reason, index)."""

    interval: str | None
    times: tuple[int, ...]
    by_reason: Mapping[str, tuple[int, ...]]  # reason -> one count per time
    totals: tuple[tuple[str, str, int], ...]  # (reason, index, count), largest first
    total: int


def passthrough_body(interval: str) -> dict:
    """Pass-throughs per ``interval`` by reason, and totals by reason and index (pure)."""
    count = {"n": {"sum": {"field": "count"}}}
    return {"size": 0, "aggs": {
        "time": {"date_histogram": {"field": "timestamp", "fixed_interval": interval},
                 "aggs": {"reasons": {"terms": {"field": "reason", "size": 50}, "aggs": count}}},
        "reasons": {"terms": {"field": "reason", "size": 50},
                    "aggs": {"indices": {"terms": {"field": "index", "size": 20, "order": {"n": "desc"}}, "aggs": count},
                             **count}},
        **count}}


def passthroughs(es: Elasticsearch, buckets: int = BUCKETS) -> PassThroughs:
    """What the client wrappers passed through, as their processes wrote it to lrr-passthrough."""
    empty = PassThroughs(None, (), {}, (), 0)
    if not esio.index_exists(es, PASSTHROUGH_INDEX):
        return empty
    bounds = esio.search(es, PASSTHROUGH_INDEX, {"size": 0, "track_total_hits": True, "aggs": {
        "first": {"min": {"field": "timestamp"}}, "last": {"max": {"field": "timestamp"}}}})
    if not bounds["hits"]["total"]["value"]:
        return empty
    span = bounds["aggregations"]["last"]["value"] - bounds["aggregations"]["first"]["value"]
    interval = pick_interval(span, buckets)
    aggs = esio.search(es, PASSTHROUGH_INDEX, passthrough_body(interval))["aggregations"]
    times = tuple(b["key"] for b in aggs["time"]["buckets"])
    reasons = [b["key"] for b in aggs["reasons"]["buckets"]]
    per_time = [{r["key"]: int(r["n"]["value"]) for r in b["reasons"]["buckets"]} for b in aggs["time"]["buckets"]]
    totals = sorted(((r["key"], i["key"], int(i["n"]["value"])) for r in aggs["reasons"]["buckets"]
                     for i in r["indices"]["buckets"]), key=lambda row: -row[2])
    return PassThroughs(interval, times, {reason: tuple(t.get(reason, 0) for t in per_time) for reason in reasons},
                        tuple(totals), int(aggs["n"]["value"]))


# --- feedback ----------------------------------------------------------------------------------

LAG_SCRIPT = ("doc['received_at'].size() == 0 || doc['timestamp'].size() == 0 ? 0 : "
              "doc['received_at'].value.toInstant().toEpochMilli() - doc['timestamp'].value.toInstant().toEpochMilli()")


@dataclass(frozen=True)
class FeedbackFlow:
    """Events of one index over time: throughput, orphans, capped events, ingestion lag."""

    interval: str | None
    times: tuple[int, ...]
    events: tuple[int, ...]
    orphans: tuple[int, ...]
    capped: tuple[int, ...]
    total: int
    by_action: Mapping[str, int]
    by_flag: Mapping[str, int]
    lag_p50_ms: float | None
    lag_p99_ms: float | None


def feedback_body(index: str, interval: str) -> dict:
    """Events per ``interval`` with orphan and capped counts, actions, flags and the ingestion lag
    (received_at - timestamp) percentiles (pure)."""
    flags = {"orphans": {"filter": {"term": {"flags": "orphan"}}}, "capped": {"filter": {"term": {"flags": "capped"}}}}
    return {"size": 0, "track_total_hits": True, "query": _index_filter(index),
            "aggs": {"time": {"date_histogram": {"field": "timestamp", "fixed_interval": interval}, "aggs": flags},
                     "actions": {"terms": {"field": "action", "size": 20}},
                     "flags": {"terms": {"field": "flags", "size": 20}},
                     "lag": {"percentiles": {"script": {"source": LAG_SCRIPT}, "percents": [50, 99]}}}}


def feedback_flow(es: Elasticsearch, index: str, buckets: int = BUCKETS) -> FeedbackFlow:
    """Throughput, orphans, capped events and ingestion lag of ``index``'s feedback over time."""
    empty = FeedbackFlow(None, (), (), (), (), 0, {}, {}, None, None)
    if not esio.index_exists(es, EVENTS_INDEX):
        return empty
    bounds = esio.search(es, EVENTS_INDEX, bounds_body(index))
    if not bounds["hits"]["total"]["value"]:
        return empty
    span = bounds["aggregations"]["last"]["value"] - bounds["aggregations"]["first"]["value"]
    interval = pick_interval(span, buckets)
    aggs = esio.search(es, EVENTS_INDEX, feedback_body(index, interval))["aggregations"]
    rows = aggs["time"]["buckets"]
    p50, p99 = _percentiles(aggs["lag"])
    return FeedbackFlow(interval, tuple(b["key"] for b in rows), tuple(b["doc_count"] for b in rows),
                        tuple(b["orphans"]["doc_count"] for b in rows), tuple(b["capped"]["doc_count"] for b in rows),
                        sum(b["doc_count"] for b in rows), {b["key"]: b["doc_count"] for b in aggs["actions"]["buckets"]},
                        {b["key"]: b["doc_count"] for b in aggs["flags"]["buckets"]}, p50, p99)


def recent_searches(es: Elasticsearch, index: str, size: int = 20) -> list[dict]:
    """The latest logged searches of ``index``, newest first, each with its feedback events
    ({search_id, timestamp, query, plan, shown, took_ms, events: [{action, doc_id, position, timestamp, flags}]})."""
    if not esio.index_exists(es, DECISIONS_INDEX):
        return []
    body = {"size": size, "query": _index_filter(index), "sort": [{"timestamp": "desc"}],
            "_source": ["search_id", "timestamp", "query", "plan.strategy", "shown", "took_ms", "policy_version"]}
    searches = [h["_source"] for h in esio.search(es, DECISIONS_INDEX, body)["hits"]["hits"]]
    events: dict[str, list[dict]] = {}
    ids = [s["search_id"] for s in searches if s.get("search_id")]
    if ids and esio.index_exists(es, EVENTS_INDEX):
        body = {"size": 1000, "query": {"terms": {"search_id": ids}}, "sort": [{"timestamp": "asc"}],
                "_source": ["search_id", "action", "doc_id", "position", "timestamp", "flags"]}
        for hit in esio.search(es, EVENTS_INDEX, body)["hits"]["hits"]:
            events.setdefault(hit["_source"]["search_id"], []).append(hit["_source"])
    return [{**s, "events": events.get(s.get("search_id"), [])} for s in searches]

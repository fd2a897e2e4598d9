"""The pure parts behind the admin panel: typed plans, the debugger's pool rows, the charts, the
aggregation bodies of lrr_es.insights and the audit record."""
from __future__ import annotations

import pytest

from lrr_es.admin import charts
from lrr_es.admin.debugger import pool_rows
from lrr_es.audit import Actor, audit_document
from lrr_es.decide import PlanItem, plan_from_text
from lrr_es.errors import QueryError
from lrr_es.insights import engaged_body, pick_interval, plan_shares_body, positive_actions, traffic_body
from lrr_es.merge import Candidate, Provenance
from lrr_es.parse import parse_query
from lrr_es.respond import SearchResult


def test_a_typed_plan_becomes_plan_items_without_propensity():
    assert plan_from_text(" lexical:50, memory:20 ;fuzzy:5", timeout_ms=300) == (
        PlanItem("lexical", 50, None, 300), PlanItem("memory", 20, None, 300), PlanItem("fuzzy", 5, None, 300))


@pytest.mark.parametrize("text, message", [
    ("lexical", "is not strategy:quota"), ("lexical:ten", "is not strategy:quota"), (":5", "is not strategy:quota"),
    ("lexical:0", "quota must be an integer in"), ("", "at least one strategy"),
])
def test_a_bad_typed_plan_names_the_bad_part(text, message):
    with pytest.raises(QueryError, match=message):
        plan_from_text(text)


def _candidate(doc_id, fused, *found):
    return Candidate(doc_id, {"title": f"T{doc_id}", "artist": ["A"]}, tuple(Provenance(*f) for f in found), fused)


def test_pool_rows_put_the_rrf_rank_next_to_the_served_one():
    pool = (_candidate("b", 0.010, ("memory", 1, 0.9)), _candidate("a", 0.030, ("lexical", 1, 12.5), ("memory", 2, 0.5)))
    result = SearchResult("s1", "music", parse_query("love"), (), [], 2, (), pool=pool, pool_scores=(2.0, 1.0))
    rows = pool_rows(result, ("title",), ("artist",))
    assert [(r.rank, r.rrf_rank, r.doc_id, r.title, r.found, r.score) for r in rows] == [
        (1, 2, "b", "Tb — A", "memory #1 (0.90)", 2.0),
        (2, 1, "a", "Ta — A", "lexical #1 (12.50), memory #2 (0.50)", 1.0),
    ]


def test_charts_are_whole_svg_documents_and_say_when_there_is_nothing():
    line = charts.time_chart("searches", [0, 3_600_000], {"searches": [3, None]})
    assert line.startswith(b"<?xml") and b"<svg" in line and b"</svg>" in line
    empty = charts.time_chart("searches", [], {})
    assert b"<svg" in empty and b"no searches logged yet" in empty
    bars = charts.bar_chart("shares", ["lexical", "<memory>"], {"all": [1.0, 0.5], "short": [1.0, 0.25]}, percent=True)
    assert b"&lt;memory&gt;" in bars and b"<memory>" not in bars  # data labels are escaped, never markup


def test_the_traffic_aggregation_reads_one_index_in_round_buckets():
    assert [pick_interval(ms, 24) for ms in (0, 20_000, 24_001, 600_000, 3_600_000, 86_400_000, 10**12)] == [
        "1s", "1s", "5s", "30s", "5m", "1h", "30d"]
    body = traffic_body("music", "5m")
    assert body["query"] == {"term": {"index": "music"}} and body["size"] == 0
    assert body["aggs"]["time"]["date_histogram"] == {"field": "timestamp", "fixed_interval": "5m"}
    assert body["aggs"]["latency"] == {"percentiles": {"field": "took_ms", "percents": [50, 99]}}
    assert body["aggs"]["arms"] == {"value_count": {"field": "plan.strategy"}}


def test_engagement_is_counted_in_the_same_buckets_from_positive_actions_only():
    assert positive_actions({"click": 1.0, "skip": -1.0, "play": 3.0, "view": 0.0}) == ["click", "play"]
    assert engaged_body("music", "3h", ["click"]) == {
        "size": 0, "query": {"bool": {"filter": [{"term": {"index": "music"}}, {"terms": {"action": ["click"]}}]}},
        "aggs": {"time": {"date_histogram": {"field": "timestamp", "fixed_interval": "3h"},
                          "aggs": {"searches": {"cardinality": {"field": "search_id"}}}}}}


def test_plan_shares_slice_by_query_length_and_by_policy():
    body = plan_shares_body("music")
    assert set(body["aggs"]["slices"]["filters"]["filters"]) == {"one word", "several words"}
    assert body["aggs"]["bandit"]["filter"] == {"bool": {"filter": [{"exists": {"field": "policy_version"}}],
                                                         "must_not": [{"term": {"policy_version": "cold-start"}}]}}


def test_an_audit_record_says_who_when_what():
    assert audit_document(Actor("alice", "admin"), "q2e.pin", "music", "d1 love", {"key": "love"}, "updated",
                          timestamp_ms=1000) == {
        "timestamp": 1000, "user": "alice", "via": "admin", "action": "q2e.pin", "index": "music",
        "target": "d1 love", "details": {"key": "love"}, "result": "updated"}


def _logged(search_id, ms, plan, found, engaged, failed=(), costs=None, subsearches=None):
    """A logged search: ``found`` maps a document to the strategies that retrieved it."""
    from lrr_es.learn.join import CandidateLabel, Engagement, SearchFeedback
    bandit = None
    if costs is not None:
        bandit = {"arms": list(plan), "quotas": [10] * len(plan), "propensities": {a: 1.0 for a in plan},
                  "context": [0.0], "budget": 4.0, "policy": "cold-start", "policy_version": "cold-start", "costs": costs}
    return SearchFeedback(search_id, "music", "q", ms, tuple({"strategy": a} for a in plan),
                          tuple(Engagement(d, 1.0, ("click",), 1) for d in engaged),
                          tuple(CandidateLabel(d, 0.0, None, tuple(s)) for d, s in found.items()), bandit, tuple(failed),
                          subsearches)


def test_strategy_stats_count_plans_failures_finds_and_lone_finds_per_bucket():
    from lrr_es.learn.strategy_stats import strategy_stats
    costs = {"lexical": 1.0, "memory": 0.5, "fuzzy": 2.0}
    searches = [
        _logged("a", 1_000, ["lexical", "memory"], {"d1": ["lexical", "memory"], "d2": ["memory"]}, ["d2"], costs=costs),
        _logged("b", 2_000, ["lexical", "fuzzy"], {"d3": ["lexical"]}, ["d3"], failed=["fuzzy"], costs=costs),
        _logged("c", 40_000, ["lexical"], {"d4": ["lexical"]}, []),  # no logged decision: no reward
    ]
    stats = strategy_stats(searches, buckets=24)
    assert stats.interval == "5s" and [(b.start_ms, b.searches, b.engaged) for b in stats.buckets] == [
        (0, 2, 2), (40_000, 1, 0)]
    lexical, memory, fuzzy = (stats.total.arms[a] for a in ("lexical", "memory", "fuzzy"))
    assert (lexical.planned, lexical.failed, lexical.found, lexical.alone) == (3, 0, 1, 1)
    assert (memory.planned, memory.found, memory.alone) == (1, 1, 1)
    assert (fuzzy.planned, fuzzy.failed, fuzzy.found) == (1, 1, 0)
    # the learner's rewards (hit 1, lone find +0.5, -0.1 x cost): lexical (1 - 0.1 + 1.5 - 0.1) / 2 searches
    assert lexical.reward == pytest.approx((-0.1 + 1.4) / 2) and memory.reward == pytest.approx(1.5 - 0.05)
    assert lexical.rewarded == 2 and lexical.cost == 1.0 and fuzzy.rewarded == 0


def test_strategy_stats_take_each_strategys_latency_and_timeouts_from_the_logged_subsearches():
    from lrr_es.learn.strategy_stats import strategy_stats
    searches = [
        _logged("a", 1_000, ["lexical", "fuzzy"], {}, [], failed=["fuzzy"],
                subsearches={"lexical": {"took": 4, "status": "ok"}, "fuzzy": {"took": 500, "status": "timed_out"}}),
        _logged("b", 2_000, ["lexical", "fuzzy"], {}, [], failed=["fuzzy"],
                subsearches={"lexical": {"took": 6, "status": "ok"}, "fuzzy": {"took": None, "status": "failed"}}),
        _logged("c", 3_000, ["lexical"], {}, [], subsearches={"lexical": {"took": 30, "status": "ok"}}),
        _logged("d", 40_000, ["lexical"], {}, []),  # logged before subsearches were: no latency, no split
    ]
    stats = strategy_stats(searches, buckets=24)
    lexical, fuzzy = stats.total.arms["lexical"], stats.total.arms["fuzzy"]
    assert dict(lexical.took) == {4: 1, 6: 1, 30: 1} and lexical.p50_ms == 6.0 and lexical.timed_out == 0
    assert (fuzzy.failed, fuzzy.timed_out, dict(fuzzy.took), fuzzy.p50_ms) == (2, 1, {500: 1}, 500.0)
    assert [b.arms["lexical"].p50_ms for b in stats.buckets] == [6.0, None]


def test_the_median_of_a_took_histogram_is_its_nearest_rank():
    from collections import Counter
    from lrr_es.learn.strategy_stats import took_percentile
    assert took_percentile(Counter({1: 1, 2: 1, 3: 1}), 50) == 2.0
    assert took_percentile(Counter({5: 4, 100: 1}), 50) == 5.0 and took_percentile(Counter({5: 4, 100: 1}), 99) == 100.0
    assert took_percentile(Counter(), 50) is None


def test_passthrough_counts_become_one_document_per_index_and_reason():
    from collections import Counter
    from lrr_es.client.passthrough import index_label, passthrough_documents
    counts = Counter({("music", "sort"): 3, ("(none)", "no index"): 1, ("music", "opted out"): 0})
    assert passthrough_documents(counts, 1000, "host:1") == [
        {"timestamp": 1000, "index": "(none)", "reason": "no index", "count": 1, "process": "host:1"},
        {"timestamp": 1000, "index": "music", "reason": "sort", "count": 3, "process": "host:1"}]
    assert (index_label(None), index_label(["a", "b"]), index_label("x" * 300)) == ("(none)", "a,b", "x" * 200)


def test_passthrough_counts_wait_when_they_cannot_be_written_and_never_raise():
    from lrr_es.client.passthrough import MAX_KEYS, OTHER, PassThroughCounts

    class Down:
        def __getattr__(self, name):
            raise ConnectionError("node down")

    counts = PassThroughCounts(Down(), interval_s=3600)
    for n in range(MAX_KEYS + 5):
        counts.add("index not configured", index=f"app-{n}")
    counts.add("sort", index="music")
    assert counts.snapshot() == {"index not configured": MAX_KEYS + 5, "sort": 1}
    assert counts.flush() == 0 and counts.written == 0  # kept for the next try
    pending = counts._pending
    assert len(pending) == MAX_KEYS + 2  # past the bound, one "(other)" key per reason
    assert pending[(OTHER, "index not configured")] == 5 and pending[(OTHER, "sort")] == 1
    counts.close()


def test_the_passthrough_aggregation_sums_counts_by_reason_over_time_and_by_index():
    from lrr_es.insights import passthrough_body
    body = passthrough_body("1m")
    assert body["aggs"]["time"]["date_histogram"] == {"field": "timestamp", "fixed_interval": "1m"}
    assert body["aggs"]["time"]["aggs"]["reasons"]["aggs"] == {"n": {"sum": {"field": "count"}}}
    assert body["aggs"]["reasons"]["aggs"]["indices"]["terms"] == {"field": "index", "size": 20, "order": {"n": "desc"}}
    assert body["aggs"]["n"] == {"sum": {"field": "count"}}

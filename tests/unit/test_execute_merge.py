import json

import pytest

from lrr_es.errors import EsUnavailableError, QueryError
from lrr_es.decide import PlanItem
from lrr_es.execute import Hit, StrategyResult, build_msearch, parse_msearch
from lrr_es.merge import Provenance, merge

LEX, MEM = PlanItem("lexical", 2, 1.0, 300), PlanItem("memory", 3, 0.5, 100)


def test_build_msearch_pairs_headers_with_timed_bodies_without_mutating():
    body = {"size": 2, "query": {"match_all": {}}}
    lines = build_msearch("music", [(LEX, body), (MEM, {"size": 3, "query": {"match_none": {}}})], ["title"])
    default = build_msearch("music", [(LEX, body)])[1]["_source"]
    assert default == {"excludes": ["lrr_emb", "q2e", "q2e_events", "q2e_seeded", "q2e_queries", "q2e_ts",
                                    "lrr_phonetic", "lrr_sem_cluster"]}
    assert lines == [
        {"index": "music"}, {"size": 2, "query": {"match_all": {}}, "timeout": "300ms", "_source": ["title"]},
        {"index": "music"}, {"size": 3, "query": {"match_none": {}}, "timeout": "100ms", "_source": ["title"]},
    ]
    assert body == {"size": 2, "query": {"match_all": {}}}
    json.dumps(lines)


def test_only_the_cached_strategies_ask_for_the_request_cache():
    body = {"size": 2, "query": {"match_all": {}}}
    lines = build_msearch("music", [(LEX, body), (MEM, body), (PlanItem("explore", 2), body)], cached={"lexical", "memory"})
    assert lines[0::2] == [{"index": "music", "request_cache": True}, {"index": "music", "request_cache": True},
                           {"index": "music"}]
    assert build_msearch("music", [(LEX, body)])[0] == {"index": "music"}  # nothing cached unless named


@pytest.mark.parametrize("bodies", [[], [(PlanItem("lexical", 1, timeout_ms=0), {})]])
def test_build_msearch_refuses_empty_plans_and_bad_timeouts(bodies):
    with pytest.raises(QueryError):
        build_msearch("music", bodies)


def _hits(*pairs):
    return {"took": 3, "timed_out": False, "_shards": {"total": 1, "failed": 0},
            "hits": {"hits": [{"_id": i, "_score": s, "_source": {"title": i}} for i, s in pairs]}}


def test_parse_msearch_reports_failures_and_timeouts_per_strategy():
    explore = PlanItem("explore", 5)
    timed = dict(_hits(("c", 1.0)), timed_out=True)
    response = {"responses": [
        _hits(("a", 2.0), ("b", 1.5)),
        {"error": {"root_cause": [{"type": "query_shard_exception", "reason": "bad script"}], "type": "x"}, "status": 400},
        timed,
    ]}
    lex, mem, exp = parse_msearch([LEX, MEM, explore], response)
    assert lex == StrategyResult("lexical", (Hit("a", 2.0), Hit("b", 1.5)), "ok", None, 3)
    assert lex.hits[0].source == {"title": "a"}
    assert (mem.status, mem.error, mem.hits, mem.served) == ("failed", "query_shard_exception: bad script", (), False)
    assert (exp.status, [h.id for h in exp.hits], exp.served) == ("timed_out", ["c"], True)


def test_parse_msearch_refuses_a_short_response():
    with pytest.raises(EsUnavailableError):
        parse_msearch([LEX, MEM], {"responses": [_hits()]})


def result(name, *ids, status="ok"):
    return StrategyResult(name, tuple(Hit(i, 10.0 - n, {"id": i}) for n, i in enumerate(ids)), status)


def test_merge_keeps_provenance_and_fuses_by_weighted_rrf():
    pool = merge([result("lexical", "a", "b", "c"), result("memory", "c", "d")], k=60)
    # c: 1/63 + 1/61 beats a: 1/61; b and d tie at 1/62 and rank 2, lexical comes first in the plan
    assert [c.id for c in pool] == ["c", "a", "b", "d"]
    c = pool[0]
    assert c.provenance == (Provenance("lexical", 3, 8.0), Provenance("memory", 1, 10.0))
    assert c.fused == pytest.approx(1 / 63 + 1 / 61)
    assert c.found_by("memory") == Provenance("memory", 1, 10.0) and c.found_by("fuzzy") is None
    assert pool[1].strategies == ("lexical",)


def test_merge_weights_and_zero_weight_keeps_candidates():
    pool = merge([result("lexical", "a"), result("memory", "b")], weights={"memory": 2.0})
    assert [c.id for c in pool] == ["b", "a"]
    pool = merge([result("lexical", "a"), result("explore", "b")], weights={"explore": 0})
    assert [c.id for c in pool] == ["a", "b"] and pool[1].fused == 0


def test_merge_ties_are_deterministic_and_failed_results_add_nothing():
    results = [result("lexical", "x"), result("fuzzy", "y"), result("memory", status="failed")]
    assert [c.id for c in merge(results)] == ["x", "y"]  # same fused score and rank: plan order
    assert [c.id for c in merge(list(reversed(results)))] == ["y", "x"]
    assert merge([result("lexical", "b"), result("fuzzy", "a")], weights={"lexical": 1, "fuzzy": 1})[0].id == "b"


def test_merge_counts_a_doc_once_per_strategy():
    pool = merge([result("lexical", "a", "a", "b")])
    assert [(c.id, c.provenance[0].rank) for c in pool] == [("a", 1), ("b", 3)]


def test_parse_msearch_reads_a_filtered_response_without_hits():
    # filter_path drops empty arrays: a sub-search that found nothing comes back as {"took": n}
    (result,) = parse_msearch([LEX], {"responses": [{"took": 1, "timed_out": False}]})
    assert result == StrategyResult("lexical", (), "ok", None, 1)

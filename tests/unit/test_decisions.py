from lrr_es.decisions import decision_document
from lrr_es.respond import SearchResult
from lrr_es.decide import PlanItem
from lrr_es.execute import StrategyResult
from lrr_es.merge import Candidate, Provenance
from lrr_es.parse import parse_query


def test_decision_document_is_the_logged_record_of_a_search():
    pool = (Candidate("d1", {}, (Provenance("lexical", 1, 9.87654), Provenance("fuzzy", 3, 1.5)), 0.0325),
            Candidate("d2", {}, (Provenance("fuzzy", 1, 2.0),), 0.01639344))
    result = SearchResult(
        "abc", "music", parse_query("Tayler  Swift"), (PlanItem("lexical", 20, 1.0), PlanItem("fuzzy", 20, 0.25)),
        [{"_id": "d1"}], 2, (StrategyResult("lexical", took_ms=7), StrategyResult("fuzzy", status="failed", error="x")),
        {}, {"total": 12.34567}, pool, {"policy": "p3", "ranker": "rrf"}, (1.0, 0.25))
    assert decision_document(result, timestamp_ms=1_700_000_000_000) == {
        "search_id": "abc", "timestamp": 1_700_000_000_000, "index": "music", "query": "Tayler Swift",
        "q2e_key": "swift_tayler", "context": [1.0, 0.25],
        "plan": [{"strategy": "lexical", "quota": 20, "propensity": 1.0},
                 {"strategy": "fuzzy", "quota": 20, "propensity": 0.25}],
        "policy_version": "p3", "bandit": None, "ranker_version": "rrf",
        "candidates": [{"id": "d1", "fused": 0.0325, "found": {"lexical": [1, 9.8765], "fuzzy": [3, 1.5]}},
                       {"id": "d2", "fused": 0.016393, "found": {"fuzzy": [1, 2.0]}}],
        "shown": ["d1"], "swap": None, "feature_schema": None, "features": None,
        "failed_strategies": ["fuzzy"], "took_ms": 12.346,
        "subsearches": {"lexical": {"took": 7, "status": "ok"}, "fuzzy": {"took": None, "status": "failed"}},
    }


def test_a_bandit_search_logs_its_whole_decision():
    from lrr_es.bandit import Decision
    decision = Decision(("lexical", "memory"), (100, 20), {"lexical": 1.0, "memory": 0.4, "fuzzy": 0.05}, (1.0, 0.5),
                        2.5, "thompson", "thompson-s7-u3", "monte_carlo:200", {"lexical": 1.0, "memory": 0.5, "fuzzy": 2.0}, 0.35)
    result = SearchResult("abc", "music", parse_query("love"), decision.plan(), [], 0, (), context=(1.0, 0.5),
                          versions={"policy": decision.policy_version}, decision=decision)
    logged = decision_document(result, timestamp_ms=1)
    assert logged["bandit"] == {
        "arms": ["lexical", "memory"], "quotas": [100, 20], "propensities": {"lexical": 1.0, "memory": 0.4, "fuzzy": 0.05},
        "context": [1.0, 0.5], "budget": 2.5, "policy": "thompson", "policy_version": "thompson-s7-u3",
        "propensity_method": "monte_carlo:200", "costs": {"lexical": 1.0, "memory": 0.5, "fuzzy": 2.0},
        "plan_propensity": 0.35}
    assert Decision.from_dict(logged["bandit"]) == decision


def test_logged_features_are_the_served_rows_of_the_head_and_of_every_shown_hit():
    from functools import partial

    import numpy as np

    from lrr_es.config import FieldMap
    from lrr_es.context import CONTEXT_SCHEMA
    from lrr_es.rank.features import candidate_features, feature_schema, schema_id
    from lrr_es.rank.logged import logged_features, logged_rows
    strategies = ("lexical", "fuzzy")
    pool = tuple(Candidate(f"d{i}", {"title": f"song {i}", "popularity": i}, (Provenance("lexical", i + 1, 20.0 - i),), 1 / (61 + i))
                 for i in range(8))
    query = parse_query("song 3")
    result = SearchResult("abc", "music", query, (), [{"_id": "d6"}, {"_id": "d7"}], 8, (), pool=pool,
                          context=tuple(np.zeros(len(CONTEXT_SCHEMA))))
    logged = decision_document(result, 1, partial(logged_features, result, strategies, FieldMap(), 3, 200, 1e9))
    assert logged["features"]["ids"] == ["d0", "d1", "d2", "d6", "d7"]  # depth 3, then the shown hits below it
    assert logged["feature_schema"] == schema_id(feature_schema(strategies))
    whole = candidate_features(query, pool, strategies, FieldMap(), np.zeros(len(CONTEXT_SCHEMA)), 1e9)  # normalized over the whole head
    assert np.allclose(logged_rows(logged["features"], len(feature_schema(strategies))), whole[[0, 1, 2, 6, 7]], rtol=1e-6)
    # a page served past the pool (the lexical fallback) with depth 0: nothing to log, the record still is
    beyond = SearchResult("abc", "music", query, (), [{"_id": "x1"}], 8, (), pool=pool,
                          context=tuple(np.zeros(len(CONTEXT_SCHEMA))))
    record = decision_document(beyond, 1, partial(logged_features, beyond, strategies, FieldMap(), 0, 200, 1e9))
    assert record["features"] is None and record["shown"] == ["x1"]
    empty = SearchResult("abc", "music", query, (), [], 0, (), context=tuple(np.zeros(len(CONTEXT_SCHEMA))))
    assert logged_features(empty, strategies, FieldMap(), 30, 200) is None


def test_a_randomized_swap_exchanges_the_top_hit_with_another_and_is_rare_at_a_small_rate():
    import uuid

    from lrr_es.respond import randomized_swap as _swap
    page = [{"_id": f"d{i}"} for i in range(10)]
    swapped = [s for s in (_swap(list(page), uuid.uuid4().hex, 0.05) for _ in range(4000)) if s]
    assert 120 < len(swapped) < 280  # 5% of 4,000 is 200
    assert {a for a, _ in swapped} == {1} and {b for _, b in swapped} == set(range(2, 11))
    moved = list(page)
    assert _swap(moved, "f" * 32, 1.0) == (1, moved.index(page[0]) + 1)
    assert moved[0] != page[0] and sorted(h["_id"] for h in moved) == sorted(h["_id"] for h in page)
    assert _swap(list(page), uuid.uuid4().hex, 0.0) is None and _swap(page[:1], "f" * 32, 1.0) is None


def test_logged_rows_round_trip_as_float32_and_records_written_before_still_read():
    import base64

    import numpy as np
    import pytest

    from lrr_es.rank.logged import logged_rows
    rng = np.random.default_rng(5)
    rows = np.concatenate([rng.normal(0, 1e3, (3, 4)), np.zeros((1, 4)), np.eye(4)[:1]])
    encoded = {"ids": list("abcde"), "f32": base64.b64encode(rows.astype("<f4").tobytes()).decode()}
    assert np.array_equal(logged_rows(encoded, 4), rows.astype(np.float32).astype(float))
    assert np.array_equal(logged_rows({"ids": ["a"], "rows": [[1, 2.5, 0, 3]]}, 4), [[1, 2.5, 0, 3]])  # the JSON lists of before
    for bad in ({"ids": list("abcde"), "f32": encoded["f32"][:-8]}, {"ids": ["a"], "f32": "not base64!"},
                {"ids": ["a", "b"], "rows": [[1, 2, 3, 4]]}):
        with pytest.raises(ValueError):
            logged_rows(bad, 4)

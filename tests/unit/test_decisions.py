from lrr_es.decisions import decision_document
from lrr_es.engine import SearchResult
from lrr_es.execute import PlanItem, StrategyResult
from lrr_es.merge import Candidate, Provenance
from lrr_es.strategies import parse_query


def test_decision_document_is_the_logged_record_of_a_search():
    pool = (Candidate("d1", {}, (Provenance("lexical", 1, 9.87654), Provenance("fuzzy", 3, 1.5)), 0.0325),
            Candidate("d2", {}, (Provenance("fuzzy", 1, 2.0),), 0.01639344))
    result = SearchResult(
        "abc", "music", parse_query("Tayler  Swift"), (PlanItem("lexical", 20, 1.0), PlanItem("fuzzy", 20, 0.25)),
        [{"_id": "d1"}], 2, (StrategyResult("lexical"), StrategyResult("fuzzy", status="failed", error="x")),
        {}, {"total": 12.34567}, pool, {"policy": "p3", "ranker": "rrf"}, (1.0, 0.25))
    assert decision_document(result, timestamp_ms=1_700_000_000_000) == {
        "search_id": "abc", "timestamp": 1_700_000_000_000, "index": "music", "query": "Tayler Swift",
        "q2e_key": "swift_tayler", "context": [1.0, 0.25],
        "plan": [{"strategy": "lexical", "quota": 20, "propensity": 1.0},
                 {"strategy": "fuzzy", "quota": 20, "propensity": 0.25}],
        "policy_version": "p3", "bandit": None, "ranker_version": "rrf",
        "candidates": [{"id": "d1", "fused": 0.0325, "found": {"lexical": [1, 9.8765], "fuzzy": [3, 1.5]}},
                       {"id": "d2", "fused": 0.016393, "found": {"fuzzy": [1, 2.0]}}],
        "shown": ["d1"], "failed_strategies": ["fuzzy"], "took_ms": 12.346,
    }


def test_a_bandit_search_logs_its_whole_decision():
    from lrr_es.bandit import Decision
    decision = Decision(("lexical", "memory"), (100, 20), {"lexical": 1.0, "memory": 0.4, "fuzzy": 0.05}, (1.0, 0.5),
                        2.5, "thompson", "thompson-s7-u3", "monte_carlo:200", {"lexical": 1.0, "memory": 0.5, "fuzzy": 2.0})
    result = SearchResult("abc", "music", parse_query("love"), decision.plan(), [], 0, (), context=(1.0, 0.5),
                          versions={"policy": decision.policy_version}, decision=decision)
    logged = decision_document(result, timestamp_ms=1)
    assert logged["bandit"] == {
        "arms": ["lexical", "memory"], "quotas": [100, 20], "propensities": {"lexical": 1.0, "memory": 0.4, "fuzzy": 0.05},
        "context": [1.0, 0.5], "budget": 2.5, "policy": "thompson", "policy_version": "thompson-s7-u3",
        "propensity_method": "monte_carlo:200", "costs": {"lexical": 1.0, "memory": 0.5, "fuzzy": 2.0}}
    assert Decision.from_dict(logged["bandit"]) == decision

"""The learner's pure parts: rewards of a logged search, the high-water mark, the additive mapping diff."""
import math

import pytest

from lrr_es.bandit import Decision, RewardParams, make_policy
from lrr_es.errors import ConfigError
from lrr_es.learn import Mark, evaluate_searches, join_events, logged_searches, search_rewards
from lrr_es.timestamps import epoch_ms
from lrr_es.migrate import missing_fields

GRADES = {"click": 1.0, "like": 2.0, "play": 3.0}
COSTS = {"lexical": 1.0, "memory": 0.5, "fuzzy": 2.0}


def decision(arms=("lexical", "memory", "fuzzy"), context=(1.0, 0.0)):
    return Decision(tuple(arms), tuple(50 for _ in arms), {"lexical": 1.0, "memory": 0.5, "fuzzy": 0.25}, context,
                    4.0, "thompson", "thompson-s7-u0", "monte_carlo:200", COSTS)


def logged(sid, ts, bandit=True, failed=(), arms=("lexical", "memory", "fuzzy")):
    return {"search_id": sid, "timestamp": ts, "index": "music", "query": "love",
            "bandit": decision(arms).to_dict() if bandit else None, "failed_strategies": list(failed),
            "candidates": [{"id": "a", "found": {"lexical": [1, 9.0], "fuzzy": [2, 1.0]}},
                           {"id": "b", "found": {"memory": [1, 3.0]}},
                           {"id": "c", "found": {"lexical": [2, 5.0]}}],
            "shown": ["a", "b", "c"]}


def test_rewards_come_from_provenance_and_the_engaged_documents():
    [search] = join_events([logged("s1", 1000)], [
        {"event_id": "e1", "search_id": "s1", "doc_id": "b", "action": "play", "timestamp": 1100},
        {"event_id": "e2", "search_id": "s1", "doc_id": "a", "action": "click", "timestamp": 1200}], GRADES)
    rewards, engaged = search_rewards(decision(), search, RewardParams(hit=1.0, unique_bonus=0.5, cost_weight=0.1))
    assert engaged == {"a", "b"}
    # a: found by lexical and fuzzy (no bonus); b: only memory found it (bonus)
    assert rewards == pytest.approx({"lexical": 1.0 - 0.1, "memory": 1.5 - 0.05, "fuzzy": 1.0 - 0.2})
    rewards, engaged = search_rewards(decision(), search, min_grade=2.0)  # a click is not enough here
    assert engaged == {"b"} and rewards == pytest.approx({"lexical": -0.1, "memory": 1.45, "fuzzy": -0.2})


def test_no_engagement_is_zero_and_a_failed_arm_observes_nothing():
    [search] = join_events([logged("s1", 1000, failed=["fuzzy"])], [], GRADES)
    rewards, engaged = search_rewards(decision(), search)
    assert engaged == frozenset() and rewards == {"lexical": 0.0, "memory": 0.0}


def test_the_high_water_mark_orders_by_time_then_search_id_and_skips_what_was_learned():
    decisions = [logged("s3", 2000), logged("s1", 1000), logged("s2", 2000), logged("x", 500, bandit=False)]
    joined = join_events(decisions, [], GRADES)
    first = logged_searches(joined, dim=2)
    assert [s.search_id for s in first.searches] == ["s1", "s2", "s3"] and first.skipped == {"no bandit decision": 1}
    mark = first.searches[1].mark
    assert mark == Mark(2000, "s2") and Mark.from_params({"learned_through": mark.to_dict()}) == mark
    second = logged_searches(joined, after=mark, dim=2)
    assert [s.search_id for s in second.searches] == ["s3"]
    assert second.skipped == {"no bandit decision": 1, "already learned": 2}
    assert logged_searches(joined, after=Mark(2000, "s3"), dim=2).searches == []
    assert logged_searches(joined, dim=5).skipped["context of another length"] == 3
    assert Mark.from_params({}) is None and Mark.from_params({"learned_through": {"timestamp": "bad"}}) is None


def test_timestamps_are_read_as_epoch_ms():
    assert epoch_ms(1_700_000_000_123) == 1_700_000_000_123
    assert epoch_ms("2023-11-14T22:13:20Z") == 1_700_000_000_000 == epoch_ms("2023-11-14T22:13:20")
    assert epoch_ms("yesterday") is None and epoch_ms(True) is None


def test_evaluation_leaves_the_candidate_untouched_and_gives_finite_estimates():
    joined = join_events([logged(f"s{i}", 1000 + i) for i in range(30)],
                         [{"event_id": f"e{i}", "search_id": f"s{i}", "doc_id": "b", "action": "play", "timestamp": 2000}
                          for i in range(0, 30, 3)], GRADES)
    searches = logged_searches(joined, dim=2).searches
    candidate = make_policy("epsilon_greedy", dim=2, seed=1)
    before = candidate.to_state()
    result, arms, value = evaluate_searches(candidate, searches)
    assert candidate.to_state() == before
    assert arms == ("lexical", "memory", "fuzzy") and result.n == 30 and result.pairs == 90
    assert all(math.isfinite(v) for v in (result.ips, result.snips, result.dr, value))
    assert 0 < result.ess <= result.pairs
    assert value == pytest.approx((10 * (1.45 - 0.1 - 0.2) + 20 * 0.0) / 30)  # memory alone found b


def test_missing_fields_is_additive_and_recurses_into_objects():
    have = {"a": {"type": "keyword"}, "plan": {"properties": {"strategy": {"type": "keyword"}}}, "x": {"type": "long"}}
    want = {"a": {"type": "text"}, "bandit": {"type": "object", "enabled": False},
            "plan": {"properties": {"strategy": {"type": "keyword"}, "quota": {"type": "integer"}}}}
    assert missing_fields(have, want) == {"bandit": {"type": "object", "enabled": False},
                                          "plan": {"properties": {"quota": {"type": "integer"}}}}
    assert missing_fields(want, want) == {}


def test_bad_learning_arguments_name_the_value():
    from lrr_es.learn.logged import check_min_grade, check_time
    with pytest.raises(ConfigError, match="'last tuesday'"):
        check_time("since", "last tuesday")
    with pytest.raises(ConfigError, match="min_grade .* -1"):
        check_min_grade(-1)

"""Fusion weights and the cold-start page rules (lrr_es.fusion, lrr_es.merge.lead / hold_back) on literal data."""
from types import SimpleNamespace

import pytest

from lrr_es.decide import COLD_START, Decision
from lrr_es.fusion import (FusionWeights, explore_held_back, leading_strategy, learn_fusion, query_weights,
                           slot_confidence)
from lrr_es.merge import Candidate, Provenance, hold_back, lead

STRATEGIES = ("lexical", "popular", "structured", "memory", "fuzzy", "semantic", "explore")


def query(*readings):
    return SimpleNamespace(interpretations=tuple(SimpleNamespace(slots=slots, rest=rest, likelihood=p)
                                                 for slots, rest, p in readings))


def cand(doc_id, *found):
    return Candidate(doc_id, {}, tuple(Provenance(s, r, 0.0) for s, r in found), 0.0)


def test_priors_rank_weak_and_exploratory_strategies_below_the_strong_ones():
    w = query_weights(query(), STRATEGIES)
    assert w == {"lexical": 1.0, "popular": 0.7, "structured": 1.0, "memory": 1.0, "fuzzy": 0.6, "semantic": 0.3,
                 "explore": 0.1}


def test_configured_weights_replace_priors_and_learned_ones_replace_both():
    w = query_weights(query(), ("lexical", "explore", "semantic", "custom"), configured={"explore": 0.2})
    assert w == {"lexical": 1.0, "explore": 0.2, "semantic": 0.3, "custom": 0.5}
    learned = FusionWeights({"semantic": 0.45})
    assert query_weights(query(), ("semantic",), learned, {"semantic": 0.9}) == {"semantic": 0.45}


def test_structured_weight_grows_with_the_confidence_of_a_reading_with_slots():
    slots = (SimpleNamespace(role="decade", value="1980s"),)
    assert slot_confidence(query((slots, "", 0.6))) == 0.6
    assert slot_confidence(query(((), "love", 0.9))) == 0.0  # a free-text reading on top: no boost
    assert query_weights(query((slots, "", 0.6)), ("structured",))["structured"] == pytest.approx(1.0 + 2.0 * 0.6)


def test_a_confident_reading_with_slots_lets_structured_lead():
    slots = (SimpleNamespace(role="genre", value="pop"),)
    assert leading_strategy(query((slots, "", 0.59)), STRATEGIES) == "structured"
    assert leading_strategy(query((slots, "midnight", 0.77)), STRATEGIES) == "structured"  # words left as text
    assert leading_strategy(query(((), "midnight rock", 0.8)), STRATEGIES) is None  # no slots read
    assert leading_strategy(query((slots, "", 0.31)), STRATEGIES) is None  # not confident
    assert leading_strategy(query((slots, "", 0.9)), ("lexical",)) is None  # structured did not run


def test_lead_moves_the_strategys_head_to_the_front_in_its_order():
    pool = [cand("a", ("lexical", 1)), cand("b", ("structured", 2), ("lexical", 2)), cand("c", ("semantic", 1)),
            cand("d", ("structured", 1)), cand("e", ("structured", 4))]
    assert [c.id for c in lead(pool, "structured", 3)] == ["d", "b", "a", "c", "e"]
    assert lead(pool, "memory", 3) == pool


def test_hold_back_keeps_explore_only_candidates_off_the_head():
    pool = [cand("a", ("explore", 1)), cand("b", ("lexical", 1)), cand("c", ("explore", 2)),
            cand("d", ("explore", 3), ("lexical", 2)), cand("e", ("explore", 4)), cand("f", ("memory", 1))]
    assert [c.id for c in hold_back(pool, ("explore",), 3)] == ["b", "d", "f", "a", "c", "e"]
    assert [c.id for c in hold_back(pool[:3], ("explore",), 3)] == ["b", "a", "c"]  # nothing else to lead
    assert hold_back(pool[1:2], ("explore",), 3) == pool[1:2]


def test_explore_is_held_back_unless_a_policy_chose_it():
    costs = {"lexical": 1.0, "explore": 1.2}
    chose = Decision(("lexical", "explore"), (100, 20), {"lexical": 1.0, "explore": 0.3}, (1.0,), 4.0, "vw", "vw-s1-u1",
                     costs=costs)
    cold = Decision(("lexical", "explore"), (50, 50), {"lexical": 1.0, "explore": 1.0}, (1.0,), 2.2, COLD_START,
                    COLD_START, costs=costs)
    assert not explore_held_back(chose)
    assert explore_held_back(cold) and explore_held_back(None)
    assert explore_held_back(Decision(("lexical",), (100,), {"lexical": 1.0}, (1.0,), 4.0, "vw", "v", costs=costs))


def test_learned_weights_are_posterior_means_around_the_priors_and_add_up_across_runs():
    searches = [({"lexical", "memory", "semantic"}, {"memory"})] * 30 + [({"lexical", "memory"}, {"lexical"})] * 20
    priors = {"lexical": 1.0, "memory": 1.0, "semantic": 0.3}
    first = learn_fusion(searches, priors)
    assert first.engaged_runs == {"lexical": 50, "memory": 50, "semantic": 30}
    assert first.found == {"lexical": 20, "memory": 30, "semantic": 0}
    assert first.weights["lexical"] == pytest.approx((50 * 1.0 + 20) / 100)
    assert first.weights["memory"] == pytest.approx((50 * 1.0 + 30) / 100)
    assert first.weights["semantic"] == pytest.approx((50 * 0.3 + 0) / 80)
    second = learn_fusion([({"semantic"}, {"semantic"})] * 10, priors, first)
    assert second.engaged_runs["semantic"] == 40 and second.found["semantic"] == 10
    assert second.weights["semantic"] == pytest.approx((50 * 0.3 + 10) / 90)
    assert second.weights["lexical"] == pytest.approx(first.weights["lexical"])

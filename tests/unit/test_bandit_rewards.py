import pytest

from lrr_es.bandit import RewardParams, arm_rewards, candidates_by_arm
from lrr_es.errors import ConfigError, PolicyError
from lrr_es.merge import Candidate, Provenance

COSTS = {"lexical": 1.0, "memory": 0.5, "semantic": 1.5}
FOUND = {"lexical": ["a", "b", "c"], "memory": ["b", "d"], "semantic": ["e"]}


def test_hit_unique_bonus_and_cost():
    params = RewardParams(hit=1.0, unique_bonus=0.5, cost_weight=0.2)
    rewards = arm_rewards(FOUND, {"b"}, COSTS, params)
    # b was found by lexical and memory: a hit for both, unique for neither; semantic missed
    assert rewards == pytest.approx({"lexical": 1.0 - 0.2, "memory": 1.0 - 0.1, "semantic": -0.3})
    rewards = arm_rewards(FOUND, {"b", "d", "a"}, COSTS, params)
    # a only lexical found, d only memory: both get the bonus once
    assert rewards == pytest.approx({"lexical": 1.5 - 0.2, "memory": 1.5 - 0.1, "semantic": -0.3})


def test_no_engagement_is_zero_for_every_arm_that_ran_unless_cost_is_charged():
    assert arm_rewards(FOUND, set(), COSTS) == {"lexical": 0.0, "memory": 0.0, "semantic": 0.0}
    charged = arm_rewards(FOUND, [], COSTS, RewardParams(cost_weight=0.1, charge_cost_without_engagement=True))
    assert charged == pytest.approx({"lexical": -0.1, "memory": -0.05, "semantic": -0.15})


def test_an_arm_that_ran_and_found_nothing_still_pays_its_cost():
    rewards = arm_rewards({"lexical": ["a"], "memory": []}, {"a"}, COSTS, RewardParams(cost_weight=0.1))
    assert rewards == pytest.approx({"lexical": 1.5 - 0.1, "memory": -0.05})


def test_candidates_by_arm_from_merged_provenance():
    pool = [Candidate("a", {}, (Provenance("lexical", 1, 2.0), Provenance("memory", 3, 1.0)), 0.1),
            Candidate("b", {}, (Provenance("lexical", 2, 1.5),), 0.05)]
    assert candidates_by_arm(pool, ["lexical", "memory", "fuzzy"]) == {
        "lexical": {"a", "b"}, "memory": {"a"}, "fuzzy": set()}


def test_bad_inputs_name_the_value():
    with pytest.raises(PolicyError, match=r"no cost given for arms \['semantic'\]"):
        arm_rewards(FOUND, {"a"}, {"lexical": 1.0, "memory": 0.5})
    with pytest.raises(PolicyError, match="string 'abc'"):
        arm_rewards(FOUND, "abc", COSTS)
    with pytest.raises(PolicyError, match="cost of arm 'memory'"):
        arm_rewards(FOUND, {"a"}, {**COSTS, "memory": float("inf")})
    with pytest.raises(ConfigError, match="cost_weight .* got -1"):
        RewardParams(cost_weight=-1)
    with pytest.raises(ConfigError, match="charge_cost_without_engagement"):
        RewardParams(charge_cost_without_engagement="yes")


def test_shared_credit_splits_each_engaged_document_among_its_finders():
    found = {"lexical": {"a", "b"}, "memory": {"a"}, "fuzzy": {"c"}, "explore": set()}
    costs = {"lexical": 1.0, "memory": 0.5, "fuzzy": 2.0, "explore": 1.2}
    r = arm_rewards(found, {"a", "b"}, costs, RewardParams(credit="shared"))
    # a: lexical and memory share 1/2 each; b: lexical alone. Each document is worth 1/2 of the page.
    assert r == {"lexical": pytest.approx(0.5 * (0.5 + 1.0) - 0.1), "memory": pytest.approx(0.5 * 0.5 - 0.05),
                 "fuzzy": pytest.approx(-0.2), "explore": pytest.approx(-0.12)}
    assert sum(r.values()) == pytest.approx(1.0 - 0.1 * sum(costs.values()))  # the page's reward
    assert arm_rewards(found, set(), costs, RewardParams(credit="shared")) == {a: 0.0 for a in found}


def test_auto_credit_resolves_per_policy_and_bad_credit_is_refused():
    from lrr_es.bandit import make_policy
    assert RewardParams().for_policy(make_policy("vw", dim=3)).credit == "shared"
    assert RewardParams().for_policy(make_policy("linucb", dim=3)).credit == "found"
    assert RewardParams(credit="found").for_policy(make_policy("vw", dim=3)).credit == "found"
    with pytest.raises(ConfigError, match="credit"):
        RewardParams(credit="all")

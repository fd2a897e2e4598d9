"""Contract tests over every registered policy, plus the update math against closed forms."""
import copy
import dataclasses
import json
import math

import numpy as np
import pytest

from lrr_es.bandit import (POLICIES, Arm, Decision, EpsilonGreedyPolicy, LinUCBPolicy, ThompsonPolicy, make_policy,
                           policy_from_state)
from lrr_es.bandit.decision import greedy_masks, greedy_subset, quotas_for
from lrr_es.errors import ConfigError, ModelError, PolicyError
from lrr_es.decide import PlanItem
from lrr_es.strategies import STRATEGIES

ARMS = [cls.descriptors() for cls in STRATEGIES.values()]  # 7 real arms, lexical cost 1.0
DIM = 6
RIDGE_POLICIES = sorted(n for n in POLICIES if n != "vw")  # per-arm ridge models (vw has one model over plans)


def trained(name, seed=11, rounds=40, budget=3.0):
    """A policy after ``rounds`` select/update steps on random contexts and rewards."""
    policy = make_policy(name, dim=DIM, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        d = policy.select(rng.normal(size=DIM), ARMS, budget)
        policy.update([d], [{a: float(rng.random()) for a in d.arms}])
    return policy


def contexts(n, seed=5):
    return list(np.random.default_rng(seed).normal(size=(n, DIM)))


# ---------------------------------------------------------------- contract, every registered policy
@pytest.mark.parametrize("name", sorted(POLICIES))
def test_seeded_runs_repeat_exactly(name):
    a, b = trained(name), trained(name)
    assert [a.select(x, ARMS, 3.0) for x in contexts(20)] == [b.select(x, ARMS, 3.0) for x in contexts(20)]
    assert a.to_state() == b.to_state()


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_state_round_trips_exactly_through_json(name):
    policy = trained(name)
    state = policy.to_state()
    restored = policy_from_state(json.loads(json.dumps(state)))
    assert restored.to_state() == state
    xs = contexts(25)
    assert [restored.select(x, ARMS, 3.0) for x in xs] == [policy.select(x, ARMS, 3.0) for x in xs]
    assert type(policy).from_state(state).to_state() == state


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_inputs_are_not_mutated(name):
    policy = trained(name)
    x = np.linspace(-1, 1, DIM)
    x_before, arms_before = x.copy(), copy.deepcopy(ARMS)
    decision = policy.select(x, ARMS, 3.0)
    rewards = [{a: 0.5 for a in decision.arms}]
    rewards_before = copy.deepcopy(rewards)
    policy.update([decision], rewards)
    assert np.array_equal(x, x_before) and ARMS == arms_before and rewards == rewards_before
    assert decision.context == tuple(x_before.tolist())


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("budget", [0.5, 1.0, 1.6, 2.5, 4.0, 100.0])
def test_safe_arm_always_in_budget_respected_propensities_valid(name, budget):
    policy = trained(name)
    costs = {a["name"]: a["cost"] for a in ARMS}
    for x in contexts(30):
        d = policy.select(x, ARMS, budget)
        assert d.arms[0] == "lexical" and d.propensities["lexical"] == 1.0
        assert d.cost <= max(budget, costs["lexical"]) + 1e-9
        assert len(set(d.arms)) == len(d.arms) and set(d.propensities) == set(costs)
        assert all(0.0 < d.propensities[a] <= 1.0 for a in d.arms)
        assert all(0.0 <= p <= 1.0 for p in d.propensities.values())
        assert all(q in (20, 50, 100) for q in d.quotas) and d.quotas[0] == 100
        assert (d.policy, d.policy_version) == (name, policy.version)
        json.dumps(d.to_dict())
        assert Decision.from_dict(json.loads(json.dumps(d.to_dict()))) == d


@pytest.mark.parametrize("name", RIDGE_POLICIES)
def test_a_new_arm_gets_a_fresh_prior_and_a_removed_arm_is_dropped(name):
    policy = trained(name, rounds=60)
    before = policy.to_state()
    policy.select(np.ones(DIM), ARMS + [{"name": "brand_new", "kind": "text", "cost": 1.0}], 3.0)
    fresh = next(a for a in policy.to_state()["arms"] if a["name"] == "brand_new")
    assert fresh["n"] == 0 and fresh["b"] == [0.0] * DIM and fresh["A"] == np.eye(DIM).tolist()
    kept = {a["name"]: a for a in policy.to_state()["arms"]}
    assert all(kept[a["name"]]["A"] == a["A"] for a in before["arms"])  # nothing else was reset
    policy.select(np.ones(DIM), [a for a in ARMS if a["name"] != "memory"], 3.0)
    assert "memory" not in policy.arms and "memory" not in policy.to_state()["arms"]


def test_a_new_arm_is_explored_by_every_policy():
    """An arm added late is chosen at least sometimes while an established one keeps its place."""
    arms = [{"name": "lexical", "cost": 1.0}, {"name": "old", "cost": 1.0}]
    for name in sorted(POLICIES):
        policy = make_policy(name, dim=DIM, seed=1)
        for x in contexts(200):
            d = policy.select(x, arms, 2.0)
            policy.update(d, {a: (0.3 if a == "old" else 0.5) for a in d.arms})
        picks = [policy.select(x, arms + [{"name": "new", "cost": 1.0}], 2.0).arms for x in contexts(30, seed=8)]
        assert any("new" in p for p in picks), name


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_bad_contexts_raise_and_non_finite_values_fall_back_to_zero(name):
    policy = make_policy(name, dim=DIM, seed=1)
    for bad in (np.ones(DIM + 1), np.ones((2, DIM)), "abc", None, [1.0] * (DIM - 1)):
        with pytest.raises(PolicyError, match="context"):
            policy.select(bad, ARMS, 3.0)
    x = np.array([np.nan, np.inf, -np.inf, 1.0, 2.0, 3.0])
    decision = policy.select(x, ARMS, 3.0)
    assert decision.context == (0.0, 0.0, 0.0, 1.0, 2.0, 3.0)
    assert policy.nonfinite_contexts_ == 1 and np.isnan(x[0])  # input left as it was


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_bad_arms_budgets_quotas_and_rewards_name_the_value(name):
    policy = make_policy(name, dim=DIM)
    x = np.zeros(DIM)
    with pytest.raises(PolicyError, match="safe arm 'lexical'"):
        policy.select(x, [{"name": "memory", "cost": 0.5}], 3.0)
    with pytest.raises(PolicyError, match="unique"):
        policy.select(x, ARMS + [ARMS[0]], 3.0)
    with pytest.raises(PolicyError, match="cost must be .* got -1"):
        policy.select(x, ARMS + [{"name": "neg", "cost": -1}], 3.0)
    for budget in (0, -1.0, float("nan"), "4"):
        with pytest.raises(PolicyError, match="budget"):
            policy.select(x, ARMS, budget)
    with pytest.raises(PolicyError, match="quotas"):
        policy.select(x, ARMS, 3.0, quotas=(0, 50))
    d = policy.select(x, ARMS, 3.0)
    with pytest.raises(PolicyError, match="did not choose"):
        policy.update([d], [{"not_chosen": 1.0}])
    with pytest.raises(PolicyError, match="finite number, got nan"):
        policy.update([d], [{"lexical": float("nan")}])
    with pytest.raises(PolicyError, match="one reward mapping per decision"):
        policy.update([d, d], [{"lexical": 1.0}])
    with pytest.raises(PolicyError, match="decision context must be 6 finite numbers"):
        policy.update([dataclasses.replace(d, context=(1.0, 2.0))], [{"lexical": 1.0}])
    with pytest.raises(PolicyError, match="Decision objects"):
        policy.update([d.to_dict()], [{"lexical": 1.0}])
    with pytest.raises(PolicyError, match="not a decision record"):
        Decision.from_dict({"arms": ["lexical"]})
    assert policy.updates_ == 0  # nothing applied from the rejected batches


def test_a_reward_for_a_dropped_arm_is_ignored_and_counted():
    policy = make_policy("linucb", dim=DIM)
    d = policy.select(np.ones(DIM), [{"name": "lexical", "cost": 1.0}, {"name": "gone", "cost": 0.5}], 3.0)
    assert d.arms == ("lexical", "gone")
    policy.select(np.ones(DIM), [{"name": "lexical", "cost": 1.0}], 3.0)
    policy.update(d, {"lexical": 1.0, "gone": 1.0})
    assert policy.ignored_rewards_ == 1 and policy.arms == ("lexical",) and policy.updates_ == 1


def test_make_policy_and_state_errors_are_clear():
    with pytest.raises(ConfigError, match=r"unknown policy 'ucb' \(known: epsilon_greedy, linucb, thompson, vw\)"):
        make_policy("ucb", dim=4)
    with pytest.raises(ConfigError, match="alpha must be .* got -1"):
        make_policy("linucb", dim=4, alpha=-1)
    with pytest.raises(ConfigError, match="policy 'linucb'"):
        make_policy("linucb", dim=4, epsilon=0.1)
    with pytest.raises(ConfigError, match="dim"):
        make_policy("thompson", dim=0)
    good = trained("thompson")
    state = good.to_state()
    broken = [
        ({**state, "format_version": 99}, "format_version 99"),
        ({**state, "format": "other"}, "not a policy state"),
        ({**state, "policy": "nope"}, "unknown policy 'nope'"),
        ({**state, "params": {**state["params"], "v": -2}}, "corrupt thompson"),
        ({**state, "arms": [{**state["arms"][0], "A": [[1.0]]}] + state["arms"][1:]}, "'A'"),
        ({**state, "arms": [{**state["arms"][0], "b": [float("nan")] * DIM}]}, "'b'"),
        ({**state, "rng": {**state["rng"], "bit_generator": "MT19937"}}, "MT19937"),
        ({k: v for k, v in state.items() if k != "counters"}, "corrupt thompson"),
    ]
    for bad, message in broken:
        with pytest.raises(ModelError, match=message):
            policy_from_state(bad)
    with pytest.raises(ModelError, match="not 'linucb'"):
        LinUCBPolicy.from_state(state)
    with pytest.raises(ModelError):
        policy_from_state([1, 2])


# ---------------------------------------------------------------- update math against closed forms
def test_ridge_statistics_after_known_updates():
    rng = np.random.default_rng(0)
    xs, rs = rng.normal(size=(30, DIM)), rng.normal(size=30)
    policy = EpsilonGreedyPolicy(dim=DIM, ridge=2.0, epsilon=0.0, min_score=-1e9)  # memory always runs
    arms = [{"name": "lexical", "cost": 1.0}, {"name": "memory", "cost": 0.5}]
    for x, r in zip(xs, rs):
        policy.update(policy.select(x, arms, 3.0), {"memory": r})  # lexical stays at its prior
    state = {a["name"]: a for a in policy.to_state()["arms"]}
    A = 2.0 * np.eye(DIM) + xs.T @ xs
    b = xs.T @ rs
    np.testing.assert_allclose(state["memory"]["A"], A, rtol=1e-12)
    np.testing.assert_allclose(state["memory"]["b"], b, rtol=1e-12)
    np.testing.assert_allclose(state["memory"]["A_inv"], np.linalg.inv(A), rtol=1e-8, atol=1e-12)
    assert state["memory"]["n"] == 30 and state["lexical"]["A"] == (2.0 * np.eye(DIM)).tolist()
    x = rng.normal(size=DIM)
    expected_mu = float(np.linalg.solve(A, b) @ x)
    assert math.isclose(policy._means(x)[policy.arms.index("memory")], expected_mu, rel_tol=1e-9)


def test_linucb_value_for_known_statistics():
    policy = LinUCBPolicy(dim=2, alpha=0.5, ridge=1.0)
    arms = [{"name": "lexical", "cost": 1.0}, {"name": "memory", "cost": 1.0}]
    # two updates of memory: x1 = (1, 0) with r = 1, x2 = (1, 1) with r = 0
    for x, r in (((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0)):
        policy.update(policy.select(np.array(x), arms, 5.0), {"memory": r})
    A = np.eye(2) + np.outer([1, 0], [1, 0]) + np.outer([1, 1], [1, 1])  # [[3, 1], [1, 2]]
    b = np.array([1.0, 0.0])
    x = np.array([0.5, 2.0])
    theta = np.linalg.solve(A, b)  # (0.4, -0.2)
    expected = theta @ x + 0.5 * math.sqrt(x @ np.linalg.solve(A, x))
    np.testing.assert_allclose(theta, [0.4, -0.2])
    assert math.isclose(policy.ucb(x)["memory"], expected, rel_tol=1e-12)
    assert math.isclose(policy.ucb(x)["lexical"], 0.5 * math.sqrt(x @ x), rel_tol=1e-12)  # prior: A = I, b = 0


def test_epsilon_greedy_propensities_are_the_closed_form_and_match_frequencies():
    arms = [{"name": "lexical", "cost": 1.0}] + [{"name": f"a{i}", "cost": 1.0} for i in range(4)]
    policy = EpsilonGreedyPolicy(dim=2, epsilon=0.2, warmup=0, seed=3)
    x = np.array([1.0, 0.0])
    for i, r in enumerate((0.9, 0.5, -0.1, -0.2)):  # a0 best, a1 positive, a2 and a3 negative
        for _ in range(5):
            d = policy.select(x, arms, 2.0)
            if f"a{i}" in d.arms:
                policy.update(d, {f"a{i}": r})
            else:
                policy._update_arm(policy.arms.index(f"a{i}"), x, r)
    # budget 2: one arm beside lexical. Greedy picks a0; exploring forces each of 4 arms with 0.2 / 4
    d = policy.select(x, arms, 2.0)
    assert d.propensity_method == "exact"
    expected = {"lexical": 1.0, "a0": 0.8 + 0.05, "a1": 0.05, "a2": 0.05, "a3": 0.05}
    assert d.propensities == pytest.approx(expected, abs=1e-12)
    draws = [policy.select(x, arms, 2.0).arms for _ in range(4000)]
    for arm, p in expected.items():
        assert abs(np.mean([arm in a for a in draws]) - p) < 0.03


def test_thompson_monte_carlo_propensities_match_frequencies():
    policy = ThompsonPolicy(dim=2, v=1.0, mc_draws=400, seed=9)
    arms = [{"name": "lexical", "cost": 1.0}] + [{"name": f"a{i}", "cost": 1.0} for i in range(3)]
    x = np.array([1.0, 0.5])
    first = policy.select(x, arms, 2.0)
    assert first.propensity_method == "monte_carlo:400"
    draws = [policy.select(x, arms, 2.0).arms for _ in range(3000)]  # state unchanged: same distribution
    for arm in ("a0", "a1", "a2"):
        assert abs(np.mean([arm in a for a in draws]) - first.propensities[arm]) < 0.06


def test_vectorized_and_scalar_subset_rules_agree():
    rng = np.random.default_rng(4)
    for _ in range(300):
        k = int(rng.integers(1, 8))
        scores, costs = rng.normal(size=k), rng.choice([0.5, 1.0, 1.1, 1.5, 2.0], size=k)
        safe, budget = int(rng.integers(k)), float(rng.uniform(0.5, 5.0))
        chosen = greedy_subset(scores.tolist(), costs.tolist(), safe, budget)
        mask = greedy_masks(scores[None, :], costs, safe, budget)[0]
        assert sorted(chosen) == np.flatnonzero(mask).tolist()
    assert greedy_subset([0.0, 0.9, 0.8, -0.1], [1.0, 2.0, 1.0, 0.5], 0, 3.0) == [0, 1]  # 2 does not fit
    assert greedy_subset([0.0, 0.9, 0.8, 0.1], [1.0, 2.5, 1.0, 0.5], 0, 3.0) == [0, 2, 3]  # skip, keep filling


def test_quota_rule():
    assert quotas_for([0, 1, 2, 3], np.array([-5.0, -0.2, 0.5, 0.99]), 0, (20, 50, 100)) == (100, 20, 50, 100)
    assert quotas_for([1], np.array([0.0, 7.0]), 0, (50,)) == (50,)


def test_decision_becomes_plan_items():
    policy = make_policy("epsilon_greedy", dim=DIM, seed=2)
    d = policy.select(np.ones(DIM), ARMS, 3.0, quotas=(30,))
    plan = d.plan(timeout_ms=250)
    assert plan[0] == PlanItem("lexical", 30, 1.0, 250)
    assert [(i.strategy, i.quota, i.propensity) for i in plan] == [(a, 30, d.propensities[a]) for a in d.arms]
    assert isinstance(Arm("x").cost, float)

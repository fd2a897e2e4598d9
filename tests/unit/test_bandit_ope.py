"""Off-policy estimators on synthetic logs whose true value is known exactly."""
import numpy as np
import pytest

from lrr_es.bandit import logged_arrays, make_policy, off_policy_value, target_propensities
from lrr_es.errors import PolicyError

# three context types (uniform), three arms: the safe arm (always in) and two others
MU = np.array([[1.0, 0.3, 0.6], [1.0, 0.7, 0.2], [1.0, 0.5, 0.5]])  # logging inclusion propensities
PI = np.array([[1.0, 0.9, 0.1], [1.0, 0.2, 0.8], [1.0, 0.5, 0.5]])  # target inclusion propensities
MEAN = np.array([[0.5, 0.8, 0.2], [0.5, 0.1, 0.9], [0.5, 0.4, 0.4]])  # P(reward = 1) per context and arm
OFFSET = 2.0  # a common reward offset: where self-normalization pays off
TRUTH = float((PI * (MEAN + OFFSET)).sum(axis=1).mean())


def synthetic_log(seed, n=500):
    rng = np.random.default_rng(seed)
    ctx = rng.integers(3, size=n)
    logged = rng.random((n, 3)) < MU[ctx]
    rewards = np.where(logged, OFFSET + (rng.random((n, 3)) < MEAN[ctx]), np.nan)
    return ctx, logged, MU[ctx], PI[ctx], rewards


@pytest.fixture(scope="module")
def estimates():
    rows = []
    for seed in range(300):
        ctx, logged, mu, pi, r = synthetic_log(seed)
        result = off_policy_value(logged, mu, pi, r, reward_model=MEAN[ctx] + OFFSET)
        rows.append((result.ips, result.snips, result.dr))
    return np.array(rows)


def test_ips_is_unbiased(estimates):
    ips = estimates[:, 0]
    assert abs(ips.mean() - TRUTH) < 4 * ips.std(ddof=1) / np.sqrt(len(ips))
    assert abs(ips.mean() - TRUTH) < 0.02 * TRUTH


def test_snips_has_lower_variance_than_ips_and_stays_close(estimates):
    ips, snips = estimates[:, 0], estimates[:, 1]
    assert snips.std() < 0.5 * ips.std()
    assert abs(snips.mean() - TRUTH) < 0.01 * TRUTH


def test_dr_with_the_correct_model_is_close_to_truth_with_low_variance(estimates):
    dr = estimates[:, 2]
    assert abs(dr.mean() - TRUTH) < 4 * dr.std(ddof=1) / np.sqrt(len(dr))
    assert dr.std() < 0.5 * estimates[:, 0].std()
    assert np.all(np.abs(dr - TRUTH) < 0.1 * TRUTH)


def test_dr_with_a_wrong_model_is_still_unbiased():
    results = []
    for seed in range(300):
        ctx, logged, mu, pi, r = synthetic_log(seed)
        results.append(off_policy_value(logged, mu, pi, r, reward_model=np.full(mu.shape, 1.0)).dr)
    results = np.array(results)
    assert abs(results.mean() - TRUTH) < 4 * results.std(ddof=1) / np.sqrt(len(results))


def test_on_policy_weights_are_one_and_ips_is_the_observed_mean():
    ctx, logged, mu, _, r = synthetic_log(1)
    result = off_policy_value(logged, mu, mu, r)
    assert result.ips == pytest.approx(np.nansum(r, axis=1).mean())
    assert result.ess == pytest.approx(logged.sum()) and result.ess_ratio == pytest.approx(1.0)
    assert result.warning is False and result.dr is None and result.pairs == int(logged.sum())


def test_extreme_weights_raise_the_warning():
    ctx, logged, mu, pi, r = synthetic_log(2, n=200)
    mu = mu.copy()
    mu[0, 1], logged[0, 1], r[0, 1] = 1e-4, True, OFFSET + 1  # one pair logged at 1e-4, target 0.9 or so
    pi = pi.copy()
    pi[0, 1] = 0.9
    result = off_policy_value(logged, mu, pi, r)
    assert result.warning and result.max_weight_share > 0.9 and result.ess_ratio < 0.01
    assert any("effective sample size" in reason for reason in result.reasons)


def test_an_arm_the_target_wants_but_the_log_never_ran_is_reported():
    ctx, logged, mu, pi, r = synthetic_log(3, n=100)
    logged[:, 2] = False
    result = off_policy_value(logged, mu, pi, r)
    assert result.warning and any("arms [2]" in reason for reason in result.reasons)


def test_bad_arrays_raise():
    ctx, logged, mu, pi, r = synthetic_log(4, n=10)
    with pytest.raises(PolicyError, match="shape"):
        off_policy_value(logged, mu[:5], pi, r)
    with pytest.raises(PolicyError, match="boolean"):
        off_policy_value(logged.astype(float), mu, pi, r)
    bad_mu = mu.copy()
    bad_mu[logged] = 0.0
    with pytest.raises(PolicyError, match=r"\(0, 1\]"):
        off_policy_value(logged, bad_mu, pi, r)
    with pytest.raises(PolicyError, match="target"):
        off_policy_value(logged, mu, pi * 2, r)


def test_logged_decisions_of_a_real_policy_evaluate_that_policy_on_policy():
    arms = [{"name": "lexical", "cost": 1.0}, {"name": "memory", "cost": 0.5}, {"name": "fuzzy", "cost": 2.0}]
    names = ["lexical", "memory", "fuzzy"]
    policy = make_policy("epsilon_greedy", dim=3, seed=4, epsilon=0.3)
    rng = np.random.default_rng(0)
    frozen = policy.copy()
    frozen_state = frozen.to_state()
    decisions, rewards = [], []
    for _ in range(200):
        d = policy.select(rng.normal(size=3), arms, 3.5)
        decisions.append(d)
        rewards.append({a: float(rng.random()) for a in d.arms})
    logged, mu, r = logged_arrays(decisions, rewards, names)
    pi = target_propensities(frozen, decisions, names)
    assert frozen.to_state() == frozen_state  # evaluated on a copy: state and generator untouched
    np.testing.assert_allclose(pi, mu)  # same state: the target's propensities are the logged ones
    result = off_policy_value(logged, mu, pi, r)
    assert result.ips == pytest.approx(np.mean([sum(x.values()) for x in rewards]))

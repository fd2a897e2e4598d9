"""Every policy learns, in a fixed-seed synthetic environment, which arm is best per context cluster."""
import numpy as np
import pytest

from lrr_es.bandit import POLICIES, make_policy

CLUSTERS = 4
ARMS = [{"name": "lexical", "kind": "text", "cost": 1.0}] + [
    {"name": f"arm{c}", "kind": "text", "cost": 1.0} for c in range(CLUSTERS)]
BUDGET = 2.0  # room for exactly one arm beside lexical
ROUNDS, TAIL = 2000, 500


def context(rng, cluster):
    """One-hot cluster plus two pure-noise features: shape (6,)."""
    return np.concatenate([np.eye(CLUSTERS)[cluster] + rng.normal(0, 0.1, CLUSTERS), rng.normal(0, 1, 2)])


def reward(rng, cluster, arm):
    """arm<c> finds what users want in cluster c with p = 0.8, elsewhere with p = 0.2; cost 0.1."""
    p = 0.3 if arm == "lexical" else (0.8 if arm == f"arm{cluster}" else 0.2)
    return float(rng.random() < p) - 0.1


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_each_policy_converges_to_the_best_arm_per_cluster(name):
    policy = make_policy(name, dim=CLUSTERS + 2, seed=13)
    rng = np.random.default_rng(2024)
    hits = np.zeros(CLUSTERS)
    seen = np.zeros(CLUSTERS)
    for t in range(ROUNDS):
        cluster = int(rng.integers(CLUSTERS))
        decision = policy.select(context(rng, cluster), ARMS, BUDGET)
        policy.update(decision, {arm: reward(rng, cluster, arm) for arm in decision.arms})
        if t >= ROUNDS - TAIL:
            seen[cluster] += 1
            hits[cluster] += f"arm{cluster}" in decision.arms
    share = hits / seen
    assert share.min() > 0.7, (name, share)  # chance is 1 / 4

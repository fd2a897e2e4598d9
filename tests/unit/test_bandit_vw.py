"""The vw policy beyond the contract tests: its plans, exact propensities, logged plans outside its
action set, threads and fork."""
import os
import json
import threading
from collections import Counter

import numpy as np
import pytest

from lrr_es.bandit import Decision, make_policy, policy_from_state
from lrr_es.decide import COLD_START as COLD_START_POLICY
from lrr_es.bandit.decision import feasible_subsets
from lrr_es.strategies import STRATEGIES

ARMS = [cls.descriptors() for cls in STRATEGIES.values()]
DIM = 5


def trained(rounds=60, seed=4):
    policy = make_policy("vw", dim=DIM, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        d = policy.select(rng.normal(size=DIM), ARMS, 4.0)
        policy.update(d, {a: float(rng.random()) - 0.5 for a in d.arms})
    return policy


def test_feasible_subsets_follow_the_budget_rule():
    costs = [1.0, 1.1, 1.3, 0.5, 2.0]  # safe arm 0; room 2.0 beside it
    assert feasible_subsets(costs, 0, 3.0) == [(), (1,), (2,), (3,), (4,), (1, 3), (2, 3)]
    assert feasible_subsets(costs, 0, 1.0) == [()]


def test_the_plan_propensity_is_the_frequency_of_the_served_plan():
    policy = trained()
    x = np.linspace(-1, 1, DIM)
    first = policy.select(x, ARMS, 4.0)
    draws = Counter((d.arms, d.quotas) for d in (policy.select(x, ARMS, 4.0) for _ in range(3000)))
    assert abs(draws[(first.arms, first.quotas)] / 3000 - first.plan_propensity) < 0.03
    for arm in ("memory", "fuzzy", "popular"):
        share = sum(n for (arms, _), n in draws.items() if arm in arms) / 3000
        assert abs(share - first.propensities[arm]) < 0.03


def test_a_cold_start_plan_outside_the_action_set_is_learned_from():
    policy = make_policy("vw", dim=DIM, seed=1)
    names = [a["name"] for a in ARMS]
    costs = {a["name"]: a["cost"] for a in ARMS}
    cold = Decision(tuple(names), (50,) * len(names), {n: 1.0 for n in names}, (1.0, 0, 0, 0, 0),
                    sum(costs.values()), COLD_START_POLICY, COLD_START_POLICY, "deterministic", costs, 1.0)
    policy.update([cold] * 3, [{n: 0.2 for n in names}] * 3)
    assert policy.updates_ == 1 and policy.to_state()["model"]


def test_threads_share_one_policy_safely():
    policy = trained()
    xs = list(np.random.default_rng(2).normal(size=(40, DIM)))
    expected = [policy.copy().select(x, ARMS, 4.0).propensities for x in xs]
    out = [None] * len(xs)

    def work(i):
        out[i] = policy.select(xs[i], ARMS, 4.0).propensities
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == expected  # the PMF does not depend on the random draws


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_builds_its_own_workspace_and_decides_alike():
    policy = trained()
    x = np.linspace(1, -1, DIM)
    policy.select(x, ARMS, 4.0)  # the parent's workspace exists before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: decide, send the decision, leave without running the parent's cleanup
        try:
            d = policy.select(x, ARMS, 4.0)
            os.write(write, json.dumps({"d": d.to_dict(), "fresh": policy._ws is not None}).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    mine = policy.select(x, ARMS, 4.0)  # same generator state as the child's at the fork
    assert Decision.from_dict(child["d"]) == mine and child["fresh"]


def test_a_restored_policy_opens_its_workspace_only_when_it_decides():
    state = trained().to_state()
    restored = policy_from_state(json.loads(json.dumps(state)))
    assert restored._ws is None
    restored.select(np.zeros(DIM), ARMS, 4.0)
    assert restored._ws is not None and restored.to_state() == {**state, "rng": restored.to_state()["rng"]}

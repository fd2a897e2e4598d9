"""The vw bandit policy on a real node: learned from cold-start logs, saved to lrr-models, loaded by a
new engine that serves with it (exact plan propensities in the decision log), learned again from its
own decisions, and evaluated off-policy."""
import math

import pytest

from lrr_es import es as esio
from lrr_es.bandit import VowpalPolicy
from lrr_es.bandit.store import MODELS_INDEX, delete_policies, load_policy, policy_record
from lrr_es.catalog import read_musicoset
from lrr_es.config import config_from_dict
from lrr_es.decisions import DECISIONS_INDEX
from lrr_es.engine import LrrEngine
from lrr_es.fusion import model_id as fusion_id
from lrr_es.learn import evaluate_policy, learn
from lrr_es.simulate import generate_queries

from .conftest import drive_traffic

pytestmark = pytest.mark.integration
SEARCHES = 150


@pytest.fixture(scope="module")
def rounds(es, music_index, musicoset):
    """Cold-start traffic, ``learn`` (publishes vw version 1), traffic served by vw, ``learn`` again."""
    delete_policies(es, music_index)
    config = config_from_dict({"indices": {music_index: {}}, "bandit": {"policy": "vw", "budget": 4.0, "seed": 3}})
    docs = [row.doc for row in read_musicoset(musicoset) if row.ok]
    queries = generate_queries(docs, 100, seed=17)
    since_cold, cold = drive_traffic(es, config, music_index, queries, SEARCHES, seed=1)
    first = learn(es, config, music_index, since=since_cold, batch=50, min_grade=2.0, echo=lambda _: None)
    since_served, served = drive_traffic(es, config, music_index, queries, SEARCHES, seed=2)
    second = learn(es, config, music_index, since=since_served, batch=50, min_grade=2.0, echo=lambda _: None)
    yield config, cold, first, served, since_served, second
    delete_policies(es, music_index)
    es.delete(index=MODELS_INDEX, id=fusion_id(music_index), ignore=[404], refresh=True)


def test_learn_publishes_a_vw_policy_that_a_new_engine_loads(es, music_index, rounds):
    _, cold, first, _, _, second = rounds
    assert first.decisions == SEARCHES and first.version == 1 and first.base_version is None
    assert first.policy_version == "vw-s3-u3"  # 150 decisions in batches of 50
    assert second.version == 2 and second.base_version == 1 and second.policy_version == "vw-s3-u6"
    record = policy_record(es, music_index)
    assert record["params"]["policy"] == "VowpalPolicy" and record["version"] == 2
    policy = load_policy(es, music_index)
    assert isinstance(policy, VowpalPolicy) and policy.version == "vw-s3-u6"
    assert policy.to_state()["model"]  # the VW model travelled through lrr-models as bytes


def test_the_served_decisions_carry_the_exact_plan_propensity(es, music_index, rounds):
    _, _, first, served, _, _ = rounds
    logged = [esio.get_source(es, DECISIONS_INDEX, o.search_id)["bandit"] for o in served[:40]]
    assert {d["policy"] for d in logged} == {"vw"}
    assert {d["policy_version"] for d in logged} == {first.policy_version}
    costs = logged[0]["costs"]
    for d in logged:
        assert d["arms"][0] == "lexical" and d["quotas"][0] == 100 and d["propensity_method"] == "exact"
        assert sum(costs[a] for a in d["arms"]) <= 4.0 + 1e-9
        assert len(set(d["quotas"][1:])) <= 1  # one depth for the plan's other arms
        assert 0.0 < d["plan_propensity"] <= 1.0
        assert all(d["plan_propensity"] <= d["propensities"][a] + 1e-9 for a in d["arms"])


def test_a_new_engine_serves_with_the_published_vw_policy(es, music_index, rounds):
    config, *_ = rounds
    engine = LrrEngine(es, config, refresh_s=0, decisions=False)
    result = engine.search(music_index, "love songs", size=5)
    decision = result.decision
    assert decision.policy == "vw" and decision.policy_version == "vw-s3-u6" and result.hits
    assert [item.strategy for item in result.plan] == list(decision.arms)
    again = LrrEngine(es, config, refresh_s=0, decisions=False).policy(music_index)
    pick = again.select(decision.context, [{"name": a, "cost": c} for a, c in decision.costs.items()], decision.budget)
    assert pick.propensities == pytest.approx(decision.propensities)  # same state, same PMF


def test_evaluate_policy_estimates_the_vw_policy_off_policy(es, music_index, rounds):
    config, _, _, _, since_served, _ = rounds
    candidate = load_policy(es, music_index)
    before = candidate.to_state()
    lines = []
    evaluation = evaluate_policy(es, config, music_index, candidate, since=since_served, echo=lines.append)
    assert candidate.to_state() == before
    r = evaluation.result
    assert r.n >= SEARCHES and all(math.isfinite(v) for v in (r.ips, r.snips, r.dr, r.ips_se))
    assert 0 < r.ess <= r.pairs and "IPS" in lines[0]

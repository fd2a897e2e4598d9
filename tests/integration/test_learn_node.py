"""The bandit's learning loop on a real node: simulated traffic through the engine (the bandit deciding),
feedback, ``learn`` publishes a new version once, serving picks it up, ``evaluate-policy`` on the logs."""
import math
import time

import pytest
from click.testing import CliRunner

from lrr_es import es as esio
from lrr_es.bandit.store import MODELS_INDEX, delete_policies, load_policy, policy_record
from lrr_es.catalog import read_musicoset
from lrr_es.cli import cli
from lrr_es.config import config_from_dict
from lrr_es.decisions import DECISIONS_INDEX
from lrr_es.engine import LrrEngine
from lrr_es.fusion import model_id as fusion_id
from lrr_es.learn import evaluate_policy, learn
from lrr_es.migrate import migrate, setup_steps
from lrr_es.simulate import generate_queries
from lrr_es.simulate.traffic import run_traffic
from lrr_es.templates import system_template

pytestmark = pytest.mark.integration
SEARCHES = 200


def test_migrate_adds_the_bandit_field_to_an_old_strict_decisions_index(es, music_index):
    """A cluster set up before decisions carried the bandit record: old template, old strict index."""
    config = config_from_dict({"indices": {music_index: {}}})
    old = system_template("lrr-decisions")
    del old["template"]["mappings"]["properties"]["bandit"]
    old["version"] = 1
    esio.put_index_template(es, "lrr-decisions", old)
    esio.delete_index(es, DECISIONS_INDEX)
    esio.create_index(es, DECISIONS_INDEX)
    assert "bandit" not in esio.get_mapping(es, DECISIONS_INDEX)["properties"]
    with pytest.raises(Exception, match="strict_dynamic_mapping"):
        esio.put_document(es, DECISIONS_INDEX, "old-1", {"search_id": "old-1", "bandit": {"arms": ["lexical"]}})

    steps = [text for text, _ in setup_steps(es, config)]
    assert steps == [f"update index template lrr-decisions (version {system_template('lrr-decisions')['version']})",
                     "add fields bandit to system index lrr-decisions"]
    migrate(es, config, music_index, progress=False, echo=lambda _: None)
    assert esio.get_mapping(es, DECISIONS_INDEX)["properties"]["bandit"] == {"type": "object", "enabled": False}
    esio.put_document(es, DECISIONS_INDEX, "old-1", {"search_id": "old-1", "bandit": {"arms": ["lexical"]}}, refresh=True)
    assert esio.get_source(es, DECISIONS_INDEX, "old-1")["bandit"] == {"arms": ["lexical"]}
    assert setup_steps(es, config) == []
    es.delete(index=DECISIONS_INDEX, id="old-1", refresh=True)


@pytest.fixture(scope="module")
def traffic(es, music_index, musicoset):
    """SEARCHES simulated cold-start searches (no policy published yet: every strategy runs, logged as
    full-information decisions), their feedback written; the policy doc removed after."""
    delete_policies(es, music_index)
    # generous sub-search timeouts: a sub-search timed out on a loaded machine is not a pull, and these
    # tests count pulls
    config = config_from_dict({"indices": {music_index: {}}, "bandit": {"policy": "thompson", "budget": 3.0},
                               "retrieval": {"timeout_ms": 10_000}})
    docs = [row.doc for row in read_musicoset(musicoset) if row.ok]
    queries = generate_queries(docs, 120, seed=11)
    engine = LrrEngine(es, config, refresh_s=600)  # no policy is published yet: cold start
    since = int(time.time() * 1000) - 1
    outcomes = run_traffic(engine, music_index, queries, SEARCHES, seed=5)
    assert engine.feedback_writer.flush()
    engine.decisions.flush()
    esio.refresh(es, "lrr-events")
    yield config, engine, outcomes, since
    engine.close()
    delete_policies(es, music_index)
    es.delete(index=MODELS_INDEX, id=fusion_id(music_index), ignore=[404], refresh=True)


@pytest.fixture(scope="module")
def learned(es, music_index, traffic):
    config, _, _, since = traffic
    lines = []
    report = learn(es, config, music_index, since=since, batch=100, min_grade=2.0, echo=lines.append)
    return report, "\n".join(lines)


def test_every_cold_start_search_logs_a_full_information_decision(es, traffic, music_index):
    _, engine, outcomes, _ = traffic
    assert engine.decisions.stats.failed == 0
    logged = esio.get_source(es, DECISIONS_INDEX, outcomes[0].search_id)
    decision = logged["bandit"]
    available = [n for n, s in engine.strategies(music_index).items() if s.available]
    assert decision["arms"] == available and decision["policy"] == "cold-start"
    assert decision["propensities"] == {a: 1.0 for a in available} and set(decision["costs"]) == set(available)
    assert logged["plan"] == [{"strategy": a, "quota": q, "propensity": decision["propensities"][a]}
                              for a, q in zip(decision["arms"], decision["quotas"])]


def test_learn_publishes_a_version_whose_state_reflects_the_updates(es, music_index, traffic, learned):
    _, _, outcomes, _ = traffic
    report, text = learned
    assert report.decisions == SEARCHES and report.version == 1 and report.base_version is None
    assert report.engaged == sum(1 for o in outcomes if o.positives) > 0  # a play or like: grade >= 2
    assert report.pulls["lexical"] == SEARCHES and set(report.reward_per_arm) == set(report.pulls)
    assert all(math.isfinite(r) for r in report.reward_per_arm.values())
    assert f"{SEARCHES} new bandit decisions" in text and "published policy version 1" in text

    policy = load_policy(es, music_index)
    state = policy.to_state()
    assert state["counters"]["updates"] == 2 and policy.version == report.policy_version == "thompson-s7-u2"
    held = {arm["name"]: arm["n"] for arm in state["arms"]}
    assert {arm: held[arm] for arm in report.pulls} == dict(report.pulls)  # every reward went into its arm's model
    record = policy_record(es, music_index)
    last = max((o for o in outcomes), key=lambda o: (esio.get_source(es, DECISIONS_INDEX, o.search_id)["timestamp"],
                                                       o.search_id))
    assert record["params"]["learned_through"]["search_id"] == last.search_id
    assert record["metrics"]["decisions"] == SEARCHES and record["metrics"]["reward_per_arm"] == pytest.approx(
        dict(report.reward_per_arm))


def test_a_second_run_over_the_same_window_learns_nothing(es, music_index, traffic, learned):
    config, _, _, since = traffic
    again = learn(es, config, music_index, since=since, batch=100, min_grade=2.0, echo=lambda _: None)
    assert again.decisions == 0 and again.version is None and again.skipped["already learned"] >= 1
    assert policy_record(es, music_index)["version"] == 1
    assert "nothing new to learn" in again.summary()


def test_the_serving_engine_picks_up_the_new_version(es, music_index, traffic, learned):
    config, _, _, _ = traffic
    report, _ = learned
    engine = LrrEngine(es, config, refresh_s=0, decisions=False)
    result = engine.search(music_index, "love songs", size=5)
    assert result.versions["policy"] == report.policy_version == result.decision.policy_version == "thompson-s7-u2"


def test_evaluate_policy_gives_finite_estimates_and_leaves_the_candidate_alone(es, music_index, traffic, learned):
    config, _, _, since = traffic
    candidate = load_policy(es, music_index)
    before = candidate.to_state()
    lines = []
    published = evaluate_policy(es, config, music_index, candidate, since=since, echo=lines.append)
    assert candidate.to_state() == before
    r = published.result
    assert r.n >= SEARCHES and all(math.isfinite(v) for v in (r.ips, r.snips, r.dr, r.ips_se, published.logged_value))
    assert 0 < r.ess <= r.pairs and "effective sample size" in lines[0] and "SNIPS" in lines[0]
    linucb = evaluate_policy(es, config, music_index, "linucb", since=since, echo=lambda _: None).result
    assert math.isfinite(linucb.ips) and linucb.ess >= 0


def test_cli_learn_dry_run_and_evaluate_policy(es_url, music_index, traffic, learned, tmp_path):
    _, _, _, since = traffic
    config = tmp_path / "lrr.yaml"
    config.write_text(f"indices:\n  {music_index}: {{}}\n")
    runner = CliRunner(env={"ES_URL": es_url})
    base = ["--config", str(config)]
    dry = runner.invoke(cli, base + ["learn", "--index", music_index, "--settle", "0", "--dry-run", "--no-progress"])
    assert dry.exit_code == 0, dry.output
    assert "already learned" in dry.output and "no version published" in dry.output
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since / 1000 - 1))
    shown = runner.invoke(cli, base + ["evaluate-policy", "--index", music_index, "--policy", "epsilon_greedy",
                                       "--since", iso])
    assert shown.exit_code == 0, shown.output
    assert "IPS" in shown.output and "DR" in shown.output and "effective sample size" in shown.output


def test_policy_versions_are_kept_and_published_and_rolled_back_from_the_cli(es, es_url, music_index, tmp_path):
    """Every save is its own version; publish and rollback move the live copy that serving reads, and
    the CLI's changes are audited. A live copy written by an older lrr-es becomes version 1."""
    import base64
    import json
    from lrr_es.audit import recent_changes
    from lrr_es.bandit import make_policy
    from lrr_es.bandit.store import list_policies, model_id, policy_version, save_policy
    from lrr_es.context import CONTEXT_DIM
    from lrr_es.errors import ModelError
    alias = "test-policy-history"
    delete_policies(es, alias)
    old, new = make_policy("thompson", dim=CONTEXT_DIM, seed=1), make_policy("linucb", dim=CONTEXT_DIM, seed=2)
    artifact = base64.b64encode(json.dumps(old.to_state()).encode()).decode()
    esio.put_document(es, MODELS_INDEX, model_id(alias), {
        "model_id": model_id(alias), "kind": "policy", "index": alias, "version": 1, "status": "live", "created_at": 1,
        "params": {"policy": "ThompsonPolicy", "state_version": old.version}, "metrics": {}, "training_window": {},
        "artifact": artifact}, refresh=True)
    try:
        assert save_policy(es, alias, new) == 2
        assert [(p.version, p.status, p.policy) for p in list_policies(es, alias)] == [
            (2, "live", new.version), (1, "stored", old.version)]
        config = tmp_path / "lrr.yaml"
        config.write_text(f"indices:\n  {alias}: {{}}\n")
        runner = CliRunner(env={"ES_URL": es_url})
        base = ["--config", str(config)]
        listed = runner.invoke(cli, base + ["policy", "list", "--index", alias])
        assert listed.exit_code == 0 and listed.output.splitlines()[0].startswith("v2    live"), listed.output
        published = runner.invoke(cli, base + ["policy", "publish", "--index", alias, "1"])
        assert published.exit_code == 0 and f"{alias}: policy v1 is live" in published.output, published.output
        assert policy_version(es, alias) == 1 and load_policy(es, alias).version == old.version
        back = runner.invoke(cli, base + ["policy", "rollback", "--index", alias])
        assert back.exit_code == 0 and "rolled back to policy v2" in back.output, back.output
        assert load_policy(es, alias).version == new.version
        assert [(c.action, c.via, c.target) for c in recent_changes(es, alias, 2)] == [
            ("policy.rollback", "cli", "live"), ("policy.publish", "cli", "v1")]
        again = runner.invoke(cli, base + ["policy", "rollback", "--index", alias])  # v1 was live before v2
        assert again.exit_code == 0 and "rolled back to policy v1" in again.output, again.output
        first = runner.invoke(cli, base + ["policy", "rollback", "--index", alias])  # nothing was live before v1
        assert isinstance(first.exception, ModelError) and "no earlier version" in str(first.exception)
        assert policy_version(es, alias) == 1 and recent_changes(es, alias, 1)[0].result.startswith("error: ")
        assert save_policy(es, alias, new) == 3 and policy_version(es, alias) == 3  # the learner's next version
    finally:
        delete_policies(es, alias)
        esio.delete_by_query(es, "lrr-audit", {"term": {"index": alias}})

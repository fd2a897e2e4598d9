"""Training the ranker from the logs on a real node: simulated traffic logs decisions with features and
feedback, ``train`` (and ``lrr-es train``) builds the examples, saves, promotes by the holdout, serving
picks the model up."""
import math
import time

import pytest
from click.testing import CliRunner

from lrr_es import es as esio
from lrr_es.catalog import sample_catalog, sample_rows
from lrr_es.cli import cli
from lrr_es.config import config_from_dict
from lrr_es.decisions import DECISIONS_INDEX
from lrr_es.engine import LrrEngine
from lrr_es.errors import ModelError
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.rank.features import feature_schema, schema_id
from lrr_es.rank.logged import logged_rows
from lrr_es.rank.registry import delete_models, list_models
from lrr_es.learn.ranker import train
from lrr_es.simulate import generate_queries
from lrr_es.simulate.traffic import run_traffic

pytestmark = pytest.mark.integration
NAME = "test-train-fixed"
SONGS = 400


def _drop(es, drop_catalog):
    delete_models(es, NAME)
    drop_catalog(NAME)
    if esio.index_exists(es, DECISIONS_INDEX):
        esio.delete_by_query(es, DECISIONS_INDEX, {"term": {"index": NAME}})


@pytest.fixture(scope="module")
def logged(es, drop_catalog):
    """600 simulated searches with feedback on a sample catalog (10% of pages get a randomized swap)."""
    _drop(es, drop_catalog)
    # interleave_share 0: the holdout alone decides the promotion (test_interleave_node tests the trial)
    config = config_from_dict({"indices": {NAME: {}}, "ranker": {"swap_rate": 0.1, "interleave_share": 0.0}})
    migrate(es, config, NAME, progress=False, echo=lambda _: None)
    load_rows(es, config.index(NAME), sample_rows(SONGS, seed=5), progress=False, threads=1)
    esio.refresh(es, NAME)
    queries = generate_queries(sample_catalog(SONGS, seed=5), n=200, seed=12)
    engine = LrrEngine(es, config)
    since = int(time.time() * 1000) - 1
    outcomes = run_traffic(engine, NAME, queries, 600, seed=5)
    engine.close(timeout=60)
    engine.decisions.flush(timeout=60)
    esio.refresh(es, "lrr-events")
    yield config, since, outcomes
    _drop(es, drop_catalog)


def test_every_decision_carries_the_features_of_its_head_and_its_shown_hits(es, logged):
    config, since, outcomes = logged
    docs = [h["_source"] for h in esio.scan(es, DECISIONS_INDEX, {"term": {"index": NAME}})]
    assert len(docs) == len(outcomes)
    schema = feature_schema(config.index(NAME).strategies)
    swapped = 0
    for doc in docs:
        features = doc["features"]
        if not doc["candidates"]:  # nothing found: nothing to rank
            assert features is None and doc["feature_schema"] is None
            continue
        assert doc["feature_schema"] == schema_id(schema)
        assert set(doc["shown"]) <= set(features["ids"])
        assert len(features["ids"]) >= min(30, len(doc["candidates"]))
        assert logged_rows(features, len(schema)).shape == (len(features["ids"]), len(schema))
        swapped += doc["swap"] is not None
    assert 20 <= swapped <= 110  # 10% of 600


def test_train_saves_a_candidate_judged_on_a_holdout_and_promotes_it_only_when_better(es, logged):
    config, since, _ = logged
    report = train(es, config, NAME, since=since, params={"n_estimators": 60}, min_holdout=5)
    m = report.metrics
    assert report.version == 1 and report.counts["engaged"] >= 100 and report.examination.support.sum() > 1000
    assert all(math.isfinite(m[k]) and 0 <= m[k] <= 1 for k in ("ndcg@10", "rrf_ndcg@10", "served_ndcg@10"))
    assert report.train_searches > 3 * report.holdout_searches > 0
    assert report.promoted == (m["ndcg@10"] > m["rrf_ndcg@10"])  # no live model yet: RRF is the bar
    stored = {i.version: i for i in list_models(es, NAME)}
    assert stored[1].metrics["ndcg@10"] == pytest.approx(m["ndcg@10"]) and stored[1].training_window["since"] == since
    if report.promoted:
        served = LrrEngine(es, config, refresh_s=0.0, decisions=False).search(NAME, "love", size=10)
        assert served.versions["ranker"] == 1 and served.features is not None

    again = train(es, config, NAME, since=since, params={"n_estimators": 30, "max_depth": 2}, min_holdout=5)
    if report.promoted:  # judged against the live model on the same holdout
        assert again.metrics["live_ndcg@10"] == pytest.approx(m["ndcg@10"])
        assert again.promoted == (again.metrics["ndcg@10"] > again.metrics["live_ndcg@10"])
    assert again.version == 2 and {i.version for i in list_models(es, NAME)} == {1, 2}

    lines = []
    small = train(es, config, NAME, since=since, params={"n_estimators": 10}, min_holdout=10_000, echo=lines.append)
    assert small.version == 3 and not small.promoted and "not promoted" in lines[-1]
    assert {i.version: i.status for i in list_models(es, NAME)}[3] == "candidate"


def test_too_little_data_is_a_clear_error_and_stores_nothing(es, logged):
    config, _, _ = logged
    before = len(list_models(es, NAME))
    with pytest.raises(ModelError, match="too little to train on"):
        train(es, config, NAME, since=int(time.time() * 1000) + 60_000)
    assert len(list_models(es, NAME)) == before


def test_cli_train_dry_run_prints_the_estimate_and_the_holdout(es_url, logged, tmp_path):
    _, since, _ = logged
    path = tmp_path / "lrr.yaml"
    path.write_text(f"indices:\n  {NAME}:\n    strategies: [lexical, popular, structured, memory, fuzzy, semantic, explore]\n")
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since / 1000 - 1))
    result = CliRunner(env={"ES_URL": es_url}).invoke(
        cli, ["--config", str(path), "train", "--index", NAME, "--since", iso, "--trees", "20", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "examination by position" in result.output and "holdout NDCG@10" in result.output
    assert "RRF" in result.output and "dry run: nothing stored" in result.output

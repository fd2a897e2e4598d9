"""Promotion by team-draft interleaving on a real node: the trial share, the teams in the decision log,
the result judged from the logs and the promotion rule (lrr_es.rank.interleave, lrr_es.learn.interleaving).

Rankers of known quality: both are fitted on the features the engine serves for 100 generated
queries, the better one on the simulator's true grades and the worse one on the grades turned upside
down; simulated users (position-based click model, fixed seeds) then search through the engine."""

import pytest
from click.testing import CliRunner

from lrr_es import es as esio
from lrr_es.catalog import sample_catalog, sample_rows
from lrr_es.cli import cli
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.learn.interleaving import judge_interleaving, settle_interleaving
from lrr_es.learn.ranker import train
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.names import DECISIONS_INDEX, EVENTS_INDEX
from lrr_es.rank import LtrRanker
from lrr_es.rank.interleave import CANDIDATE, LIVE
from lrr_es.rank.registry import (delete_models, get_model, interleaved_model, live_model, promote, save_ranker,
                                  start_interleaving)
from lrr_es.rank.simulate import collect
from lrr_es.simulate import generate_queries

from .conftest import drive_traffic

pytestmark = pytest.mark.integration
NAME = "test-interleave-fixed"
SONGS = 400


def _drop(es, drop_catalog):
    _fresh(es)
    drop_catalog(NAME)


def _fresh(es):
    """No ranker stored and no log of earlier tests."""
    delete_models(es, NAME)
    for index in (DECISIONS_INDEX, EVENTS_INDEX):
        if esio.index_exists(es, index):
            esio.delete_by_query(es, index, {"term": {"index": NAME}})


def _config(share: float):
    return config_from_dict({"indices": {NAME: {}}, "retrieval": {"timeout_ms": 10_000},
                             "ranker": {"interleave_share": share, "interleave_min": 30}})


@pytest.fixture(scope="module")
def setup(es, drop_catalog):
    """The catalog, the generated queries, and a better and a worse ranker of the same feature schema."""
    _drop(es, drop_catalog)
    config = _config(0.5)
    migrate(es, config, NAME, progress=False, echo=lambda _: None)
    load_rows(es, config.index(NAME), sample_rows(SONGS, seed=5), progress=False, threads=1)
    esio.refresh(es, NAME)
    queries = generate_queries(sample_catalog(SONGS, seed=5), n=200, seed=12)
    featured = config_from_dict({"indices": {NAME: {}}, "ranker": {"always_features": True}})
    data = collect(LrrEngine(es, featured, decisions=False), NAME, queries[:100], users=1, seed=3)
    better = LtrRanker(n_estimators=40, random_state=0).fit(data.X, data.grades, qid=data.qid,
                                                            feature_names=data.schema)
    worse = LtrRanker(n_estimators=40, random_state=0).fit(data.X, 3 - data.grades, qid=data.qid,
                                                           feature_names=data.schema)
    yield queries, better, worse
    _drop(es, drop_catalog)


def _decisions(es, since: int) -> list[dict]:
    query = {"bool": {"filter": [{"term": {"index": NAME}}, {"range": {"timestamp": {"gte": since}}}]}}
    return [h["_source"] for h in esio.scan(es, DECISIONS_INDEX, query)]


def test_a_truly_better_candidate_wins_the_interleaving_and_is_promoted(es, setup):
    queries, better, worse = setup
    _fresh(es)
    promote(es, NAME, save_ranker(es, NAME, worse))  # v1 live
    start_interleaving(es, NAME, save_ranker(es, NAME, better))  # v2 on trial
    since, outcomes = drive_traffic(es, _config(0.5), NAME, queries, 300, seed=5)

    docs = _decisions(es, since)
    trials = [d for d in docs if d.get("interleave")]
    assert len(docs) == 300 and 105 <= len(trials) <= 195  # half of 300, give or take 5 sigma
    for d in trials:  # the teams survive in the log, aligned with the shown hits
        record = d["interleave"]
        assert record["candidate"] == 2 and record["live"] == 1 and d["swap"] is None
        assert len(record["teams"]) == len(d["shown"]) and set(record["teams"]) <= {LIVE, CANDIDATE}
        assert abs(record["teams"].count(LIVE) - record["teams"].count(CANDIDATE)) <= 1
    assert all(d["ranker_version"] == 1 for d in docs if not d.get("interleave") and d["candidates"])

    info, live, result = judge_interleaving(es, _config(0.5), NAME)  # from the log alone, as after a restart
    print(f"better candidate against worse live: {result}, p = {result.p_value:.3g}")
    assert info.version == 2 and live == 1 and result.searches == len(trials)
    assert result.wins > 2 * result.losses and result.verdict(0.05, 30) == "better"
    settled = settle_interleaving(es, _config(0.5), NAME)
    assert settled.action == "promoted" and live_model(es, NAME).version == 2
    stored = get_model(es, NAME, 2).params["interleaving"]
    assert stored["wins"] == result.wins and stored["losses"] == result.losses and stored["verdict"] == "better"
    assert stored["p_value"] < 0.05 and stored["win_share"] > 0.5 and interleaved_model(es, NAME) is None


def test_a_worse_candidate_loses_and_is_retired_and_the_live_one_stays(es, setup):
    queries, better, worse = setup
    _fresh(es)
    promote(es, NAME, save_ranker(es, NAME, better))  # v1 live
    start_interleaving(es, NAME, save_ranker(es, NAME, worse))  # v2 on trial
    drive_traffic(es, _config(0.5), NAME, queries, 300, seed=6)
    settled = settle_interleaving(es, _config(0.5), NAME)
    print(f"worse candidate against better live: {settled.figures}")
    assert settled.figures["verdict"] == "worse" and settled.figures["losses"] > 2 * settled.figures["wins"]
    assert settled.action == "retired" and get_model(es, NAME, 2).status == "retired"
    assert live_model(es, NAME).version == 1


def test_a_small_share_and_an_undecided_trial_leave_the_candidate_on_trial(es, es_url, setup, tmp_path):
    queries, better, _ = setup
    _fresh(es)
    promote(es, NAME, save_ranker(es, NAME, better))  # v1 live
    start_interleaving(es, NAME, save_ranker(es, NAME, better))  # v2: the same ranker, no better
    since, _ = drive_traffic(es, _config(0.1), NAME, queries, 300, seed=7)
    trials = [d for d in _decisions(es, since) if d.get("interleave")]
    assert 10 <= len(trials) <= 55  # 10% of 300, give or take 5 sigma
    for d in trials:  # the trial pages record the live version they were compared with
        assert d["ranker_version"] == 1 and d["interleave"]["live"] == 1
    settled = settle_interleaving(es, _config(0.1), NAME)
    assert settled.action == "on trial" and settled.figures["verdict"] == "undecided"
    assert interleaved_model(es, NAME).version == 2 and live_model(es, NAME).version == 1

    path = tmp_path / "lrr.yaml"
    path.write_text(f"indices:\n  {NAME}: {{}}\nranker: {{interleave_share: 0.1, interleave_min: 30}}\n")
    runner = CliRunner(env={"ES_URL": es_url})
    shown = runner.invoke(cli, ["--config", str(path), "models", "show", "--index", NAME, "2"])
    assert shown.exit_code == 0, shown.output
    assert "on trial against v1 (interleaved on 10% of the searches)" in shown.output
    assert f"of {len(trials)} interleaved searches" in shown.output and "sign test p =" in shown.output
    listed = runner.invoke(cli, ["--config", str(path), "models", "list", "--index", NAME])
    assert "v2    on trial" in listed.output and "v1    live" in listed.output
    judged = runner.invoke(cli, ["--config", str(path), "models", "judge", "--index", NAME])
    assert judged.exit_code == 0 and "undecided" in judged.output and "on trial" in judged.output

    # share 0: serving interleaves nothing even with a candidate on trial
    since, _ = drive_traffic(es, _config(0.0), NAME, queries, 40, seed=8)
    assert not any(d.get("interleave") for d in _decisions(es, since))


def test_train_puts_a_ranker_that_passes_the_holdout_on_trial_instead_of_promoting_it(es, setup):
    queries, _, _ = setup
    _fresh(es)
    config = _config(0.5)
    since, _ = drive_traffic(es, config, NAME, queries, 400, seed=9)  # RRF serves: no ranker stored
    report = train(es, config, NAME, since=since, params={"n_estimators": 40}, min_holdout=5)
    m = report.metrics
    assert not report.promoted and live_model(es, NAME) is None
    assert report.on_trial == (m["ndcg@10"] > m["rrf_ndcg@10"])  # the holdout stays the first gate
    trial = interleaved_model(es, NAME)
    assert (trial.version if trial else None) == (report.version if report.on_trial else None)
    again = train(es, config, NAME, since=since, params={"n_estimators": 20}, min_holdout=5)
    if report.on_trial:  # the trial that ran was settled first: nothing was interleaved since, so undecided
        assert again.settled.version == report.version and again.settled.action == "on trial"
    if again.on_trial:  # one candidate on trial at a time: the newer one
        assert interleaved_model(es, NAME).version == again.version

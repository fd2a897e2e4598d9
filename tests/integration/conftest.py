"""Fixtures shared by the admin panel's integration tests (test_admin_node, test_admin_browser)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from werkzeug.security import generate_password_hash

from lrr_es import es as esio
from lrr_es.bandit.store import delete_policies
from lrr_es.catalog import sample_catalog, sample_rows
from lrr_es.config import Config, config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.learn import learn
from lrr_es.learn.ranker import train
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.client import LrrClient
from lrr_es.names import DECISIONS_INDEX, EVENTS_INDEX, PASSTHROUGH_INDEX
from lrr_es.qu.store import rebuild_gazetteer
from lrr_es.rank.registry import delete_models, promote
from lrr_es.semantic import build_semantic
from lrr_es.simulate import generate_queries
from lrr_es.simulate.traffic import run_traffic

ADMIN_INDEX = "test-admin-fixed"
ADMIN_USER, ADMIN_PASSWORD = "alice", "panel-test-password"
SONGS = 400


@dataclass(frozen=True)
class LearnedIndex:
    """A sample catalog after the demo's learning loop: logged searches with feedback, policy v1
    and v2 (live, learned on v1), ranker v1 live and v2 stored as a candidate, and a few searches the
    client wrapper passed through (counted in lrr-passthrough)."""

    name: str
    config: Config
    searches: int


def _drop(es, drop_catalog) -> None:
    delete_models(es, ADMIN_INDEX)
    delete_policies(es, ADMIN_INDEX)
    drop_catalog(ADMIN_INDEX)
    for index in (DECISIONS_INDEX, EVENTS_INDEX, "lrr-audit", PASSTHROUGH_INDEX):
        if esio.index_exists(es, index):
            esio.delete_by_query(es, index, {"term": {"index": ADMIN_INDEX}})


@pytest.fixture(scope="session")
def learned_index(es_url, drop_catalog):
    """The demo's steps on a 400-song sample catalog: migrate, load, gazetteer, semantic model, 600
    simulated searches with feedback, ``learn`` (policy v1), ``train`` twice (v1 promoted by hand, v2 a
    candidate), 100 more searches served by the policy and v1, ``learn`` again (policy v2), and a few
    searches through the client wrapper that pass through. Removed after the session.

    Built through a client with a 2-minute timeout: on a loaded shared machine a bulk write of the
    semantic vectors took longer than the default 30 s and failed the module."""
    es = esio.connect(es_url, timeout=120)
    _drop(es, drop_catalog)
    # generous sub-search timeouts: the fixture makes logs to look at, and a loaded shared machine can
    # stall the node past the default 500 ms (+5 s for the request), which would fail the whole module
    config = config_from_dict({"indices": {ADMIN_INDEX: {}}, "ranker": {"swap_rate": 0.1},
                               "retrieval": {"timeout_ms": 10_000},
                               "admin": {"users": {ADMIN_USER: generate_password_hash(ADMIN_PASSWORD)}}})
    index = config.index(ADMIN_INDEX)
    migrate(es, config, ADMIN_INDEX, progress=False, echo=lambda _: None)
    load_rows(es, index, sample_rows(SONGS, seed=5), progress=False, threads=1)
    esio.refresh(es, ADMIN_INDEX)
    rebuild_gazetteer(es, index)
    build_semantic(es, index, progress=False, echo=lambda _: None)
    queries = generate_queries(sample_catalog(SONGS, seed=5), n=200, seed=12)
    since, outcomes = drive_traffic(es, config, ADMIN_INDEX, queries, 600, seed=5)
    searches = len(outcomes)
    learn(es, config, ADMIN_INDEX, since=since, echo=lambda _: None)
    first = train(es, config, ADMIN_INDEX, since=since, params={"n_estimators": 40}, promote=False, min_holdout=5)
    promote(es, ADMIN_INDEX, first.version)
    train(es, config, ADMIN_INDEX, since=since, params={"n_estimators": 20, "max_depth": 3}, promote=False,
          min_holdout=5)
    searches += len(drive_traffic(es, config, ADMIN_INDEX, queries, 100, seed=6)[1])
    learn(es, config, ADMIN_INDEX, since=since, echo=lambda _: None)
    _pass_through(es_url, config)
    esio.refresh(es, PASSTHROUGH_INDEX)
    yield LearnedIndex(ADMIN_INDEX, config, searches)
    _drop(es, drop_catalog)


PASSED = {"sort": 3, "size 0": 2, "opted out": 1}  # what _pass_through sends to Elasticsearch unchanged


def _pass_through(es_url, config) -> None:
    """Searches the client wrapper passes through, by reason (PASSED); its close writes their counts."""
    client = LrrClient(esio.connect(es_url, timeout=120), config)
    match = {"query": {"match": {"title": "love"}}}
    for _ in range(PASSED["sort"]):
        client.search(index=ADMIN_INDEX, body={**match, "sort": ["_doc"]})
    for _ in range(PASSED["size 0"]):
        client.search(index=ADMIN_INDEX, body={**match, "size": 0})
    client.search(index=ADMIN_INDEX, body=match, lrr=False)
    assert client.passthrough.snapshot() == PASSED
    client.close()
    assert client.passthrough.written == len(PASSED)


def drive_traffic(es, config, index: str, queries, n: int, seed: int) -> tuple[int, list]:
    """``n`` simulated searches with feedback through a fresh engine, everything written and refreshed.

    (When they started, epoch ms; their outcomes.)"""
    since = int(time.time() * 1000) - 1
    engine = LrrEngine(es, config, refresh_s=0)
    outcomes = run_traffic(engine, index, queries, n, seed=seed)
    assert engine.feedback_writer.flush(60)
    engine.close(timeout=60)
    engine.decisions.flush(timeout=60)
    esio.refresh(es, DECISIONS_INDEX)
    esio.refresh(es, EVENTS_INDEX)
    return since, outcomes

"""Test fixtures. Integration tests run against a REAL Elasticsearch node: the one at $ES_URL,
or a 7.10.2 node this session starts from Maven Central artifacts (port $LRR_TEST_PORT, default
9250) and stops at the end. A node that cannot start is an error, never a skip."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# tests/es8 is the second job's (scripts/test-es8.sh: client 8.x against an 8.19 node); the main suite runs client 7.17
collect_ignore = ["es8"] if esio.CLIENT_MAJOR < 8 else []
MUSICOSET = Path(os.environ.get("LRR_MUSICOSET", SHARED_DATA / "musicoset"))


@pytest.fixture(scope="session")
def es_url(tmp_path_factory):
    url = os.environ.get("LRR_ES_URL") or os.environ.get("ES_URL")
    if url:
        yield url
        return
    from lrr_es.devcluster import ClusterSpec, start, stop
    spec = ClusterSpec(data_dir=tmp_path_factory.mktemp("es-node"), port=int(os.environ.get("LRR_TEST_PORT", "9250")))
    start(spec, timeout=180)  # raises ClusterError with the reason: every integration test then errors
    yield spec.url
    stop(spec)


@pytest.fixture(scope="session")
def es(es_url):
    return esio.connect(es_url)


@pytest.fixture(scope="session")
def drop_catalog(es):
    """A function that removes a test catalog: every index named ``<alias>*`` and its catalog template."""
    def drop(name):
        for index in esio.list_indices(es, f"{name}*"):
            esio.delete_index(es, index)
        es.indices.delete_index_template(name=f"lrr-catalog-{name}", ignore=[404])
    return drop


@pytest.fixture
def alias(drop_catalog):
    """A fresh ``test-<random>`` alias name; every index, template and alias under it is removed after."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    drop_catalog(name)


@pytest.fixture
def make_config():
    """config_from_dict for one index named ``alias`` with optional index settings."""
    def build(alias: str, **index_settings):
        return config_from_dict({"indices": {alias: index_settings}})
    return build


@pytest.fixture(scope="session")
def musicoset():
    """The MusicOSet directory; its absence is a failure (CI always has ../shared/data)."""
    assert MUSICOSET.is_dir(), f"MusicOSet data missing at {MUSICOSET} (set LRR_MUSICOSET)"
    return MUSICOSET


@pytest.fixture(scope="session")
def music_index(es, musicoset, drop_catalog):
    """The MusicOSet catalog migrated and loaded once per session behind the ``test-music-fixed`` alias.

    Shared by every module that reads it: a test that writes to it (a Q2E update) uses a query
    of its own so that other tests do not see the change. The name is fixed and the load uses one
    bulk thread so that every run has the same index (explore's random order is salted with the
    index name; score ties follow the Lucene document order).
    """
    from lrr_es.catalog import read_musicoset
    from lrr_es.load import load_rows
    from lrr_es.migrate import migrate
    name = "test-music-fixed"
    drop_catalog(name)
    config = config_from_dict({"indices": {name: {}}})
    migrate(es, config, name, progress=False, echo=lambda _: None)
    load_rows(es, config.index(name), read_musicoset(musicoset), progress=False, threads=1)
    esio.refresh(es, name)
    yield name
    drop_catalog(name)

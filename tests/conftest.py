"""Test fixtures. Integration tests run against a REAL Elasticsearch node, taken in this order:
the one at $ES_URL; an 8.x node from docker-compose.yml through pytest-docker when a Docker engine
answers (and $LRR_TEST_DOCKER is not 0); else a 7.10.2 node this session starts from Maven Central
artifacts (port $LRR_TEST_PORT, default 9250) and stops at the end. A node that cannot start is an
error, never a skip.

Tests that read the third-party MusicOSet data (marker ``musicoset``, given to every test that uses
the ``musicoset`` fixture) are skipped with "MusicOSet not present" when the data is absent, and
fail instead when $LRR_REQUIRE_MUSICOSET is 1 (as in .ci/run, which always has ../shared).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# tests/es8 is the second job's (scripts/test-es8.sh: client 8.x against an 8.19 node); the main suite runs client 7.17
collect_ignore = ["es8"] if esio.CLIENT_MAJOR < 8 else []
MUSICOSET = Path(os.environ.get("LRR_MUSICOSET", SHARED_DATA / "musicoset"))


def pytest_collection_modifyitems(items):
    for item in items:
        if "musicoset" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.musicoset)


def docker_engine() -> tuple[bool, str]:
    """Whether a Docker engine answers here (not only the client), and why not."""
    if os.environ.get("LRR_TEST_DOCKER") == "0":
        return False, "LRR_TEST_DOCKER=0"
    docker = shutil.which("docker")
    if docker is None:
        return False, "no docker command"
    try:
        proc = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=15)
    except subprocess.TimeoutExpired:
        return False, "docker info did not answer within 15 s"
    if proc.returncode != 0 or not proc.stdout.strip():
        return False, "no Docker engine answers (" + (proc.stderr.strip().splitlines() or ["docker info failed"])[-1] + ")"
    return True, f"Docker engine {proc.stdout.strip()}"


@pytest.fixture(scope="session")
def docker_compose_file():
    """pytest-docker's compose file: the one users start an 8.x node with."""
    return str(ROOT / "docker-compose.yml")


def _docker_url(request) -> str:
    services = request.getfixturevalue("docker_services")
    port = services.port_for("elasticsearch", 9200)
    url = f"http://{request.getfixturevalue('docker_ip')}:{port}"

    def answers() -> bool:
        try:
            esio.connect(url, timeout=2)
            return True
        except Exception:  # noqa: BLE001 - not up yet
            return False
    services.wait_until_responsive(check=answers, timeout=180, pause=2)
    return url


@pytest.fixture(scope="session")
def es_url(tmp_path_factory, request):
    url = os.environ.get("LRR_ES_URL") or os.environ.get("ES_URL")
    if url:
        yield url
        return
    engine, why = docker_engine()
    if engine:
        yield _docker_url(request)
        return
    print(f"\nElasticsearch for the tests: the embedded 7.10.2 node (not Docker: {why})")
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
    """The MusicOSet directory: skipped when absent, a failure when $LRR_REQUIRE_MUSICOSET is 1."""
    if not MUSICOSET.is_dir():
        if os.environ.get("LRR_REQUIRE_MUSICOSET") == "1":
            pytest.fail(f"MusicOSet data missing at {MUSICOSET} (LRR_REQUIRE_MUSICOSET=1; set LRR_MUSICOSET)")
        pytest.skip("MusicOSet not present")
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

"""Fixtures of the 8.x job (scripts/test-es8.sh): elasticsearch-py 8.x against a REAL Elasticsearch
8.19.21 node, the integ-test distribution from Maven Central, started once per session on
$LRR_ES8_PORT (default 9420) and stopped at the end; or the node at $LRR_ES8_URL. A node that
cannot start is an error for every test, never a skip.

That node has no Painless, mapper-extras, analysis-common or reindex: these tests cover the I/O
layer (lrr_es.es) and pass-through traffic, and that lrr-es names what the node lacks.
"""
from __future__ import annotations

import os
import time
import uuid

import pytest

from lrr_es import es as esio

if esio.CLIENT_MAJOR < 8:
    pytest.exit("tests/es8 needs elasticsearch-py 8.x: run `bash scripts/test-es8.sh` (it builds .venv-es8)", returncode=4)

_STARTED: dict = {}


@pytest.fixture(scope="session")
def es_url():
    """The 8.x node's URL (overrides the main suite's 7.10.2 node)."""
    url = os.environ.get("LRR_ES8_URL")
    if url:
        yield url
        return
    from lrr_es.devcluster import es8
    clock = time.monotonic()
    node = es8.start(port=int(os.environ.get("LRR_ES8_PORT", "9420")), timeout=240)  # raises ClusterError with the reason
    _STARTED.update(version=node.version, seconds=node.seconds, total=time.monotonic() - clock, url=node.url)
    yield node.url
    es8.stop(node)


@pytest.fixture
def index_name(es):
    """A fresh ``test8-<random>`` name; every index and template under it is removed after the test."""
    name = f"test8-{uuid.uuid4().hex[:10]}"
    yield name
    for index in esio.list_indices(es, f"{name}*"):
        esio.delete_index(es, index)
    for template in (name, f"{name}-tpl"):
        es.options(ignore_status=404).indices.delete_index_template(name=template)


def pytest_terminal_summary(terminalreporter) -> None:
    if _STARTED:
        terminalreporter.write_line(
            f"Elasticsearch {_STARTED['version']} at {_STARTED['url']}: node up in {_STARTED['seconds']:.1f}s "
            f"({_STARTED['total']:.1f}s with the distribution check)")

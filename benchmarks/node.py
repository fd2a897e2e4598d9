"""The Elasticsearch a benchmark runs against: the cluster at --es-url, or a throwaway local node.

Every benchmark that needs a node gets it here: ``bench_node`` yields a client of --es-url or of a
temporary local node; ``local_node`` yields the temporary node itself (a :class:`LocalNode`), for
benchmarks that stop, start or restart it (start times, feedback across a restart).
"""
from __future__ import annotations

import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from elasticsearch import Elasticsearch

from lrr_es import es as esio
from lrr_es.devcluster import ClusterSpec, start, stop

CONNECT_TIMEOUT = 30.0  # lrr_es.es.connect's default


@dataclass
class LocalNode:
    """A local node on ``spec`` (its data in a temporary directory) that a benchmark can stop and start."""

    spec: ClusterSpec

    @property
    def url(self) -> str:
        """The node's HTTP URL."""
        return self.spec.url

    def start(self) -> float:
        """Start the node and wait until it is healthy; the seconds that took."""
        started = time.monotonic()
        start(self.spec, echo=lambda _: None)
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop the node (nothing happens when it does not run); its data stays."""
        stop(self.spec)

    def restart(self, pause_s: float = 0.0) -> float:
        """Stop the node, wait ``pause_s`` seconds, start it again on the same data; the start's seconds."""
        self.stop()
        time.sleep(pause_s)
        return self.start()

    def client(self, timeout: float = CONNECT_TIMEOUT) -> Elasticsearch:
        """A client of the node."""
        return esio.connect(self.url, timeout)


@contextmanager
def local_node(port: int, heap_mb: int = 0, started: bool = True) -> Iterator[LocalNode]:
    """A node on ``port`` with its data in a temporary directory (started unless ``started`` is
    False), stopped and deleted on exit. ``heap_mb`` 0 is the dev cluster's default heap."""
    with tempfile.TemporaryDirectory() as data:
        node = LocalNode(ClusterSpec(data_dir=Path(data), port=port, heap_mb=heap_mb))
        try:
            if started:
                node.start()
            yield node
        finally:
            node.stop()


@contextmanager
def bench_node(es_url: str | None, port: int, heap_mb: int = 2048, timeout: float = 60) -> Iterator[Elasticsearch]:
    """A client of ``es_url``, or of a node started on ``port`` with its data in a temporary
    directory, stopped and deleted on exit."""
    if es_url:
        yield esio.connect(es_url, timeout)
        return
    with local_node(port, heap_mb) as node:
        yield node.client(timeout)

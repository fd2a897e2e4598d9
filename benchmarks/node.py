"""The Elasticsearch a benchmark runs against: the cluster at --es-url, or a throwaway local node."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from elasticsearch import Elasticsearch

from lrr_es import es as esio
from lrr_es.devcluster import ClusterSpec, start, stop


@contextmanager
def bench_node(es_url: str | None, port: int, heap_mb: int = 2048, timeout: float = 60) -> Iterator[Elasticsearch]:
    """A client of ``es_url``, or of a node started on ``port`` with its data in a temporary
    directory, stopped and deleted on exit."""
    if es_url:
        yield esio.connect(es_url, timeout)
        return
    with tempfile.TemporaryDirectory() as data:
        spec = ClusterSpec(data_dir=Path(data), port=port, heap_mb=heap_mb)
        start(spec, echo=lambda _: None)
        try:
            yield esio.connect(spec.url, timeout)
        finally:
            stop(spec)

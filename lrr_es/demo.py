"""The main job of the README: an embedded Elasticsearch, the sample catalog, a few searches.

Retrieval strategies, the bandit and the ranker grow into this later; for now it shows the
foundation working end to end: a real node, a migrated index, loaded documents, and what the
lexical match and the Q2E memory (seeded for cold start) retrieve for a few queries.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from . import es as esio
from .config import Config, IndexConfig
from .strategies import get_strategy, parse_query

Echo = Callable[[str], None]
DEMO_QUERIES = ("love", "home", "midnight rock", "80s pop")


def run_demo(config: Config, port: int = 9200, data: Path | None = None, songs: int = 2000,
             stop_after: bool = False, echo: Echo = print) -> None:
    from .catalog import sample_rows
    from .devcluster import ClusterSpec, default_data_dir, start, stop
    from .load import load_rows
    from .migrate import migrate

    spec = None
    url = os.environ.get("LRR_ES_URL") or os.environ.get("ES_URL")
    if url:
        echo(f"using the Elasticsearch cluster at {url} (ES_URL)")
    else:
        spec = ClusterSpec(data_dir=(data or default_data_dir()).resolve(), port=port)
        echo(start(spec, echo=echo).message)
        url = spec.url
    es = esio.connect(url, config.elasticsearch.timeout)
    index = next(iter(config.indices.values()))
    migrate(es, config, index.name, progress=False, echo=echo)
    report = load_rows(es, index, sample_rows(songs, seed=7), progress=False)
    echo(report.summary())
    for text in DEMO_QUERIES:
        echo("")
        echo(f'search "{text}"')
        for name, label in (("lexical", "lexical"), ("memory", "q2e memory")):
            body = get_strategy(name, index.fields).build(parse_query(text), 5)
            _show(echo, label, esio.search(es, index.name, body), index)
    if spec is not None:
        if stop_after:
            echo(stop(spec).message)
        else:
            echo(f"\nthe node keeps running at {spec.url}; stop it with: lrr-es dev-cluster stop --port {spec.port}")


def _show(echo: Echo, label: str, response: dict, index: IndexConfig) -> None:
    hits = response["hits"]["hits"]
    echo(f"  {label}: {len(hits)} hit(s)")
    for hit in hits:
        src = hit["_source"]
        title = src.get(index.fields.title[0], "?")
        artist = ", ".join(src.get(index.fields.artist[0]) or []) if index.fields.artist else ""
        genre = ", ".join((src.get(index.fields.genre or "genre") or [])[:2])
        echo(f"    {hit['_score']:7.3f}  {src.get('entity_type', ''):6} {title} — {artist} [{genre}] {src.get('year') or ''}")

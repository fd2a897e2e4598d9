"""The client wrapper's cost: LrrClient against the app's own plain client, in one run on one index.

On MusicOSet (or the sample catalog with --sample), with a seeded mix of generated queries, every
contender runs each query in turn (interleaved, so the machine's load hits them alike):
- ``plain``: the app's own search, one ``multi_match`` over title and artist, ``size`` 10, ``_source`` on;
- ``pass-through``: the same search through LrrClient with ``lrr=False`` (routing only), and a
  sorted variant that the translator reads and sends on (its whole pass-through path), each
  against the plain client's same request;
- ``served``: the same body through LrrClient served by the engine (the cold-start plan: every
  strategy that can run, RRF, the app's query at size 0 for total and facets, the response), with
  sub-searches returning ids and scores and one ``mget`` for the sources the search reads
  (lrr_es.sources, cached); the same with the cache off (``sources uncached``); and as before
  issue 13, every sub-search hit carrying its ``_source`` (``sources in every hit``);
- ``routing``: the wrapper's own work on a request, in process (reading the body, translating it,
  choosing engine or pass-through), in microseconds: the part of the pass-through overhead that
  does not drown in the node's variance.

With ``--ranker`` a ranker is live (fitted on random rows: its cost, not its order, is the point).

Run: .venv/bin/python -m benchmarks.bench_client [--queries 200] [--rounds 3] [--sample] [--ranker]
Starts its own node on --port (default 9293) unless --es-url is given.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from lrr_es import LrrClient
from lrr_es import es as esio
from lrr_es.catalog import read_musicoset, sample_rows
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.qu.store import rebuild_gazetteer
from lrr_es.semantic import build_semantic
from lrr_es.simulate.queries import generate_queries

from .node import bench_node

DEFAULT_MUSICOSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "musicoset"
ALIAS = "bench-client"
QUIET = lambda _: None  # noqa: E731


def app_body(text: str) -> dict:
    """The app's own search for a 10-hit page."""
    return {"query": {"multi_match": {"query": text, "fields": ["title", "artist"]}}, "size": 10}


def catalog_rows(sample: bool, musicoset: Path) -> list:
    """The benchmark's catalog rows: the 2,000-song sample, or MusicOSet's loadable rows."""
    return list(sample_rows(2000, seed=7)) if sample else [r for r in read_musicoset(musicoset) if r.ok]


def prepare(es, sample: bool, musicoset: Path, alias: str = ALIAS, rows: list | None = None,
            config: dict | None = None, progress: bool = False, feedback: dict | None = None):
    """Migrate ``alias``, load ``rows`` (default: the catalog) through the normal load path, build its
    gazetteer and semantic model; the config (default: ``feedback`` as that section's settings) and the
    loaded documents."""
    config = config_from_dict(config or {"indices": {alias: {}}, "feedback": {"ubi_index": None, **(feedback or {})}})
    for index in esio.list_indices(es, f"{alias}*"):
        esio.delete_index(es, index)
    migrate(es, config, alias, progress=False, echo=QUIET)
    rows = catalog_rows(sample, musicoset) if rows is None else rows
    load_rows(es, config.index(alias), iter(rows), total=len(rows), progress=progress)
    esio.refresh(es, alias)
    rebuild_gazetteer(es, config.index(alias))
    build_semantic(es, config.index(alias), progress=progress, echo=QUIET)
    return config, [r.doc for r in rows]


def live_ranker(es) -> None:
    """Make a ranker live for ALIAS: 20 trees over random rows of the default feature schema (its order
    means nothing; it costs what a real one costs, and makes the engine compute features)."""
    import numpy as np
    from lrr_es.rank import LtrRanker, feature_schema
    from lrr_es.rank.registry import delete_models, promote, save_ranker
    schema = feature_schema()
    rng = np.random.default_rng(0)
    X = rng.random((400, len(schema)))
    y = (X[:, schema.index("popularity_log")] * 2 + X[:, schema.index("title_overlap")]).round()
    delete_models(es, ALIAS)
    ranker = LtrRanker(n_estimators=20, random_state=0).fit(X, y, qid=np.arange(400) // 20, feature_names=schema)
    promote(es, ALIAS, save_ranker(es, ALIAS, ranker))


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url")
    parser.add_argument("--port", type=int, default=9293)
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--sample", action="store_true", help="the built-in sample catalog instead of MusicOSet")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query set")
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--ranker", action="store_true",
                        help="serve with a live ranker (fitted on random rows of the index's feature schema): "
                             "features for 200 candidates, so the engine reads their sources")
    args = parser.parse_args(argv)
    with bench_node(args.es_url, args.port) as es:
        config, docs = prepare(es, args.sample, args.musicoset)
        if args.ranker:
            live_ranker(es)
        texts = [q.text for q in generate_queries(docs, args.queries, seed=args.seed)]
        wrapper = LrrClient(es, config)
        # the same engine-served search with the sources fetched once per search and never cached, and
        # as it ran before issue 13 (every sub-search hit carrying its _source)
        uncached = LrrClient(es, config, engine=LrrEngine(es, config, source_ttl_s=0))
        inline = LrrClient(es, config, engine=LrrEngine(es, config, deferred_source=False))
        sort = [{"year": "desc"}]
        contenders = {
            "plain": lambda t: es.search(index=ALIAS, body=app_body(t)),
            "pass-through (lrr=False)": lambda t: wrapper.search(index=ALIAS, body=app_body(t), lrr=False),
            "plain, sorted": lambda t: es.search(index=ALIAS, body={**app_body(t), "sort": sort}),
            "pass-through (sorted)": lambda t: wrapper.search(index=ALIAS, body={**app_body(t), "sort": sort}),
            "served (cold-start plan)": lambda t: wrapper.search(index=ALIAS, body=app_body(t)),
            "served, sources uncached": lambda t: uncached.search(index=ALIAS, body=app_body(t)),
            "served, sources in every hit (before)": lambda t: inline.search(index=ALIAS, body=app_body(t)),
        }
        for text in texts[:20]:  # warm caches and JIT alike for every contender
            for call in contenders.values():
                call(text)
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for text in texts:
                for name, call in contenders.items():
                    times[name].append(timed(lambda: call(text)))
        routing = [timed(lambda: wrapper._route((), {"index": ALIAS, "body": app_body(t)}, True)) * 1000
                   for t in texts for _ in range(5)]
        for client in (wrapper, uncached, inline):
            client.lrr.close()
        served = wrapper.passthrough.snapshot()
    rows = {name: {"p50_ms": round(statistics.median(v), 3), "p99_ms": round(percentile(v, 0.99), 3)}
            for name, v in times.items()}

    def ratio(name, base):
        return {"p50": round(rows[name]["p50_ms"] / rows[base]["p50_ms"], 3),
                "p99": round(rows[name]["p99_ms"] / rows[base]["p99_ms"], 3),
                "p50_extra_ms": round(rows[name]["p50_ms"] - rows[base]["p50_ms"], 3)}
    report = {"catalog": "sample" if args.sample else "musicoset", "ranker": args.ranker, "documents": len(docs), "queries": len(texts),
              "rounds": args.rounds, "latency": rows, "pass_through_counts": served,
              "routing_us_p50": round(statistics.median(routing), 1),
              "ratios": {"pass-through (lrr=False) / plain": ratio("pass-through (lrr=False)", "plain"),
                         "pass-through (sorted) / plain, sorted": ratio("pass-through (sorted)", "plain, sorted"),
                         "served (cold-start plan) / plain": ratio("served (cold-start plan)", "plain"),
                         "served, sources uncached / plain": ratio("served, sources uncached", "plain"),
                         "served, sources in every hit (before) / plain":
                             ratio("served, sources in every hit (before)", "plain"),
                         "served (cold-start plan) / served, sources in every hit (before)":
                             ratio("served (cold-start plan)", "served, sources in every hit (before)")}}
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()

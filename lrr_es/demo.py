"""The main job of the README: an embedded Elasticsearch, the sample catalog, a few searches.

It shows the request path end to end on a real node: a migrated index, loaded documents, the
query-understanding gazetteer and the semantic model built from them, and for a few queries the
plan that ran as one _msearch, the merged candidates and which strategies found each of them.
Then the learning loop: simulated users search and give feedback, the learner updates the bandit
policy, the ranker is trained from the logged features and feedback (and put on trial when it beats
what serves on a holdout), and the next round of searches runs the plans the bandit chooses; half of
its first pages interleave the trial ranker with what serves (the demo's share; the default is
``ranker.interleave_share`` 0.05), and the trial is judged after the round: promoted when its
interleaving win is significant.
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from . import es as esio
from .config import Config, IndexConfig
from .engine import LrrEngine
from .qu.store import rebuild_gazetteer
from .respond import SearchResult
from .semantic import build_semantic

Echo = Callable[[str], None]
DEMO_QUERIES = ("love", "home", "midnight rock", "80s pop", "midnigt")
LOOP_SEARCHES = 300


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
    echo(rebuild_gazetteer(es, index).summary())
    build_semantic(es, index, progress=False, echo=echo)
    engine = LrrEngine(es, config)
    for text in DEMO_QUERIES:
        _show(echo, engine.search(index.name, text, size=5), index)
    engine.close()
    _learning_loop(es, config, index, songs, echo)
    if spec is not None:
        if stop_after:
            echo(stop(spec).message)
        else:
            echo(f"\nthe node keeps running at {spec.url}; stop it with: lrr-es dev-cluster stop --port {spec.port}")


def _learning_loop(es: Any, config: Config, index: IndexConfig, songs: int, echo: Echo,
                   searches: int = LOOP_SEARCHES) -> None:
    """Simulated users search and give feedback, the learner updates the bandit, users search again."""
    from .learn import learn
    from .simulate import generate_queries, read_source
    from .simulate.traffic import run_traffic, summarize
    queries = generate_queries(read_source("sample", sample_size=songs).docs, 300, seed=7)
    echo(f"\nthe learning loop: {2 * searches} simulated searches with feedback, `lrr-es learn`, `lrr-es train`, "
         f"{searches} more")
    since = int(time.time() * 1000) - 1
    if config.ranker.interleave_share > 0:  # a trial the demo's few searches can decide
        config = replace(config, ranker=replace(config.ranker, interleave_share=0.5, interleave_min=30))
    for round_ in (1, 2):
        engine = LrrEngine(es, config, refresh_s=0)
        outcomes = run_traffic(engine, index.name, queries, searches * (2 if round_ == 1 else 1), seed=round_)
        policy = engine.policy(index.name)
        engine.feedback_writer.flush()
        engine.close()
        echo(f"round {round_}, plans by {policy.version if policy else 'the cold-start plan (every strategy)'}:")
        for line in summarize(outcomes).lines()[:1]:
            echo("  " + line)
        if round_ == 1:
            report = learn(es, config, index.name, since=since, echo=lambda _: None)
            echo("  " + report.summary().splitlines()[-1])
            _train(es, config, index, since, echo)
    from .learn.interleaving import settle_interleaving
    settle_interleaving(es, config, index.name, lambda line: echo("  " + line))


def _train(es: Any, config: Config, index: IndexConfig, since: int, echo: Echo) -> None:
    """``lrr-es train`` on the first round's logs; too little data is reported, not fatal."""
    from .errors import ModelError
    from .learn.ranker import report_lines, train
    try:
        report = train(es, config, index.name, since=since, holdout=0.3, params={"n_estimators": 100})
    except ModelError as exc:
        echo(f"  ranker not trained: {exc}")
        return
    for line in report_lines(report):
        echo("  " + line)


def _show(echo: Echo, result: SearchResult, index: IndexConfig) -> None:
    echo("")
    plan = ", ".join(f"{i.strategy}:{i.quota}" for i in result.plan)
    echo(f'search "{result.query.text}": {result.pool_size} candidates from one _msearch [{plan}] '
         f'in {result.timings["total"]:.0f} ms')
    if result.query.interpretations and result.query.interpretations[0].slots:
        best = result.query.interpretations[0]
        slots = ", ".join(f"{s.role}={s.value}" for s in best.slots)
        echo(f"  understood as {slots} (likelihood {best.likelihood:.2f})")
    for name, why in {**result.failed, **result.skipped}.items():
        echo(f"  {name}: {why}")
    for hit in result.hits:
        src = hit["_source"]
        title = src.get(index.fields.title[0], "?")
        artist = ", ".join(src.get(index.fields.people[0]) or []) if index.fields.people else ""
        genre = ", ".join((src.get(index.fields.category or "genre") or [])[:2])
        found = " ".join(f"{n}#{p['rank']}" for n, p in hit["lrr"]["strategies"].items())
        echo(f"  {hit['_score']:.4f}  {title} — {artist} [{genre}] {src.get('year') or ''}  <- {found}")

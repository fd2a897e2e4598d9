"""The learned search end to end (issue 13, P1; P6 with --scale): learn first, then time it against the app's search.

1. Learn, as a deployment would: MusicOSet is loaded (as bench_client loads it); simulated users
   (``--learn-searches`` searches over a generated query set, fixed seed, position-based clicks)
   search through the engine with the cold-start plan and every action goes back as feedback
   (lrr-events, Q2E); ``lrr_es.learn.policy.learn`` (``lrr-es learn``) publishes the bandit policy
   and ``lrr_es.learn.ranker.train`` (``lrr-es train``) trains and promotes the ranker.
2. Measure, in one interleaved run (every contender runs each query in turn, ``--rounds`` passes over
   ``--queries`` queries drawn from the learned query set, as traffic repeats them):
   - ``plain``: the app's own search, one ``multi_match`` over title and artist, ``size`` 10, ``_source`` on;
   - ``learned``: the same body through LrrClient: the plan the published policy chooses, merge,
     features and the live ranker over 200 candidates, the response;
   - ``cold-start``: the same with every strategy (the plan before any policy is published);
   - ``learned, no source cache``: the learned search fetching the page's sources every time
     (``source_ttl_s=0``), and ``learned, no request cache``: its sub-searches never asking for the
     shard request cache (``retrieval.request_cache: false``), to measure what each lever buys (see
     ``LEVERS``; ``--no-levers`` leaves them out);
   - ``learned, budget B`` (``--budget B``, repeatable): the same policy choosing within a smaller cost budget
     (``bandit.budget``, default 4: the sum of the chosen strategies' relative costs), i.e. fewer
     sub-searches, to show what speed a deployment buys with what recall and NDCG.
   Per engine-served contender: p50 and p99 of the whole call, the median of each stage (Python
   before ES, ES (the ``_msearch``'s wall time, and the longest and summed ``took`` of its
   sub-searches as the node reports them), parsing the msearch, merge, source fetch, features,
   predict, the rest of rank, response shaping in the wrapper), the same over the slowest 5% of the
   calls (where the tail's time goes) and, over the first pass, mean NDCG@10 of the served page and
   recall@100 of the served order against the queries' graded relevance.
3. ``--scale N`` (P6) also loads a seeded N-fold expansion of the catalog (``expand_rows``: each real
   document and N-1 variants of it) into its own alias through the same load path, gives it the
   policy and ranker learned on the original index, and times the learned search on both indices in
   the same interleaved run.

Run: .venv/bin/python -m benchmarks.bench_e2e [--queries 200] [--rounds 3] [--learn-searches 2000] [--scale 10] [--budget 2.5]
Starts its own node on --port (default 9293) unless --es-url is given.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from lrr_es import LrrClient
from lrr_es import es as esio
from lrr_es.bandit.store import load_policy, save_policy
from lrr_es.engine import LrrEngine
from lrr_es.learn.policy import learn
from lrr_es.learn.ranker import train
from lrr_es.rank.registry import promote, read_live, save_ranker
from lrr_es.simulate.clicks import ClickModel
from lrr_es.simulate.queries import generate_queries
from lrr_es.simulate.traffic import run_traffic

from .bench_client import DEFAULT_MUSICOSET, app_body, catalog_rows, percentile, prepare, timed
from .bench_ltr import ndcg10
from .expand import expand_rows
from .node import bench_node

ALIAS = "bench-e2e"
SCALED = "bench-e2e-scaled"
# the serving options the last lever measured here turns off (the engine's defaults are its "after")
# the serving options the latest levers turned on, each turned off in a contender of its own: (engine
# keyword arguments, retrieval settings) (the engine's defaults are their "after")
LEVERS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "learned, no source cache": ({"source_ttl_s": 0}, {}),
    "learned, no request cache": ({}, {"request_cache": False}),
}
STAGES = ("python_before_es", "es", "es_took_max", "es_took_sum", "parse_msearch", "merge", "fetch", "features", "predict", "rank_rest",
          "response", "total")


class Recording(LrrEngine):
    """The engine, keeping its last result (for the stage timings and the pool); ``cold_start`` runs every
    strategy whatever the published policy says."""

    def __init__(self, *args: Any, cold_start: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cold_start = cold_start
        self.last = None

    def search(self, index: str, text: str, **kwargs: Any):
        if self.cold_start:
            kwargs.setdefault("plan", self.default_plan(index))
        self.last = super().search(index, text, **kwargs)
        return self.last


def learn_and_publish(es, config, alias: str, queries, searches: int, seed: int) -> dict:
    """Cold-start traffic with feedback, then ``lrr-es learn`` and ``lrr-es train``; what they did."""
    engine = LrrEngine(es, config)
    started = time.perf_counter()
    run_traffic(engine, alias, queries, searches, ClickModel(), seed=seed, progress=True)
    engine.close(timeout=120)
    engine.decisions.flush(timeout=120)
    for index in ("lrr-events", "lrr-decisions"):
        esio.refresh(es, index)
    traffic_s = time.perf_counter() - started
    es.indices.flush(index="lrr-decisions")
    stats = esio.plain(es.indices.stats(index="lrr-decisions", metric="store,docs"))["_all"]["primaries"]
    sample = esio.plain(es.search(index="lrr-decisions", body={"size": 50, "query": {"match_all": {}}}))["hits"]["hits"]
    policy = learn(es, config, alias, echo=print)
    trained = train(es, config, alias, seed=seed, echo=print)
    if not trained.promoted and trained.version is not None:  # the point here is a live ranker's cost
        promote(es, alias, trained.version)
    return {"traffic_s": round(traffic_s, 1),
            "decision_bytes_on_disk": round(stats["store"]["size_in_bytes"] / max(stats["docs"]["count"], 1)),
            "decision_json_bytes": round(statistics.fmean(len(json.dumps(h["_source"])) for h in sample)) if sample else None,
            "policy_version": policy.version, "policy": policy.policy_version,
            "ranker_version": trained.version, "ranker_promoted_by_train": trained.promoted,
            "ranker_holdout": trained.metrics}


def copy_models(es, source: str, target: str) -> None:
    """Publish ``source``'s policy and live ranker for ``target`` (the scaled index serves what was learned)."""
    save_policy(es, target, load_policy(es, source))
    live = read_live(es, source)
    promote(es, target, save_ranker(es, target, live.ranker))


def served_contender(client: LrrClient, engine: Recording, alias: str, stages: dict, quality: dict):
    def call(query, first_pass: bool) -> None:
        started = time.perf_counter()
        response = client.search(index=alias, body=app_body(query.text))
        total = (time.perf_counter() - started) * 1000
        _record_stages(stages, engine.last.timings, total, engine.last.results)
        if first_pass:
            served = [c.id for c in engine.last.pool]
            quality["ndcg@10"].append(ndcg10([h["_id"] for h in response["hits"]["hits"]], query.relevant))
            quality["recall@100"].append(query.recall(served[:100], 100))
            quality["subsearches"].append(len(engine.last.plan))
            quality["candidates"].append(len(served))
    return call


def _record_stages(stages: dict, t: dict, total: float, results=()) -> None:
    took = [r.took_ms for r in results if r.took_ms is not None] or [0]
    for r in results:  # the node's own time per strategy, over the sub-searches that ran it
        if r.took_ms is not None:
            stages.setdefault("took_by_strategy", {}).setdefault(r.strategy, []).append(r.took_ms)
    parts = {"es_took_max": max(took), "es_took_sum": sum(took), "python_before_es": t["build"], "es": t["es"], "parse_msearch": t["execute"] - t["es"],
             "merge": t["merge"], "fetch": t["fetch"], "features": t["features"], "predict": t["predict"],
             "rank_rest": t["rank"] - t["features"] - t["predict"], "response": total - t["total"], "total": total}
    for name, value in parts.items():
        stages.setdefault(name, []).append(value)


def tail_stages(stages: dict[str, list[float]], share: float = 0.05) -> dict[str, float]:
    """Where the slow calls' time goes: the median of each stage over the slowest ``share`` of the calls."""
    totals = stages["total"]
    slow = sorted(range(len(totals)), key=totals.__getitem__)[-max(1, int(len(totals) * share)):]
    return {s: round(statistics.median(stages[s][i] for i in slow), 3) for s in STAGES}


def plain_contender(es, alias: str, quality: dict):
    def call(query, first_pass: bool) -> None:
        response = es.search(index=alias, body=app_body(query.text))
        if first_pass:
            quality["ndcg@10"].append(ndcg10([h["_id"] for h in response["hits"]["hits"]], query.relevant))
    return call


def measure(contenders: dict, queries, rounds: int) -> dict[str, list[float]]:
    for query in queries[:20]:  # warm caches alike for every contender
        for call in contenders.values():
            call(query, False)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for n in range(rounds):
        for query in queries:
            for name, call in contenders.items():
                times[name].append(timed(lambda: call(query, n == 0)))
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url")
    parser.add_argument("--port", type=int, default=9293)
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--sample", action="store_true", help="the built-in sample catalog instead of MusicOSet")
    parser.add_argument("--queries", type=int, default=200, help="measured queries (drawn from the learned set)")
    parser.add_argument("--query-set", type=int, default=1000, help="generated queries the simulated users search")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the measured queries")
    parser.add_argument("--learn-searches", type=int, default=2000, help="simulated searches with feedback")
    parser.add_argument("--scale", type=int, default=0, help="also time a seeded N-fold expansion (P6)")
    parser.add_argument("--no-levers", action="store_true", help="leave out the contenders without a lever (LEVERS)")
    parser.add_argument("--budget", type=float, action="append", default=[],
                        help="also time the learned plan under this bandit budget (default budget: bandit.budget); repeatable")
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--timeout", type=float, default=300, help="client request timeout, seconds (a loaded machine)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    with bench_node(args.es_url, args.port, heap_mb=3072 if args.scale else 2048, timeout=args.timeout) as es:
        started = time.perf_counter()
        rows = catalog_rows(args.sample, args.musicoset)
        config, docs = prepare(es, args.sample, args.musicoset, ALIAS, rows,
                               {"indices": {ALIAS: {}, SCALED: {}}, "feedback": {"ubi_index": None}})
        report["prepare_s"] = round(time.perf_counter() - started, 1)
        print(f"{ALIAS}: {len(docs)} documents ready in {report['prepare_s']:.0f}s", flush=True)
        query_set = generate_queries(docs, args.query_set, seed=args.seed)
        report["learning"] = learn_and_publish(es, config, ALIAS, query_set, args.learn_searches, args.seed)
        print(f"learned from {args.learn_searches} searches: {report['learning']}", flush=True)
        if args.scale:
            started = time.perf_counter()
            _, scaled_docs = prepare(es, args.sample, args.musicoset, SCALED, expand_rows(rows, args.scale, args.seed),
                                     {"indices": {ALIAS: {}, SCALED: {}}, "feedback": {"ubi_index": None}},
                                     progress=True)
            copy_models(es, ALIAS, SCALED)
            report["scaled"] = {"documents": len(scaled_docs), "load_s": round(time.perf_counter() - started, 1)}
            print(f"{SCALED}: {len(scaled_docs)} documents ready in {report['scaled']['load_s']:.0f}s", flush=True)
        rng = random.Random(args.seed + 1)
        measured = [query_set[rng.randrange(len(query_set))] for _ in range(args.queries)]
        engines = {"learned": Recording(es, config), "cold-start": Recording(es, config, cold_start=True)}
        for name, (kwargs, retrieval) in ({} if args.no_levers else LEVERS).items():
            engines[name] = Recording(es, replace(config, retrieval=replace(config.retrieval, **retrieval)), **kwargs)
        for budget in args.budget:  # the same policy choosing within a smaller cost budget: fewer sub-searches
            engines[f"learned, budget {budget:g}"] = Recording(es, replace(config, bandit=replace(config.bandit, budget=budget)))
        if args.scale:
            engines[f"learned, {args.scale}x index"] = Recording(es, config)
        stages: dict[str, dict] = {name: {} for name in engines}
        quality: dict[str, dict] = {name: {"ndcg@10": [], "recall@100": [], "subsearches": [], "candidates": []}
                                    for name in ["plain", *engines]}
        contenders = {"plain": plain_contender(es, ALIAS, quality["plain"])}
        for name, engine in engines.items():
            alias = SCALED if name.endswith("x index") else ALIAS
            contenders[name] = served_contender(LrrClient(es, config, engine=engine), engine, alias,
                                                stages[name], quality[name])
        if args.scale:
            contenders[f"plain, {args.scale}x index"] = plain_contender(es, SCALED, quality.setdefault(
                f"plain, {args.scale}x index", {"ndcg@10": []}))
        times = measure(contenders, measured, args.rounds)
        for engine in engines.values():
            engine.close()
    report["latency"] = {name: {"p50_ms": round(statistics.median(v), 3), "p99_ms": round(percentile(v, 0.99), 3)}
                         for name, v in times.items()}
    report["ratios"] = {f"{name} / plain": _ratio(report["latency"], name, "plain") for name in times if name != "plain"}
    if args.scale:
        scaled = f"learned, {args.scale}x index"
        report["ratios"][f"{scaled} / learned"] = _ratio(report["latency"], scaled, "learned")
        report["stage_growth"] = {s: round(statistics.median(stages[scaled][s]) / max(statistics.median(stages["learned"][s]), 1e-6), 3)
                                  for s in STAGES}
    report["stages_p50_ms"] = {name: {s: round(statistics.median(v[s]), 3) for s in STAGES} for name, v in stages.items()}
    report["stages_tail_ms"] = {name: tail_stages(v) for name, v in stages.items()}
    report["took_by_strategy"] = {name: {s: {"p50_ms": statistics.median(t), "p99_ms": percentile(t, 0.99), "runs": len(t)}
                                         for s, t in sorted(v.get("took_by_strategy", {}).items())}
                                  for name, v in stages.items()}
    report["quality"] = {name: {k: round(statistics.fmean(v), 4) for k, v in q.items() if v} for name, q in quality.items()}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


def _ratio(latency: dict, name: str, base: str) -> dict:
    return {"p50": round(latency[name]["p50_ms"] / latency[base]["p50_ms"], 3),
            "p99": round(latency[name]["p99_ms"] / latency[base]["p99_ms"], 3)}


if __name__ == "__main__":
    main()

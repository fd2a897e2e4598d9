"""Retrieval benchmarks: candidate recall per strategy, latency of a plan as one _msearch.

On a query set generated from the MusicOSet catalog (fixed seed; known items with typos and
partial titles, title + artist, artist names, genre/decade, ambiguous words), with relevance taken
from the catalog's own fields:
- candidate recall@K of each strategy alone, of all strategies together (their union) and of
  lexical alone; recall of one query = relevant docs retrieved / min(#relevant, K);
- latency of a 4-strategy plan as one _msearch, against the same four searches one after another
  and against a single lexical search, p50 and p99 in the same run (interleaved per query);
- end-to-end engine time and its Python share (parse + build + merge) for the same plan.

Run: .venv/bin/python -m benchmarks.bench_retrieval [--queries 1000] [--latency-queries 300]
Starts its own node on --port (default 9291) unless --es-url is given.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from lrr_es import es as esio
from lrr_es.catalog import read_musicoset
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.decide import PlanItem
from lrr_es.execute import execute
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.qu.store import rebuild_gazetteer
from lrr_es.semantic import build_semantic
from lrr_es.simulate.queries import generate_queries

from .node import bench_node

DEFAULT_MUSICOSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "musicoset"
ALIAS = "bench-retrieval"
LATENCY_PLAN = ("lexical", "popular", "fuzzy", "memory")
QUIET = lambda _: None  # noqa: E731


def prepare(es, musicoset: Path) -> tuple[LrrEngine, list[dict]]:
    """Migrate and load MusicOSet, build the QU gazetteer and the semantic model, return an engine."""
    config = config_from_dict({"indices": {ALIAS: {}}})
    for index in esio.list_indices(es, f"{ALIAS}*"):
        esio.delete_index(es, index)
    migrate(es, config, ALIAS, progress=False, echo=QUIET)
    rows = [row for row in read_musicoset(musicoset) if row.ok]
    load_rows(es, config.index(ALIAS), iter(rows), progress=False)
    esio.refresh(es, ALIAS)
    build_resources(es, config)
    engine = LrrEngine(es, config)
    missing = [name for name, s in engine.strategies(ALIAS).items() if not s.available]
    if missing:
        raise SystemExit(f"strategies without their resources: {missing}")
    return engine, [row.doc for row in rows]


def build_resources(es, config) -> None:
    """The gazetteer and the semantic model, built and stored the way `lrr-es` builds them."""
    index = config.index(ALIAS)
    rebuild_gazetteer(es, index)
    build_semantic(es, index, progress=False, echo=QUIET)


def bench_recall(engine: LrrEngine, queries: list, k: int) -> dict:
    """Mean recall@k per strategy alone and of the union of all, overall and per intent."""
    names = list(engine.strategies(ALIAS))
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    work = defaultdict(float)
    for q in queries:
        plan = tuple(PlanItem(name, k, timeout_ms=2000) for name in names)
        result = engine.search(ALIAS, q.text, size=1, plan=plan, seed=7, source=False)
        union: set[str] = set()
        for r in result.results:
            ids = [h.id for h in r.hits]
            union.update(ids)
            per[r.strategy][q.intent].append(q.recall(ids, k))
            work[r.strategy] += r.took_ms or 0
        for name in result.skipped:
            per[name][q.intent].append(0.0)
        per["all"][q.intent].append(q.recall(union, k))
    table = {}
    for name, by_intent in per.items():
        values = [v for vs in by_intent.values() for v in vs]
        table[name] = {"overall": statistics.fmean(values),
                       **{intent: statistics.fmean(vs) for intent, vs in sorted(by_intent.items())}}
    return {"k": k, "recall": table, "es_took_ms_per_query": {n: work[n] / len(queries) for n in names}}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench_latency(engine: LrrEngine, queries: list, quota: int) -> dict:
    """One _msearch of 4 strategies vs the same 4 searched one after another vs one lexical search."""
    es, strategies = engine.es, engine.strategies(ALIAS)
    plan = tuple(PlanItem(name, quota) for name in LATENCY_PLAN)
    source = ["title", "artist", "genre", "popularity", "entity_type", "year", "added_at"]
    times = defaultdict(list)
    python_share = []
    for i, q in enumerate(queries):
        result = engine.search(ALIAS, q.text, size=10, plan=plan, seed=i, source=source)
        bodies = [(item, strategies[item.strategy].build(result.query, quota)) for item in plan]
        contenders = {
            "msearch_4": lambda: execute(es, ALIAS, bodies, source),
            "sequential_4": lambda: [esio.search(es, ALIAS, dict(body, _source=source)) for _, body in bodies],
            "lexical_1": lambda: esio.search(es, ALIAS, dict(bodies[0][1], _source=source)),
            "engine_4": lambda: engine.search(ALIAS, q.text, size=10, plan=plan, seed=i, source=source),
        }
        order = list(contenders)
        order = order[i % len(order):] + order[:i % len(order)]  # rotate: no contender always goes first
        for name in order:
            t = time.perf_counter()
            out = contenders[name]()
            times[name].append((time.perf_counter() - t) * 1000)
            if name == "engine_4":
                python_share.append((out.timings["total"] - out.timings["es"]) / out.timings["total"])
    base = statistics.median(times["lexical_1"])
    base99 = percentile(times["lexical_1"], 99)
    return {
        "quota": quota, "queries": len(queries),
        **{name: {"p50_ms": statistics.median(v), "p99_ms": percentile(v, 99),
                  "p50_x_lexical": statistics.median(v) / base, "p99_x_lexical": percentile(v, 99) / base99}
           for name, v in times.items()},
        "python_share_of_engine_p50": statistics.median(python_share),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--quota", type=int, default=50, help="per-strategy quota of the latency plan")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=9291)
    parser.add_argument("--es-url")
    parser.add_argument("--skip-recall", action="store_true", help="latency only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with bench_node(args.es_url, args.port) as es:
        t = time.monotonic()
        engine, docs = prepare(es, args.musicoset)
        print(f"prepared {len(docs)} docs, gazetteer and semantic model in {time.monotonic() - t:.0f}s")
        queries = generate_queries(docs, args.queries, seed=args.seed)
        mix = defaultdict(int)
        for q in queries:
            mix[q.intent] += 1
        print("query mix:", dict(sorted(mix.items())))
        recall = None if args.skip_recall else bench_recall(engine, queries, args.k)
        if recall:
            report_recall(recall)
        latency = bench_latency(engine, queries[:args.latency_queries], args.quota)
        report_latency(latency)
        if args.json:
            args.json.write_text(json.dumps({"recall": recall, "latency": latency, "mix": mix}, indent=2))


def report_recall(r: dict) -> None:
    rows = r["recall"]
    intents = sorted({k for v in rows.values() for k in v if k != "overall"})
    print(f"\ncandidate recall@{r['k']} (each strategy alone at quota {r['k']}; 'all' = union of all)")
    print(f"{'strategy':12}{'overall':>9}" + "".join(f"{i[:14]:>16}" for i in intents) + f"{'ES took ms':>12}")
    for name, v in sorted(rows.items(), key=lambda kv: -kv[1]["overall"]):
        took = r["es_took_ms_per_query"].get(name)
        print(f"{name:12}{v['overall']:9.3f}" + "".join(f"{v.get(i, 0):16.3f}" for i in intents)
              + (f"{took:12.1f}" if took is not None else ""))


def report_latency(r: dict) -> None:
    print(f"\nlatency over {r['queries']} queries, quota {r['quota']} per strategy (ms; ratio to one lexical search)")
    for name in ("lexical_1", "msearch_4", "sequential_4", "engine_4"):
        v = r[name]
        print(f"{name:13} p50 {v['p50_ms']:7.2f} ({v['p50_x_lexical']:.2f}x)   p99 {v['p99_ms']:7.2f} ({v['p99_x_lexical']:.2f}x)")
    print(f"Python share of the engine's time (parse, build, merge) at the median: {r['python_share_of_engine_p50']:.1%}")


if __name__ == "__main__":
    main()

"""Ranking latency (features + predict) and what a ranker trained on simulated clicks learns.

Starts a real Elasticsearch 7.10.2 node (or uses --es-url), loads the sample catalog, runs
simulated searches (lrr_es.rank.simulate: randomized top-20 pages, position-based click model),
trains LtrRanker on 70% of the queries and reports holdout NDCG@10 against RRF, then times the
rank stage on real pools cut (or padded) to 50, 200 and 1,000 candidates:

- baseline: sorting the pool by its RRF score (what serving does without a model),
- features: candidate_features, warm (documents seen before) and cold (folding and static caches cleared),
- predict: LtrRanker.predict (float32 rows through XGBoost's C API, lrr_es.rank.predict), and
  XGBoost's own Booster.inplace_predict and DMatrix predict for comparison,
- total: features (warm) + LtrRanker.predict + argsort, i.e. the rank stage as served.

    python -m benchmarks.bench_rank [--songs 2000] [--queries 1000] [--runs 500] [--port 9255]
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import xgboost as xgb

from lrr_es import es as esio
from lrr_es.catalog import sample_catalog, sample_rows
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.decide import PlanItem
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.rank import LtrRanker, candidate_features
from lrr_es.rank import features as featmod
from lrr_es.rank.metrics import ndcg_at_k
from lrr_es.rank.simulate import collect
from lrr_es.simulate import generate_queries

from .node import bench_node

ALIAS = "bench-rank"
SIZES = (50, 200, 1000)
QUIET = lambda _: None  # noqa: E731


def prepare(es, songs: int) -> tuple[LrrEngine, list[dict]]:
    config = config_from_dict({"indices": {ALIAS: {}}, "ranker": {"always_features": True}})
    migrate(es, config, ALIAS, progress=False, echo=QUIET)
    load_rows(es, config.index(ALIAS), sample_rows(songs, seed=5), progress=False)
    esio.refresh(es, ALIAS)
    return LrrEngine(es, config, decisions=False), sample_catalog(songs, seed=5)


def train(engine: LrrEngine, docs: list[dict], n: int, seed: int) -> tuple[LtrRanker, dict]:
    queries = generate_queries(docs, n, seed=seed)
    started = time.perf_counter()
    data = collect(engine, ALIAS, queries, users=8, explore=20, seed=seed)
    collect_s = time.perf_counter() - started
    cut = int(0.7 * n)
    fit, hold = data.subset(np.arange(cut)), data.subset(np.arange(cut, n))
    started = time.perf_counter()
    ranker = LtrRanker(n_estimators=100, max_depth=5).fit(fit.X, fit.y, qid=fit.qid, feature_names=data.schema)
    report = {"rows": len(data.y), "train_queries": cut, "holdout_queries": n - cut, "collect_s": collect_s,
              "fit_s": time.perf_counter() - started,
              "ndcg_rrf": ndcg_at_k(hold.fused, hold.grades, hold.qid),
              "ndcg_ranker": ndcg_at_k(ranker.predict(hold.X), hold.grades, hold.qid)}
    return ranker, report


def pools(engine: LrrEngine, texts: list[str]) -> list[tuple]:
    """(parsed query, context, pool of at least 1,000 candidates) per text; small pools are padded with copies."""
    plan = tuple(PlanItem(n, 250, timeout_ms=5000) for n, s in engine.strategies(ALIAS).items() if s.available)
    out = []
    for text in texts:
        result = engine.search(ALIAS, text, size=1, plan=plan, seed=1)
        pool = list(result.pool)
        copy = 0
        while len(pool) < max(SIZES):
            copy += 1
            pool += [dataclasses.replace(c, id=f"{c.id}#{copy}") for c in result.pool[:max(SIZES) - len(pool)]]
        out.append((result.query, np.array(result.context), pool))
    return out


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 99))


def latency(ranker: LtrRanker, cases: list[tuple], strategies: list[str], runs: int) -> list[tuple]:
    booster = ranker.model_
    rows = []
    for size in SIZES:
        work = [(q, ctx, pool[:size]) for q, ctx, pool in cases]
        X0 = candidate_features(*work[0][:1], work[0][2], strategies, context=work[0][1])
        cycle = iter(range(10**9))

        def pick():
            return work[next(cycle) % len(work)]

        def baseline():
            q, ctx, pool = pick()
            sorted(pool, key=lambda c: -c.fused)

        def features_warm():
            q, ctx, pool = pick()
            candidate_features(q, pool, strategies, context=ctx)

        def features_cold():
            featmod.clear_caches()
            features_warm()

        def total():
            q, ctx, pool = pick()
            X = candidate_features(q, pool, strategies, context=ctx)
            np.argsort(-ranker.predict(X), kind="stable")

        for name, fn in (("baseline: sort by RRF", baseline), ("features (warm)", features_warm),
                         ("features (cold cache)", features_cold),
                         ("predict: LtrRanker.predict", lambda: ranker.predict(X0)),
                         ("predict: Booster.inplace_predict", lambda: booster.inplace_predict(X0, validate_features=False)),
                         ("predict: DMatrix", lambda: booster.predict(xgb.DMatrix(X0, nthread=1), validate_features=False)),
                         ("total: features + predict + sort", total)):
            rows.append((size, name, *timed(fn, runs)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=9255)
    parser.add_argument("--es-url")
    args = parser.parse_args(argv)
    with bench_node(args.es_url, args.port, heap_mb=0, timeout=60) as es:
        engine, docs = prepare(es, args.songs)
        ranker, report = train(engine, docs, args.queries, args.seed)
        cases = pools(engine, ["love", "the", "blue heart", "rock 80s", "rosa stone", "nigth"])
        strategies = list(engine.strategies(ALIAS))
    print(f"simulated training: {report['rows']} rows, {report['train_queries']} train / {report['holdout_queries']} "
          f"holdout queries, collect {report['collect_s']:.1f}s, fit {report['fit_s']:.2f}s")
    print(f"holdout NDCG@10: RRF {report['ndcg_rrf']:.3f}, ranker {report['ndcg_ranker']:.3f}")
    print(f"\nrank stage latency (ms, {args.runs} runs, 100 trees of depth <= 5, {len(ranker.feature_names_in_)} features)")
    print(f"{'candidates':>10}  {'step':<34} {'p50':>8} {'p99':>8}")
    for size, name, p50, p99 in latency(ranker, cases, strategies, args.runs):
        print(f"{size:>10}  {name:<34} {p50:8.3f} {p99:8.3f}")
    print("\nfeature importances (total gain, top 15)")
    gains = sorted(ranker.feature_importances_.items(), key=lambda kv: -kv[1])
    total = sum(g for _, g in gains) or 1.0
    for name, gain in gains[:15]:
        print(f"  {name:<28} {gain / total:6.1%}")


if __name__ == "__main__":
    main()

"""Learning to rank from the logs on the music simulator: NDCG@10 against BM25, RRF and an uncorrected model.

1. MusicOSet is loaded with its gazetteer and semantic model (as bench_retrieval does); a query
   set is generated (fixed seed) and split by query id into "seen" (80%) and "unseen" (20%).
2. Learning: simulated users (position-based click model, examination 1 / position) search the
   seen queries through the engine (cold-start plan: every strategy; RRF order; ``--swap-rate`` of
   the pages get a randomized swap), and every action goes back as feedback (lrr-events, Q2E).
   The engine logs each decision with its candidates' features.
3. ``lrr_es.learn.ranker.train``, the code behind ``lrr-es train``, builds the examples from
   lrr-decisions and lrr-events, estimates examination by position, trains with inverse propensity
   weighting, judges on its own holdout and promotes. The same data trains a model without the
   correction (dry run) for comparison.
4. Judging against the truth: fresh searches (no feedback) of seen queries, drawn as traffic draws
   them, and of every unseen query. Per search: NDCG@10 of plain BM25 (the lexical strategy alone,
   what the app had), of the RRF order of the LTR&R pool, of the IPW model's order of the same pool
   and of the uncorrected model's. The ideal of NDCG is the query's whole relevant set (graded
   0-3 from the catalog), not just what was retrieved.

Learning curves: the learning traffic runs in ``--checkpoints`` equal parts; after each part but
the last a model is trained on the logs so far (dry run: nothing is promoted, traffic keeps the RRF
order) and judged on ``--curve-judge`` seen and as many unseen queries (fixed samples); the last
point is the full judgment above. The curves (NDCG@10 of BM25, RRF and the ranker against the
number of learning searches, and the engaged share of the learning traffic) are saved as a PNG
(--plot, default docs/img/bench_ltr.png).

Run: .venv/bin/python -m benchmarks.bench_ltr [--searches 8000] [--queries 2000] [--seed 7]
Starts its own node on --port (default 9293) unless --es-url is given.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
import zlib
from pathlib import Path

import numpy as np

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.decide import PlanItem
from lrr_es.rank.registry import delete_models
from lrr_es.learn.ranker import train
from lrr_es.simulate import generate_queries
from lrr_es.simulate.clicks import ClickModel
from lrr_es.simulate.traffic import run_traffic

from .bench_retrieval import ALIAS, DEFAULT_MUSICOSET, prepare
from .curves import save_curves, windowed
from .node import bench_node

DEFAULT_PLOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "bench_ltr.png"


def ndcg10(order: list[str], relevant: dict[str, int]) -> float:
    """NDCG@10 of ``order`` (doc ids) with gain 2^grade - 1; the ideal is the whole relevant set."""
    discounts = [1.0 / math.log2(i + 2) for i in range(10)]
    ideal = sorted(relevant.values(), reverse=True)[:10]
    best = sum((2 ** g - 1) * d for g, d in zip(ideal, discounts))
    if best <= 0:
        return 0.0
    return sum((2 ** relevant.get(doc, 0) - 1) * d for doc, d in zip(order[:10], discounts)) / best


def model_order(model, result) -> list[str]:
    head = [c.id for c in result.pool[:len(result.features)]]
    scores = model.predict(result.features)
    return [head[i] for i in np.argsort(-scores, kind="stable")] + [c.id for c in result.pool[len(head):]]


def judge(es, config, queries, ipw_model, plain_model, label: str) -> dict:
    """Mean NDCG@10 per ordering over fresh searches of ``queries`` (no feedback, no decision log)."""
    engine = LrrEngine(es, config_from_dict({"indices": {ALIAS: {}}, "ranker": {"always_features": True}}),
                       decisions=False)
    lexical = (PlanItem("lexical", 10),)
    scores = {k: [] for k in ("bm25", "rrf", "ltr_ipw", "ltr_no_ipw", "served")}
    for n, q in enumerate(queries):
        bm25 = engine.search(ALIAS, q.text, size=10, plan=lexical, seed=n)
        full = engine.search(ALIAS, q.text, size=10, seed=n)
        rrf = [c.id for c in sorted(full.pool, key=lambda c: -c.fused)]
        scores["bm25"].append(ndcg10([h["_id"] for h in bm25.hits], q.relevant))
        scores["rrf"].append(ndcg10(rrf, q.relevant))
        scores["ltr_ipw"].append(ndcg10(model_order(ipw_model, full), q.relevant))
        scores["ltr_no_ipw"].append(ndcg10(model_order(plain_model, full), q.relevant))
        scores["served"].append(ndcg10([h["_id"] for h in full.hits], q.relevant))
    means = {k: statistics.fmean(v) for k, v in scores.items()}
    print(f"{label} ({len(queries)} searches): " + ", ".join(f"{k} {v:.4f}" for k, v in means.items())
          + f"; LTR (IPW) / BM25 = {means['ltr_ipw'] / means['bm25']:.2f}x")
    return {"searches": len(queries), **means}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--searches", type=int, default=8000, help="simulated learning searches")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--judge", type=int, default=1000, help="judged searches of seen queries")
    parser.add_argument("--swap-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=9293)
    parser.add_argument("--es-url")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds per Elasticsearch request (raise it on a busy machine)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--checkpoints", type=int, default=4, help="points of the learning curves")
    parser.add_argument("--curve-judge", type=int, default=150, help="seen (and unseen) queries judged per point")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="PNG of the learning curves")
    args = parser.parse_args(argv)
    out: dict = {"args": {k: str(v) for k, v in vars(args).items()}}
    with bench_node(args.es_url, args.port, timeout=args.timeout) as es:
        started = time.perf_counter()
        _, docs = prepare(es, args.musicoset)
        delete_models(es, ALIAS)
        print(f"catalog and resources ready in {time.perf_counter() - started:.0f}s")
        config = config_from_dict({"indices": {ALIAS: {}}, "ranker": {"swap_rate": args.swap_rate}})
        queries = generate_queries(docs, args.queries, seed=args.seed)
        seen = [q for q in queries if zlib.crc32(q.qid.encode()) % 5]
        unseen = [q for q in queries if not zlib.crc32(q.qid.encode()) % 5]
        engine = LrrEngine(es, config)
        started = time.perf_counter()
        curve_rng = random.Random(args.seed + 2)
        curve_seen = [seen[curve_rng.randrange(len(seen))] for _ in range(args.curve_judge)]
        curve_unseen = unseen[:args.curve_judge]
        curve, engaged = [], []
        part = args.searches // args.checkpoints
        for c in range(args.checkpoints):
            outcomes = run_traffic(engine, ALIAS, seen, part, ClickModel(), seed=args.seed + c, progress=True)
            engaged += [bool(o.positives) for o in outcomes]
            engine.feedback_writer.flush()
            engine.decisions.flush(timeout=120)
            esio.refresh(es, "lrr-events")
            if c < args.checkpoints - 1:
                point = train(es, config, ALIAS, seed=args.seed, dry_run=True, echo=lambda _: None)
                curve.append(((c + 1) * part,
                              judge(es, config, curve_seen, point.ranker, point.ranker, f"after {(c + 1) * part}: seen"),
                              judge(es, config, curve_unseen, point.ranker, point.ranker,
                                    f"after {(c + 1) * part}: unseen")))
        engine.close(timeout=120)
        engine.decisions.flush(timeout=120)
        esio.refresh(es, "lrr-events")
        print(f"{args.searches} learning searches with feedback (and {len(curve)} curve points) in "
              f"{time.perf_counter() - started:.0f}s")
        started = time.perf_counter()
        report = train(es, config, ALIAS, seed=args.seed, echo=print)
        plain = train(es, config, ALIAS, seed=args.seed, ipw=False, dry_run=True)
        train_s = time.perf_counter() - started
        exam = report.examination
        print(f"examination estimate ({exam.method}): "
              + " ".join(f"{p:.2f}" for p in exam.probabilities[:10]) + "; true: "
              + " ".join(f"{1 / (i + 1):.2f}" for i in range(10)))
        print("train holdout (position-debiased NDCG@10): "
              + ", ".join(f"{k} {v:.4f}" for k, v in report.metrics.items() if k.endswith("ndcg@10"))
              + f"; uncorrected model {plain.metrics['ndcg@10']:.4f}; promoted: {report.promoted}")
        print("top features: " + ", ".join(f"{n} {v:.3f}" for n, v in report.importance[:10]))
        rng = random.Random(args.seed + 1)
        judged_seen = [seen[rng.randrange(len(seen))] for _ in range(args.judge)]
        out.update(
            counts=report.counts, train_s=train_s, examination=exam.probabilities[:10].tolist(),
            examination_method=exam.method, train_metrics=report.metrics,
            plain_metrics=plain.metrics, promoted=report.promoted, importance=report.importance,
            seen=judge(es, config, judged_seen, report.ranker, plain.ranker, "seen queries"),
            unseen=judge(es, config, unseen, report.ranker, plain.ranker, "unseen queries"))
    curve.append((part * args.checkpoints, out["seen"], out["unseen"]))
    out["curve"] = curve
    plot(curve, engaged, args)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))


def plot(curve: list, engaged: list[bool], args) -> None:
    """NDCG@10 against learning searches (seen and unseen queries), and the traffic's engaged share."""
    xs = [n for n, _, _ in curve]
    names = {"bm25": "BM25", "rrf": "RRF (cold-start fusion)", "ltr_ipw": "ranker (IPW)"}
    panels = {f"NDCG@10, {label} queries": {name: (xs, [point[i][key] for point in curve]) for key, name in names.items()}
              for i, label in ((1, "seen"), (2, "unseen"))}
    panels["engaged share of the learning traffic"] = {"RRF-ordered pages": windowed(engaged, max(1, len(engaged) // 20))}
    path = save_curves(args.plot, f"bench_ltr: {args.searches} learning searches, seed {args.seed} "
                       f"(first points judged on {args.curve_judge} queries each)", panels, "learning searches")
    print(f"learning curves: {path}")


if __name__ == "__main__":
    main()

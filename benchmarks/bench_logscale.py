"""P8, log scale (issue 13): ``lrr-es learn`` and ``lrr-es train`` over 10k, 100k and 1M logged decisions.

A seeded synthetic log is written into lrr-decisions and lrr-events in bulk, in the format the engine
writes: the first ``--templates`` searches of each size go through the engine's own document builders
(per search the configured policy's Decision, from a pool of 256 made by ``Policy.select`` over seeded
contexts; one sub-search result per chosen arm, each arm's noisy view of the query's 300 documents;
the RRF pool from ``merge``; the compact copy and feature rows the engine logs, ``log_input`` and
``logged_features``, the served features being seeded random numbers with the fused score and a
relevance signal; the record from ``decision_document``), which costs ~10 ms of Python per search;
the other searches replay one of those records under their own search id and timestamp, with their
own clicks. Events are ``make_event`` + ``Resolved.source`` under their event ids (``event_lines``):
clicks on the shown hits by a position-based click model (examination position^-0.8 x
attractiveness), a play after 40% of the clicks. Searches are 10 ms apart (100 searches/s), events
2-20 s after their search.

Every size is its own alias (``logscale-<n>``, in the same two indices); against ``--es-url`` a size
whose log an earlier run wrote is reused, so sizes can be added run by run. For each size, ``learn``
and ``train`` (the library functions the CLI calls, with the CLI's defaults) run in a fresh Python
process, which reports its wall time and peak resident memory (``getrusage`` ru_maxrss) and its
resident memory before the work (imports, client): the difference is what the work held. After
each bulk, ``_stats`` gives lrr-decisions' bytes on disk per decision, from which the daily volume
of a deployment at 100 searches/s follows. Absolute times on the shared 2-core machine are noisy;
the ratios between sizes in the same run are the figures.

    .venv/bin/python -m benchmarks.bench_logscale --port 9299 --sizes 10000,100000
    .venv/bin/python -m benchmarks.bench_logscale --port 9299 --sizes 10000,100000,1000000
    .venv/bin/python -m benchmarks.bench_logscale --es-url http://127.0.0.1:9299 --sizes 1000000 --write-only
    .venv/bin/python -m benchmarks.bench_logscale --es-url http://127.0.0.1:9299 --sizes 1000000 --together
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial

import numpy as np
from tqdm import tqdm

from lrr_es import es as esio
from lrr_es.bandit import Decision, make_policy
from lrr_es.config import Config, config_from_dict
from lrr_es.context import CONTEXT_DIM
from lrr_es.decisions import decision_document, log_input
from lrr_es.execute import Hit, StrategyResult
from lrr_es.feedback.events import make_event
from lrr_es.feedback.plan import Resolved, event_lines
from lrr_es.learn.policy import configured_arms
from lrr_es.merge import merge
from lrr_es.migrate import setup_steps
from lrr_es.bandit.store import model_id
from lrr_es.names import DECISIONS_INDEX, EVENTS_INDEX, MODELS_INDEX
from lrr_es.parse import parse_query
from lrr_es.rank.features import feature_schema
from lrr_es.rank.logged import logged_features
from lrr_es.rank.registry import delete_models
from lrr_es.respond import SearchResult

from .node import bench_node

CATALOG = 30_000  # document ids
QUERIES = 5_000  # distinct query texts (Zipf-distributed)
QUERY_DOCS = 300  # documents each query's sub-searches draw from
DECISION_POOL = 256  # distinct policy decisions
SPACING_MS = 10  # 100 searches/s
WORDS = ("love", "night", "blue", "rain", "dance", "heart", "fire", "road", "summer", "dream", "city", "light",
         "baby", "gold", "river", "song", "wild", "home", "moon", "time")


def alias_of(size: int) -> str:
    return f"logscale-{size}"


def bench_config(sizes: list[int]) -> Config:
    """Default settings (features logged for the first 30 and the shown hits, no swaps) for every size's alias."""
    return config_from_dict({"indices": {alias_of(n): {} for n in sizes}})


@dataclass(frozen=True)
class QueryModel:
    text: str
    docs: tuple[str, ...]  # best first
    appeal: np.ndarray  # (QUERY_DOCS,) attractiveness of each doc


class SyntheticLog:
    """Seeded searches and their feedback for one alias, as the engine and the feedback path write them."""

    def __init__(self, config: Config, alias: str, seed: int, templates: int) -> None:
        self.config, self.alias, self.template_count = config, alias, templates
        self.templates: list[tuple[dict, list[str], list[float]]] = []
        self.rng = np.random.default_rng(seed)
        self.strategies = config.index(alias).strategies
        self.schema = feature_schema(self.strategies)
        self.fused_col = self.schema.index("fused") if "fused" in self.schema else None
        policy = make_policy(config.bandit.policy, dim=CONTEXT_DIM, seed=seed)
        arms = configured_arms(config, alias)
        contexts = self.rng.random((DECISION_POOL, CONTEXT_DIM))
        self.decisions: list[Decision] = [policy.select(c, arms, budget=config.bandit.budget) for c in contexts]
        self.version = policy.version
        weights = 1.0 / np.arange(1, QUERIES + 1) ** 1.1
        self.query_p = weights / weights.sum()
        self.queries: dict[int, QueryModel] = {}

    def query(self, n: int) -> QueryModel:
        if n not in self.queries:
            r = np.random.default_rng(n)
            text = " ".join(r.choice(WORDS, size=int(r.integers(1, 4)))) + f" {n}"
            docs = tuple(f"doc-{d}" for d in r.choice(CATALOG, size=QUERY_DOCS, replace=False))
            self.queries[n] = QueryModel(text, docs, 0.6 * np.exp(-np.arange(QUERY_DOCS) / 15.0))
        return self.queries[n]

    def search(self, n: int, ts: int) -> tuple[dict, list[dict]]:
        """(the decision record, the event sources) of search number ``n`` at ``ts`` (epoch ms): built by
        the engine's builders for the first ``templates`` searches, a replay of one of them after."""
        sid = f"{self.alias}-{n:08d}"
        if len(self.templates) < self.template_count:
            record, shown, relevance = self._built(sid, ts)
            self.templates.append((record, shown, relevance))
        else:
            template, shown, relevance = self.templates[int(self.rng.integers(len(self.templates)))]
            record = {**template, "search_id": sid, "timestamp": ts}
        return record, self._events(sid, record["query"], record["q2e_key"], shown, relevance, ts)

    def _built(self, sid: str, ts: int) -> tuple[dict, list[str], list[float]]:
        rng = self.rng
        model = self.query(int(rng.choice(QUERIES, p=self.query_p)))
        decision = self.decisions[int(rng.integers(DECISION_POOL))]
        results = tuple(self._sub_search(model, arm, quota) for arm, quota in zip(decision.arms, decision.quotas))
        pool = merge(results)
        hits = [{"_id": c.id} for c in pool[:10]]
        depth = min(self.config.ranker.log_depth, len(pool))
        features = rng.random((depth, len(self.schema))).round(4)
        relevance = {doc: a for doc, a in zip(model.docs, model.appeal)}
        features[:, 0] = [relevance.get(c.id, 0.0) + rng.normal(0, 0.1) for c in pool[:depth]]
        if self.fused_col is not None:
            features[:, self.fused_col] = [c.fused for c in pool[:depth]]
        result = SearchResult(sid, self.alias, parse_query(model.text), decision.plan(),
                              hits, len(pool), results, timings={"total": 20.0}, pool=tuple(pool),
                              versions={"policy": self.version}, context=decision.context, decision=decision,
                              features=features, feature_schema=self.schema)
        ranker = self.config.ranker
        page, _ = log_input(result, self.strategies, ranker.log_depth)
        logged = partial(logged_features, page, self.strategies, self.config.index(self.alias).fields,
                         ranker.log_depth, ranker.candidates, ts / 1000)
        shown = [h["_id"] for h in hits]
        return decision_document(page, ts, logged), shown, [relevance.get(doc, 0.0) for doc in shown]

    def _sub_search(self, model: QueryModel, arm: str, quota: int) -> StrategyResult:
        noise = self.rng.normal(0, 40, QUERY_DOCS)
        order = np.argsort(np.arange(QUERY_DOCS) + noise)[:quota]
        return StrategyResult(arm, tuple(Hit(model.docs[i], float(quota - r)) for r, i in enumerate(order)))

    def _events(self, sid: str, text: str, key: str, shown: list[str], relevance: list[float], ts: int) -> list[dict]:
        lines = []
        draws = self.rng.random((len(shown), 2))
        for position, (doc, appeal, (click, play)) in enumerate(zip(shown, relevance, draws), 1):
            if click >= position ** -0.8 * appeal:
                continue
            for k, action in enumerate(["click"] + (["play"] if play < 0.4 else [])):
                at = ts + 2000 * position + 1000 * k
                event = make_event(sid, doc, action, position=position, session_id=sid, timestamp=at,
                                   now_ms=at).with_context(text, self.alias)
                lines += event_lines([Resolved(event, key, text, 1.0, ())])
        return lines


def write_log(es, config: Config, size: int, seed: int, start_ms: int, templates: int) -> dict:
    """Bulk ``size`` synthetic searches with their events; counts and seconds."""
    log = SyntheticLog(config, alias_of(size), seed, templates)
    counts = {"decisions": 0, "events": 0, "failed": 0}

    def actions():
        for n in tqdm(range(size), desc=f"write {size:,}", unit="search", mininterval=2.0):
            ts = start_ms + n * SPACING_MS
            record, lines = log.search(n, ts)
            counts["decisions"] += 1
            yield {"_op_type": "index", "_index": DECISIONS_INDEX, "_id": record["search_id"], "_source": record}
            for header, source in zip(lines[::2], lines[1::2]):
                counts["events"] += 1
                yield {"_op_type": "create", "_index": EVENTS_INDEX, "_id": header["create"]["_id"], "_source": source}

    started = time.perf_counter()
    for ok, _ in esio.bulk(es, actions(), chunk_size=500, threads=2):
        counts["failed"] += not ok
    esio.refresh(es, DECISIONS_INDEX)
    esio.refresh(es, EVENTS_INDEX)
    return {**counts, "write_s": time.perf_counter() - started}


def decision_bytes(es) -> dict:
    """lrr-decisions on disk (after a flush): documents, bytes, bytes per decision."""
    es.indices.flush(index=DECISIONS_INDEX)
    stats = esio.plain(es.indices.stats(index=DECISIONS_INDEX, metric="docs,store"))["_all"]["primaries"]
    docs, size = stats["docs"]["count"], stats["store"]["size_in_bytes"]
    return {"docs": docs, "bytes": size, "per_decision": size / max(docs, 1)}


def start_child(phase: str, url: str, size: int, sizes: list[int]) -> subprocess.Popen:
    """Start ``phase`` (learn or train) for ``size`` in a fresh process."""
    return subprocess.Popen([sys.executable, "-m", "benchmarks.bench_logscale", "--child", phase, "--es-url", url,
                             "--sizes", ",".join(map(str, sizes)), "--size", str(size)],
                            stdout=subprocess.PIPE, text=True)


def child_report(process: subprocess.Popen) -> dict:
    """The JSON report of a child started by ``start_child``, once it ends."""
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"{' '.join(process.args)} failed with exit code {process.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def child(phase: str, url: str, size: int, sizes: list[int]) -> None:
    """One measured run of learn or train, in this process; prints a JSON line."""
    from lrr_es.learn import learn
    from lrr_es.learn.ranker import train
    es = esio.connect(url, timeout=300)
    config = bench_config(sizes)
    forget(es, alias_of(size), phase)
    before_kb = _rss_kb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    lines: list[str] = []
    if phase == "learn":
        report = learn(es, config, alias_of(size), settle_s=0.0, echo=lines.append)
        detail = {"decisions": report.decisions, "engaged": report.engaged}
    else:
        report = train(es, config, alias_of(size), echo=lines.append)
        detail = {"decisions": report.counts["decisions"], "rows": report.metrics["rows"],
                  "ndcg": round(report.metrics["ndcg@10"], 4), "rrf_ndcg": round(report.metrics["rrf_ndcg@10"], 4),
                  "fit_s": round(report.fit_s, 1)}
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"phase": phase, "size": size, "seconds": elapsed, "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
                      "peak_mb": usage.ru_maxrss / 1024, "base_mb": before_kb / 1024, **detail}))


def forget(es, alias: str, phase: str) -> None:
    """Start from nothing learned: the alias's published policy (learn) or stored rankers (train) deleted."""
    if phase == "learn":
        es.delete(index=MODELS_INDEX, id=model_id(alias), ignore=[404], refresh=True)
    elif esio.index_exists(es, MODELS_INDEX):
        delete_models(es, alias)


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="Comma-separated log sizes (decisions).")
    parser.add_argument("--port", type=int, default=9299, help="Port of the benchmark's own node.")
    parser.add_argument("--es-url", default=None, help="Use this cluster instead of starting a node.")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--heap-mb", type=int, default=2048)
    parser.add_argument("--templates", type=int, default=2000,
                        help="Searches per size built by the engine's record builders; the rest replay them.")
    parser.add_argument("--write-only", action="store_true",
                        help="Write the logs of --sizes (into --es-url, to be reused by a later run) and stop.")
    parser.add_argument("--together", action="store_true",
                        help="Run learn and train of a size at the same time (about half the wall time on 2 cores; "
                             "compare their CPU seconds then, not their wall times).")
    parser.add_argument("--child", choices=["learn", "train"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only and not args.es_url:
        parser.error("--write-only needs --es-url: the benchmark's own node is deleted when it stops")
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        child(args.child, args.es_url, args.size, sizes)
        return
    config = bench_config(sizes)
    with bench_node(args.es_url, args.port, heap_mb=args.heap_mb, timeout=300) as es:
        for _, step in setup_steps(es, config):
            step()
        url = args.es_url or f"http://127.0.0.1:{args.port}"
        start_ms = int(time.time() * 1000) - 2 * 86_400_000
        rows = []
        for size in sizes:
            held = esio.count(es, DECISIONS_INDEX, {"term": {"index": alias_of(size)}})
            if held == size:  # written by an earlier run against the same --es-url: reused
                written = {"decisions": held, "events": esio.count(es, EVENTS_INDEX, {"term": {"index": alias_of(size)}}),
                           "failed": 0, "write_s": 0.0}
            elif held:
                raise SystemExit(f"{alias_of(size)} holds {held} decisions, not {size}: delete them or use another node")
            else:
                written = write_log(es, config, size, args.seed + size, start_ms, args.templates)
            disk = decision_bytes(es)
            print(f"{size:,}: wrote {written['decisions']:,} decisions and {written['events']:,} events in "
                  f"{written['write_s']:.0f}s ({written['failed']} refused); lrr-decisions holds "
                  f"{disk['docs']:,} docs, {disk['bytes'] / 2**20:.0f} MiB, {disk['per_decision']:.0f} B per decision",
                  flush=True)
            if args.write_only:
                continue
            # --together: train runs beside learn (CPU seconds and memory stay per process, wall times share the cores)
            training = start_child("train", url, size, sizes) if args.together else None
            learned = child_report(start_child("learn", url, size, sizes))
            print(f"  learn: {json.dumps(learned)}", flush=True)
            trained = child_report(training or start_child("train", url, size, sizes))
            print(f"  train: {json.dumps(trained)}", flush=True)
            rows.append((size, written, disk, learned, trained))
        if rows:
            report(rows)


def report(rows: list) -> None:
    """The table for docs/benchmarks.md and the ratios against the smallest size."""
    print("\n| decisions | phase | wall s | CPU s (this process) | peak RSS MiB | of which the work | "
          "wall µs per decision | CPU µs per decision |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, _, _, learned, trained in rows:
        for r in (learned, trained):
            print(f"| {size:,} | {r['phase']} | {r['seconds']:.1f} | {r['cpu_s']:.1f} | {r['peak_mb']:.0f} "
                  f"| {r['peak_mb'] - r['base_mb']:.0f} | {1e6 * r['seconds'] / size:.0f} | {1e6 * r['cpu_s'] / size:.0f} |")
    base = rows[0]
    for size, _, _, learned, trained in rows[1:]:
        print(f"{size:,} vs {base[0]:,} ({size / base[0]:.0f}x the decisions): learn {learned['seconds'] / base[3]['seconds']:.1f}x "
              f"the wall time, {learned['cpu_s'] / base[3]['cpu_s']:.1f}x the CPU; train "
              f"{trained['seconds'] / base[4]['seconds']:.1f}x the wall time, {trained['cpu_s'] / base[4]['cpu_s']:.1f}x the CPU")
    disk = rows[-1][2]
    daily = 100 * 86_400
    print(f"lrr-decisions on disk: {disk['per_decision']:.0f} B per decision ({disk['docs']:,} decisions); at 100 "
          f"searches/s: {daily:,} decisions, {disk['per_decision'] * daily / 1e9:.1f} GB per day")


if __name__ == "__main__":
    main()

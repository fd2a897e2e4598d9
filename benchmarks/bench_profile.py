"""Where a learned search's time goes (issue 13, P1): the node's part and Python's part, measured apart.

Learns as ``bench_e2e`` does (MusicOSet, ``--learn-searches`` simulated searches with feedback,
``lrr-es learn``, ``lrr-es train``), then, over ``--queries`` queries drawn from the learned set:

1. **The node alone** (raw HTTP through ``http.client``: no client library, no JSON decoding timed):
   the app's own search (``multi_match``, ``size`` 10, ``_source`` on), the same without the stored
   fields fetch (ids only), and the very ``_msearch`` each learned search sent (recorded from the
   engine, replayed), with and without the request cache. Medians of the wall time and of the node's
   own ``took`` (summed over sub-searches).
2. **Python alone**: the learned searches through ``LrrClient`` again, their Elasticsearch answers
   replayed from that recording (decoded from JSON text, as the client does), timed as the search
   thread's CPU time with the garbage collector paused during each call (its pauses are part 3).
   Searches whose plan was not recorded (the Thompson policy samples a plan per search) are skipped
   and counted. Also the decision log thread's work per search (``decision_document`` and its JSON).
3. **Garbage collection**: a full collection in this process after the run, and how many objects
   it tracks (the bench's own catalog included, then without it): what a rare 2nd-generation
   collection during a search costs.

Run: .venv/bin/python -m benchmarks.bench_profile [--queries 100] [--learn-searches 400] [--port 9295]
Starts its own node unless --es-url is given. The figures are medians on whatever machine runs it;
the ratios within one run are what to compare.
"""
from __future__ import annotations

import argparse
import gc
import http.client
import json
import random
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lrr_es import LrrClient
from lrr_es import es as esio
from lrr_es.decisions import decision_document, log_input
from lrr_es.execute import FILTER_PATH
from lrr_es.rank.logged import logged_features
from lrr_es.simulate.queries import generate_queries

from .bench_client import DEFAULT_MUSICOSET, app_body, catalog_rows, prepare
from .bench_e2e import ALIAS, Recording, learn_and_publish
from .node import bench_node


class Recorder:
    """Stands in for ``esio.msearch`` and ``esio.mget_versioned``: records each answer as JSON text
    under its request, and in replay mode answers from the recording (a request not recorded goes to
    the node and counts as a miss)."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.msearches: list[list[dict]] = []
        self.replaying = False
        self.misses = 0
        self.real_msearch, self.real_mget = esio.msearch, esio.mget_versioned

    def msearch(self, es, lines, **kwargs):
        key = json.dumps(lines, sort_keys=True)
        if key not in self.answers or not self.replaying:
            self.misses += self.replaying
            self.answers[key] = json.dumps(self.real_msearch(es, lines, **kwargs))
            self.msearches.append(lines)
        return json.loads(self.answers[key])

    def mget(self, es, index, ids, **kwargs):
        key = json.dumps(["mget", index, sorted(ids)])
        if key not in self.answers or not self.replaying:
            self.misses += self.replaying
            self.answers[key] = json.dumps([[d, list(v[0]) if v[0] else None, v[1]] for d, v in
                                            self.real_mget(es, index, ids, **kwargs).items()])
        return {d: (tuple(seq) if seq else None, source) for d, seq, source in json.loads(self.answers[key])}


def raw_node(url: str):
    """A POST to the node over one kept-alive connection: (wall ms, parsed answer)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 9200)

    def post(path: str, data: str, content_type: str = "application/json") -> tuple[float, dict]:
        started = time.perf_counter()
        connection.request("POST", path, data.encode(), {"content-type": content_type})
        text = connection.getresponse().read()
        wall = (time.perf_counter() - started) * 1000
        return wall, json.loads(text)
    return post


def node_alone(post, queries, msearches: list[list[dict]], rounds: int) -> dict:
    """Part 1: medians of wall ms and summed took per request kind, interleaved per query."""
    kinds: dict[str, list[tuple[float, float]]] = {}

    def run(kind: str, path: str, data: str, ndjson: bool = False) -> None:
        wall, answer = post(path, data, "application/x-ndjson" if ndjson else "application/json")
        took = sum(r.get("took", 0) for r in answer.get("responses", [answer]))
        kinds.setdefault(kind, []).append((wall, took))

    def ndjson(lines: list[dict], cache: bool | None) -> str:
        heads = [dict(line, request_cache=cache) if cache is not None and i % 2 == 0 and "index" in line else line
                 for i, line in enumerate(lines)]
        return "".join(json.dumps(line) + "\n" for line in heads)
    for _ in range(rounds):
        for query, lines in zip(queries, msearches):
            body = app_body(query.text)
            run("app's search (size 10, _source)", f"/{ALIAS}/_search", json.dumps(body))
            run("app's search, ids only (no stored fields)", f"/{ALIAS}/_search",
                json.dumps(dict(body, stored_fields="_none_", docvalue_fields=["_id"])))
            run("learned _msearch, as sent (request cache)", f"/_msearch?filter_path={FILTER_PATH}", ndjson(lines, None), True)
            run("learned _msearch, no request cache", f"/_msearch?filter_path={FILTER_PATH}", ndjson(lines, False), True)
    return {kind: {"wall_ms": round(statistics.median(w for w, _ in v), 3),
                   "took_sum_ms": statistics.median(t for _, t in v)} for kind, v in kinds.items()}


def python_alone(client: LrrClient, engine: Recording, recorder: Recorder, queries, rounds: int) -> dict:
    """Part 2: the search thread's CPU ms per replayed search (GC paused per call), and the log thread's
    work per search (decision_document and its JSON)."""
    recorder.replaying = True
    cpu, record_ms, json_ms = [], [], []
    ranker = engine.config.ranker
    for _ in range(rounds):
        for query in queries:
            misses = recorder.misses
            gc.disable()
            started = time.thread_time()
            client.search(index=ALIAS, body=app_body(query.text))
            spent = (time.thread_time() - started) * 1000
            gc.enable()
            if recorder.misses != misses:
                continue
            cpu.append(spent)
            result, names = engine.last, tuple(engine.strategies(ALIAS))
            fields = engine.config.index(ALIAS).fields
            started = time.perf_counter()
            page, _ = log_input(result, names, ranker.log_depth)
            document = decision_document(page, 1, partial(logged_features, page, names, fields, ranker.log_depth,
                                                          ranker.candidates, 1e9))
            built = time.perf_counter()
            json.dumps(document)
            record_ms.append((built - started) * 1000)
            json_ms.append((time.perf_counter() - built) * 1000)
    recorder.replaying = False
    return {"search_thread_cpu_ms_p50": round(statistics.median(cpu), 3), "replayed": len(cpu),
            "skipped_unrecorded_plan": rounds * len(queries) - len(cpu),
            "log_record_ms_p50": round(statistics.median(record_ms), 3), "log_json_ms_p50": round(statistics.median(json_ms), 3)}


def collection() -> dict:
    """Part 3: the pause of a full collection now, and the objects it tracks."""
    started = time.perf_counter()
    gc.collect()
    return {"pause_ms": round((time.perf_counter() - started) * 1000, 1), "tracked_objects": len(gc.get_objects())}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url")
    parser.add_argument("--port", type=int, default=9295)
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--query-set", type=int, default=300)
    parser.add_argument("--learn-searches", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the queries in parts 1 and 2")
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    with bench_node(args.es_url, args.port, heap_mb=2048, timeout=300) as es:
        rows = catalog_rows(False, args.musicoset)
        config, docs = prepare(es, False, args.musicoset, ALIAS, rows, {"indices": {ALIAS: {}}, "feedback": {"ubi_index": None}})
        query_set = generate_queries(docs, args.query_set, seed=args.seed)
        report["learning"] = learn_and_publish(es, config, ALIAS, query_set, args.learn_searches, args.seed)
        rng = random.Random(args.seed + 1)
        queries = [query_set[rng.randrange(len(query_set))] for _ in range(args.queries)]
        recorder = Recorder()
        esio.msearch, esio.mget_versioned = recorder.msearch, recorder.mget
        try:
            engine = Recording(es, config, decisions=False)
            client = LrrClient(es, config, engine=engine)
            for query in queries:  # the learned searches, recorded
                client.search(index=ALIAS, body=app_body(query.text))
            url = args.es_url or f"http://127.0.0.1:{args.port}"
            report["node_alone"] = node_alone(raw_node(url), queries, recorder.msearches[-len(queries):], args.rounds)
            for query in queries:  # more plans of the same queries recorded before the replay
                client.search(index=ALIAS, body=app_body(query.text))
            report["python_alone"] = python_alone(client, engine, recorder, queries, args.rounds)
        finally:
            esio.msearch, esio.mget_versioned = recorder.real_msearch, recorder.real_mget
        report["gc_full_collection"] = collection()
        del rows, docs, query_set
        report["gc_full_collection_without_the_bench_catalog"] = collection()
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()

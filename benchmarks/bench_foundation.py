"""Foundation benchmarks: node start time, catalog bulk load, Q2E scripted updates.

Every figure is reported next to a baseline measured in the same run:
- node start: cold (empty data dir) and warm (restart on the same data), median of --starts;
- bulk load of the MusicOSet catalog through ``lrr-es load`` (parse, transform, seed, bulk)
  against ``elasticsearch.helpers.bulk`` of the very same final documents;
- Q2E scripted updates (stored Painless script via _bulk) against plain partial-document updates
  of the same documents, in the same number and batch size.

Run: .venv/bin/python -m benchmarks.bench_foundation [--musicoset DIR] [--updates N] [--starts N]
Starts its own node on --port (default 9290) unless --es-url is given for the load/update parts.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from elasticsearch import helpers

from lrr_es import es as esio
from lrr_es.catalog import read_musicoset
from lrr_es.config import config_from_dict
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.q2e import q2e_key, update_script
from lrr_es.catalog.document import index_document

from .node import local_node

DEFAULT_MUSICOSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "musicoset"
QUIET = lambda _: None  # noqa: E731


def bench_start(port: int, starts: int) -> dict:
    """Median seconds from launch to a healthy cluster: cold (new data dir) and warm (restart)."""
    cold, warm = [], []
    for _ in range(starts):
        with local_node(port, started=False) as node:
            cold.append(node.start())
            es = node.client()
            es.indices.create(index="warm-check", body={"settings": {"number_of_shards": 1}})
            warm.append(node.restart())
            esio.wait_for_health(node.client(), "yellow", 60, "warm-check")
    return {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm), "cold_all": cold, "warm_all": warm}


def bench_load(es, musicoset: Path) -> dict:
    """lrr-es load of MusicOSet against helpers.bulk of the same final documents, same settings."""
    config = config_from_dict({"indices": {"bench-load": {}, "bench-plain": {}, "bench-warmup": {}}})
    migrate(es, config, None, progress=False, echo=QUIET)
    ours = config.index("bench-load")
    feature = ours.fields.popularity
    docs = [(row.doc["id"], index_document(row.doc, ours, feature)) for row in read_musicoset(musicoset) if row.ok]
    warmup = [{"_index": "bench-warmup", "_id": doc_id, "_source": source} for doc_id, source in docs]
    helpers.bulk(es, warmup, chunk_size=1000)  # JIT and page cache warm for both contenders
    actions = [{"_index": "bench-plain", "_id": doc_id, "_source": source} for doc_id, source in docs]
    t = time.monotonic()
    ok, errors = helpers.bulk(es, actions, chunk_size=1000, raise_on_error=False)
    esio.refresh(es, "bench-plain")
    plain_s = time.monotonic() - t
    report = load_rows(es, ours, read_musicoset(musicoset), progress=False)
    assert ok == report.indexed and not errors, (ok, report.indexed, errors[:1])
    parse_t = time.monotonic()
    parsed = sum(1 for row in read_musicoset(musicoset) if row.ok)
    parse_s = time.monotonic() - parse_t
    return {"docs": report.indexed, "bad_rows": len(report.bad_rows), "lrr_s": report.seconds,
            "lrr_docs_per_s": report.docs_per_second, "plain_s": plain_s, "plain_docs_per_s": ok / plain_s,
            "ratio_time": report.seconds / plain_s, "parse_only_s": parse_s, "parsed": parsed}


def bench_updates(es, n_updates: int, batch: int = 500, seed: int = 7) -> dict:
    """Q2E scripted updates vs partial-document updates: same documents, count and batch size."""
    ids = [hit["_id"] for hit in esio.scan(es, "bench-load", {"term": {"entity_type": "song"}})]
    rng = random.Random(seed)
    targets = [rng.choice(ids) for _ in range(n_updates)]
    queries = [f"query {rng.randrange(2000)}" for _ in range(n_updates)]
    now = int(time.time() * 1000)
    scripted = [{"_op_type": "update", "_index": "bench-load", "_id": doc_id, "retry_on_conflict": 5,
                 "script": update_script(q2e_key(q), 1.0, now + i, decay_days=30, max_keys=64, max_increment=5,
                                         max_queries=20, event_id=f"e{i}", query=q)}
                for i, (doc_id, q) in enumerate(zip(targets, queries))]
    partial = [{"_op_type": "update", "_index": "bench-plain", "_id": doc_id, "retry_on_conflict": 5,
                "doc": {"q2e_ts": now + i}} for i, doc_id in enumerate(targets)]
    results = {}
    for name, actions in (("plain", partial), ("scripted", scripted)):
        t = time.monotonic()
        ok, errors = helpers.bulk(es, actions, chunk_size=batch, raise_on_error=False)
        results[name] = (time.monotonic() - t, ok, len(errors))
    (plain_s, plain_ok, _), (script_s, script_ok, script_err) = results["plain"], results["scripted"]
    return {"updates": n_updates, "batch": batch, "scripted_per_s": script_ok / script_s, "plain_per_s": plain_ok / plain_s,
            "scripted_errors": script_err, "ratio_throughput": (script_ok / script_s) / (plain_ok / plain_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--port", type=int, default=9290)
    parser.add_argument("--starts", type=int, default=3, help="start-time repetitions (median reported)")
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()

    figures = {"start": bench_start(args.port, args.starts)}
    print(f"node start, median of {args.starts}: cold {figures['start']['cold_s']:.1f}s, warm {figures['start']['warm_s']:.1f}s")
    with local_node(args.port) as node:
        es = node.client(timeout=120)
        figures["load"] = load = bench_load(es, args.musicoset)
        print(f"bulk load of MusicOSet ({load['docs']} docs, {load['bad_rows']} bad rows): lrr-es load "
              f"{load['lrr_docs_per_s']:,.0f} docs/s in {load['lrr_s']:.1f}s; helpers.bulk of the same documents "
              f"{load['plain_docs_per_s']:,.0f} docs/s in {load['plain_s']:.1f}s; time ratio {load['ratio_time']:.2f}x "
              f"(parsing alone {load['parse_only_s']:.1f}s)")
        figures["updates"] = upd = bench_updates(es, args.updates)
        print(f"Q2E scripted updates: {upd['scripted_per_s']:,.0f}/s; plain partial updates {upd['plain_per_s']:,.0f}/s; "
              f"throughput ratio {upd['ratio_throughput']:.2f}x ({upd['updates']} updates, _bulk batches of {upd['batch']}, "
              f"{upd['scripted_errors']} errors)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

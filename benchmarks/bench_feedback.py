"""Feedback benchmarks (issue 5): throughput, feedback-to-search latency, events lost across a restart.

- throughput: N events through FeedbackWriter (validation, lrr-events, Q2E scripted updates), with
  and without coalescing, against a plain ``_bulk`` index of the same event documents into an index
  with the lrr-events mapping, in the same run;
- latency: from ``feedback()`` to the Q2E update being visible to a ``rank_feature`` search (p50, p99);
- restart: a stream of --restart-events with the node stopped and restarted in the middle; events lost.

Run: .venv/bin/python -m benchmarks.bench_feedback [--events 50000] [--restart-events 100000]
Starts its own node on --port (default 9284) through benchmarks/node.py.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.feedback import FeedbackWriter
from lrr_es.feedback.events import event_source, make_event
from lrr_es.migrate import migrate
from lrr_es.q2e import q2e_key
from lrr_es.templates import system_template

from .node import LocalNode, local_node

QUIET = lambda _: None  # noqa: E731
INDEX, DOCS, QUERIES = "bench-fb", 2000, 300


def setup(es) -> None:
    config = config_from_dict({"indices": {INDEX: {}}})
    migrate(es, config, INDEX, progress=False, echo=QUIET)
    actions = ({"_op_type": "index", "_index": INDEX, "_id": f"d{i}", "_source": {"title": f"Song {i}", "artist": ["Band"]}}
               for i in range(DOCS))
    assert all(ok for ok, _ in esio.bulk(es, actions))
    esio.refresh(es, INDEX)


def stream(n: int, seed: int, run: str) -> list[dict]:
    """n feedback calls: skewed documents and queries, one session per 20 events, fixed timestamps."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    return [{"search_id": f"{run}-s{i // 5}", "doc_id": f"d{min(DOCS - 1, int(rng.paretovariate(1.2)) - 1)}",
             "action": rng.choice(("click", "click", "click", "play", "like")), "session_id": f"{run}-u{i // 20}",
             "query": f"query {min(QUERIES, int(rng.paretovariate(1.1)))}", "index": INDEX, "timestamp": now,
             "event_id": f"{run}-{i}"} for i in range(n)]


def writer_for(es, tmp: Path, **feedback) -> FeedbackWriter:
    config = config_from_dict({"indices": {INDEX: {}}, "feedback": {"queue_size": 200_000, "block_timeout_s": 300,
                                                                   **feedback}})
    return FeedbackWriter(es, config, spool_path=tmp / f"spool-{uuid.uuid4().hex[:6]}.jsonl")


def bench_throughput(es, tmp: Path, n: int) -> dict:
    out = {}
    for label, coalesce in (("coalesced", True), ("one update per event", False)):
        run = uuid.uuid4().hex[:8]
        events = stream(n, 7, run)
        writer = writer_for(es, tmp, coalesce=coalesce, batch_size=1000)
        t = time.perf_counter()
        for start_at in range(0, n, 1000):
            writer.feedback_many(events[start_at:start_at + 1000])
        assert writer.flush(600)
        seconds = time.perf_counter() - t
        stats = writer.close()
        out[label] = {"events_s": n / seconds, "seconds": seconds, "q2e_events": stats.q2e_events,
                      "q2e_updates": stats.q2e_updates, "written": stats.written, "capped": stats.capped}
    plain = "bench-fb-plain"
    esio.delete_index(es, plain)
    esio.create_index(es, plain, {"settings": system_template("lrr-events")["template"]["settings"],
                                  "mappings": system_template("lrr-events")["template"]["mappings"]})
    run = uuid.uuid4().hex[:8]
    events = stream(n, 7, run)
    t = time.perf_counter()
    docs = []
    for raw in events:  # the same validation and documents, so the baseline differs only in Q2E and batching
        event = make_event(raw.pop("search_id"), raw.pop("doc_id"), raw.pop("action"), **raw)
        docs.append({"_op_type": "create", "_index": plain, "_id": event.event_id,
                     "_source": event_source(event, q2e_key(event.query), (), True)})
    ok = sum(1 for good, _ in esio.bulk(es, docs, chunk_size=1000) if good)
    seconds = time.perf_counter() - t
    out["plain bulk"] = {"events_s": n / seconds, "seconds": seconds, "written": ok}
    return out


def bench_latency(es, tmp: Path, samples: int) -> dict:
    """Each probe is a fresh query on a document of its own (on a busy document a new key with a low
    score is evicted at once when the document already holds max_keys stronger keys)."""
    writer = writer_for(es, tmp, flush_ms=5, batch_size=100)
    for i in range(samples):
        esio.put_document(es, INDEX, f"lat{i}", {"title": f"Probe {i}"})
    esio.refresh(es, INDEX)
    latencies = []
    for i in range(samples):
        text = f"latency probe {uuid.uuid4().hex[:10]}"
        key = q2e_key(text)
        t = time.perf_counter()
        writer.feedback(None, f"lat{i}", "click", query=text, index=INDEX)
        body = {"size": 1, "_source": False, "query": {"rank_feature": {"field": f"q2e.{key}"}}}
        while not esio.search(es, INDEX, body)["hits"]["hits"]:
            if time.perf_counter() - t > 60:
                raise RuntimeError(f"probe {i} not visible after 60 s")
            time.sleep(0.005)
        latencies.append((time.perf_counter() - t) * 1000)
    writer.close()
    latencies.sort()
    return {"p50_ms": statistics.median(latencies), "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
            "samples": samples}


def bench_restart(node: LocalNode, es, tmp: Path, n: int) -> dict:
    run = uuid.uuid4().hex[:8]
    events = stream(n, 11, run)
    writer = writer_for(es, tmp, batch_size=1000)
    sent = [0]

    def produce() -> None:
        for start_at in range(0, n, 500):
            writer.feedback_many(events[start_at:start_at + 500])
            sent[0] = start_at + 500

    producer = threading.Thread(target=produce)
    t = time.perf_counter()
    producer.start()
    while sent[0] < n // 2:
        time.sleep(0.01)
    down_at, written_at_stop = sent[0], writer.stats.written
    node.restart(pause_s=2.0)
    producer.join()
    drained = writer.flush(900)
    stats = writer.close()
    seconds = time.perf_counter() - t
    esio.refresh(es, "lrr-events")
    stored = esio.count(es, "lrr-events", {"prefix": {"event_id": f"{run}-"}})
    return {"events": n, "stored": stored, "lost": n - stored, "stopped_after": down_at, "written_at_stop": written_at_stop,
            "drained": drained,
            "retries": stats.retries, "spooled": stats.spooled, "seconds": seconds}


def main() -> None:  # noqa: C901 - a linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9284)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--restart-events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, local_node(args.port) as node:
        tmp = Path(data)
        es = node.client(timeout=10)
        setup(es)
        writer_for(es, tmp).close()  # warm-up: templates, scripts, the first bulk
        tp = bench_throughput(es, tmp, args.events)
        base = tp["plain bulk"]["events_s"]
        for label, r in tp.items():
            extra = (f", {r['q2e_events']} Q2E increments in {r['q2e_updates']} scripted updates, {r['capped']} capped"
                     if "q2e_updates" in r else "")
            print(f"throughput {label}: {r['events_s']:,.0f} events/s ({args.events} in {r['seconds']:.1f}s{extra}); "
                  f"{r['events_s'] / base:.2f}x the plain bulk baseline")
        lat = bench_latency(es, tmp, args.latency_samples)
        print(f"feedback -> visible to search: p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms "
              f"({lat['samples']} samples; catalog refresh_interval bounds it)")
        rs = bench_restart(node, es, tmp, args.restart_events)
        print(f"restart mid-stream: {rs['events']} events, node stopped when {rs['stopped_after']} were "
              f"accepted and {rs['written_at_stop']} written, "
              f"{rs['stored']} stored, lost {rs['lost']}; {rs['retries']} retried requests, {rs['spooled']} spooled, "
              f"drained {rs['drained']}, {rs['seconds']:.1f}s in all")


if __name__ == "__main__":
    main()

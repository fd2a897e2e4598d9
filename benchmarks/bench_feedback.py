"""Feedback benchmarks (issues 5, 13, 15, 16): throughput, index health, spam, latency, restart.

- throughput: N events through FeedbackWriter (validation, lrr-events, Q2E scripted updates) as
  configured by default (one update per document per apply window, applied while the next batch is
  stored), with no window (and with --per-event one update per event), against a plain ``_bulk`` index
  of the same event documents into an index with the lrr-events mapping, in interleaved rounds;
- health: deleted documents and segments of the catalog under sustained feedback, sampled as it
  runs, for the default writer and merge settings against no window and Elasticsearch's own merge
  defaults (benchmarks/bench_spam.py has the spam figures);
- latency: from ``feedback()`` to the Q2E update being visible to a ``rank_feature`` search (p50, p99);
- restart: a stream of --restart-events with the node stopped and restarted in the middle; events lost.

Run: .venv/bin/python -m benchmarks.bench_feedback [--events 50000] [--restart-events 100000]
     [--parts throughput,health,latency,restart]
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
MERGE_DEFAULTS = {"index.merge.policy.deletes_pct_allowed": 33, "index.merge.policy.floor_segment": "2mb",
                  "index.merge.policy.segments_per_tier": 10}  # Elasticsearch 7.10's own
PARTS = ("throughput", "health", "latency", "restart")


def setup(es) -> None:
    config = config_from_dict({"indices": {INDEX: {}}})
    migrate(es, config, INDEX, progress=False, echo=QUIET)
    actions = ({"_op_type": "index", "_index": INDEX, "_id": f"d{i}", "_source": {"title": f"Song {i}", "artist": ["Band"]}}
               for i in range(DOCS))
    failed = [item for ok, item in esio.bulk(es, actions) if not ok]
    assert not failed, failed[:3]
    esio.refresh(es, INDEX)


def stream(n: int, seed: int, run: str) -> list[dict]:
    """n feedback calls: skewed documents and queries, one session per 20 events, fixed timestamps."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    return [{"search_id": f"{run}-s{i // 5}", "doc_id": f"d{min(DOCS - 1, int(rng.paretovariate(1.2)) - 1)}",
             "action": rng.choice(("click", "click", "click", "play", "like")), "session_id": f"{run}-u{i // 20}",
             "query": f"query {min(QUERIES, int(rng.paretovariate(1.1)))}", "index": INDEX, "timestamp": now,
             "event_id": f"{run}-{i}"} for i in range(n)]


def writer_for(es, tmp: Path, index: str = INDEX, **feedback) -> FeedbackWriter:
    config = config_from_dict({"indices": {index: {}}, "feedback": {"queue_size": 200_000, "block_timeout_s": 300,
                                                                   **feedback}})
    return FeedbackWriter(es, config, spool_path=tmp / f"spool-{uuid.uuid4().hex[:6]}.jsonl")


CONTENDERS = {  # label -> feedback settings
    "per document, 250 ms window (default)": {},
    "per document, 1 s window": {"apply_window_ms": 1000},
    "per document, no window": {"apply_window_ms": 0},
}
PER_EVENT = {"one update per event": {"coalesce": False, "apply_window_ms": 0}}  # --per-event: slow


def run_writer(es, tmp: Path, events: list[dict], **feedback) -> dict:
    """Feed ``events`` through a writer in calls of 1,000 and wait until every Q2E update is applied."""
    writer = writer_for(es, tmp, batch_size=1000, **feedback)
    t = time.perf_counter()
    for start_at in range(0, len(events), 1000):
        writer.feedback_many(events[start_at:start_at + 1000])
    assert writer.flush(900)
    seconds = time.perf_counter() - t
    stats = writer.close()
    return {"events_s": len(events) / seconds, "seconds": seconds, "q2e_events": stats.q2e_events,
            "q2e_updates": stats.q2e_updates, "written": stats.written, "capped": stats.capped,
            "peak_mb": stats.peak_bytes / 2 ** 20}


def plain_bulk(es, n: int) -> dict:
    """The baseline: the same validated event documents, created with a plain _bulk of 1,000."""
    plain = "bench-fb-plain"
    esio.delete_index(es, plain)
    template = system_template("lrr-events")["template"]
    esio.create_index(es, plain, {"settings": template["settings"], "mappings": template["mappings"]})
    events = stream(n, 7, uuid.uuid4().hex[:8])
    t = time.perf_counter()
    docs = []
    for raw in events:  # the same validation and documents, so the baseline differs only in Q2E and batching
        event = make_event(raw.pop("search_id"), raw.pop("doc_id"), raw.pop("action"), **raw)
        docs.append({"_op_type": "create", "_index": plain, "_id": event.event_id,
                     "_source": event_source(event, q2e_key(event.query), (), True)})
    ok = sum(1 for good, _ in esio.bulk(es, docs, chunk_size=1000) if good)
    seconds = time.perf_counter() - t
    return {"events_s": n / seconds, "seconds": seconds, "written": ok}


def bench_throughput(es, tmp: Path, n: int, rounds: int, per_event: bool) -> dict[str, list[dict]]:
    """Every contender ``rounds`` times, interleaved with the plain bulk, so that load hits them alike."""
    contenders = {**CONTENDERS, **(PER_EVENT if per_event else {})}
    out: dict[str, list[dict]] = {"plain bulk": [], **{label: [] for label in contenders}}
    for _ in range(rounds):
        out["plain bulk"].append(plain_bulk(es, n))
        for label, feedback in contenders.items():
            out[label].append(run_writer(es, tmp, stream(n, 7, uuid.uuid4().hex[:8]), **feedback))
    return out


HEALTH_SETUPS = {  # label -> (feedback settings, catalog settings put after migrate; None: lrr-es's own)
    "lrr-es defaults (expunge past 25% deleted, deletes_pct_allowed 20)": ({}, None),
    "no expunge, deletes_pct_allowed 20": ({"max_deleted_share": None}, None),
    "no expunge, Elasticsearch's merge defaults (as before)": ({"max_deleted_share": None}, MERGE_DEFAULTS),
}


def bench_health(es, tmp: Path, n: int, samples: int = 5) -> dict:
    """Deleted documents and segments of a fresh catalog while ``n`` events stream in (``samples`` points)."""
    out = {}
    for label, (feedback, merge) in HEALTH_SETUPS.items():
        alias = f"bench-health-{len(out)}"
        config = config_from_dict({"indices": {alias: {}}})
        migrate(es, config, alias, progress=False, echo=QUIET)
        if merge is not None:
            esio.put_settings(es, alias, merge)
        actions = ({"_op_type": "index", "_index": alias, "_id": f"d{i}",
                    "_source": {"title": f"Song {i}", "artist": ["Band"]}} for i in range(DOCS))
        assert all(ok for ok, _ in esio.bulk(es, actions))
        esio.refresh(es, alias)
        events = [dict(e, index=alias) for e in stream(n, 13, uuid.uuid4().hex[:8])]
        points, step = [], max(1, n // samples)
        writer = writer_for(es, tmp, alias, batch_size=1000, **feedback)
        for start_at in range(0, n, step):
            for chunk in range(start_at, min(n, start_at + step), 1000):
                writer.feedback_many(events[chunk:min(chunk + 1000, start_at + step)])
            assert writer.flush(900)
            points.append((min(n, start_at + step), esio.index_health(es, alias)))
        stats = writer.close()
        out[label] = (points, stats.expunges, stats.q2e_updates)
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
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds, each contender interleaved")
    parser.add_argument("--per-event", action="store_true", help="also the slow contender: one update per event")
    parser.add_argument("--health-events", type=int, default=50_000)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--restart-events", type=int, default=100_000)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown part(s) {', '.join(sorted(parts - set(PARTS)))}; known: {', '.join(PARTS)}")
    with tempfile.TemporaryDirectory() as data, local_node(args.port) as node:
        tmp = Path(data)
        es = node.client(timeout=60)  # a loaded shared machine: setup requests can take long
        setup(es)
        writer_for(es, tmp).close()  # warm-up: templates, scripts, the first bulk
        if "throughput" in parts:
            report_throughput(bench_throughput(es, tmp, args.events, args.rounds, args.per_event), args.events)
        if "health" in parts:
            for label, (points, expunges, updates) in bench_health(es, tmp, args.health_events).items():
                shown = ", ".join(f"{n:,}: {h['deleted']:,} deleted / {h['live']:,} live, {h['segments']} segments"
                                  for n, h in points)
                print(f"health {label}: after {shown} ({updates:,} scripted updates, {expunges} expunges)")
        if "latency" in parts:
            lat = bench_latency(es, tmp, args.latency_samples)
            print(f"feedback -> visible to search: p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms "
                  f"({lat['samples']} samples; the apply window and the catalog refresh_interval bound it)")
        if "restart" in parts:
            rs = bench_restart(node, es, tmp, args.restart_events)
            print(f"restart mid-stream: {rs['events']} events, node stopped when {rs['stopped_after']} were "
                  f"accepted and {rs['written_at_stop']} written, "
                  f"{rs['stored']} stored, lost {rs['lost']}; {rs['retries']} retried requests, {rs['spooled']} "
                  f"spooled, drained {rs['drained']}, {rs['seconds']:.1f}s in all")


def report_throughput(tp: dict[str, list[dict]], n: int) -> None:
    plain = tp["plain bulk"]
    for label, runs in tp.items():
        ratios = [r["events_s"] / base["events_s"] for r, base in zip(runs, plain)]
        last = runs[-1]
        extra = (f"; last round: {last['q2e_events']} Q2E increments in {last['q2e_updates']} scripted updates, "
                 f"{last['capped']} capped, peak {last['peak_mb']:.1f} MB held" if "q2e_updates" in last else "")
        rates = ", ".join(f"{r['events_s']:,.0f}" for r in runs)
        print(f"throughput {label}: {rates} events/s in {len(runs)} rounds "
              f"of {n}; {statistics.median(ratios):.2f}x the plain bulk of the same round at the median "
              f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}){extra}")


if __name__ == "__main__":
    main()

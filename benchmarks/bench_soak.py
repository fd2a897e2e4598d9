"""Soak: searches and feedback through the client wrapper for a long time at 80% of the maximum throughput.

The workload is an app's: worker threads send its search (one ``multi_match``, 10 hits) through
``LrrClient`` (served by the engine: cold-start plan, decision log on) and, after ``--feedback-share``
of the searches, a click on a hit of the page (``client.lrr.feedback``). First ``--probe-s`` seconds
unthrottled find the maximum throughput (operations/s: searches + feedback events); then
``--minutes`` at ``--load`` (0.8) of it, paced from one shared schedule. Every ``--sample-s`` the
process's resident memory (RSS, psutil), the feedback writer's pending events and the decision log's
held bytes are sampled. Errors are exceptions raised to the app, and searches the wrapper had to serve
with the app's own search because the engine failed ("engine failed"): a healthy soak has none of
either. At the end the feedback is flushed and the events stored in lrr-events are counted against
those accepted.

Run: .venv/bin/python -u -m benchmarks.bench_soak [--minutes 10] [--threads 4] [--sample]
Starts its own node on --port (default 9296) unless --es-url is given; MusicOSet from --musicoset.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from tqdm import tqdm

from lrr_es import LrrClient
from lrr_es import es as esio
from lrr_es.simulate.queries import generate_queries

from .bench_client import DEFAULT_MUSICOSET, app_body, percentile, prepare
from .node import bench_node

ALIAS = "bench-soak"


@dataclass
class Tally:
    """What the workers did (thread-safe through ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    searches: int = 0
    events: int = 0
    search_ms: list[float] = field(default_factory=list)
    feedback_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)

    @property
    def operations(self) -> int:
        return self.searches + self.events


class Workload:
    """Worker threads running the app's searches and clicks until ``stop``; paced when ``interval_s`` is set
    (one operation slot every ``interval_s`` seconds, shared by all threads)."""

    def __init__(self, client: LrrClient, texts: list[str], feedback_share: float, run: str, seed: int) -> None:
        self.client, self.texts, self.feedback_share, self.run = client, texts, feedback_share, run
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.stop = threading.Event()
        self.interval_s: float | None = None
        self._next_slot = time.monotonic()
        self._slot_lock = threading.Lock()
        self.tally = Tally()
        self._counter = 0

    def run_threads(self, threads: int) -> list[threading.Thread]:
        workers = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for worker in workers:
            worker.start()
        return workers

    def pace(self, operations_s: float | None) -> None:
        with self._slot_lock:
            self.interval_s = None if operations_s is None else 1.0 / operations_s
            self._next_slot = time.monotonic()

    def _wait_for_slot(self) -> None:
        with self._slot_lock:
            if self.interval_s is None:
                return
            slot = self._next_slot = max(self._next_slot + self.interval_s, time.monotonic() - 1.0)
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _draw(self) -> tuple[str, bool, int]:
        with self.rng_lock:
            self._counter += 1
            return self.rng.choice(self.texts), self.rng.random() < self.feedback_share, self._counter

    def _work(self) -> None:
        while not self.stop.is_set():
            self._wait_for_slot()
            text, click, n = self._draw()
            response = self._search(text)
            hits = (response or {}).get("hits", {}).get("hits", [])
            if click and hits and "lrr" in response:
                self._wait_for_slot()
                self._click(response["lrr"]["search_id"], hits, n)

    def _search(self, text: str) -> dict | None:
        started = time.perf_counter()
        try:
            response = self.client.search(index=ALIAS, body=app_body(text))
        except Exception as exc:  # noqa: BLE001 - counted: an error the app would have seen
            with self.tally.lock:
                self.tally.errors[f"search: {type(exc).__name__}"] += 1
            return None
        with self.tally.lock:
            self.tally.searches += 1
            self.tally.search_ms.append((time.perf_counter() - started) * 1000)
        return response

    def _click(self, search_id: str, hits: list[dict], n: int) -> None:
        position = 1 + (n % len(hits))
        started = time.perf_counter()
        try:
            event_id = self.client.lrr.feedback(search_id, hits[position - 1]["_id"], "click", position=position,
                                                session_id=f"{self.run}-u{n % 500}", event_id=f"{self.run}-{n}")
        except Exception as exc:  # noqa: BLE001 - counted
            with self.tally.lock:
                self.tally.errors[f"feedback: {type(exc).__name__}"] += 1
            return
        with self.tally.lock:
            self.tally.events += 1
            self.tally.feedback_ms.append((time.perf_counter() - started) * 1000)
            self.tally.accepted.append(event_id)


def sample(client: LrrClient, process: psutil.Process, started: float) -> dict:
    """One memory and queue sample."""
    writer = client.lrr.feedback_writer
    decisions = client.lrr.decisions
    return {"t_s": round(time.monotonic() - started, 1), "rss_mb": round(process.memory_info().rss / 2 ** 20, 1),
            "feedback_pending": writer.pending, "decisions_held_kb": round(decisions.stats.held_bytes / 1024, 1),
            "load1": round(os.getloadavg()[0], 1)}


def engine_failed(client: LrrClient) -> int:
    return client.passthrough.snapshot().get("engine failed", 0)


def probe(workload: Workload, seconds: float) -> float:
    """Unthrottled operations/s over ``seconds`` (after the workers are running)."""
    workload.pace(None)
    before, t0 = workload.tally.operations, time.monotonic()
    time.sleep(seconds)
    return (workload.tally.operations - before) / (time.monotonic() - t0)


def soak(workload: Workload, client: LrrClient, seconds: float, sample_s: float) -> tuple[list[dict], dict]:
    """Run at the workload's pace for ``seconds``, sampling; the samples and the tally's deltas."""
    process = psutil.Process()
    tally = workload.tally
    with tally.lock:
        base = {"searches": tally.searches, "events": tally.events, "search_ms": len(tally.search_ms),
                "feedback_ms": len(tally.feedback_ms), "errors": sum(tally.errors.values())}
    base_failed, started = engine_failed(client), time.monotonic()
    samples = [sample(client, process, started)]
    with tqdm(total=int(seconds), desc="soak", unit="s", mininterval=1.0) as bar:
        while (elapsed := time.monotonic() - started) < seconds:
            time.sleep(min(1.0, seconds - elapsed))
            bar.update(int(time.monotonic() - started) - bar.n)
            if time.monotonic() - started >= len(samples) * sample_s:
                samples.append(sample(client, process, started))
                bar.set_postfix(ops_s=f"{(tally.operations - base['searches'] - base['events']) / (time.monotonic() - started):.1f}",
                                rss_mb=samples[-1]["rss_mb"],
                                errors=sum(tally.errors.values()) - base["errors"] + engine_failed(client) - base_failed)
    elapsed = time.monotonic() - started
    with tally.lock:
        searches, events = tally.searches - base["searches"], tally.events - base["events"]
        search_ms, feedback_ms = tally.search_ms[base["search_ms"]:], tally.feedback_ms[base["feedback_ms"]:]
    samples.append(sample(client, process, started))
    return samples, {"seconds": elapsed, "searches": searches, "events": events,
                     "operations_s": (searches + events) / elapsed, "search_ms": search_ms, "feedback_ms": feedback_ms,
                     "engine_failed_total": engine_failed(client)}


def summary(max_ops: float, target: float, run: dict, samples: list[dict], tally: Tally, stored: int,
            accepted: int) -> dict:
    rss = [s["rss_mb"] for s in samples]
    t_min = np.array([s["t_s"] for s in samples]) / 60
    slope = float(np.polyfit(t_min, rss, 1)[0]) if len(samples) > 2 else 0.0
    return {
        "max_operations_s": round(max_ops, 1), "target_operations_s": round(target, 1),
        "soak_seconds": round(run["seconds"], 1), "operations_s": round(run["operations_s"], 1),
        "searches": run["searches"], "feedback_events": run["events"],
        "search_p50_ms": round(statistics.median(run["search_ms"]), 1) if run["search_ms"] else None,
        "search_p99_ms": round(percentile(run["search_ms"], 0.99), 1) if run["search_ms"] else None,
        "feedback_p50_ms": round(statistics.median(run["feedback_ms"]), 3) if run["feedback_ms"] else None,
        "feedback_p99_ms": round(percentile(run["feedback_ms"], 0.99), 3) if run["feedback_ms"] else None,
        "rss_mb": {"start": rss[0], "end": rss[-1], "max": max(rss), "slope_mb_per_min": round(slope, 3)},
        "max_feedback_pending": max(s["feedback_pending"] for s in samples),
        "max_decisions_held_kb": max(s["decisions_held_kb"] for s in samples),
        "errors": dict(tally.errors), "engine_failed": run["engine_failed_total"],
        "machine_load1": {"start": samples[0]["load1"], "end": samples[-1]["load1"],
                          "median": round(statistics.median(s["load1"] for s in samples), 1)},
        "feedback_accepted": accepted, "feedback_stored": stored, "feedback_lost": accepted - stored,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--es-url", help="an existing cluster (default: a node of its own on --port)")
    parser.add_argument("--port", type=int, default=9296, help="HTTP port of the node it starts")
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET, help="the MusicOSet directory")
    parser.add_argument("--sample", action="store_true", help="the built-in sample catalog instead of MusicOSet")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak")
    parser.add_argument("--probe-s", type=float, default=30.0, help="length of the unthrottled maximum-throughput probe")
    parser.add_argument("--load", type=float, default=0.8, help="share of the maximum throughput to soak at")
    parser.add_argument("--threads", type=int, default=4, help="worker threads sending searches and feedback")
    parser.add_argument("--feedback-share", type=float, default=0.5, help="share of searches followed by a click")
    parser.add_argument("--sample-s", type=float, default=15.0, help="seconds between memory samples")
    parser.add_argument("--queries", type=int, default=500, help="distinct generated queries the searches draw from")
    parser.add_argument("--seed", type=int, default=41, help="seed of the queries and of the workload's choices")
    parser.add_argument("--json", type=Path, help="also write the figures (with every sample) to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("lrr_es.client.proxy").setLevel(logging.INFO)  # the first fallback of each kind, with its reason
    logging.getLogger("elasticsearch").setLevel(logging.ERROR)  # not every expected 404 of the setup
    with bench_node(args.es_url, args.port, timeout=180) as es, tempfile.TemporaryDirectory() as tmp:
        config, docs = prepare(es, args.sample, args.musicoset, ALIAS, feedback={"spool_path": f"{tmp}/spool.jsonl"})
        texts = [q.text for q in generate_queries(docs, args.queries, seed=args.seed)]
        client = LrrClient(es, config)
        run_id = uuid.uuid4().hex[:8]
        workload = Workload(client, texts, args.feedback_share, run_id, args.seed)
        workers = workload.run_threads(args.threads)
        time.sleep(10)  # warm-up: caches, JIT, the node's request path
        max_ops = probe(workload, args.probe_s)
        target = args.load * max_ops
        print(f"maximum throughput: {max_ops:.1f} operations/s unthrottled ({args.threads} threads); "
              f"soaking at {target:.1f}/s for {args.minutes:g} min")
        workload.pace(target)
        time.sleep(5)  # the queue of the unthrottled phase drains
        samples, run = soak(workload, client, args.minutes * 60, args.sample_s)
        workload.stop.set()
        for worker in workers:
            worker.join(60)
        writer = client.lrr.feedback_writer
        drained = writer.flush(300)
        client.lrr.close()
        esio.refresh(es, "lrr-events")
        stored = esio.count(es, "lrr-events", {"prefix": {"event_id": run_id}})
        result = summary(max_ops, target, run, samples, workload.tally, stored, len(workload.tally.accepted))
        result["feedback_drained"] = drained
    report(args, result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


def report(args: argparse.Namespace, r: dict) -> None:
    rss = r["rss_mb"]
    print(f"soak: {r['soak_seconds']:.0f} s at {r['operations_s']:.1f} operations/s "
          f"({r['operations_s'] / r['max_operations_s']:.2f}x the unthrottled {r['max_operations_s']:.1f}/s): "
          f"{r['searches']} searches, {r['feedback_events']} feedback events")
    print(f"search latency p50 {r['search_p50_ms']} ms, p99 {r['search_p99_ms']} ms; "
          f"feedback call p50 {r['feedback_p50_ms']} ms, p99 {r['feedback_p99_ms']} ms")
    print(f"RSS: start {rss['start']} MB, end {rss['end']} MB, max {rss['max']} MB, "
          f"trend {rss['slope_mb_per_min']:+.3f} MB/min over {len(r['samples'])} samples")
    print(f"queues: feedback pending at most {r['max_feedback_pending']} events, decision log at most "
          f"{r['max_decisions_held_kb']} KB")
    print(f"errors over the whole run (probe and soak): {sum(r['errors'].values())} raised {r['errors'] or ''}, "
          f"{r['engine_failed']} searches served with the app's own search because the engine failed "
          f"(a sub-search failed or timed out; the first reason is logged above)")
    load = r["machine_load1"]
    print(f"machine load (1-min average, 2 cores): {load['start']} at the start, {load['median']} median, {load['end']} at the end")
    print(f"feedback: {r['feedback_accepted']} accepted over the whole run, {r['feedback_stored']} stored, "
          f"{r['feedback_lost']} lost (drained: {r['feedback_drained']})")


if __name__ == "__main__":
    main()

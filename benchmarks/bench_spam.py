"""Spam benchmark (issue 15 item 7): how far a spammer with N sessions moves a Q2E score and a rank.

A catalog of 20 documents learns one query ("love song") from organic traffic: 1,000 searches over 10
simulated days, each a session of its own clicking (and sometimes playing) results with a seeded
position-free click model (document i attracts 0.6 x 0.8^i, in a seeded order). Then a spammer
targets the document the memory ranks 10th with 10 plays per session (weight 3 each; the per-session
cap of 3 keeps one), all within one simulated hour, with 1, 10, 100 or 1,000 sessions, or 1,000 plays
without a session id (each under a search id of its own), and a patient spammer plays it from 1,000
new sessions every hour for 24 hours. Every
scenario starts from the same organic memory and runs twice in the same run: with the default pair
budget (``feedback.pair_cap``, enforced in the Painless update) and without it (``pair_cap: null``,
the per-session cap alone). The organic phase itself also runs both ways, to show what the budget
costs organic learning.

Time is the writers' clock (``FeedbackWriter(clock=...)``), simulated, so the hours are exact.

Run: .venv/bin/python -m benchmarks.bench_spam [--port 9285]
Starts its own node on --port through benchmarks/node.py.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import uuid
from pathlib import Path

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.feedback import FeedbackWriter
from lrr_es.migrate import migrate
from lrr_es.q2e import q2e_key

from .node import local_node

QUIET = lambda _: None  # noqa: E731
DOCS, QUERY, T0 = 20, "love song", 1_760_000_000_000
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
KEY = q2e_key(QUERY)
SCENARIOS = {  # label -> (sessions (0: none, 1,000 plays each under a search id of its own), hours, plays per session)
    "1 session": (1, 1, 10), "10 sessions": (10, 1, 10), "100 sessions": (100, 1, 10), "1,000 sessions": (1000, 1, 10),
    "1,000 plays, no session id": (0, 1, 1), "1,000 new sessions every hour for 24 hours": (1000, 24, 1)}


class Clock:
    """The writers' simulated clock, in epoch ms."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> float:
        return self.now_ms / 1000


def catalog(es, alias: str) -> None:
    migrate(es, config_from_dict({"indices": {alias: {}}}), alias, progress=False, echo=QUIET)
    for i in range(DOCS):
        esio.put_document(es, alias, f"d{i}", {"title": f"Love Song {i}"})
    esio.refresh(es, alias)


def writer(es, alias: str, tmp: Path, clock: Clock, pair_cap: float | None) -> FeedbackWriter:
    config = config_from_dict({"indices": {alias: {}}, "feedback": {
        "pair_cap": pair_cap, "queue_size": 100_000, "block_timeout_s": 120, "apply_window_ms": 50}})
    return FeedbackWriter(es, config, spool_path=tmp / f"spool-{uuid.uuid4().hex[:6]}.jsonl", clock=clock)


def organic(es, alias: str, tmp: Path, pair_cap: float | None, seed: int = 5) -> int:
    """1,000 organic searches over 10 days; the clock at the end."""
    rng = random.Random(seed)
    order = list(range(DOCS))
    rng.shuffle(order)
    attraction = {f"d{doc}": 0.6 * 0.8 ** i for i, doc in enumerate(order)}
    clock = Clock(T0)
    with writer(es, alias, tmp, clock, pair_cap) as w:
        for n in range(1000):
            clock.now_ms = T0 + n * (10 * DAY_MS // 1000)
            for doc, p in attraction.items():
                if rng.random() < p:
                    action = "play" if rng.random() < 0.3 else "click"
                    w.feedback(f"org-{n}", doc, action, session_id=f"org-{n}", query=QUERY, index=alias)
        assert w.flush(300)
    return clock.now_ms


def scores(es, alias: str) -> dict[str, float]:
    return {f"d{i}": (esio.get_source(es, alias, f"d{i}").get("q2e") or {}).get(KEY, 0.0) for i in range(DOCS)}


def rank_of(doc: str, by_doc: dict[str, float]) -> int:
    return 1 + sum(1 for other, s in by_doc.items() if s > by_doc[doc])


def spam(es, alias: str, tmp: Path, start_ms: int, target: str, sessions: int, hours: int, plays: int,
         pair_cap: float | None) -> None:
    clock = Clock(start_ms)
    with writer(es, alias, tmp, clock, pair_cap) as w:
        for hour in range(hours):
            for s in range(sessions or 1000):  # each session's plays in one call, at its moment of the hour
                clock.now_ms = start_ms + hour * HOUR_MS + s * (HOUR_MS // 2000)
                w.feedback_many({"search_id": f"spam-{hour}-{s}-{k}", "doc_id": target, "action": "play",
                                 "session_id": f"spam-{hour}-{s}" if sessions else None, "query": QUERY,
                                 "index": alias, "event_id": f"spam-{uuid.uuid4().hex}"} for k in range(plays))
            assert w.flush(300)


def restore(es, alias: str, snapshot: dict[str, dict]) -> None:
    for doc, source in snapshot.items():
        esio.put_document(es, alias, doc, source)
    esio.refresh(es, alias)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9285)
    args = parser.parse_args()
    default_cap = config_from_dict({}).feedback.pair_cap
    with tempfile.TemporaryDirectory() as data, local_node(args.port) as node:
        tmp, es = Path(data), node.client(timeout=30)
        learned = {}
        for label, cap in (("bounded", default_cap), ("unbounded", None)):
            alias = f"spam-{label}"
            catalog(es, alias)
            end = organic(es, alias, tmp, cap)
            esio.refresh(es, alias)
            learned[label] = (alias, end, scores(es, alias))
        org_b, org_u = learned["bounded"][2], learned["unbounded"][2]
        order_b = sorted(org_b, key=lambda d: -org_b[d])
        order_u = sorted(org_u, key=lambda d: -org_u[d])
        print(f"organic, 1,000 searches over 10 days: top score {max(org_b.values()):.1f} with the pair budget "
              f"({default_cap} per hour), {max(org_u.values()):.1f} without; same top-10 order: "
              f"{order_b[:10] == order_u[:10]}, same order of all {DOCS}: {order_b == order_u}")
        alias, end, organic_scores = learned["unbounded"]
        snapshot = {f"d{i}": esio.get_source(es, alias, f"d{i}") for i in range(DOCS)}
        target = sorted(organic_scores, key=lambda d: -organic_scores[d])[9]
        print(f"target {target}: organic score {organic_scores[target]:.2f}, rank {rank_of(target, organic_scores)} "
              f"of {DOCS}; organic max {max(organic_scores.values()):.2f}")
        print("| spammer | score, pair budget on | rank | score, per-session cap only | rank |")
        print("| --- | --- | --- | --- | --- |")
        for label, (sessions, hours, plays) in SCENARIOS.items():
            row = []
            for cap in (default_cap, None):
                restore(es, alias, snapshot)
                spam(es, alias, tmp, end + HOUR_MS, target, sessions, hours, plays, cap)
                esio.refresh(es, alias)
                after = scores(es, alias)
                row += [f"{after[target]:.1f}", str(rank_of(target, after))]
            print(f"| {label} | {' | '.join(row)} |")


if __name__ == "__main__":
    main()

"""A node stopped and restarted under a mixed load of searches and feedback (issue 15).

While the node is down, a search through the engine fails with an lrr-es error only, a search through
the client wrapper with the app's client's own error (the wrapper serves the app's own search, which
fails as it would without lrr-es), and feedback is accepted and queued. Once the node is back, searches
recover within a few requests and every accepted feedback event is stored once. While lrr-models
alone is unreachable (closed), the policy the engine last read keeps serving.

Starts its own node on port 9286 (transport 9386); nothing else in the suite uses it.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest
from elasticsearch.exceptions import TransportError

from lrr_es import es as esio
from lrr_es.bandit import make_policy
from lrr_es.bandit.store import save_policy
from lrr_es.client import LrrClient
from lrr_es.config import config_from_dict
from lrr_es.context import CONTEXT_DIM
from lrr_es.devcluster import ClusterSpec, start, stop
from lrr_es.engine import LrrEngine
from lrr_es.errors import LrrError
from lrr_es.migrate import migrate
from lrr_es.names import MODELS_INDEX

pytestmark = pytest.mark.integration
PORT = 9286
ALIAS = "outage"
DOCS = 30
REFRESH_S = 0.2  # models are re-read (version check) this often: every search of the outage hits lrr-models
RECOVERED_WITHIN = 40  # requests after the node is healthy again within which every kind is served again
QUIET = lambda _: None  # noqa: E731


@dataclass
class Outcome:
    """One request of the load: its kind, the phase it started in, and what it gave."""

    kind: str  # engine | wrapper | feedback
    phase: str  # before | outage | after
    at: float  # time.monotonic() when it ended
    error: BaseException | None = None


class Load:
    """A thread cycling engine search, wrapper search, feedback until stopped; records every outcome."""

    def __init__(self, engine: LrrEngine, client: LrrClient, run: str) -> None:
        self.engine, self.client, self.run = engine, client, run
        self.phase = "before"
        self.outcomes: list[Outcome] = []
        self.accepted: list[str] = []  # event ids feedback() returned
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> "Load":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(120)

    def count(self, phase: str, ok: bool | None = None) -> int:
        return sum(1 for o in list(self.outcomes) if o.phase == phase and (ok is None or (o.error is None) == ok))

    def _loop(self) -> None:
        i = 0
        while not self._stop.is_set():
            kind = ("engine", "wrapper", "feedback")[i % 3]
            phase = self.phase
            try:
                getattr(self, "_" + kind)(i)
                error = None
            except BaseException as exc:  # noqa: BLE001 - every outcome is recorded and judged by the test
                error = exc
            self.outcomes.append(Outcome(kind, phase, time.monotonic(), error))
            i += 1
            time.sleep(0.02)

    def _engine(self, i: int) -> None:
        self.engine.search(ALIAS, ("love song", "rock night", "band 3")[i % 3], size=5)

    def _wrapper(self, i: int) -> None:
        self.client.search(index=ALIAS, body={"query": {"match": {"title": "love"}}, "size": 5})

    def _feedback(self, i: int) -> None:
        event_id = self.engine.feedback(f"{self.run}-s{i}", f"d{i % DOCS}", "click", session_id=f"{self.run}-u{i}",
                                        query="love song", index=ALIAS, event_id=f"{self.run}-{i}")
        self.accepted.append(event_id)


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the load made no progress"
        time.sleep(0.05)


def raw(outcomes: list[Outcome]) -> list[str]:
    """Failures that are neither an lrr-es error (engine, feedback) nor the app client's own (wrapper)."""
    allowed = {"engine": LrrError, "feedback": LrrError, "wrapper": TransportError}
    return [f"{o.kind} in {o.phase}: {type(o.error).__name__}: {o.error}"[:300] for o in outcomes
            if o.error is not None and not isinstance(o.error, allowed[o.kind])]


@pytest.fixture
def node(tmp_path):
    spec = ClusterSpec(data_dir=tmp_path / "node", port=PORT)
    start(spec, echo=QUIET)
    try:
        yield spec
    finally:
        stop(spec)


def test_a_node_outage_costs_only_lrr_errors_recovers_and_loses_no_feedback(node, tmp_path):
    es = esio.connect(node.url)
    config = config_from_dict({"indices": {ALIAS: {}}, "feedback": {
        "flush_ms": 50, "block_timeout_s": 120, "spool_path": str(tmp_path / "spool.jsonl")}})
    migrate(es, config, ALIAS, progress=False, echo=QUIET)
    for d in range(DOCS):
        esio.put_document(es, ALIAS, f"d{d}", {"title": f"Love Song {d}" if d % 2 else f"Rock Night {d}",
                                               "artist": [f"Band {d % 5}"]})
    esio.refresh(es, ALIAS)
    policy = make_policy("thompson", dim=CONTEXT_DIM, seed=7)
    save_policy(es, ALIAS, policy)
    engine = LrrEngine(es, config, refresh_s=REFRESH_S)
    client = LrrClient(es, config, engine=engine)
    served = engine.search(ALIAS, "love song", size=5)
    assert served.hits and served.versions["policy"] == policy.version

    # --- lrr-models alone unreachable: the policy read last keeps serving, searches are unaffected ---
    es.indices.close(index=MODELS_INDEX)
    try:
        time.sleep(2 * REFRESH_S)  # past the refresh interval: the next searches try to re-read it
        stale = [engine.search(ALIAS, "love song", size=5) for _ in range(5)]
        wrapped = client.search(index=ALIAS, body={"query": {"match": {"title": "love"}}, "size": 5})
    finally:
        es.indices.open(index=MODELS_INDEX)
        esio.wait_for_health(es, "yellow", 60, MODELS_INDEX)
    assert all(r.hits and r.versions["policy"] == policy.version for r in stale)
    assert wrapped["lrr"]["policy"] == policy.version and client.passthrough.snapshot() == {}

    # --- the node stopped and restarted under load ---
    load = Load(engine, client, uuid.uuid4().hex[:8]).start()
    try:
        wait_for(lambda: load.count("before") >= 30)
        load.phase = "outage"
        down_at = time.monotonic()
        stop(node)
        with pytest.raises(LrrError):  # an engine whose first search meets the dead node: nothing read before
            LrrEngine(es, config, decisions=False).search(ALIAS, "love song", size=5)
        wait_for(lambda: load.count("outage") >= 60)  # a few seconds of requests against a dead node
        start(node, echo=QUIET)
        load.phase = "after"
        back_at = time.monotonic()
        wait_for(lambda: load.count("after") >= RECOVERED_WITHIN + 60)
    finally:
        load.stop()
    outcomes = list(load.outcomes)
    assert raw(outcomes) == []
    before = [o for o in outcomes if o.phase == "before"]
    assert {o.kind for o in before if o.error is None} == {"engine", "wrapper", "feedback"}
    outage = [o for o in outcomes if o.phase == "outage"]
    assert {o.kind for o in outage if o.error is not None} >= {"engine", "wrapper"}  # the outage was seen
    assert all(o.error is None for o in outage if o.kind == "feedback")  # feedback is accepted meanwhile
    after = [o for o in outcomes if o.phase == "after"]
    first_served = {kind: next(n for n, o in enumerate(after) if o.kind == kind and o.error is None)
                    for kind in ("engine", "wrapper")}  # (StopIteration: never served again)
    assert max(first_served.values()) < RECOVERED_WITHIN, f"served again only at request {first_served}"
    failed = Counter(f"{o.kind}: {type(o.error).__name__}" for o in outage if o.error is not None)
    print(f"\noutage: {back_at - down_at:.1f} s from the stop to the node healthy again, "
          f"{len(outage)} requests meanwhile ({dict(failed)} failed); after it was healthy again "
          f"{sum(o.error is not None for o in after)} of {len(after)} requests failed; first served search "
          + ", ".join(f"{after[n].at - back_at:.2f} s ({kind}, request #{n})" for kind, n in first_served.items())
          + " after it was healthy")

    # --- 0 accepted events lost, none stored twice ---
    assert engine.feedback_writer.flush(120), f"{engine.feedback_writer.pending} events still pending"
    engine.close()
    esio.refresh(es, "lrr-events")
    stored = [h["_source"]["event_id"] for h in esio.scan(es, "lrr-events", {"prefix": {"event_id": load.run}})]
    print(f"feedback: {len(load.accepted)} accepted, {len(stored)} stored, "
          f"{len(set(load.accepted) - set(stored))} lost")
    assert sorted(stored) == sorted(load.accepted) and len(set(stored)) == len(stored) > 0

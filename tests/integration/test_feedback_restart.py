"""A node stopped and restarted in the middle of a stream of feedback: no event lost, none counted twice.

Starts its own node on port 9283 (tests that start extra nodes use 9283-9289)."""
import threading
import time
import uuid

import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.devcluster import ClusterSpec, start, stop
from lrr_es.feedback import FeedbackWriter
from lrr_es.migrate import migrate

pytestmark = pytest.mark.integration
EVENTS, DOCS = 3000, 10
T0 = int(time.time() * 1000) - 60_000


def test_a_node_restart_mid_stream_loses_no_event(tmp_path):
    spec = ClusterSpec(data_dir=tmp_path / "node", port=9283)
    start(spec, echo=lambda _: None)
    try:
        es = esio.connect(spec.url, timeout=10)
        # pair_cap off: 300 clicks per document within a minute is what the spam bound exists to stop, and
        # this test counts that each one is applied exactly once
        config = config_from_dict({"indices": {"restart": {}}, "feedback": {"flush_ms": 20, "batch_size": 200,
                                                                          "block_timeout_s": 120, "pair_cap": None}})
        migrate(es, config, "restart", progress=False, echo=lambda _: None)
        for d in range(DOCS):
            esio.put_document(es, "restart", f"d{d}", {"title": f"Song {d}"})
        writer = FeedbackWriter(es, config, spool_path=tmp_path / "spool.jsonl")
        run = uuid.uuid4().hex[:8]
        sent = []

        def produce() -> None:
            for i in range(EVENTS):
                sent.append(writer.feedback(f"{run}-s{i}", f"d{i % DOCS}", "click", session_id=f"u{i}", query="restart me",
                                            index="restart", timestamp=T0, event_id=f"{run}-{i}"))
                time.sleep(0.001 if i < EVENTS // 3 else 0)

        producer = threading.Thread(target=produce)
        producer.start()
        while len(sent) < EVENTS // 3:
            time.sleep(0.01)
        stop(spec)  # mid-stream: events keep arriving while the node is down
        time.sleep(1.0)
        start(spec, echo=lambda _: None)
        producer.join(120)
        assert writer.flush(120), f"{writer.pending} events still pending"
        stats = writer.close()
        assert stats.retries > 0  # the outage was seen
        assert stats.spooled == 0 and stats.rejected == 0 and stats.missing_docs == 0
        esio.refresh(es, "lrr-events")
        assert esio.count(es, "lrr-events", {"prefix": {"event_id": run}}) == EVENTS == len(set(sent))
        scores = [esio.get_source(es, "restart", f"d{d}")["q2e"]["me_restart"] for d in range(DOCS)]
        assert scores == pytest.approx([EVENTS / DOCS] * DOCS)  # every click applied exactly once
    finally:
        stop(spec)

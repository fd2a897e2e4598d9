"""Eight threads searching and sending feedback through one engine (issue 15): no raw exception, one
feedback writer, every accepted event stored exactly once and its Q2E increment applied exactly once,
also when several threads send the same event at the same moment."""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.migrate import migrate
from lrr_es.q2e import q2e_key

pytestmark = pytest.mark.integration
THREADS, ROUNDS, DOCS, SHARED = 8, 25, 12, 10
TEXTS = ("love song", "rock night", "band 2", "love", "night 7")


@pytest.fixture
def catalog(es, alias, make_config):
    migrate(es, make_config(alias), alias, progress=False, echo=lambda _: None)
    for d in range(DOCS):
        esio.put_document(es, alias, f"d{d}", {"title": f"Love Song {d}" if d % 2 else f"Rock Night {d}",
                                               "artist": [f"Band {d % 3}"]})
    esio.refresh(es, alias)
    return alias


def test_eight_threads_of_searches_and_feedback_lose_nothing_and_count_nothing_twice(es, catalog, tmp_path):
    alias = catalog
    engine = LrrEngine(es, config_from_dict({"indices": {alias: {}}, "feedback": {
        "spool_path": str(tmp_path / "spool.jsonl"), "flush_ms": 20}}))
    run = uuid.uuid4().hex[:8]
    query = f"conc {run}"  # a query of its own: its Q2E key is touched by this test only
    start = threading.Barrier(THREADS)
    writers, errors, searches = [], [], Counter()
    sent: dict[str, str] = {}  # event id -> document, every event some thread sent and feedback() accepted
    lock = threading.Lock()

    def work(n: int) -> None:
        start.wait()
        writers.append(id(engine.feedback_writer))  # all threads race the writer's creation
        for r in range(ROUNDS):
            try:
                result = engine.search(alias, TEXTS[(n + r) % len(TEXTS)], size=5)
                with lock:
                    searches[bool(result.hits)] += 1
                doc = f"d{(n * ROUNDS + r) % DOCS}"
                own = engine.feedback(result.search_id, doc, "click", session_id=f"{run}-u{n}-{r}", query=query,
                                      index=alias, event_id=f"{run}-{n}-{r}")
                # every thread also sends the same shared events: each must be stored and counted once
                shared = engine.feedback(None, f"d{r % SHARED}", "click", session_id=f"{run}-shared-{r}", query=query,
                                         index=alias, event_id=f"{run}-shared-{r}") if r < SHARED else None
            except Exception as exc:  # noqa: BLE001 - the test fails on any, with its text
                errors.append(f"thread {n} round {r}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                sent[own] = doc
                if shared is not None:
                    sent[shared] = f"d{r % SHARED}"

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert len(set(writers)) == 1 and len(writers) == THREADS
    assert searches == {True: THREADS * ROUNDS}
    assert len(sent) == THREADS * ROUNDS + SHARED
    writer = engine.feedback_writer
    assert writer.flush(120), f"{writer.pending} events still pending"
    stats = writer.close()
    engine.close()
    assert stats.rejected == 0 and stats.spooled == 0
    esio.refresh(es, "lrr-events")
    stored = Counter(h["_source"]["event_id"] for h in esio.scan(es, "lrr-events", {"prefix": {"event_id": run}}))
    assert set(stored) == set(sent) and set(stored.values()) == {1}
    esio.refresh(es, alias)
    key = q2e_key(query)
    scores = {f"d{d}": (esio.get_source(es, alias, f"d{d}").get("q2e") or {}).get(key, 0.0) for d in range(DOCS)}
    clicks = Counter(sent.values())  # each event is a click (weight 1) of its own session: no cap applies
    assert scores == pytest.approx({f"d{d}": float(clicks[f"d{d}"]) for d in range(DOCS)}, rel=1e-3)

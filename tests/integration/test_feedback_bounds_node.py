"""Feedback bounds on a real node: the spam bound that does not trust the caller (issue 15 item 7), the
writer's memory bounded in bytes, the spool replayed a piece at a time and the dead-letter file bounded
(issue 15 item 8), one scripted update per document per window (issues 13 and 16)."""
import time
import uuid

import pytest
from elasticsearch import Elasticsearch

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.errors import FeedbackBacklogError
from lrr_es.feedback import FeedbackWriter
from lrr_es.feedback import apply as apply_module
from lrr_es.feedback.events import make_event
from lrr_es.feedback.spool import write_spool
from lrr_es.migrate import migrate

pytestmark = pytest.mark.integration
T0 = 1_760_000_000_000
HOUR_MS = 3_600_000
DEAD_URL = "http://127.0.0.1:9"  # nothing listens there: Elasticsearch is down


class Clock:
    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> float:
        return self.now_ms / 1000


@pytest.fixture
def small(es, alias, make_config):
    migrate(es, make_config(alias), alias, progress=False, echo=lambda _: None)
    for i in range(5):
        esio.put_document(es, alias, f"d{i}", {"title": f"Song {i}"})
    esio.refresh(es, alias)
    return alias


@pytest.fixture
def writer_of(es, tmp_path):
    made = []

    def make(alias, client=None, clock=None, spool="spool.jsonl", **feedback):
        config = config_from_dict({"indices": {alias: {}}, "feedback": {"flush_ms": 20, "apply_window_ms": 50,
                                                                      "queue_size": 50_000, **feedback}})
        es_client = es if client is None else Elasticsearch([client], timeout=1, max_retries=0)
        options = {} if clock is None else {"clock": clock}
        writer = FeedbackWriter(es_client, config, spool_path=tmp_path / spool, **options)
        made.append(writer)
        return writer
    yield make
    for writer in made:
        writer.close(timeout=1)


def score(es, index, doc_id, key):
    return (esio.get_source(es, index, doc_id).get("q2e") or {}).get(key, 0.0)


def clicks(alias, doc, sessions, tag, per_session=3, session_ids=True):
    return [{"search_id": f"{tag}-{s}-{k}", "doc_id": doc, "action": "click", "query": "spam me", "index": alias,
             "session_id": f"{tag}-{s}" if session_ids else None, "event_id": f"{tag}-{s}-{k}"}
            for s in range(sessions) for k in range(per_session)]


# --- issue 15 item 7: spam ------------------------------------------------------------------------------

def test_a_thousand_sessions_move_a_score_by_the_pair_budget_per_hour_and_honest_clicks_count_in_full(es, small,
                                                                                                        writer_of):
    clock = Clock(T0)
    writer = writer_of(small, clock=clock, pair_cap=20, pair_window_s=3600, cap_per_session=3)
    writer.feedback_many(clicks(small, "d2", 1000, "spam"))  # 3,000 clicks, each session within its own cap
    writer.feedback_many(clicks(small, "d3", 1000, "anon", per_session=1, session_ids=False))
    writer.feedback_many(clicks(small, "d4", 5, "honest", per_session=1))
    assert writer.flush(120)
    assert score(es, small, "d2", "me_spam") == pytest.approx(20.0)  # 3,000 without the budget
    assert score(es, small, "d3", "me_spam") == pytest.approx(20.0)  # no session id: 1,000 without it
    assert score(es, small, "d4", "me_spam") == pytest.approx(5.0)  # organic clicks are not touched
    assert writer.stats.q2e_events == 3000 + 1000 + 5 and writer.stats.capped == 0
    clock.now_ms = T0 + HOUR_MS  # the next hour: the spammer gets one more budget, no more
    writer.feedback_many(clicks(small, "d2", 1000, "spam2"))
    assert writer.flush(120)
    decayed = 20.0 * 0.5 ** (1 / (30 * 24))  # the first hour's 20, one hour older at the default 30-day half-life
    assert score(es, small, "d2", "me_spam") == pytest.approx(decayed + 20.0)


def test_the_pair_budget_holds_across_writer_processes(es, small, writer_of):
    clock = Clock(T0)
    first = writer_of(small, clock=clock, pair_cap=10, spool="one.jsonl")
    second = writer_of(small, clock=clock, pair_cap=10, spool="two.jsonl")
    first.feedback_many(clicks(small, "d1", 50, "p1", per_session=1))
    second.feedback_many(clicks(small, "d1", 50, "p2", per_session=1))
    assert first.flush(60) and second.flush(60)
    assert score(es, small, "d1", "me_spam") == pytest.approx(10.0)  # 100 with a per-process bound


# --- issues 13 and 16: one update per document per window ----------------------------------------------

def test_a_window_of_events_on_one_document_is_one_scripted_update_applying_every_key(es, small, writer_of):
    writer = writer_of(small, apply_window_ms=60_000, batch_size=10, pair_cap=None)  # the window outlasts the batches
    events = [{"search_id": f"w{i}", "doc_id": "d0", "action": "click", "session_id": f"w{i}",
               "query": f"key {i % 3}", "index": small} for i in range(40)]
    writer.feedback_many(events)
    while writer.stats.written < 40:  # every batch stored: their increments all wait in the window
        time.sleep(0.02)
    assert writer.flush(60)  # flush does not wait for the window
    assert writer.stats.q2e_updates == 1 and writer.stats.q2e_events == 40 and writer.stats.written == 40
    memory = esio.get_source(es, small, "d0")["q2e"]
    assert memory == {"0_key": pytest.approx(14.0), "1_key": pytest.approx(13.0), "2_key": pytest.approx(13.0)}


# --- issue 15 item 8: bounded in bytes ----------------------------------------------------------------

def test_the_writer_holds_at_most_queue_max_bytes_then_blocks_and_refuses_and_spools_what_it_accepted(small,
                                                                                                      writer_of):
    writer = writer_of(small, client=DEAD_URL, queue_max_bytes=65_536, block_timeout_s=0.2)
    accepted = 0
    with pytest.raises(FeedbackBacklogError, match="queue_max_bytes 65,536"):
        for i in range(10_000):
            writer.feedback(None, "d1", "click", query="held", index=small, event_id=f"held-{i}")
            accepted += 1
    assert 50 < accepted < 110 and writer.stats.peak_bytes <= 65_536  # about 650 bytes an event
    assert writer.close(timeout=0.5).spooled == accepted  # nothing accepted is lost


def test_a_large_spool_is_replayed_a_piece_at_a_time_and_its_unread_rest_kept(es, small, writer_of, tmp_path):
    tag = uuid.uuid4().hex[:8]
    events = [(make_event(None, f"d{i % 5}", "click", query="replayed", index=small, session_id=f"s{i}",
                          event_id=f"{tag}-{i}"), False)
              for i in range(2000)]
    write_spool(tmp_path / "spool.jsonl", events)
    down = writer_of(small, client=DEAD_URL, queue_max_bytes=65_536, spool="spool.jsonl")
    assert down.stats.peak_bytes <= 65_536
    assert down.close(timeout=0.3).spooled == 2000  # what it could not write plus the lines it never read
    writer = writer_of(small, queue_max_bytes=65_536, spool="spool.jsonl", pair_cap=None)
    assert writer.flush(120) and writer.stats.replayed == 2000
    assert writer.stats.peak_bytes <= 65_536 + 1000 and writer.stats.written == 2000
    esio.refresh(es, "lrr-events")
    assert esio.count(es, "lrr-events", {"prefix": {"event_id": tag}}) == 2000
    assert not (tmp_path / "spool.jsonl").exists()
    assert sum(score(es, small, f"d{i}", "replayed") for i in range(5)) == pytest.approx(2000)


def test_the_dead_letter_file_stops_at_its_bound_and_counts_what_it_did_not_keep(small, writer_of, tmp_path):
    gone = [(make_event(None, "d1", "click", query="gone", index="gone-index", event_id=f"gone-{i}"), True)
            for i in range(50)]
    write_spool(tmp_path / "spool.jsonl", gone)
    writer = writer_of(small, rejected_max_bytes=2000)
    assert writer.flush(30)
    kept = (tmp_path / "spool.jsonl.rejected").read_text().splitlines()
    assert writer.stats.rejected == 50 and writer.stats.not_kept == 50 - len(kept) and 0 < len(kept) < 10
    assert (tmp_path / "spool.jsonl.rejected").stat().st_size <= 2000


# --- issue 16 item 5: the deleted copies the updates leave behind are expunged -------------------------

def test_past_max_deleted_share_the_writer_has_the_deleted_copies_expunged(es, small, writer_of, monkeypatch):
    monkeypatch.setattr(apply_module, "HEALTH_CHECK_UPDATES", 5)  # look after every 5 updates, not 500
    writer = writer_of(small, max_deleted_share=0.3, pair_cap=None)
    for round_ in range(40):  # 40 flushed rounds: each document updated once per round, its old copy deleted
        writer.feedback_many({"search_id": f"h{round_}-{d}", "doc_id": f"d{d}", "action": "click",
                              "session_id": f"h{round_}-{d}", "query": "healthy", "index": small} for d in range(5))
        assert writer.flush(60)
    assert writer.stats.q2e_updates == 200 and writer.stats.expunges >= 1  # each one a force merge the node took
    # how many deleted copies an expunge reclaims depends on the shard's soft-delete retention lease (copies
    # deleted since it was last renewed stay): bench_feedback --parts health measures it; here, nothing is lost
    health = esio.index_health(es, small)
    assert health["live"] == 5 and all(score(es, small, f"d{d}", "healthy") == pytest.approx(40.0, rel=1e-3) for d in range(5))

"""Feedback on a real node: events in lrr-events, Q2E updates, duplicates, the cap, hostile text,
decay and eviction, the memory strategy, the spool and backpressure."""
import time
import unicodedata
import uuid

import pytest
from elasticsearch import Elasticsearch

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.errors import FeedbackBacklogError, FeedbackError, QueryError
from lrr_es.decide import PlanItem
from lrr_es.feedback import FeedbackWriter
from lrr_es.migrate import migrate
from lrr_es.q2e import DAY_MS, q2e_key
from lrr_es.parse import parse_query
from lrr_es.strategies import get_strategy

pytestmark = pytest.mark.integration
T0 = int(time.time() * 1000) - 10 * DAY_MS


@pytest.fixture
def small(es, alias, make_config):
    migrate(es, make_config(alias), alias, progress=False, echo=lambda _: None)
    for i in range(5):
        esio.put_document(es, alias, f"d{i}", {"title": f"Song {i}", "artist": ["Band"]})
    esio.refresh(es, alias)
    return alias


@pytest.fixture
def writers(es, tmp_path):
    made = []

    def make(alias, url=None, **feedback):
        config = config_from_dict({"indices": {alias: {}}, "feedback": {"flush_ms": 20, **feedback}})
        client = es if url is None else Elasticsearch([url], timeout=2, max_retries=0)
        writer = FeedbackWriter(client, config, spool_path=tmp_path / "spool.jsonl")
        made.append(writer)
        return writer
    yield make
    for writer in made:
        writer.close(timeout=1)


def q2e(es, index, doc_id):
    return (esio.get_source(es, index, doc_id) or {}).get("q2e", {})


def stored_events(es, **terms):
    esio.refresh(es, "lrr-events")
    query = {"bool": {"filter": [{"term": {k: v}} for k, v in terms.items()]}}
    return [h["_source"] for h in esio.scan(es, "lrr-events", query)]


def test_plays_raise_a_low_ranked_document_to_first_place_in_memory(es, music_index):
    engine = LrrEngine(es, config_from_dict({"indices": {music_index: {}}, "feedback": {"flush_ms": 20}}))
    text = "sunshine heart"  # a query no other test writes to
    result = engine.search(music_index, text, size=50, plan=[PlanItem("lexical", 50)])
    low = result.hits[-1]["_id"]
    for session in ("u1", "u2"):
        engine.feedback(result.search_id, low, "play", position=50, session_id=session)
    assert engine.feedback_writer.flush(30)
    engine.close()
    esio.refresh(es, music_index)
    assert q2e(es, music_index, low)[q2e_key(text)] == pytest.approx(6.0)
    body = get_strategy("memory").build(parse_query(text), 10)
    assert esio.search(es, music_index, body)["hits"]["hits"][0]["_id"] == low
    assert esio.search(es, music_index, get_strategy("lexical").build(parse_query(text), 10))["hits"]["hits"][0]["_id"] != low
    [event, _] = stored_events(es, search_id=result.search_id)
    assert event["query"] == text and event["q2e_key"] == "heart_sunshine" and event["index"] == music_index
    assert event["q2e_applied"] is True and event["position"] == 50 and event["flags"] == []


def test_the_query_comes_from_the_logged_decision_and_unknown_searches_are_orphans(es, small, writers):
    writer = writers(small, search_ttl_s=3600)
    sid, old, unknown = (uuid.uuid4().hex for _ in range(3))
    esio.put_document(es, "lrr-decisions", sid, {"search_id": sid, "timestamp": T0, "index": small, "query": "Night Drive",
                                                 "q2e_key": "drive_night", "shown": ["d1", "d2"], "candidates": [{"id": "d1"}]})
    esio.put_document(es, "lrr-decisions", old, {"search_id": old, "timestamp": T0 - DAY_MS, "index": small, "query": "old"})
    writer.feedback(sid, "d1", "click", timestamp=T0 + 1000)
    writer.feedback(old, "d1", "click", timestamp=T0)  # a day after its search: expired
    writer.feedback(unknown, "d2", "click", timestamp=T0)
    writer.feedback(unknown, "d3", "like", query="Rain", index=small, timestamp=T0)  # explicit query: applied
    assert writer.flush(30)
    assert q2e(es, small, "d1") == {"drive_night": pytest.approx(1.0)}
    assert q2e(es, small, "d2") == {} and q2e(es, small, "d3") == {"rain": pytest.approx(2.0)}
    assert [e["flags"] for e in stored_events(es, search_id=old)] == [["expired", "orphan"]]
    flags = {e["doc_id"]: (e["flags"], e["q2e_applied"]) for e in stored_events(es, search_id=unknown)}
    assert flags == {"d2": (["orphan"], False), "d3": ([], True)}
    assert writer.stats.orphans == 2 and writer.stats.written == 4


def test_duplicates_count_once(es, small, writers):
    writer = writers(small)
    sid = uuid.uuid4().hex
    for _ in range(3):
        writer.feedback(sid, "d1", "click", query="twice", index=small)  # same call: same derived id
    writer.feedback(sid, "d1", "like", query="twice", index=small, event_id=f"{sid}-x")
    assert writer.flush(30)
    writer.feedback(sid, "d1", "like", query="twice", index=small, event_id=f"{sid}-x")  # a later retry
    assert writer.flush(30)
    assert len(stored_events(es, search_id=sid)) == 2
    assert q2e(es, small, "d1")["twice"] == pytest.approx(3.0)
    assert writer.stats.duplicates == 3 and writer.stats.written == 2


def test_a_burst_of_10000_clicks_from_one_session_moves_a_score_by_the_cap(es, small, writers):
    writer = writers(small, cap_per_session=3, batch_size=2000, queue_size=20_000)
    sid = uuid.uuid4().hex
    writer.feedback_many({"search_id": sid, "doc_id": "d2", "action": "click", "session_id": "spammer",
                          "query": "spam me", "index": small, "event_id": f"{sid}-{i}"} for i in range(10_000))
    writer.feedback(sid, "d2", "click", session_id="honest", query="spam me", index=small)
    assert writer.flush(60)
    assert q2e(es, small, "d2")["me_spam"] == pytest.approx(3.0 + 1.0)
    assert writer.stats.capped == 9997 and writer.stats.q2e_events == 4
    esio.refresh(es, "lrr-events")
    assert esio.count(es, "lrr-events", {"term": {"search_id": sid}}) == 10_001  # every event is still stored


def printable_of_every_category() -> str:
    seen, chars = set(), []
    for code in range(0x20, 0x2FFFF):
        c = chr(code)
        category = unicodedata.category(c)
        if category not in seen and category not in ("Cs", "Cn"):
            seen.add(category)
            chars.append(c)
    return "".join(chars)


HOSTILE = ['love"; ctx._source.title = "pwned', "back\\slash \\\" \\u0041 '", "params.key = null; ctx.op = 'delete'",
           "}} {{ \n\t\r", "𝄞 ♫ Beyoncé — Мумий Тролль — 東京事変 — עברית — \u202ertl zero\u200bwidth",
           "\u0000nul \ufffd", "x" * 10_000, printable_of_every_category()]


def test_hostile_query_strings_are_stored_safely(es, small, writers):
    writer = writers(small)
    sid = uuid.uuid4().hex
    for n, text in enumerate(HOSTILE):
        writer.feedback(sid, "d4", "click", query=text, index=small, event_id=f"{sid}-{n}")
    with pytest.raises(FeedbackError, match="lone surrogate"):
        writer.feedback(sid, "d4", "click", query="\ud83c", index=small)
    assert writer.flush(30)
    source = esio.get_source(es, small, "d4")
    assert source["title"] == "Song 4"
    keys = {parse_query(t).key for t in HOSTILE}
    assert set(source["q2e"]) == keys and set(source["q2e_queries"]) == {parse_query(t).text for t in HOSTILE}
    assert sorted(e["query"] for e in stored_events(es, search_id=sid)) == sorted(HOSTILE)
    esio.refresh(es, small)
    for key in keys:
        hits = esio.search(es, small, {"query": {"rank_feature": {"field": f"q2e.{key}"}}})["hits"]["hits"]
        assert [h["_id"] for h in hits] == ["d4"]


def test_decay_eviction_and_negative_weights_follow_the_config(es, small, writers):
    writer = writers(small, decay_days=1.0, max_keys=2, cap_per_session=100, weights={"click": 1.0, "play": 4.0, "skip": -0.5})
    sid = uuid.uuid4().hex
    writer.feedback(sid, "d0", "play", query="a", index=small, timestamp=T0)
    writer.feedback(sid, "d0", "click", query="b", index=small, timestamp=T0 + DAY_MS)
    assert writer.flush(30)
    assert q2e(es, small, "d0") == {"a": pytest.approx(2.0), "b": pytest.approx(1.0)}  # a halved in one day
    writer.feedback(sid, "d0", "skip", query="a", index=small, timestamp=T0 + DAY_MS)
    writer.feedback(sid, "d0", "play", query="c", index=small, timestamp=T0 + DAY_MS, value=0.5)
    assert writer.flush(30)
    assert q2e(es, small, "d0") == {"a": pytest.approx(1.5), "c": pytest.approx(2.0)}  # b, the lowest, evicted


def test_editorial_pin_unpin_remove_decay_and_the_cli(es, es_url, small, writers, tmp_path):
    from click.testing import CliRunner

    from lrr_es.cli import cli
    from lrr_es.feedback import editorial
    writer = writers(small)
    sid = uuid.uuid4().hex
    writer.feedback(sid, "d1", "like", query="Blue Sky", index=small)
    writer.feedback(sid, "d2", "click", query="Blue Sky", index=small)
    assert writer.flush(30)
    assert editorial.pin(es, small, "d2", "sky blue", score=5.0) == "updated"
    assert [(e.doc_id, e.score, e.pinned) for e in editorial.show_query(es, small, "blue  SKY")] == [
        ("d2", 5.0, True), ("d1", 2.0, False)]
    assert editorial.decay(es, small, 0.5) >= 2
    assert q2e(es, small, "d1")["blue_sky"] == pytest.approx(1.0) and q2e(es, small, "d2")["blue_sky"] == 5.0
    with pytest.raises(QueryError, match="factor must be a number in"):
        editorial.decay(es, small, 0)
    config = tmp_path / "lrr.yaml"
    config.write_text(f"indices: {{{small}: {{}}}}\n")
    run = lambda *args: CliRunner().invoke(cli, ["--config", str(config), "q2e", *args, "--index", small],
                                           env={"ES_URL": es_url})
    shown = run("show", "--doc", "d2")
    assert shown.exit_code == 0 and "blue_sky  [pinned]" in shown.output and "5.0000" in shown.output
    assert run("unpin", "--doc", "d2", "--query", "Blue Sky").output.strip() == "updated"
    assert run("remove", "--doc", "d1", "--query", "Blue Sky").output.strip() == "updated"
    assert run("remove", "--doc", "d1", "--query", "Blue Sky").output.strip() == "noop"
    import getpass

    from lrr_es.audit import recent_changes
    trail = [(c.user, c.via, c.action, c.target, c.result) for c in recent_changes(es, small, 10)]
    assert trail[:3] == [(getpass.getuser(), "cli", "q2e.remove", "d1 blue_sky", "noop"),
                         (getpass.getuser(), "cli", "q2e.remove", "d1 blue_sky", "updated"),
                         (getpass.getuser(), "cli", "q2e.unpin", "d2 blue_sky", "updated")]
    listed = run("show", "--query", "Blue Sky")
    assert listed.exit_code == 0 and "1 documents" in listed.output and "d2" in listed.output and "d1" not in listed.output
    assert "documents updated" in run("decay", "--factor", "0.5").output
    assert q2e(es, small, "d2")["blue_sky"] == pytest.approx(2.5)  # unpinned: decays again
    assert "remove" not in esio.get_source(es, small, "d2")  # nothing but params reached the scripts


def test_unwritten_events_are_spooled_at_close_and_replayed_by_the_next_writer(es, small, writers, tmp_path):
    dead = writers(small, url="http://127.0.0.1:9289", queue_size=5, block_timeout_s=0.3)
    sid = uuid.uuid4().hex
    ids = [dead.feedback(sid, "d3", "click", query="offline", index=small, event_id=f"{sid}-{i}", session_id=f"u{i}") for i in range(5)]
    started = time.monotonic()
    with pytest.raises(FeedbackBacklogError, match=r"feedback queue full: \d+ events waiting \(queue_size 5\)"):
        for i in range(5, 20):
            dead.feedback(sid, "d3", "click", query="offline", index=small, event_id=f"{sid}-{i}", session_id=f"u{i}")
    assert time.monotonic() - started < 5
    stats = dead.close(timeout=0.5)
    accepted = stats.accepted
    assert stats.spooled == accepted >= 5 and stats.written == 0
    assert len((tmp_path / "spool.jsonl").read_text().splitlines()) == accepted
    alive = writers(small)
    assert alive.flush(30) and alive.stats.replayed == accepted
    assert {e["event_id"] for e in stored_events(es, search_id=sid)} >= set(ids)
    assert q2e(es, small, "d3")["offline"] == pytest.approx(accepted)
    assert not (tmp_path / "spool.jsonl").exists()

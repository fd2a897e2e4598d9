"""Feedback event validation, deterministic ids, increments, the cap, batch planning (pure)."""
from datetime import datetime, timezone

import pytest

from lrr_es.config import FeedbackConfig, config_from_dict
from lrr_es.errors import ConfigError, FeedbackError
from lrr_es.feedback import FeedbackEvent, SessionCap, derive_event_id, event_weight, make_event
from lrr_es.feedback.plan import SearchContext, context_from_decision, event_lines, plan_updates, resolve
from lrr_es.q2e import DAY_MS

NOW = 1_700_000_000_000


def ev(**kw):
    args = {"search_id": "s1", "doc_id": "d1", "action": "click"}
    args.update(kw)
    return make_event(args.pop("search_id"), args.pop("doc_id"), args.pop("action"), now_ms=NOW, **args)


@pytest.mark.parametrize("kw, message", [
    ({"action": "clack"}, r"unknown action 'clack' \(known: add_to_favorites, click"),
    ({"action": "Click"}, "action must be a lowercase name"),
    ({"position": -1}, r"position must be in \[0, 100000\], got -1"),
    ({"position": 1.5}, "position must be an integer"),
    ({"position": True}, "position must be an integer"),
    ({"timestamp": "yesterday"}, "timestamp 'yesterday' is not an ISO 8601 date-time"),
    ({"timestamp": 1_700_000_000}, "is before 2000 .epoch milliseconds expected, not seconds"),
    ({"timestamp": NOW + 2 * DAY_MS}, "more than a day in the future"),
    ({"timestamp": float("nan")}, "timestamp must be finite"),
    ({"doc_id": ""}, "doc_id must be non-empty"),
    ({"doc_id": " d1"}, "doc_id must be non-empty without surrounding whitespace"),
    ({"doc_id": "é" * 300}, "doc_id is longer than 512 bytes"),
    ({"doc_id": 7}, "doc_id must be a string, got int 7"),
    ({"session_id": "s" * 257}, "session_id is 257 characters long; at most 256"),
    ({"query": "q" * 10_001}, "query is 10001 characters long; at most 10000"),
    ({"query": "   "}, "query must not be empty"),
    ({"query": "bad \ud800 surrogate"}, "query holds a lone surrogate"),
    ({"value": -3}, "value must be a non-negative number"),
    ({"value": float("inf")}, "value must be a non-negative number"),
    ({"event_id": "x" * 201}, "event_id is 201 characters long; at most 200"),
    ({"search_id": None}, "search_id is required unless both query and index are given"),
    ({"search_id": None, "query": "love"}, "search_id is required unless both query and index are given"),
])
def test_bad_fields_are_named(kw, message):
    with pytest.raises(FeedbackError, match=message):
        ev(**kw)


def test_timestamps_in_every_accepted_form_agree():
    want = NOW - 1000
    forms = [want, float(want), datetime.fromtimestamp(want / 1000, timezone.utc),
             datetime.fromtimestamp(want / 1000, timezone.utc).replace(tzinfo=None),
             datetime.fromtimestamp(want / 1000, timezone.utc).isoformat().replace("+00:00", "Z")]
    assert {ev(timestamp=t).timestamp for t in forms} == {want}
    assert ev().timestamp == NOW and ev().received_at == NOW


def test_derived_ids_are_deterministic_and_ignore_the_writers_clock():
    a = make_event("s1", "d1", "click", position=3, session_id="u", now_ms=NOW)
    b = make_event("s1", "d1", "click", position=3, session_id="u", now_ms=NOW + 5000)
    assert a.event_id == b.event_id == derive_event_id("s1", "d1", "click", 3, "u", None, None, None, None)
    assert a.event_id.startswith("ev-") and len(a.event_id) == 35
    others = {ev(action="play").event_id, ev(position=2).event_id, ev(timestamp=NOW - 1).event_id,
              ev(session_id="x").event_id, ev(doc_id="d2").event_id, ev(value=0.5).event_id, ev().event_id}
    assert len(others) == 7
    assert ev(event_id="mine").event_id == "mine"


def test_event_round_trips_through_its_dict():
    event = ev(position=1, session_id="u", value=12.0, query="Love 'n\\ \"x\"", index="music", timestamp=NOW - 5)
    assert FeedbackEvent.from_dict(event.to_dict()) == event


def test_weight_scales_with_completion_or_seconds_and_is_bounded():
    config = FeedbackConfig(weights={"play": 3.0, "click": 1.0, "skip": -0.5, "boost": 50.0}, play_full_s=30,
                            max_increment=5.0)
    assert event_weight(ev(action="play", value=0.5), config) == 1.5
    assert event_weight(ev(action="play", value=15.0), config) == 1.5
    assert event_weight(ev(action="play", value=300.0), config) == 3.0
    assert event_weight(ev(action="play"), config) == 3.0
    assert event_weight(ev(action="skip"), config) == -0.5
    assert event_weight(ev(action="impression"), config) == 0.0
    assert event_weight(make_event("s", "d", "boost", now_ms=NOW, actions=None), config) == 5.0


def test_the_cap_books_at_most_cap_per_window_in_either_direction():
    cap = SessionCap(3.0, window_ms=60_000)
    moved = [cap.allow("u", "music", "love", "d1", 1.0, NOW + i) for i in range(10_000)]
    assert sum(moved) == 3.0 and moved[:4] == [1.0, 1.0, 1.0, 0.0]
    assert cap.allow("u", "music", "love", "d1", -1.0, NOW + 10) == 0.0  # negative spends the same budget
    assert cap.allow("v", "music", "love", "d1", 2.0, NOW) == 2.0  # another session
    assert cap.allow("u", "music", "love", "d2", 2.0, NOW) == 2.0  # another document
    assert cap.allow("u", "music", "love", "d1", 2.5, NOW + 60_000) == 2.5  # a new window
    assert cap.allow("u", "music", "love", "d1", 2.5, NOW + 60_001) == 0.5


def test_the_cap_forgets_least_recently_used_windows_beyond_its_bound():
    cap = SessionCap(1.0, window_ms=10_000, max_entries=2)
    for session in ("a", "b", "c"):
        cap.allow(session, "i", "k", "d", 1.0, NOW)
    assert len(cap) == 2 and cap.allow("a", "i", "k", "d", 1.0, NOW) == 1.0 and cap.allow("c", "i", "k", "d", 1.0, NOW) == 0.0


@pytest.mark.parametrize("raw, message", [
    ({"cap_window_s": 0}, r"feedback.cap_window_s must be a number in \[1, 2592000\], got 0"),
    ({"cap_per_session": -1}, "feedback.cap_per_session must be a number"),
    ({"queue_size": 0}, "feedback.queue_size must be an integer"),
    ({"coalesce": "yes"}, "feedback.coalesce must be true or false, got 'yes'"),
    ({"spool_path": ""}, "feedback.spool_path must be a file path or null"),
])
def test_feedback_config_is_validated(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"feedback": raw})


CTX = SearchContext("music", "Love  Story", NOW - 1000)


def test_resolve_uses_the_search_context_and_flags_orphans_and_expired_searches():
    config, cap = FeedbackConfig(search_ttl_s=60), SessionCap(100, 1000)
    r = resolve(ev(), CTX, config, cap)
    assert (r.key, r.query_text, r.increment, r.flags) == ("love_story", "Love Story", 1.0, ())
    assert r.event.query == "Love  Story" and r.event.index == "music"
    orphan = resolve(ev(), None, config, cap)
    assert orphan.flags == ("orphan",) and orphan.increment == 0.0 and orphan.key is None
    late = resolve(ev(timestamp=NOW + 61_000 - 1000 + 1), CTX, config, cap)
    assert late.flags == ("orphan", "expired") and late.increment == 0.0
    explicit = resolve(ev(query="home", index="music"), None, config, cap)
    assert explicit.flags == () and explicit.key == "home" and explicit.increment == 1.0


def test_resolve_flags_capped_events_and_queries_without_a_key():
    config, cap = FeedbackConfig(cap_per_session=1.5), SessionCap(1.5, 1000)
    assert [resolve(ev(session_id="u", position=i), CTX, config, cap).increment for i in range(3)] == [1.0, 0.5, 0.0]
    assert resolve(ev(session_id="u", position=9), CTX, config, cap).flags == ("capped",)
    assert resolve(ev(), SearchContext("music", "!!!", NOW), config, cap).key.startswith("h_")  # symbols: hashed key
    source = resolve(ev(session_id="u"), CTX, config, cap).source()
    assert source["flags"] == ["capped"] and source["q2e_applied"] is False and source["q2e_key"] == "love_story"


def test_coalesced_updates_sum_pre_decayed_increments_and_scale_the_bound():
    config = FeedbackConfig(decay_days=1.0, max_increment=5.0)
    cap = SessionCap(100, 1000)
    events = [ev(session_id=f"u{i}", timestamp=NOW - DAY_MS * i) for i in range(3)]
    resolved = [resolve(e, CTX, config, cap) for e in events]
    [update] = plan_updates(resolved, config)
    params = update.body["script"]["params"]
    assert params["incs"] == {"love_story": pytest.approx(1 + 0.5 + 0.25)} and params["now"] == NOW
    assert params["max_inc"] == 15.0 and params["queries"] == ["Love Story"]
    assert update.update_id.startswith("g-") and update.event_ids == tuple(e.event_id for e in events)
    assert update.action == {"update": {"_index": "music", "_id": "d1", "retry_on_conflict": 5}}
    separate = plan_updates(resolved, FeedbackConfig(decay_days=1.0, coalesce=False))
    assert [u.update_id for u in separate] == [e.event_id for e in events]
    lines = event_lines(resolved)
    assert lines[0] == {"create": {"_index": "lrr-events", "_id": events[0].event_id}} and len(lines) == 6


def test_resolve_keeps_the_scoped_key_of_its_search():
    """A search whose memory key was scoped by locale gets its feedback under that key, whether the
    search is remembered in the process or read back from its logged decision."""
    config, cap = FeedbackConfig(), SessionCap(100, 1000)
    scoped = SearchContext("music", "Love Story", NOW - 1000, "love_story__pt_br")
    assert resolve(ev(), scoped, config, cap).key == "love_story__pt_br"
    logged = context_from_decision({"index": "music", "query": "Love Story", "q2e_key": "love_story__pt_br"})
    assert resolve(ev(), logged, config, cap).key == "love_story__pt_br"
    plain = context_from_decision({"index": "music", "query": "Love Story", "q2e_key": "love_story"})
    assert plain.key is None and resolve(ev(), plain, config, cap).key == "love_story"


def test_one_update_per_document_applies_every_key_with_the_pair_budget_on_the_writers_clock():
    config = FeedbackConfig(pair_cap=7.0, pair_window_s=60)
    cap = SessionCap(100, 1000)
    events = [make_event(f"s{i}", doc, "click", session_id=f"u{i}", query=text, index="music", timestamp=NOW - i,
                         now_ms=NOW + 5 + i)
              for i, (doc, text) in enumerate([("d1", "love story"), ("d1", "home"), ("d2", "home"), ("d1", "home")])]
    updates = plan_updates([resolve(e, None, config, cap) for e in events], config)
    assert [(u.doc_id, u.keys, len(u.event_ids)) for u in updates] == [("d1", ("love_story", "home"), 3),
                                                                       ("d2", ("home",), 1)]
    params = updates[0].body["script"]["params"]
    assert params["incs"] == {"love_story": 1.0, "home": pytest.approx(2.0)} and params["max_inc"] == 10.0
    assert params["queries"] == ["home", "love story"]  # each text once, the newest last
    assert params["pair_cap"] == 7.0 and params["pair_window_ms"] == 60_000 and params["clock"] == NOW + 8
    assert params["clock_from"] == NOW + 5
    assert plan_updates([resolve(events[0], None, FeedbackConfig(pair_cap=None), cap)],
                        FeedbackConfig(pair_cap=None))[0].body["script"]["params"]["pair_cap"] is None

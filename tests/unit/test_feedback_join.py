"""The join of logged decisions with events (pure), and the spool file."""
import json

from lrr_es.feedback import make_event
from lrr_es.learn.join import CandidateLabel, Engagement, join_events
from lrr_es.feedback.spool import read_spool, write_spool

GRADES = {"click": 1.0, "like": 2.0, "play": 3.0, "skip": -0.5}

DECISIONS = [
    {"search_id": "s1", "timestamp": 1000, "index": "music", "query": "love", "q2e_key": "love",
     "plan": [{"strategy": "lexical", "quota": 50, "propensity": 1.0}, {"strategy": "memory", "quota": 20, "propensity": 0.4}],
     "candidates": [{"id": "a", "strategies": ["lexical"]}, {"id": "b", "strategies": ["lexical", "memory"]},
                    {"_id": "c", "strategies": {"memory": {"rank": 1}}}, "d"],
     "shown": ["b", "a", "c"]},
    {"search_id": "s2", "timestamp": 2000, "index": "music", "query": "home", "candidates": ["x"], "shown": ["x"]},
]
EVENTS = [
    {"event_id": "e3", "search_id": "s1", "doc_id": "b", "action": "play", "timestamp": 1300},
    {"event_id": "e1", "search_id": "s1", "doc_id": "b", "action": "click", "position": 1, "timestamp": 1100},
    {"event_id": "e2", "search_id": "s1", "doc_id": "c", "action": "skip", "timestamp": 1200},
    {"event_id": "e4", "search_id": "gone", "doc_id": "z", "action": "click", "timestamp": 1200},
]


def test_each_decision_gets_its_engagements_and_labelled_candidates():
    first, second = join_events(DECISIONS, EVENTS, GRADES)
    assert first.search_id == "s1" and first.query == "love" and first.reward == 1.0
    assert first.plan[1] == {"strategy": "memory", "quota": 20, "propensity": 0.4}
    assert first.engaged == (Engagement("b", 3.0, ("click", "play"), 1), Engagement("c", 0.0, ("skip",), 3))
    assert first.labels == (
        CandidateLabel("a", 0.0, 2, ("lexical",)),
        CandidateLabel("b", 3.0, 1, ("lexical", "memory")),
        CandidateLabel("c", 0.0, 3, ("memory",)),
        CandidateLabel("d", 0.0, None, ()),
    )
    assert second.search_id == "s2" and second.engaged == () and second.reward == 0.0
    assert second.labels == (CandidateLabel("x", 0.0, 1, ()),)


def test_events_without_a_decision_and_malformed_rows_are_left_out():
    rows = [{"search_id": "s2", "doc_id": 5, "action": "click"}, {"doc_id": "x", "action": "click"}] + EVENTS
    assert [f.search_id for f in join_events(DECISIONS + [{"no": "id"}], rows, GRADES)] == ["s1", "s2"]
    assert join_events(DECISIONS, rows, GRADES)[1].engaged == ()
    assert join_events([], EVENTS, GRADES) == []


def test_out_of_order_events_are_ordered_by_timestamp():
    shuffled = list(reversed(EVENTS))
    assert join_events(DECISIONS, shuffled, GRADES) == join_events(DECISIONS, EVENTS, GRADES)


def test_spool_round_trip_keeps_events_and_attempted_flags(tmp_path):
    path = tmp_path / "sub" / "spool.jsonl"
    events = [make_event("s", f"d{i}", "click", query="l\"o\\ve ♫", index="music", now_ms=1_700_000_000_000 + i)
              for i in range(3)]
    assert write_spool(path, [(e, i == 1) for i, e in enumerate(events)]) == 3
    assert read_spool(path) == [(e, i == 1) for i, e in enumerate(events)]
    with path.open("a") as out:
        out.write("not json\n" + json.dumps({"doc_id": "x"}) + "\n")
    assert len(read_spool(path)) == 3 and len((tmp_path / "sub" / "spool.jsonl.bad").read_text().splitlines()) == 2
    assert write_spool(path, []) == 0 and not path.exists()

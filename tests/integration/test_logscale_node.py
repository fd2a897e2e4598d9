"""The streamed learning input on a real node: decisions read a page at a time in (timestamp, search_id)
order with their events, joined page by page, and the ranker trained from batches on disk, against the
whole-window in-memory join and matrix (issue 13, P8)."""
import numpy as np
import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.learn.examples import ExampleLog, build_examples
from lrr_es.learn.join import join_events, join_feedback, join_pages, read_logs
from lrr_es.migrate import setup_steps
from lrr_es.names import DECISIONS_INDEX, EVENTS_INDEX
from lrr_es.rank.features import feature_schema, schema_id
from lrr_es.rank.model import LtrRanker

pytestmark = pytest.mark.integration
NAME = "test-logscale"
GRADES = {"click": 1.0, "play": 3.0}
SCHEMA = feature_schema(("lexical", "memory"))
T0 = 1_780_000_000_000
GRACE = 60_000


def _decision(n: int, ts: int, index: str = NAME) -> dict:
    rng = np.random.default_rng(n)
    ids = [f"d{(n * 7 + k) % 50}" for k in range(8)]
    rows = rng.random((8, len(SCHEMA))).round(4)
    rows[:, 0] = [1.0 if k == n % 8 else 0.0 for k in range(8)]  # a learnable signal: the engaged row stands out
    return {"search_id": f"s{n:04d}", "timestamp": ts, "index": index, "query": f"q{n % 9}", "q2e_key": f"q{n % 9}",
            "candidates": [{"id": i, "fused": 1.0 / (k + 61), "found": {"lexical": [k + 1, 1.0]}} for k, i in enumerate(ids)],
            "shown": ids[:5], "feature_schema": schema_id(SCHEMA), "features": {"ids": ids, "rows": rows.tolist()}}


def _event(n: int, doc: str, action: str, ts: int, position: int | None = None) -> dict:
    event = {"event_id": f"e{n:04d}-{doc}-{action}-{ts}", "search_id": f"s{n:04d}", "doc_id": doc, "action": action,
             "timestamp": ts}
    return event if position is None else {**event, "position": position}


@pytest.fixture(scope="module")
def logs(es):
    """120 decisions of NAME (three per millisecond, so pages end between ties), 5 of another index, and
    events: engagements within the grace, one after it, one of an unknown search, one before the window."""
    for _, step in setup_steps(es, config_from_dict({"indices": {NAME: {}}})):
        step()
    decisions = [_decision(n, T0 + n // 3) for n in range(120)] + [_decision(500 + n, T0 + n, "other") for n in range(5)]
    events = []
    for n in range(0, 120, 2):
        doc = decisions[n]["features"]["ids"][n % 8]
        events.append(_event(n, doc, "click", T0 + 1_000 + n, position=n % 8 + 1))
        if n % 4 == 0:
            events.append(_event(n, doc, "play", T0 + 2_000 + n))
    events += [_event(1, "d8", "play", T0 + 40 + GRACE + 5),  # s0001 ends before T0 + 40: past the grace
               _event(999, "d1", "click", T0 + 50),  # no such search
               _event(3, "d22", "click", T0 - 5)]  # before the window
    actions = [{"_index": DECISIONS_INDEX, "_id": d["search_id"], "_source": d} for d in decisions]
    actions += [{"_index": EVENTS_INDEX, "_id": e["event_id"], "_source": e} for e in events]
    assert all(ok for ok, _ in esio.bulk(es, actions, refresh="wait_for"))
    yield decisions, events
    for index in (DECISIONS_INDEX, EVENTS_INDEX):
        esio.delete_by_query(es, index, {"prefix": {"search_id": "s"}})


def _window_events(events: list[dict], since: int, until: int) -> list[dict]:
    return [e for e in events if since <= e["timestamp"] < until + GRACE]


def test_the_streamed_join_gives_what_the_whole_window_join_gives_in_time_order(es, logs):
    decisions, events = logs
    since, until = T0, T0 + 40
    streamed = list(join_pages(read_logs(es, since, until, GRACE, [{"term": {"index": NAME}}], page=7), GRADES))
    ours = [d for d in decisions if d["index"] == NAME and since <= d["timestamp"] < until]
    whole = join_events(ours, _window_events(events, since, until), GRADES)
    assert [f for _, f in streamed] == whole  # ours are already in (timestamp, search_id) order
    assert [d["search_id"] for d, _ in streamed] == [f"s{n:04d}" for n in range(120)]
    by_id = {f.search_id: f for _, f in streamed}
    assert by_id["s0000"].engaged[0].actions == ("click", "play") and by_id["s0000"].engaged[0].grade == 3.0
    assert by_id["s0001"].engaged == ()  # its play came after the grace
    assert by_id["s0003"].engaged == ()  # its click came before the window
    assert by_id["s0002"].engaged[0].position == 3 and by_id["s0002"].reward == 1.0


def test_the_feedback_stream_filters_and_drops_the_feature_rows(es, logs):
    streamed = list(join_feedback(es, T0, T0 + 10, GRADES, GRACE, [{"term": {"index": NAME}}], page=4))
    assert [f.search_id for f in streamed] == [f"s{n:04d}" for n in range(30)]
    assert len(streamed[0].labels) == 8 and streamed[0].labels[0].strategies == ("lexical",)


def test_training_from_batches_on_disk_matches_the_in_memory_matrix(es, logs, tmp_path):
    decisions, events = logs
    ours = [d for d in decisions if d["index"] == NAME]
    examples, exam, counts = build_examples(ours, _window_events(events, T0, T0 + 10 ** 6), GRADES, SCHEMA)
    with ExampleLog(SCHEMA, tmp_path, batch_rows=20) as log:
        log.read(join_pages(read_logs(es, T0, None, GRACE, [{"term": {"index": NAME}}], page=9), GRADES))
        # the even searches and s0001 (its late play counts: the window is open-ended), 8 rows each
        assert log.counts == counts == {"decisions": 120, "with_features": 120, "other_schema": 0, "engaged": 61,
                                        "rows": 488}
        assert len(list(tmp_path.glob("batch-*.npz"))) == 21  # a batch closes at 24 rows: three searches
        streamed = log.examples(log.examination())
        for name in ("X", "y", "qid", "gains", "copies", "fused", "served", "shown"):
            assert np.array_equal(getattr(streamed, name), getattr(examples, name)), name
        X, y, qid = examples.expanded()
        in_memory = LtrRanker(n_estimators=20).fit(X, y, qid=qid, feature_names=SCHEMA)
        batched = LtrRanker(n_estimators=20).fit_batches(
            lambda: (b.expanded() for b in log.batches(log.examination())), feature_names=SCHEMA, cache_dir=tmp_path)
    assert np.allclose(batched.predict(X), in_memory.predict(X))
    assert batched.feature_names_in_ == tuple(SCHEMA) and batched.n_features_in_ == len(SCHEMA)
    engaged_first = batched.predict(X[y > 0]).mean() > batched.predict(X[y == 0]).mean()
    assert engaged_first  # the signal column was learned

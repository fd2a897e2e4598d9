"""The stored Q2E update script on a real node: decay, bounds, eviction, idempotency, hostile text."""
import pytest

from lrr_es import es as esio
from lrr_es.migrate import migrate
from lrr_es.q2e import DAY_MS, memory_update_script, q2e_key, update_script

pytestmark = pytest.mark.integration
T0 = 1_700_000_000_000
HALF_LIFE_DAYS = 10.0


@pytest.fixture
def index(es, alias, make_config):
    migrate(es, make_config(alias), alias, progress=False, echo=lambda _: None)
    return alias


def put(es, index, doc_id, source):
    es.index(index=index, id=doc_id, body=source, refresh=True)


def apply(es, index, doc_id, key, inc, now=T0, **kw):
    options = dict(decay_days=HALF_LIFE_DAYS, max_keys=kw.pop("max_keys", 64), max_increment=kw.pop("max_increment", 5.0),
                   max_queries=kw.pop("max_queries", 20))
    result = esio.update(es, index, doc_id, {"script": update_script(key, inc, now, **options, **kw)}, refresh=True)
    return result["result"], esio.get_source(es, index, doc_id)


def test_increments_accumulate_and_duplicates_count_once(es, index):
    put(es, index, "d", {"title": "Love"})
    assert apply(es, index, "d", "love", 1.0, event_id="e1")[0] == "updated"
    result, doc = apply(es, index, "d", "love", 1.0, event_id="e1")  # a retried delivery of e1
    assert result == "noop" and doc["q2e"]["love"] == pytest.approx(1.0)
    _, doc = apply(es, index, "d", "love", 2.0, event_id="e2")
    assert doc["q2e"]["love"] == pytest.approx(3.0) and doc["q2e_events"] == ["e1", "e2"]


def test_one_event_moves_a_score_by_a_bounded_amount(es, index):
    put(es, index, "d", {"title": "Love"})
    _, doc = apply(es, index, "d", "love", 1e9, max_increment=5.0)
    assert doc["q2e"]["love"] == pytest.approx(5.0)
    _, doc = apply(es, index, "d", "love", -1e9, max_increment=5.0)
    assert "love" not in doc["q2e"]  # a score that reaches zero is removed (rank_features take positives only)


def test_scores_decay_with_the_configured_half_life(es, index):
    put(es, index, "d", {"title": "Love"})
    apply(es, index, "d", "love", 4.0, now=T0)
    _, doc = apply(es, index, "d", "home", 1.0, now=T0 + int(HALF_LIFE_DAYS * DAY_MS))
    assert doc["q2e"]["love"] == pytest.approx(2.0, rel=1e-6)
    _, doc = apply(es, index, "d", None, 0.0, now=T0 + int(3 * HALF_LIFE_DAYS * DAY_MS))  # decay only
    assert doc["q2e"]["love"] == pytest.approx(0.5, rel=1e-6) and doc["q2e"]["home"] == pytest.approx(0.25, rel=1e-6)


def test_a_late_event_counts_as_decayed_and_never_rewinds_the_clock(es, index):
    put(es, index, "d", {"title": "Love"})
    apply(es, index, "d", "love", 1.0, now=T0 + int(HALF_LIFE_DAYS * DAY_MS))
    _, doc = apply(es, index, "d", "love", 2.0, now=T0)  # arrives late, one half-life old
    assert doc["q2e"]["love"] == pytest.approx(1.0 + 1.0, rel=1e-6)
    assert doc["q2e_ts"] == T0 + int(HALF_LIFE_DAYS * DAY_MS)


def test_lowest_keys_are_evicted_beyond_max_keys(es, index):
    put(es, index, "d", {"title": "Love"})
    for key, inc in (("a", 3.0), ("b", 1.0), ("c", 2.0), ("d", 4.0)):
        _, doc = apply(es, index, "d", key, inc, max_keys=3)
    assert doc["q2e"] == pytest.approx({"a": 3.0, "c": 2.0, "d": 4.0})


def test_observation_replaces_a_cold_start_prediction(es, index):
    put(es, index, "d", {"title": "Love", "q2e": {"love": 0.7, "love_zoe": 1.4}, "q2e_seeded": ["love", "love_zoe"]})
    _, doc = apply(es, index, "d", "love", 1.0)
    assert doc["q2e"]["love"] == pytest.approx(1.0) and doc["q2e_seeded"] == ["love_zoe"]
    _, doc = apply(es, index, "d", "love", 1.0)
    assert doc["q2e"]["love"] == pytest.approx(2.0)


def test_pinned_keys_do_not_move_decay_or_get_evicted(es, index):
    put(es, index, "d", {"title": "Love", "q2e": {"pin": 0.1}, "q2e_pinned": ["pin"], "q2e_ts": T0})
    for i, key in enumerate(("a", "b", "c")):
        _, doc = apply(es, index, "d", key, 1.0 + i, now=T0 + int(HALF_LIFE_DAYS * DAY_MS), max_keys=2)
    _, doc = apply(es, index, "d", "pin", 5.0, now=T0 + int(HALF_LIFE_DAYS * DAY_MS), max_keys=2)
    assert doc["q2e"]["pin"] == pytest.approx(0.1) and set(doc["q2e"]) == {"pin", "c"}


def test_queries_are_remembered_bounded_and_without_repeats(es, index):
    put(es, index, "d", {"title": "Love"})
    for text in ("love", "lvoe", "love", "love song"):
        _, doc = apply(es, index, "d", q2e_key(text), 1.0, query=text, max_queries=2)
    assert doc["q2e_queries"] == ["love", "love song"]


HOSTILE = [
    'love"; ctx._source.title = "pwned',
    "back\\slash \\\" \\u0041 '",
    "params.key = null; ctx.op = 'delete'",
    "}} {{ \n\t\r",
    "𝄞 ♫ 🎵 Beyoncé — Мумий Тролль — 東京事変 — עברית — ‮rtl — zero\u200bwidth",
    "\u0000nul and \ufffd",
    "x" * 10_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_query_text_is_stored_safely(es, index, text):
    put(es, index, "d", {"title": "Love"})
    key = q2e_key(text)
    result, doc = apply(es, index, "d", key, 1.0, query=text, event_id=text[:200])
    assert result == "updated"
    assert doc["title"] == "Love" and doc["q2e"] == {key: pytest.approx(1.0)} and doc["q2e_queries"] == [text]
    hits = esio.search(es, index, {"query": {"rank_feature": {"field": f"q2e.{key}"}}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["d"]


def test_concurrent_updates_of_one_document_all_count(es, index):
    put(es, index, "d", {"title": "Love"})
    script = lambda i: update_script("love", 1.0, T0, decay_days=HALF_LIFE_DAYS, max_keys=64, max_increment=5.0,
                                     max_queries=20, event_id=f"e{i}")
    actions = [{"_op_type": "update", "_index": index, "_id": "d", "retry_on_conflict": 10, "script": script(i)}
               for i in range(40)]
    actions += actions[:10]  # ten duplicates, e.g. a client retry after a timeout
    results = list(esio.bulk(es, actions, chunk_size=25))
    assert all(ok for ok, _ in results)
    esio.refresh(es, index)
    assert esio.get_source(es, index, "d")["q2e"]["love"] == pytest.approx(40.0)


def test_keys_that_are_not_normalized_are_refused_before_the_node():
    with pytest.raises(ValueError, match="not a normalized Q2E key"):
        update_script("Love Story", 1.0, T0, decay_days=1, max_keys=1, max_increment=1, max_queries=1)
    with pytest.raises(ValueError, match="finite"):
        update_script("love", float("nan"), T0, decay_days=1, max_keys=1, max_increment=1, max_queries=1)


def test_single_string_list_fields_behave_as_lists(es, index):
    put(es, index, "d", {"title": "Love", "q2e_pinned": "love_story", "q2e_events": "e0", "q2e_seeded": "x"})
    _, doc = apply(es, index, "d", "love", 1.0, event_id="e1")  # "love" is a substring of the pinned key, not pinned
    assert doc["q2e"]["love"] == pytest.approx(1.0) and doc["q2e_events"] == ["e0", "e1"]
    assert apply(es, index, "d", "love", 1.0, event_id="e0")[0] == "noop"


def test_update_script_refuses_long_unnormalized_keys():
    with pytest.raises(ValueError, match="not a normalized Q2E key"):
        update_script("Feat. Somebody " * 5, 1.0, T0, decay_days=1, max_keys=1, max_increment=1, max_queries=1)
    assert update_script(q2e_key("Feat. Somebody " * 50), 1.0, T0, decay_days=1, max_keys=1, max_increment=1,
                         max_queries=1)["params"]["incs"] == {q2e_key("Feat. Somebody " * 50): 1.0}


def apply_many(es, index, doc_id, increments, event_id, clock, **kw):
    script = memory_update_script(increments, T0, decay_days=HALF_LIFE_DAYS, max_keys=64, max_increment=50.0,
                                  max_queries=20, event_id=event_id, clock_ms=clock, **kw)
    esio.update(es, index, doc_id, {"script": script}, refresh=True)
    return esio.get_source(es, index, doc_id)


def test_one_call_applies_several_keys_and_queries(es, index):
    put(es, index, "d", {"title": "Love"})
    doc = apply_many(es, index, "d", {"love": 1.0, "home": 2.5}, "g-1", T0, queries=["Home", "love"])
    assert doc["q2e"] == {"love": pytest.approx(1.0), "home": pytest.approx(2.5)}
    assert doc["q2e_queries"] == ["Home", "love"] and doc["q2e_events"] == ["g-1"]
    assert apply_many(es, index, "d", {"love": 1.0, "home": 2.5}, "g-1", T0)["q2e"]["love"] == pytest.approx(1.0)


def test_the_pair_budget_is_a_token_bucket_per_key_shared_by_every_call(es, index):
    put(es, index, "d", {"title": "Love", "q2e_pinned": ["pinned"], "q2e": {"pinned": 2.0}})
    budget = dict(pair_cap=5.0, pair_window_ms=3_600_000)  # bursts of 5, refilled at 5 an hour
    near = dict(abs=1e-3)  # a few milliseconds refill a few millionths
    for n in range(8):  # eight callers, each within its own increment bound: together past the budget
        doc = apply_many(es, index, "d", {"love": 1.0, "pinned": 1.0}, f"e{n}", T0 + n, **budget)
    assert doc["q2e"]["love"] == pytest.approx(5.0, **near) and doc["q2e"]["pinned"] == 2.0
    doc = apply_many(es, index, "d", {"home": 3.0, "love": 1.0}, "e-home", T0 - 60_000, **budget)  # a clock behind
    assert doc["q2e"]["home"] == pytest.approx(3.0) and doc["q2e"]["love"] == pytest.approx(5.0, **near)
    doc = apply_many(es, index, "d", {"love": -9.0}, "e-down", T0 + 10, **budget)
    assert doc["q2e"]["love"] == pytest.approx(5.0, **near)  # the bucket counts moves both ways: spent, it holds
    hour = 3_600_000
    doc = apply_many(es, index, "d", {"love": 4.0}, "e-next", T0 + hour, **budget)  # an hour later: refilled
    assert doc["q2e"]["love"] == pytest.approx(9.0, **near) and doc["q2e_window"]["keys"] == ["love"]
    doc = apply_many(es, index, "d", {"love": 4.0}, "e-more", T0 + hour + 1, **budget)
    assert doc["q2e"]["love"] == pytest.approx(10.0, **near)  # 1 left of the 5
    # a backlog received over two hours (an outage) earns those two hours' refill, no more: 5 + 10 of its 20
    doc = apply_many(es, index, "d", {"love": 20.0}, "e-backlog", T0 + 4 * hour, clock_from_ms=T0 + 2 * hour,
                     **budget)
    assert doc["q2e"]["love"] == pytest.approx(10.0 + 15.0, **near)

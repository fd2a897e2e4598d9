"""Validation at each stage's entry (issue 15, items 1-5): what Elasticsearch or Python would refuse
later is refused at once with an lrr-es error naming the bad value (pure, no node)."""
from datetime import datetime, timezone
from types import MappingProxyType

import elasticsearch
import pytest

from lrr_es import es as esio
from lrr_es.context import context_vector
from lrr_es.decide import PlanItem, check_plan
from lrr_es.errors import FeedbackError, QueryError
from lrr_es.feedback import make_event
from lrr_es.feedback.events import MAX_VALUE
from lrr_es.feedback.spool import claim_slot, orphaned_slots, slot_path
from lrr_es.parse import check_filters, check_page, parse_query

NOW = 1_700_000_000_000
EMOJI_ID = "\U0001f3b5" * 200  # 200 characters, 800 bytes in UTF-8


def event(**kw):
    return make_event("s1", "d1", "click", now_ms=NOW, **kw)


# --- item 1: an event Elasticsearch would refuse is refused at feedback() ---------------------------

@pytest.mark.parametrize("kw, message", [
    ({"event_id": EMOJI_ID}, r"event_id is 800 bytes long in UTF-8; at most 512"),
    ({"value": 3.5e38}, r"value must be at most 3.402823e\+38 \(a float field in lrr-events\)"),
    ({"value": 10 ** 400}, r"value must be at most"),
    ({"value": float("nan")}, "value must be a non-negative number"),
    ({"timestamp": 10 ** 400}, "more than a day in the future"),
])
def test_events_elasticsearch_would_refuse_are_refused_with_the_field(kw, message):
    with pytest.raises(FeedbackError, match=message):
        event(**kw)


def test_the_largest_values_that_fit_are_accepted():
    assert event(event_id="é" * 200).event_id == "é" * 200  # 400 bytes
    assert event(value=MAX_VALUE).value == MAX_VALUE and event(value=10 ** 20).value == 1e20


# --- item 3: text that is not valid Unicode ------------------------------------------------------------

def test_a_lone_surrogate_in_search_text_becomes_a_replacement_character():
    query = parse_query("\ud800 love")
    assert query.text == "\ufffd love" and query.text.encode("utf-8")
    assert parse_query("\ud83c\udfb5 x\udc00").text == "\U0001f3b5 x\ufffd"  # a surrogate pair is one character


# --- item 4: filters are never dropped -----------------------------------------------------------------

TERM = {"term": {"entity_type": "song"}}
RANGE = {"range": {"year": {"gte": 1980}}}


@pytest.mark.parametrize("given", [
    (f for f in (TERM, RANGE)), iter([TERM, RANGE]), (TERM, RANGE), [TERM, RANGE], {1: TERM, 2: RANGE}.values(),
], ids=["generator", "iterator", "tuple", "list", "dict-values"])
def test_any_iterable_of_clauses_is_read_once_and_kept(given):
    assert check_filters(given) == [TERM, RANGE]


def test_one_clause_of_any_mapping_type_and_plain_json_values():
    assert check_filters(MappingProxyType(TERM)) == [TERM]
    when = datetime(2020, 1, 2, tzinfo=timezone.utc)
    assert check_filters({"range": {"added_at": {"gte": when}}}) == [{"range": {"added_at": {"gte": when.isoformat()}}}]


def nested_bools(depth):
    clause = TERM
    for _ in range(depth):
        clause = {"bool": {"filter": [clause]}}
    return clause


@pytest.mark.parametrize("filters, message", [
    (5, "filters must be a query clause .* or an iterable of them, got int 5"),
    ("entity_type:song", "got str"),
    ([TERM, 5], r"filter #1 must be a query clause"),
    ([{"term": {}, "range": {}}], r"filter #0 must be a query clause"),
    (nested_bools(200), "nested deeper than 64 levels"),
    ({"range": {"year": {"gte": float("nan")}}}, "nan is not a number JSON can carry"),
    ({"term": {1: "x"}}, "keys must be strings, got int 1"),
    ({"term": {"title": "\ud800"}}, "lone surrogate"),
    ({"terms": {"genre": {"rock"}}}, "a set is not JSON"),
])
def test_what_cannot_be_a_filter_is_refused_clearly(filters, message):
    with pytest.raises(QueryError, match=message):
        check_filters(filters)


def test_twenty_nested_bools_still_pass():
    assert check_filters(nested_bools(20)) == [nested_bools(20)]


# --- item 5: the page, the context and the plan ---------------------------------------------------------

def test_a_page_past_the_result_window_is_refused():
    check_page(10, 9990)
    with pytest.raises(QueryError, match=r"from \+ size must be at most 10000 .* got from=10000 size=10"):
        check_page(10, 10_000)
    with pytest.raises(QueryError, match="from must be a non-negative integer"):
        check_page(10, 10 ** 400)


@pytest.mark.parametrize("context, message", [
    ({1: "a", "x": 2}, r"unknown field\(s\) 'x', 1"),
    ({"user_searches": 10 ** 400}, "user_searches must be a non-negative number"),
    ({"timestamp": 10 ** 400}, "timestamp must be epoch seconds"),
    ([("device", "tv")], "context must be a mapping"),
])
def test_bad_contexts_are_refused_with_the_field(context, message):
    with pytest.raises(QueryError, match=message):
        context_vector(parse_query("love"), context)


@pytest.mark.parametrize("plan, message", [
    ("lexical", "plan must be a list of PlanItem, got str 'lexical'"),
    (PlanItem("lexical", 5), "plan must be a list of PlanItem"),
    (5, "got int 5"),
    ([], "at least one strategy"),
    ([("lexical", 5)], r"plan item #0 must be a PlanItem\(strategy, quota\), got tuple"),
    ([PlanItem("lexical", 0)], r"quota must be an integer in \[1, 10000\], got 0"),
    ([PlanItem("lexical", 5, timeout_ms=-1)], r"timeout_ms must be an integer"),
])
def test_bad_plans_are_refused_clearly(plan, message):
    with pytest.raises(QueryError, match=message):
        check_plan(plan)


# --- the bulk helper: one refused item never costs the others -------------------------------------------

class RefusingClient:
    """Answers _bulk like Elasticsearch: the whole request refused when one _id is over 512 bytes."""

    def __init__(self):
        self.requests = 0

    def bulk(self, body, refresh=False, **_):
        self.requests += 1
        actions = body[::2]
        if any(len(next(iter(a.values()))["_id"].encode()) > 512 for a in actions):
            raise elasticsearch.RequestError(400, "action_request_validation_exception",
                                             {"error": {"type": "action_request_validation_exception",
                                                        "reason": "id is too long"}})
        return {"items": [{"create": {"_id": next(iter(a.values()))["_id"], "status": 201}} for a in actions]}


def test_bulk_units_isolate_the_item_that_spoils_a_whole_request():
    units = [[{"create": {"_index": "x", "_id": i}}, {}] for i in ("a", "b", EMOJI_ID, "c", "d")]
    client = RefusingClient()
    results = esio.bulk_units(client, units)
    assert [r["status"] for r in results] == [201, 201, 400, 201, 201]
    assert "id is too long" in results[2]["error"]["reason"]
    assert client.requests <= 7  # halving: a handful of requests, not one per item


# --- item 2: one writer per spool file ----------------------------------------------------------------

def test_a_second_writer_takes_the_next_slot_and_adopts_orphaned_ones(tmp_path):
    path = tmp_path / "spool.jsonl"
    first, first_lock = claim_slot(path)
    second, second_lock = claim_slot(path)
    assert (first, second) == (path, slot_path(path, 1)) == (path, tmp_path / "spool.1.jsonl")
    second.write_text("{}\n")
    assert orphaned_slots(path, first) == []  # held by the second writer
    second_lock.release()
    [(adopted, lock)] = orphaned_slots(path, first)
    assert adopted == second
    third, third_lock = claim_slot(path)
    assert third == slot_path(path, 2)  # slot 1 is held by the writer that adopted it
    for held in (third_lock, lock, first_lock):
        held.release()

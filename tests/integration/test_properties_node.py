"""Property-based tests through the public API on a real node (issue 15): feedback events, and contexts and
filters through the client wrapper. The invariant: a clear lrr-es error or a correct result, and every
other event stored. (Search bodies through the wrapper: tests/integration/test_client_node.py; texts,
filters, contexts and pages through the engine: tests/integration/test_reliability_node.py.)"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from elasticsearch.exceptions import TransportError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lrr_es import es as esio
from lrr_es.client import LrrClient
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.errors import FeedbackError
from lrr_es.migrate import migrate

pytestmark = pytest.mark.integration
DOCS = 24
ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates and NUL too
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def catalog(es, drop_catalog):
    """24 songs and artists over four decades, in two genres."""
    name = f"test-prop-{uuid.uuid4().hex[:8]}"
    migrate(es, config_from_dict({"indices": {name: {}}}), name, progress=False, echo=lambda _: None)
    for i in range(DOCS):
        esio.put_document(es, name, f"d{i}", {
            "title": f"Love Song {i}" if i % 2 else f"Rock Night {i}", "artist": [f"Band {i % 5}"],
            "entity_type": "song" if i % 3 else "artist", "year": 1970 + 2 * i, "genre": ["pop", "rock"][i % 2]})
    esio.refresh(es, name)
    yield name
    drop_catalog(name)


@pytest.fixture(scope="module")
def engine(es, catalog, tmp_path_factory):
    spool = tmp_path_factory.mktemp("prop-spool") / "spool.jsonl"
    engine = LrrEngine(es, config_from_dict({"indices": {catalog: {}}, "feedback": {
        "flush_ms": 20, "spool_path": str(spool)}}))
    yield engine
    engine.close()


# --- feedback events ---------------------------------------------------------------------------------

NOW = datetime.now(timezone.utc).replace(tzinfo=None)  # naive datetimes are UTC
NOW_MS = int(NOW.replace(tzinfo=timezone.utc).timestamp() * 1000)
UTF8 = st.characters(codec="utf-8")  # any character but lone surrogates
VALID = {  # values feedback must accept (and Elasticsearch must store)
    "search_id": st.from_regex(r"[a-f0-9]{8,32}", fullmatch=True),
    "doc_id": st.one_of(st.sampled_from([f"d{i}" for i in range(DOCS)]), st.from_regex(r"[A-Za-z0-9_.-]{1,40}", fullmatch=True),
                        st.just("\u00e9t\u00e9-\U0001f3b5")),
    "action": st.sampled_from(["click", "play", "like", "skip", "dislike", "add_to_favorites", "impression"]),
    "position": st.one_of(st.none(), st.integers(0, 100_000)),
    "session_id": st.one_of(st.none(), st.from_regex(r"u[0-9]{1,6}", fullmatch=True)),
    "value": st.one_of(st.none(), st.floats(0, 3.4e38), st.integers(0, 10 ** 6)),
    "timestamp": st.one_of(st.none(), st.integers(NOW_MS - 60 * 86_400_000, NOW_MS),
                           st.datetimes(min_value=datetime(2001, 1, 1), max_value=NOW),
                           st.datetimes(min_value=datetime(2001, 1, 1), max_value=NOW).map(lambda d: d.isoformat() + "Z")),
    "query": st.one_of(st.sampled_from(["love song", "rock", "band 3", "\u00e9t\u00e9 love"]),
                       st.text(UTF8, min_size=1, max_size=60).filter(str.strip)),
    "event_id": st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9._:-]{1,60}", fullmatch=True),
                          st.text(UTF8.filter(lambda c: c != "\x00"), min_size=1, max_size=120).filter(
                              lambda t: t.strip() == t and t)),
}
BAD = {  # one of these in a call is a FeedbackError naming the field
    "search_id": st.sampled_from([5, "", " s1", "\ud800s", "s" * 201, "a\x00b"]),
    "doc_id": st.sampled_from([None, 7, "", "\U0001f3b5" * 130, "d\ud800"]),
    "action": st.sampled_from(["Click", "teleport", 3, "", None]),
    "position": st.sampled_from([-1, 100_001, True, 1.5, "3", 10 ** 400]),
    "session_id": st.sampled_from([5, " u1", "u\ud800", "u" * 257]),
    "value": st.sampled_from([-1, float("nan"), float("inf"), 3.5e38, 10 ** 400, True, "3"]),
    "timestamp": st.sampled_from([datetime(1999, 12, 31), NOW_MS + 2 * 86_400_000, "yesterday", float("nan"), True,
                                  1_700_000_000]),
    "query": st.sampled_from(["   ", 5, "\ud800 love", "x" * 10_001]),
    "index": st.sampled_from(["an-app-index", 5, ""]),
    "event_id": st.sampled_from(["\U0001f3b5" * 130, "e" * 201, "", " e", 7, "e\ud800"]),
}
REQUIRED = ("search_id", "doc_id", "action")


@st.composite
def feedback_calls(draw, catalog: str) -> tuple[str | None, dict]:
    """One feedback call's arguments: every value valid, or one field bad (named in the first item)."""
    bad = draw(st.sampled_from([None, None, None, *BAD]))
    kwargs = {name: draw(BAD[name] if name == bad else strategy, label=name) for name, strategy in VALID.items()}
    kwargs["index"] = draw(BAD["index"]) if bad == "index" else catalog
    return bad, {k: v for k, v in kwargs.items() if v is not None or k in REQUIRED or k == bad}


def stored_ids(es, ids: set[str]) -> set[str]:
    esio.refresh(es, "lrr-events")
    return {h["_id"] for h in esio.scan(es, "lrr-events", {"ids": {"values": sorted(ids)}})} if ids else set()


@SETTINGS
@given(data=st.data())
def test_any_feedback_is_a_feedback_error_or_stored_and_never_costs_another(es, engine, catalog, data):
    """A call with a bad field raises FeedbackError naming it; every other call returns an event id and,
    after a flush, that event is in lrr-events, whatever the calls around it were; Elasticsearch
    refused none of them."""
    writer = engine.feedback_writer
    rejected_before = writer.stats.rejected
    accepted = set()
    for bad, kwargs in data.draw(st.lists(feedback_calls(catalog), min_size=1, max_size=6), label="calls"):
        options = {k: v for k, v in kwargs.items() if k not in REQUIRED}
        try:
            accepted.add(engine.feedback(*(kwargs[name] for name in REQUIRED), **options))
        except FeedbackError as exc:
            event(f"{bad} -> FeedbackError")
            assert bad is not None, f"a valid call was refused: {exc}"
            assert bad in str(exc) or (bad == "index" and "configured" in str(exc)), exc
            continue
        event(f"{bad} -> accepted")
        assert bad is None, f"a bad {bad} was accepted: {kwargs[bad]!r:.80}"
    assert writer.flush(60), f"{writer.pending} events still pending"
    assert writer.stats.rejected == rejected_before, "Elasticsearch refused an event feedback() accepted"
    assert stored_ids(es, accepted) == accepted


# --- contexts and filters through the client wrapper ----------------------------------------------------

@pytest.fixture(scope="module")
def wrapper(es, engine, catalog):
    return LrrClient(es, engine.config, engine=engine)


CLAUSES = [{"term": {"entity_type": "song"}}, {"term": {"genre": "rock"}}, {"range": {"year": {"gte": 1990}}},
           {"range": {"year": {"lt": 1985}}}, {"bool": {"must_not": [{"term": {"entity_type": "artist"}}]}},
           {"terms": {"genre": ["pop", "jazz"]}}, {"exists": {"field": "year"}}]
HOSTILE_CLAUSES = [{"term": {"year": "not a year"}}, {"range": {"year": {"gte": "x"}}}, {"no_such_query": {}},
                   {"term": {}}]
NOT_A_COUNT = st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9), st.text(max_size=3),
                       st.sampled_from([float("nan"), float("inf"), 10 ** 400, True, False]))
GOOD_CONTEXTS = st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "device": st.sampled_from(["tv", "mobile", "desktop", "\u00e9cran"]), "user_searches": st.integers(0, 10 ** 6),
    "timestamp": st.integers(0, 4 * 10 ** 12)}))
BAD_CONTEXTS = st.one_of(
    st.fixed_dictionaries({"device": st.integers()}), st.fixed_dictionaries({"user_searches": NOT_A_COUNT}),
    st.fixed_dictionaries({"timestamp": NOT_A_COUNT}),
    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2), st.integers(), st.text(max_size=4),
    st.lists(st.integers(), max_size=2))


def matches(source: dict, clause: dict) -> bool:
    """Whether ``source`` satisfies one of CLAUSES (the expectation, written out independently)."""
    kind, body = next(iter(clause.items()))
    field, value = next(iter(body.items())) if kind != "bool" else (None, None)
    if kind == "term":
        return source.get(field) == value or (isinstance(source.get(field), list) and value in source[field])
    if kind == "terms":
        have = source.get(field) if isinstance(source.get(field), list) else [source.get(field)]
        return any(v in have for v in value)
    if kind == "range":
        return all((source.get(field) >= v) if op == "gte" else (source.get(field) < v) for op, v in value.items())
    if kind == "exists":
        return source.get(value) is not None
    return not any(matches(source, c) for c in body["must_not"])


def hit_ids(response: dict) -> list[str]:
    return [h["_id"] for h in response["hits"]["hits"]]


@SETTINGS
@given(text=st.sampled_from(["love song", "rock night", "band 3", "love"]), bad_context=st.booleans(), data=st.data(),
       clauses=st.lists(st.sampled_from(CLAUSES), max_size=3), hostile=st.one_of(st.just([]), st.just([]), st.just([]), st.sampled_from(HOSTILE_CLAUSES).map(lambda c: [c])),
       size=st.sampled_from([3, 10]))
def test_any_context_and_filters_through_the_wrapper_serve_a_correct_page_or_the_apps_own(
        es, wrapper, catalog, text, bad_context, data, clauses, hostile, size):
    """Through the wrapper, valid contexts and filters are served and the page honours every filter;
    whatever lrr-es cannot serve (a bad context, a filter Elasticsearch refuses) gets the app's own
    answer: the plain client's hits, or the plain client's own error."""
    context = data.draw(BAD_CONTEXTS if bad_context else GOOD_CONTEXTS, label="context")
    body = {"query": {"bool": {"must": [{"match": {"title": text}}], "filter": clauses + hostile}}, "size": size}
    try:
        plain = es.search(index=catalog, body=body)
    except TransportError as exc:
        with pytest.raises(type(exc)):
            wrapper.search(index=catalog, body=body, lrr={"context": context})
        event("the plain client's error")
        return
    before = wrapper.passthrough.snapshot().get("engine failed", 0)
    response = wrapper.search(index=catalog, body=body, lrr={"context": context})
    if wrapper.passthrough.snapshot().get("engine failed", 0) > before:
        event("the app's own answer")
        assert bad_context or hostile, "a valid context and filters were not served"
        assert "lrr" not in response and hit_ids(response) == hit_ids(plain)
        return
    assert not bad_context, f"a bad context was served: {context!r}"
    event("served")
    assert "lrr" in response and len(response["hits"]["hits"]) <= size
    assert response["hits"]["total"]["value"] >= plain["hits"]["total"]["value"]  # more when more candidates ranked
    assert all(matches(h["_source"], c) for h in response["hits"]["hits"] for c in clauses)

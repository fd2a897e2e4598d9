"""The drop-in wrapper on a real node: an app's whole flow through the plain client and through
LrrClient, compared field by field; engine-served searches keep the app's filters, _source rules,
totals and aggregations; hostile bodies end the same way as with the plain client."""
from __future__ import annotations

import copy

import pytest
from elasticsearch import helpers

from lrr_es import es as esio
from lrr_es.client import LrrClient
from lrr_es.config import config_from_dict

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(es, drop_catalog):
    """The sample catalog migrated behind the fixed alias ``test-wrapper``."""
    from lrr_es.catalog import sample_rows
    from lrr_es.load import load_rows
    from lrr_es.migrate import migrate
    name = "test-wrapper"
    drop_catalog(name)
    config = config_from_dict({"indices": {name: {"strategies": ["lexical", "popular", "memory", "fuzzy"]}},
                               "feedback": {"ubi_index": None}})
    migrate(es, config, name, progress=False, echo=lambda _: None)
    load_rows(es, config.index(name), sample_rows(400, seed=5), progress=False, threads=1)
    esio.refresh(es, name)
    yield name, config
    drop_catalog(name)


@pytest.fixture(scope="module")
def wrapper(es, catalog):
    client = LrrClient(es, catalog[1])
    yield client
    client.lrr.close()


def _same(plain, wrapped, path="response"):
    """Equal field by field, except ``took``."""
    if isinstance(plain, dict):
        assert isinstance(wrapped, dict), path
        keys = set(plain) - {"took"}
        assert keys == set(wrapped) - {"took"}, f"{path}: {sorted(keys ^ (set(wrapped) - {'took'}))}"
        for key in keys:
            _same(plain[key], wrapped[key], f"{path}.{key}")
    elif isinstance(plain, list):
        assert isinstance(wrapped, list) and len(plain) == len(wrapped), path
        for i, (a, b) in enumerate(zip(plain, wrapped)):
            _same(a, b, f"{path}[{i}]")
    else:
        assert plain == wrapped, path


def test_an_apps_whole_flow_passes_through_unchanged(es, wrapper, drop_catalog):
    """create, bulk, scan, search (filters, aggs, highlight, paging, sort), count, get, mget, msearch, delete."""
    results = {}
    for label, client in (("plain", es), ("wrapped", wrapper)):
        index = f"test-app-{label}"
        drop_catalog(index)
        client.indices.create(index=index, body={"mappings": {"properties": {
            "name": {"type": "text"}, "kind": {"type": "keyword"}, "n": {"type": "integer"}}}})
        docs = [{"_index": index, "_id": str(i), "_source": {"name": f"item {i} {'red' if i % 2 else 'blue'}",
                                                              "kind": "ab"[i % 2], "n": i}} for i in range(60)]
        ok, errors = helpers.bulk(client, docs, refresh=True)
        scanned = sorted(h["_id"] for h in helpers.scan(client, index=index, query={"query": {"match_all": {}}}))
        body = {"query": {"bool": {"must": [{"match": {"name": "red"}}], "filter": [{"term": {"kind": "b"}}]}},
                "aggs": {"kinds": {"terms": {"field": "kind"}}}, "highlight": {"fields": {"name": {}}},
                "sort": [{"n": "desc"}], "from": 5, "size": 5}
        out = {
            "bulk": (ok, errors), "scan": scanned,
            "search": client.search(index=index, body=body),
            "match": client.search(index=index, body={"query": {"match": {"name": "item"}}, "size": 3}),
            "count": client.count(index=index, body={"query": {"term": {"kind": "a"}}}),
            "get": client.get(index=index, id="7"),
            "mget": client.mget(index=index, body={"ids": ["1", "2", "99"]}),
            "msearch": client.msearch(body=[{"index": index}, {"query": {"term": {"kind": "a"}}, "size": 2},
                                            {"index": index}, {"query": {"match": {"name": "blue"}}, "size": 2}]),
            "delete": client.delete(index=index, id="3", refresh=True),
            "after": client.count(index=index),
        }
        out["msearch"]["responses"] = [{k: v for k, v in r.items() if k != "took"} for r in out["msearch"]["responses"]]
        results[label] = out
        drop_catalog(index)
    plain, wrapped = results["plain"], results["wrapped"]
    for key in plain:
        if key in ("search", "match", "msearch", "get", "mget", "delete"):
            # the index name differs by label; compare the rest
            _same(_renamed(plain[key], "plain"), _renamed(wrapped[key], "wrapped"), key)
        else:
            assert plain[key] == wrapped[key], key
    assert wrapper.passthrough.snapshot().get("index not configured", 0) >= 3


def _renamed(value, label):
    if isinstance(value, dict):
        return {k: _renamed(v, label) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, label) for v in value]
    return "INDEX" if value == f"test-app-{label}" else value


APP_BODY = {"query": {"bool": {"must": [{"multi_match": {"query": "love", "fields": ["title^2", "artist"]}}],
                               "filter": [{"term": {"entity_type": "song"}}],
                               "must_not": [{"term": {"explicit": True}}]}},
            "aggs": {"genre": {"terms": {"field": "genre"}}, "years": {"stats": {"field": "year"}}},
            "post_filter": {"range": {"year": {"gte": 1970}}},
            "highlight": {"fields": {"title": {}}}, "_source": {"includes": ["title", "year", "genre", "explicit",
                                                                              "entity_type"]},
            "size": 10, "track_total_hits": True}


def test_an_engine_served_search_keeps_the_apps_filters_source_totals_and_aggregations(es, wrapper, catalog):
    alias = catalog[0]
    plain = es.search(index=alias, body=copy.deepcopy(APP_BODY))
    served = wrapper.search(index=alias, body=copy.deepcopy(APP_BODY))
    assert served["lrr"]["search_id"] and served["lrr"]["plan"]
    assert set(served) == set(plain) | {"lrr"}
    assert served["aggregations"] == plain["aggregations"]
    counted, pool = plain["hits"]["total"], served["lrr"]["candidates"]
    assert served["hits"]["total"] == (counted if counted["value"] >= pool else {"value": pool, "relation": "gte"})
    assert served["_shards"] == plain["_shards"] and served["timed_out"] is False
    hits = served["hits"]["hits"]
    assert hits and len(hits) <= 10
    concrete = esio.alias_targets(es, alias)
    for hit in hits:
        assert hit["_index"] in concrete
        assert set(hit["_source"]) <= {"title", "year", "genre", "explicit", "entity_type"}
        assert hit["_source"]["entity_type"] == "song" and hit["_source"].get("explicit") is not True
        assert hit["_source"]["year"] >= 1970
    highlighted = [h for h in hits if "highlight" in h]
    assert highlighted and all("<em>" in h["highlight"]["title"][0] for h in highlighted)
    # every served hit matches the app's query with its filters and post_filter
    ids = [h["_id"] for h in hits]
    check = {"query": {"bool": {"must": [APP_BODY["query"], APP_BODY["post_filter"]],
                                "filter": [{"ids": {"values": ids}}]}}, "size": len(ids)}
    assert esio.search(es, alias, check)["hits"]["total"]["value"] == len(ids)
    assert served["hits"]["max_score"] == max(h["_score"] for h in hits)


def test_page_two_follows_page_one(wrapper, catalog):
    body = {"query": {"match": {"title": "love"}}, "size": 5}
    first = wrapper.search(index=catalog[0], body=body)
    second = wrapper.search(index=catalog[0], body={**body, "from": 5})
    assert "lrr" in first and "lrr" in second
    ids = [h["_id"] for h in first["hits"]["hits"] + second["hits"]["hits"]]
    assert len(ids) == len(set(ids)) == 10


@pytest.mark.parametrize("body", [
    {"query": {"match": {"title": {"query": "love", "bogus_option": 1}}}},  # Elasticsearch refuses the option
    {"query": {"bool": {"must": [{"match": {"title": "love"}}], "filter": [{"no_such_query": {}}]}}},
    {"query": {"match": {"title": "love"}}, "from": 10000, "size": 10},  # past the result window
    {"query": {"match": {"title": "love"}}, "aggs": {"x": {"terms": {"field": "title"}}}},  # text field aggregation
])
def test_hostile_bodies_end_as_with_the_plain_client(es, wrapper, catalog, body):
    outcomes = []
    for client in (es, wrapper):
        try:
            client.search(index=catalog[0], body=copy.deepcopy(body))
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - the class is what is compared
            outcomes.append(type(exc).__name__)
    assert outcomes[0] == outcomes[1] and outcomes[0] != "ok"


def test_learning_off_and_opting_out_pass_everything_through(es, catalog):
    alias, config = catalog
    off = config_from_dict({"indices": {alias: {"learning": False}}})
    client = LrrClient(es, off)
    body = {"query": {"match": {"title": "love"}}, "size": 3}
    assert "lrr" not in client.search(index=alias, body=body)
    on = LrrClient(es, config)
    assert "lrr" not in on.search(index=alias, body=body, lrr=False)
    assert client.passthrough.snapshot() == {"learning off": 1} and on.passthrough.snapshot() == {"opted out": 1}
    client.lrr.close()
    on.lrr.close()


def test_a_failing_engine_serves_the_apps_own_search(es, catalog):
    alias, config = catalog

    class Broken:
        def search(self, *args, **kwargs):
            raise RuntimeError("a bug in the engine")

        def close(self):
            pass
    client = LrrClient(es, config, engine=Broken())
    body = {"query": {"match": {"title": "love"}}, "size": 3}
    assert client.search(index=alias, body=body)["hits"] == es.search(index=alias, body=body)["hits"]
    assert client.passthrough.snapshot() == {"engine failed": 1}


def test_elasticsearch_dsl_searches_through_the_wrapper(wrapper, catalog):
    from elasticsearch_dsl import A, Search
    search = Search(using=wrapper, index=catalog[0]).query("multi_match", query="love", fields=["title", "artist"])
    search = search.filter("term", entity_type="song")
    search.aggs.bucket("genres", A("terms", field="genre"))
    response = search[0:5].execute()
    assert response.lrr.search_id and len(response) == 5
    assert all(hit.entity_type == "song" for hit in response)
    assert response.aggregations.genres.buckets and response.hits.total.value >= 5


def test_ubi_events_feed_the_engine(es, catalog):
    alias, config = catalog
    client = LrrClient(es, config)
    served = client.search(index=alias, body={"query": {"match": {"title": "love"}}, "size": 3})
    first = served["hits"]["hits"][0]["_id"]
    event_ids = client.lrr.feedback_writer.feedback_ubi([{
        "action_name": "click", "query_id": served["lrr"]["search_id"], "session_id": "s1",
        "event_attributes": {"object": {"object_id": first}, "position": {"ordinal": 1}}}])
    assert client.lrr.feedback_writer.flush(timeout=30)
    client.lrr.close()
    stored = esio.get_source(es, "lrr-events", event_ids[0])
    assert stored["search_id"] == served["lrr"]["search_id"] and stored["doc_id"] == first


def test_the_example_app_runs_unchanged_through_the_wrapper_and_its_click_log_feeds_lrr(es, catalog, drop_catalog):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "examples" / "music_app.py"
    spec = importlib.util.spec_from_file_location("music_app", path)
    music_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(music_app)
    music_app.INDEX = catalog[0]
    alias, _ = catalog
    drop_catalog("ubi_events")
    config = config_from_dict({"indices": {alias: {"strategies": ["lexical", "popular", "memory", "fuzzy"]}},
                               "feedback": {"ubi_index": "ubi_events"}})
    learning = LrrClient(es, config)
    before, after = music_app.search(es, "love", page=2), music_app.search(learning, "love", page=2)
    assert after["facets"] == before["facets"] and len(after["hits"]) == len(before["hits"]) == 10
    assert after["total"] >= before["total"] and all(h["title"] for h in after["hits"])
    clicked = after["hits"][0]["id"]
    music_app.log_click(learning, after["query_id"], clicked, 11, "s1")
    assert learning.lrr.feedback_writer.flush(timeout=30)
    learning.lrr.close()
    esio.refresh(es, "lrr-events")
    events = esio.search(es, "lrr-events", {"query": {"term": {"search_id": after["query_id"]}}})["hits"]["hits"]
    assert [(e["_source"]["doc_id"], e["_source"]["position"]) for e in events] == [(clicked, 11)]
    esio.refresh(es, "ubi_events")
    assert esio.count(es, "ubi_events") == 1  # the app's own log keeps its event
    drop_catalog("ubi_events")
    # the one line: the app's code names lrr-es only in make_client's learning branch
    lines = [line for line in path.read_text().splitlines() if "lrr_es" in line and not line.lstrip().startswith("#")]
    assert lines == ["    from lrr_es import LrrClient, load_config  # with the change, these two names are imported at the top"]


def test_from_config_builds_the_wrapper_from_a_file_or_a_config(es, es_url, catalog, tmp_path):
    alias, config = catalog
    path = tmp_path / "lrr-es.yaml"
    path.write_text(f"elasticsearch: {{url: {es_url}}}\nindices:\n  {alias}: {{strategies: [lexical, memory]}}\n"
                    "feedback: {ubi_index: null}\n")
    from_file = LrrClient.from_config(path)
    served = from_file.search(index=alias, body={"query": {"match": {"title": "love"}}, "size": 2})
    assert served["lrr"]["search_id"] and [p["strategy"] for p in served["lrr"]["plan"]] == ["lexical", "memory"]
    from_file.close()
    given = LrrClient.from_config(config, es_client=es)
    assert given.lrr.es is es and given.info()["version"]["number"]
    given.lrr.close()


# --- property: whatever the body, the wrapper ends as the plain client does ---------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TEXTS = st.sampled_from(["love", "midnight rock", "lvoe", "80s pop", "", "title:love", "love -rock", "\u00e9t\u00e9",
                         "x" * 300])
FIELDS = st.sampled_from(["title", "artist", "title^2", "sku", "*"])
TEXT_QUERIES = st.one_of(
    st.builds(lambda f, t: {"match": {f.split("^")[0]: t}}, FIELDS, TEXTS),
    st.builds(lambda fs, t: {"multi_match": {"query": t, "fields": fs}}, st.lists(FIELDS, min_size=1, max_size=3), TEXTS),
    st.builds(lambda t: {"query_string": {"query": t}}, TEXTS),
    st.builds(lambda t: {"match_phrase": {"title": {"query": t, "slop": 1}}}, TEXTS),
)
FILTERS = st.sampled_from([{"term": {"entity_type": "song"}}, {"range": {"year": {"gte": 1980}}},
                           {"terms": {"genre": ["pop", "rock"]}}, {"exists": {"field": "year"}},
                           {"term": {"no_such_field": 1}}, {"range": {"year": {"gte": "not a year"}}},
                           {"bogus_query": {}}])
QUERIES = st.one_of(TEXT_QUERIES, st.builds(
    lambda must, flt, neg: {"bool": {"must": must, "filter": flt, "must_not": neg}},
    st.lists(TEXT_QUERIES, min_size=1, max_size=2), st.lists(FILTERS, max_size=2), st.lists(FILTERS, max_size=1)))
BODIES = st.fixed_dictionaries({"query": QUERIES}, optional={
    "size": st.sampled_from([0, 1, 10, 50, -1]), "from": st.sampled_from([0, 10, 9995]),
    "_source": st.sampled_from([False, ["title"], {"excludes": ["artist"]}]),
    "sort": st.sampled_from([["_score"], [{"year": "desc"}]]),
    "aggs": st.sampled_from([{"g": {"terms": {"field": "genre"}}}, {"bad": {"terms": {"field": "title"}}}]),
    "post_filter": FILTERS, "track_total_hits": st.sampled_from([True, 100])})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_any_body_ends_through_the_wrapper_as_through_the_plain_client(es, wrapper, catalog, body):
    alias = catalog[0]
    outcomes = []
    for client in (es, wrapper):
        try:
            outcomes.append(client.search(index=alias, body=copy.deepcopy(body)))
        except Exception as exc:  # noqa: BLE001 - the class is what is compared
            outcomes.append(type(exc).__name__)
    plain, through = outcomes
    if isinstance(plain, str) or isinstance(through, str):
        assert plain == through, body
        return
    assert set(through) - {"lrr"} == set(plain), body
    assert through.get("aggregations") == plain.get("aggregations"), body
    if "lrr" not in through:
        return
    hits = through["hits"]["hits"]
    assert len(hits) <= body.get("size", 10)
    if hits:  # every served hit passes the app's filters (query text aside: the engine finds more than BM25)
        narrowing = [dict(c) for c in translate_filters(body)]
        check = {"query": {"bool": {"filter": narrowing + [{"ids": {"values": [h["_id"] for h in hits]}}]}},
                 "size": len(hits)}
        assert esio.search(es, alias, check)["hits"]["total"]["value"] == len({h["_id"] for h in hits}), body


def translate_filters(body):
    from lrr_es.client.translate import translate
    request = translate("x", body, {"x": ("title", "title.*", "artist", "artist.*")})
    return request.filters


def test_pass_throughs_are_written_to_lrr_passthrough_by_index_and_reason(es, catalog):
    from lrr_es.names import PASSTHROUGH_INDEX
    alias, config = catalog
    client = LrrClient(es, config, passthrough_interval_s=3600)  # written only when flushed here
    body = {"query": {"match": {"title": "love"}}, "size": 3}
    client.search(index=alias, body={**body, "sort": ["_doc"]})
    client.search(index=alias, body=body, lrr=False)
    client.search(index=alias, body=body, lrr=False)
    client.search(index="lrr-decisions", body=body)  # an index lrr-es does not serve
    assert client.passthrough.flush() == 3 and client.passthrough.flush() == 0  # each count written once
    client.lrr.close()
    esio.refresh(es, PASSTHROUGH_INDEX)
    mine = {"terms": {"index": [alias, "lrr-decisions"]}}
    rows = sorted((h["_source"]["index"], h["_source"]["reason"], h["_source"]["count"])
                  for h in esio.search(es, PASSTHROUGH_INDEX, {"query": mine, "size": 100})["hits"]["hits"])
    esio.delete_by_query(es, PASSTHROUGH_INDEX, mine)
    assert rows == [("lrr-decisions", "index not configured", 1), (alias, "opted out", 2), (alias, "sort", 1)]

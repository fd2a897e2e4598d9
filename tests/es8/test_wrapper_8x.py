"""LrrClient around the app's own 8.x client on the 8.19 node: pass-through traffic is the plain
client's answer in the plain client's type, .options() and the helpers work through the wrapper,
and a configured index whose engine search cannot run on this node (no rank_feature, no Painless)
still gets Elasticsearch's own answer."""
from __future__ import annotations

from elasticsearch import Elasticsearch, helpers
from elastic_transport import ObjectApiResponse

from lrr_es import LrrClient
from lrr_es.config import config_from_dict

DOCS = [{"title": f"harbour {word}", "kind": "ab"[i % 2], "n": i} for i, word in enumerate(
    ["lights", "master", "quiet", "winter", "garden", "rooms", "lights again", "north"])]


def _app(es_url, index):
    app = Elasticsearch(es_url)
    app.indices.create(index=index, mappings={"properties": {"title": {"type": "text"}, "kind": {"type": "keyword"},
                                                             "n": {"type": "integer"}}})
    return app


def test_an_apps_8x_traffic_through_the_wrapper_is_the_plain_clients(es_url, index_name):
    app = _app(es_url, index_name)
    wrapped = LrrClient(app, config_from_dict({"indices": {"catalog": {}}, "feedback": {"ubi_index": None}}))
    ok, errors = helpers.bulk(wrapped, ({"_index": index_name, "_id": str(i), "_source": d} for i, d in enumerate(DOCS)),
                              refresh="wait_for")
    assert (ok, errors) == (len(DOCS), [])
    scanned = sorted(h["_id"] for h in helpers.scan(wrapped, index=index_name, query={"query": {"match_all": {}}}))
    assert scanned == sorted(str(i) for i in range(len(DOCS)))
    query = {"bool": {"must": [{"match": {"title": "harbour"}}], "filter": [{"term": {"kind": "a"}}]}}
    plain = app.search(index=index_name, query=query, aggs={"k": {"terms": {"field": "kind"}}}, size=3)
    through = wrapped.options(request_timeout=10).search(index=index_name, query=query,
                                                         aggs={"k": {"terms": {"field": "kind"}}}, size=3)
    assert isinstance(through, ObjectApiResponse) and isinstance(wrapped.options(), LrrClient)
    assert {k: v for k, v in through.body.items() if k != "took"} == {k: v for k, v in plain.body.items() if k != "took"}
    assert wrapped.count(index=index_name)["count"] == len(DOCS)
    assert wrapped.passthrough.snapshot() == {"index not configured": 2}  # the scan's search and the search
    wrapped.lrr.close()
    app.indices.delete(index=index_name)


def test_an_engine_that_cannot_run_on_this_node_serves_the_apps_own_search(es_url, index_name):
    app = _app(es_url, index_name)
    helpers.bulk(app, ({"_index": index_name, "_id": str(i), "_source": d} for i, d in enumerate(DOCS)), refresh="wait_for")
    config = config_from_dict({"indices": {index_name: {"strategies": ["lexical", "memory"]}},
                               "feedback": {"ubi_index": None}})
    wrapped = LrrClient(app, config)
    body = {"query": {"match": {"title": "harbour lights"}}, "size": 4}
    through = wrapped.search(index=index_name, **body)
    plain = app.search(index=index_name, **body)
    assert isinstance(through, ObjectApiResponse)
    assert through.body["hits"] == plain.body["hits"]
    assert wrapped.passthrough.snapshot() == {"engine failed": 1}
    wrapped.lrr.close()
    app.indices.delete(index=index_name)


def test_elasticsearch_dsl_inside_the_8x_client_works_through_the_wrapper(es_url, index_name):
    from elasticsearch.dsl import A, Search
    app = _app(es_url, index_name)
    helpers.bulk(app, ({"_index": index_name, "_id": str(i), "_source": d} for i, d in enumerate(DOCS)), refresh="wait_for")
    wrapped = LrrClient(app, config_from_dict({"indices": {"catalog": {}}, "feedback": {"ubi_index": None}}))
    search = Search(using=wrapped, index=index_name).query("match", title="harbour").filter("term", kind="a")
    search.aggs.bucket("kinds", A("terms", field="kind"))
    through, plain = search[0:2].execute(), Search(using=app, index=index_name).update_from_dict(
        search[0:2].to_dict()).execute()
    assert [h.meta.id for h in through] == [h.meta.id for h in plain] and len(through) == 2
    assert through.hits.total.value == plain.hits.total.value == 4 and through[0].kind == "a"
    assert through.aggregations.kinds.buckets[0].key == "a"
    assert wrapped.passthrough.snapshot() == {"index not configured": 1}
    wrapped.lrr.close()
    app.indices.delete(index=index_name)

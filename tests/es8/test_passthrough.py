"""Pass-through smoke test: an app's ordinary traffic with the plain 8.x client works on the 8.19 node
and gives the same answers as the same requests issued through lrr_es.es."""
from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch, helpers

from lrr_es import es as esio

BOOKS = [
    {"title": "The Quiet Harbour", "author": "Lund", "year": 2001, "price": 12.5, "tags": ["sea", "crime"]},
    {"title": "Harbour Lights", "author": "Moreau", "year": 1998, "price": 8.0, "tags": ["sea"]},
    {"title": "A Winter Garden", "author": "Lund", "year": 2010, "price": 15.0, "tags": ["garden"]},
    {"title": "Quiet Rooms", "author": "Okafor", "year": 2015, "price": 9.5, "tags": ["crime"]},
    {"title": "The Harbour Master", "author": "Okafor", "year": 2020, "price": 21.0, "tags": ["sea", "history"]},
]
SEARCH = {
    "query": {"bool": {"must": [{"match": {"title": "harbour"}}], "filter": [{"range": {"year": {"gte": 1999}}}]}},
    "aggs": {"authors": {"terms": {"field": "author"}}, "avg_price": {"avg": {"field": "price"}}},
    "highlight": {"fields": {"title": {}}},
    "sort": [{"year": "asc"}],
}


def _without_took(response: dict) -> dict:
    out = {k: v for k, v in response.items() if k != "took"}
    if "responses" in out:
        out["responses"] = [_without_took(r) for r in out["responses"]]
    return out


@pytest.fixture
def app_index(es_url, index_name):
    """The app's own index, written with the plain client: explicit mapping, one document indexed, the rest bulked."""
    app = Elasticsearch(es_url)
    app.indices.create(index=index_name, settings={"number_of_shards": 1, "number_of_replicas": 0}, mappings={
        "properties": {"title": {"type": "text"}, "author": {"type": "keyword"}, "year": {"type": "integer"},
                       "price": {"type": "float"}, "tags": {"type": "keyword"}}})
    assert app.index(index=index_name, id="1", document=BOOKS[0])["result"] == "created"
    ok, errors = helpers.bulk(app, ({"_index": index_name, "_id": str(i), "_source": b} for i, b in enumerate(BOOKS[1:], 2)),
                              refresh="wait_for")
    assert (ok, errors) == (4, [])
    app.indices.refresh(index=index_name)
    yield app, index_name
    app.close()


def test_search_with_filter_aggs_and_highlight(app_index, es):
    app, index = app_index
    plain = app.search(index=index, **SEARCH).body
    assert [h["_id"] for h in plain["hits"]["hits"]] == ["1", "5"]
    assert plain["hits"]["hits"][0]["highlight"]["title"] == ["The Quiet <em>Harbour</em>"]
    assert {b["key"]: b["doc_count"] for b in plain["aggregations"]["authors"]["buckets"]} == {"Lund": 1, "Okafor": 1}
    assert plain["aggregations"]["avg_price"]["value"] == pytest.approx(16.75)
    assert _without_took(esio.search(es, index, SEARCH)) == _without_took(plain)


def test_msearch_same_answers(app_index, es):
    app, index = app_index
    searches = [{"index": index}, {"query": {"term": {"tags": "crime"}}, "sort": ["_doc"]},
                {"index": index}, SEARCH]
    plain = app.msearch(searches=searches).body
    assert [r["hits"]["total"]["value"] for r in plain["responses"]] == [2, 2]
    assert _without_took(esio.msearch(es, searches)) == _without_took(plain)


def test_get_mget_count_and_scan_same_answers(app_index, es):
    app, index = app_index
    assert esio.get_document(es, index, "3") == app.get(index=index, id="3").body
    plain_docs = app.mget(index=index, ids=["2", "4", "404"]).body["docs"]
    assert esio.mget_sources(es, index, ["2", "4", "404"]) == {d["_id"]: d["_source"] for d in plain_docs if d["found"]}
    crime = {"term": {"tags": "crime"}}
    assert esio.count(es, index, crime) == app.count(index=index, query=crime)["count"] == 2
    plain_scan = [(h["_id"], h["_source"]) for h in helpers.scan(app, index=index, query={"sort": ["_doc"]},
                                                                preserve_order=True)]
    assert [(h["_id"], h["_source"]) for h in esio.scan(es, index)] == plain_scan
    assert [s for _, s in plain_scan] == BOOKS


def test_bulk_and_delete_through_either_path(app_index, es):
    app, index = app_index
    ok = list(esio.bulk(es, [{"_index": index, "_id": "6", "_source": {"title": "Six", "year": 2021}},
                             {"_op_type": "delete", "_index": index, "_id": "2"}], refresh="wait_for"))
    assert [r for r, _ in ok] == [True, True]
    assert app.get(index=index, id="6")["_source"]["title"] == "Six"
    assert app.delete(index=index, id="6", refresh="wait_for")["result"] == "deleted"
    assert esio.get_source(es, index, "6") is None and esio.get_source(es, index, "2") is None
    assert app.count(index=index)["count"] == esio.count(es, index) == 4

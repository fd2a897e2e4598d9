"""Every function of lrr_es.es that makes sense on the 8.19 integ-test node, with client 8.x, for real."""
from __future__ import annotations

import elasticsearch
import pytest

from lrr_es import es as esio
from lrr_es.errors import EsUnavailableError, QueryError

MAPPING = {"dynamic": "strict", "properties": {
    "title": {"type": "text"}, "genre": {"type": "keyword"}, "year": {"type": "integer"}, "plays": {"type": "long"}}}
SONGS = [
    {"title": "Blue Monday", "genre": "synth", "year": 1983, "plays": 900},
    {"title": "Blue Velvet", "genre": "pop", "year": 1963, "plays": 400},
    {"title": "Monday Morning", "genre": "pop", "year": 1975, "plays": 250},
    {"title": "Velvet Morning", "genre": "rock", "year": 1967, "plays": 120},
]


@pytest.fixture
def songs(es, index_name):
    """``index_name`` created with MAPPING and the four SONGS (ids 1-4), refreshed."""
    esio.create_index(es, index_name, {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": MAPPING})
    results = list(esio.bulk(es, ({"_index": index_name, "_id": str(i), "_source": s} for i, s in enumerate(SONGS, 1)),
                             refresh="wait_for"))
    assert all(ok for ok, _ in results)
    return index_name


def test_the_client_under_test_is_8x(es):
    assert esio.CLIENT_MAJOR == 8 and elasticsearch.__versionstr__.startswith("8.")
    assert type(es).__name__ == "Elasticsearch"


def test_wait_for_health_and_a_timeout_answer(es, index_name):
    assert esio.wait_for_health(es, "yellow", timeout=30)["status"] in {"yellow", "green"}
    esio.create_index(es, index_name, {"settings": {"number_of_replicas": 1}})  # one node: never green
    with pytest.raises(EsUnavailableError, match="did not reach green"):
        esio.wait_for_health(es, "green", timeout=2, index=index_name)  # 8.x answers 408 as an ApiError


def test_create_index_exists_mapping_settings_and_list(es, index_name):
    assert esio.index_exists(es, index_name) is False
    esio.create_index(es, index_name, {"mappings": MAPPING})
    esio.create_index(es, index_name, exist_ok=True)  # BadRequestError resource_already_exists, tolerated
    with pytest.raises(elasticsearch.BadRequestError):
        esio.create_index(es, index_name)
    assert esio.index_exists(es, index_name) is True  # a bool, not HeadApiResponse
    assert esio.get_mapping(es, index_name)["properties"]["genre"] == {"type": "keyword"}
    esio.put_mapping(es, index_name, {"mood": {"type": "keyword"}})
    assert "mood" in esio.get_mapping(es, index_name)["properties"]
    esio.put_settings(es, index_name, {"index.refresh_interval": "7s"})
    assert esio.get_settings(es, index_name)["refresh_interval"] == "7s"
    esio.create_index(es, f"{index_name}-b")
    assert esio.list_indices(es, f"{index_name}*") == [index_name, f"{index_name}-b"]
    assert esio.list_indices(es, "test8-no-such-prefix-*") == []
    esio.delete_index(es, f"{index_name}-b")
    esio.delete_index(es, f"{index_name}-b")  # absent: no error
    assert esio.list_indices(es, f"{index_name}*") == [index_name]


def test_index_templates_put_get_and_apply(es, index_name):
    body = {"index_patterns": [f"{index_name}-*"], "priority": 500, "version": 3, "_meta": {"by": "lrr-es"},
            "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": MAPPING}}
    assert esio.get_index_template(es, f"{index_name}-tpl") is None
    esio.put_index_template(es, f"{index_name}-tpl", body)
    stored = esio.get_index_template(es, f"{index_name}-tpl")
    assert stored["version"] == 3 and stored["index_patterns"] == [f"{index_name}-*"] and stored["_meta"] == {"by": "lrr-es"}
    esio.create_index(es, f"{index_name}-v1")
    assert esio.get_mapping(es, f"{index_name}-v1")["dynamic"] == "strict"


def test_aliases_point_and_swap_atomically(es, index_name):
    for version in ("v1", "v2"):
        esio.create_index(es, f"{index_name}-{version}")
    alias = f"{index_name}-live"
    assert esio.alias_targets(es, alias) == [] and esio.is_alias(es, alias) is False
    esio.update_aliases(es, [{"add": {"index": f"{index_name}-v1", "alias": alias}}])
    assert esio.alias_targets(es, alias) == [f"{index_name}-v1"] and esio.is_alias(es, alias) is True
    esio.update_aliases(es, [{"remove": {"index": f"{index_name}-v1", "alias": alias}},
                             {"add": {"index": f"{index_name}-v2", "alias": alias}}])
    assert esio.alias_targets(es, alias) == [f"{index_name}-v2"]


def test_bulk_streams_per_item_results_with_a_bad_item_among_good_ones(es, index_name):
    esio.create_index(es, index_name, {"mappings": MAPPING})
    actions = [{"_index": index_name, "_id": "1", "_source": SONGS[0]},
               {"_index": index_name, "_id": "bad", "_source": {"title": "x", "year": "not a year"}},
               {"_index": index_name, "_id": "2", "_source": SONGS[1]}]
    results = list(esio.bulk(es, actions, chunk_size=2, refresh=True))
    assert [ok for ok, _ in results] == [True, False, True]
    assert results[1][1]["index"]["error"]["type"] == "document_parsing_exception"
    threaded = list(esio.bulk(es, ({"_index": index_name, "_id": str(i), "_source": s} for i, s in enumerate(SONGS, 1)),
                              chunk_size=1, threads=2, refresh=True))
    assert len(threaded) == 4 and all(ok for ok, _ in threaded)
    assert esio.count(es, index_name) == 4


def test_bulk_items_returns_one_result_per_line_in_order(es, index_name):
    esio.create_index(es, index_name, {"mappings": MAPPING})
    lines = [{"index": {"_index": index_name, "_id": "a"}}, SONGS[0],
             {"index": {"_index": index_name, "_id": "b"}}, {"unknown_field": 1},  # strict mapping: rejected
             {"update": {"_index": index_name, "_id": "a"}}, {"doc": {"plays": 901}},
             {"delete": {"_index": index_name, "_id": "never-there"}}]
    items = esio.bulk_items(es, lines, request_timeout=10, refresh="wait_for")  # request_timeout: .options() on 8.x
    assert [i["status"] for i in items] == [201, 400, 200, 404]
    assert items[1]["error"]["type"] == "strict_dynamic_mapping_exception"
    assert esio.get_source(es, index_name, "a")["plays"] == 901


def test_scan_count_search_and_composite_counts(es, songs):
    assert [h["_id"] for h in esio.scan(es, songs, size=2)] == ["1", "2", "3", "4"]
    pop = list(esio.scan(es, songs, {"term": {"genre": "pop"}}, source=["title"]))
    assert sorted(h["_source"]["title"] for h in pop) == ["Blue Velvet", "Monday Morning"]
    assert all(set(h["_source"]) == {"title"} for h in pop)
    assert esio.count(es, songs) == 4 and esio.count(es, songs, {"range": {"year": {"lt": 1970}}}) == 2
    found = esio.search(es, songs, {"query": {"match": {"title": "blue"}}, "size": 1, "from": 1, "_source": ["title"],
                                    "sort": [{"plays": "desc"}], "track_total_hits": True})
    assert isinstance(found, dict) and found["hits"]["total"]["value"] == 2
    assert [h["_source"] for h in found["hits"]["hits"]] == [{"title": "Blue Velvet"}]
    assert list(esio.composite_counts(es, songs, "genre", page_size=2)) == [("pop", 2), ("rock", 1), ("synth", 1)]
    assert list(esio.composite_counts(es, songs, "no_such_field")) == []


def test_search_pages_follow_the_sort_with_search_after(es, songs):
    pages = list(esio.search_pages(es, songs, [{"year": "asc"}, {"plays": "asc"}], size=3, source=["year"]))
    assert [[h["_source"]["year"] for h in page] for page in pages] == [[1963, 1967, 1975], [1983]]
    pop = esio.search_pages(es, songs, [{"plays": "desc"}], {"term": {"genre": "pop"}}, size=1)
    assert [[h["_id"] for h in page] for page in pop] == [["2"], ["3"]]


def test_msearch_with_a_failing_sub_search(es, songs):
    searches = [{"index": songs}, {"query": {"match": {"title": "monday"}}},
                {"index": f"{songs}-missing"}, {"query": {"match_all": {}}},
                {"index": songs}, {"query": {"term": {"year": "not a number"}}}]
    responses = esio.msearch(es, searches, request_timeout=10)["responses"]
    assert responses[0]["hits"]["total"]["value"] == 2
    assert responses[1]["status"] == 404 and responses[1]["error"]["type"] == "index_not_found_exception"
    assert responses[2]["status"] == 400 and "error" in responses[2]
    filtered = esio.msearch(es, searches[:2], filter_path="responses.hits.hits._id")
    assert sorted(h["_id"] for h in filtered["responses"][0]["hits"]["hits"]) == ["1", "3"]
    assert set(filtered["responses"][0]["hits"]["hits"][0]) == {"_id"}
    with pytest.raises(QueryError, match="parsing_exception"):  # a body ES cannot parse rejects the whole request
        esio.msearch(es, [{"index": songs}, {"query": {"no_such_query": {}}}])


def test_documents_get_put_update_and_mget(es, songs):
    assert esio.get_source(es, songs, "1")["title"] == "Blue Monday"
    assert esio.get_source(es, songs, "nope") is None
    doc = esio.get_document(es, songs, "2", source_excludes=["plays"])
    assert doc["found"] and "plays" not in doc["_source"] and doc["_version"] == 1
    assert esio.put_document(es, songs, "5", {"title": "Sunday", "genre": "pop"}, refresh=True)["result"] == "created"
    assert esio.update(es, songs, "5", {"doc": {"plays": 3}}, refresh=True)["result"] == "updated"
    upserted = esio.update(es, songs, "6", {"doc": {"title": "New"}, "doc_as_upsert": True}, refresh=True)
    assert upserted["result"] == "created"
    got = esio.mget_sources(es, songs, ["1", "5", "missing"], fields=["title", "plays"], request_timeout=10)
    assert got == {"1": {"title": "Blue Monday", "plays": 900}, "5": {"title": "Sunday", "plays": 3}}
    assert esio.mget_sources(es, f"{songs}-missing", ["1"]) == {}
    assert esio.mget_sources(es, songs, []) == {}
    versioned = esio.mget_versioned(es, songs, ["5"], fields=["plays"], realtime=False)
    seq, source = versioned["5"]
    assert source == {"plays": 3} and isinstance(seq, tuple) and seq[1] >= 1  # (seq_no, primary term)
    found = es.search(index=songs, body={"query": {"ids": {"values": ["5"]}}, "seq_no_primary_term": True})
    hit = found["hits"]["hits"][0]
    assert seq == (hit["_seq_no"], hit["_primary_term"])  # what a sub-search finds is what the cache keys on


def test_index_health_counts_live_and_deleted_documents_and_segments(es, songs):
    before = esio.index_health(es, songs)
    esio.put_document(es, songs, "1", {"title": "Blue Monday", "plays": 901}, refresh=True)  # the old copy: deleted
    after = esio.index_health(es, songs)
    assert after["live"] == before["live"] == esio.count(es, songs) and after["segments"] >= 1
    assert isinstance(after["deleted"], int) and after["deleted"] >= 0  # a merge may have dropped the old copy


def test_block_unblock_and_clone(es, songs):
    esio.block_writes(es, songs)
    with pytest.raises(elasticsearch.ApiError) as blocked:
        esio.put_document(es, songs, "9", {"title": "late"})
    assert blocked.value.meta.status == 403
    esio.clone_index(es, songs, f"{songs}-clone", {"index.number_of_replicas": 0})
    esio.wait_for_health(es, "green", timeout=30, index=f"{songs}-clone")
    assert esio.count(es, f"{songs}-clone") == 4
    esio.unblock_writes(es, songs)
    esio.put_document(es, songs, "9", {"title": "late"}, refresh=True)
    assert esio.count(es, songs) == 5
    assert "blocks" not in esio.get_settings(es, songs) or esio.get_settings(es, songs)["blocks"].get("write") != "true"


def test_connect_to_nothing_names_the_url():
    with pytest.raises(EsUnavailableError, match="no Elasticsearch answers at http://127.0.0.1:9429"):
        esio.connect("http://127.0.0.1:9429", timeout=2)

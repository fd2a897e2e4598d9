"""The wrapper's response shaping: literal engine hits in, Elasticsearch-shaped responses out."""
import pytest

from lrr_es.client.response import filter_source, search_response, source_filter

DOC = {"title": "Love Story", "artist": ["Taylor Swift"], "year": 2008,
       "album": {"name": "Fearless", "label": {"name": "Big Machine", "country": "US"}},
       "tracks": [{"n": 1, "t": "a"}, {"n": 2, "t": "b"}]}


@pytest.mark.parametrize("spec, expected", [
    (None, DOC), (True, DOC),
    ("title", {"title": "Love Story"}),
    (["title", "year"], {"title": "Love Story", "year": 2008}),
    (["album.name"], {"album": {"name": "Fearless"}}),
    (["album.label.*"], {"album": {"label": {"name": "Big Machine", "country": "US"}}}),
    (["al*"], {"album": DOC["album"]}),
    ({"includes": ["album"], "excludes": ["album.label.country"]},
     {"album": {"name": "Fearless", "label": {"name": "Big Machine"}}}),
    ({"excludes": ["tracks", "year"]}, {"title": "Love Story", "artist": ["Taylor Swift"], "album": DOC["album"]}),
    ({"include": "tracks.t"}, {"tracks": [{"t": "a"}, {"t": "b"}]}),
    (["nothing"], {}),
])
def test_source_filtering_follows_elasticsearchs_rules(spec, expected):
    kept = source_filter(spec)
    assert filter_source(DOC, *kept) == expected


def test_source_false_leaves_the_source_out_and_the_response_has_the_shape_apps_read():
    hits = [{"_index": "music-v2", "_type": "_doc", "_id": "a", "_score": 3.5, "_source": DOC},
            {"_index": "music-v2", "_id": "b", "_score": 1.0, "_source": {"title": "B"}}]
    counted = {"took": 2, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
               "hits": {"total": {"value": 42, "relation": "eq"}, "max_score": None, "hits": []},
               "aggregations": {"g": {"buckets": [{"key": "pop", "doc_count": 3}]}}}
    response = search_response(hits, False, 12.6, False, counted, {"a": {"title": ["<em>Love</em> Story"]}},
                               {"search_id": "s1"})
    assert response == {
        "took": 13, "timed_out": False, "_shards": counted["_shards"],
        "hits": {"total": {"value": 42, "relation": "eq"}, "max_score": 3.5, "hits": [
            {"_index": "music-v2", "_type": "_doc", "_id": "a", "_score": 3.5,
             "highlight": {"title": ["<em>Love</em> Story"]}},
            {"_index": "music-v2", "_id": "b", "_score": 1.0}]},
        "aggregations": counted["aggregations"], "lrr": {"search_id": "s1"}}
    assert hits[0]["_source"] is DOC and "highlight" not in hits[0]  # the engine's hits are not changed


def test_an_empty_page_has_no_max_score_and_a_timed_out_count_says_so():
    response = search_response([], None, 1.0, False, {"timed_out": True, "hits": {"total": {"value": 0, "relation": "eq"}}},
                               None, {})
    assert response["hits"] == {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []}
    assert response["timed_out"] is True and "aggregations" not in response


def test_the_total_is_the_apps_own_unless_the_engine_found_more():
    counted = {"hits": {"total": {"value": 42, "relation": "eq"}}}
    hit = {"_index": "m", "_id": "a", "_score": 1.0, "_source": {}}
    assert search_response([hit], None, 1, False, counted, None, {}, pool_size=30)["hits"]["total"] == \
        {"value": 42, "relation": "eq"}
    # "80s pop" matches no title, yet structured and fuzzy found 57 songs: at least that many answer it
    none = {"hits": {"total": {"value": 0, "relation": "eq"}}}
    assert search_response([hit], None, 1, False, none, None, {}, pool_size=57)["hits"]["total"] == \
        {"value": 57, "relation": "gte"}
    assert search_response([hit], None, 1, False, {"hits": {"total": 3}}, None, {}, pool_size=5)["hits"]["total"] == 5

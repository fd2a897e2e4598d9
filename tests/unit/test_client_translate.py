"""The wrapper's translation of app search bodies: literal bodies in, engine requests or pass-through reasons out."""
import pytest

from lrr_es.client.translate import EngineRequest, PassThrough, request_body, translate

FIELDS = {"music": ("title", "title.prefix", "artist")}


def served(body, index="music"):
    out = translate(index, body, FIELDS)
    assert isinstance(out, EngineRequest), out
    return out


def reason(body, index="music"):
    out = translate(index, body, FIELDS)
    assert isinstance(out, PassThrough), out
    return out.reason


@pytest.mark.parametrize("query", [
    {"match": {"title": "love story"}},
    {"match": {"title": {"query": "love story", "operator": "and"}}},
    {"match_phrase": {"artist": "love story"}},
    {"match_bool_prefix": {"title": "love story"}},
    {"multi_match": {"query": "love  story", "fields": ["title^3", "artist"]}},
    {"multi_match": {"query": "love story"}},
    {"simple_query_string": {"query": "love story", "fields": ["title"]}},
    {"query_string": {"query": "love story", "default_field": "title"}},
    {"bool": {"must": [{"match": {"title": "love story"}}]}},
    {"bool": {"should": [{"match": {"title": "love story"}}, {"match": {"artist": "love story"}}]}},
    {"function_score": {"query": {"match": {"title": "love story"}}, "functions": [{"weight": 2}]}},
    {"boosting": {"positive": {"match": {"title": "love story"}}, "negative": {"term": {"explicit": True}},
                  "negative_boost": 0.5}},
])
def test_text_shapes_apps_use_are_served(query):
    request = served({"query": query})
    assert request.text == "love story" and request.filters == () and request.query == query
    assert (request.size, request.from_) == (10, 0)


def test_filters_must_not_filter_like_musts_and_post_filter_all_narrow_the_engine_search():
    body = {"query": {"bool": {"must": [{"match": {"title": "rock"}}, {"term": {"decade": "1980s"}}],
                               "filter": [{"range": {"year": {"gte": 1980}}}],
                               "must_not": {"term": {"explicit": True}}}},
            "post_filter": {"term": {"genre": "rock"}}, "from": 20, "size": 5, "_source": ["title"],
            "aggs": {"g": {"terms": {"field": "genre"}}}, "highlight": {"fields": {"title": {}}},
            "track_total_hits": True, "timeout": "1s", "sort": ["_score"]}
    request = served(body)
    assert request.text == "rock"
    assert request.filters == ({"range": {"year": {"gte": 1980}}}, {"bool": {"must_not": [{"term": {"explicit": True}}]}},
                               {"term": {"decade": "1980s"}}, {"term": {"genre": "rock"}})
    assert (request.from_, request.size, request.source, request.track_total_hits, request.timeout) == (20, 5, ["title"], True, "1s")
    assert request.aggs == {"g": {"terms": {"field": "genre"}}} and request.highlight == {"fields": {"title": {}}}
    assert request.post_filter == {"term": {"genre": "rock"}} and request.query == body["query"]


@pytest.mark.parametrize("body, why", [
    ({"query": {"match": {"title": "x"}}, "sort": [{"year": "desc"}]}, "sort"),
    ({"query": {"match": {"title": "x"}}, "sort": ["_score", {"year": "desc"}]}, "sort"),
    ({"query": {"match": {"title": "x"}}, "search_after": [1]}, "search_after"),
    ({"query": {"match": {"title": "x"}}, "collapse": {"field": "artist"}}, "collapse"),
    ({"query": {"match": {"title": "x"}}, "rescore": {}}, "rescore"),
    ({"query": {"match": {"title": "x"}}, "suggest": {}}, "suggest"),
    ({"query": {"match": {"title": "x"}}, "knn": {}}, "knn"),
    ({"query": {"match": {"title": "x"}}, "pit": {"id": "a"}}, "pit"),
    ({"query": {"match": {"title": "x"}}, "script_fields": {}}, "script"),
    ({"query": {"match": {"title": "x"}}, "explain": True}, "body key explain"),
    ({"query": {"match": {"title": "x"}}, "size": 0}, "size 0"),
    ({"query": {"match": {"title": "x"}}, "size": -1}, "size or from"),
    ({"query": {"match": {"title": "x"}}, "from": "2"}, "size or from"),
    ({"query": {"match_all": {}}}, "query match_all"),
    ({"query": {"bool": {"filter": [{"term": {"a": 1}}]}}}, "no text"),
    ({}, "no query"),
    ({"query": {"script_score": {"query": {"match": {"title": "x"}}, "script": {"source": "1"}}}}, "query script_score"),
    ({"query": {"match": {"sku": "x"}}}, "field not configured"),
    ({"query": {"multi_match": {"query": "x", "fields": ["sku", "description"]}}}, "field not configured"),
    ({"query": {"query_string": {"query": "title:love AND artist:swift"}}}, "query_string syntax"),
    ({"query": {"simple_query_string": {"query": "love -story"}}}, "simple_query_string syntax"),
    ({"query": {"match": {"title": 5}}}, "match without text"),
    ({"query": {"bool": {"must": [{"match": {"title": "a"}}, {"match": {"artist": "b"}}]}}}, "several texts"),
    ({"query": {"bool": {"should": [{"match": {"title": "a"}}, {"match": {"title": "a"}}],
                         "minimum_should_match": 2}}}, "bool minimum_should_match"),
    ({"query": {"function_score": {"query": {"match": {"title": "x"}}, "min_score": 2}}}, "function_score min_score"),
    ({"query": {"match": {"title": "x"}}, "aggs": [1]}, "aggs is not an object"),
])
def test_what_the_engine_cannot_keep_passes_through_with_its_reason(body, why):
    assert reason(body) == why


def test_indices_that_are_not_one_configured_alias_pass_through():
    body = {"query": {"match": {"title": "x"}}}
    assert reason(body, "other") == "index not configured"
    assert reason(body, "music,other") == "several indices"
    assert reason(body, "mus*") == "several indices"
    assert reason(body, None) == "no index"
    assert reason(body, ["music", "other"]) == "several indices"
    assert served(body, ["music"]).index == "music"  # elasticsearch-dsl passes a list


def test_a_deep_bool_passes_through_instead_of_recursing_forever():
    query = {"match": {"title": "x"}}
    for _ in range(200):
        query = {"bool": {"must": [query]}}
    assert reason({"query": query}) == "query nested too deep"


def test_the_8x_keyword_form_and_body_merge_into_one_body():
    body, transport = request_body(None, {"query": {"match": {"title": "x"}}, "from_": 10, "size": 5,
                                          "source_includes": ["title"], "request_timeout": 3, "aggregations": {}})
    assert body == {"query": {"match": {"title": "x"}}, "from": 10, "size": 5, "aggs": {},
                    "_source": {"includes": ["title"], "excludes": []}}
    assert transport == {"request_timeout": 3}
    assert request_body({"size": 3}, {"_source_excludes": "a,b"}) == (
        {"size": 3, "_source": {"includes": [], "excludes": ["a", "b"]}}, {})


@pytest.mark.parametrize("kwargs, why", [({"routing": "a"}, "parameter routing"), ({"q": "x"}, "parameter q"),
                                         ({"filter_path": "hits"}, "parameter filter_path")])
def test_parameters_that_change_the_answer_pass_through(kwargs, why):
    assert request_body({}, kwargs) == PassThrough(why)
    assert request_body("x", {}) == PassThrough("body is not a JSON object")


def test_translation_does_not_change_the_apps_body():
    import copy
    body = {"query": {"bool": {"must": [{"match": {"title": "x"}}], "must_not": [{"term": {"a": 1}}]}}}
    kept = copy.deepcopy(body)
    served(body)
    assert body == kept

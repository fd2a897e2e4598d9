"""Golden bodies of every strategy (literal dicts) and contract tests over the registry."""
import copy
import dataclasses
import json

import pytest

from lrr_es.config import FieldMap
from lrr_es.roles import field_map
from lrr_es.errors import ConfigError, QueryError
from lrr_es.qu import Gazetteer, Interpretation, Slot, derived_aliases, understand
from lrr_es.parse import MAX_QUERY_CHARS, parse_query
from lrr_es.strategies import STRATEGIES, get_strategy, unavailable, why_unavailable

from .test_semantic import tiny_model

FIELDS = ["title^3", "artist^2"]
COUNTRY = [{"term": {"country": "se"}}]


def test_parse_query_normalizes_and_bounds():
    q = parse_query("  Love \t Story ", seed=5)
    assert (q.text, q.tokens, q.key, q.seed, q.truncated) == ("Love Story", ("love", "story"), "love_story", 5, False)
    long = parse_query("a " * 10_000)
    assert len(long.text) == MAX_QUERY_CHARS and long.truncated


@pytest.mark.parametrize("bad", ["", "   \n", None, 42, ["love"]])
def test_parse_query_refuses_blank_or_non_text(bad):
    with pytest.raises(QueryError):
        parse_query(bad)


def test_lexical_golden():
    body = get_strategy("lexical").build(parse_query("love story"), 50)
    assert body == {"size": 50, "track_total_hits": False, "query": {"multi_match": {
        "query": "love story", "type": "best_fields", "fields": FIELDS, "tie_breaker": 0.3}}}


def test_app_filters_apply_as_bool_filter():
    body = get_strategy("lexical").build(parse_query("love"), 10, COUNTRY)
    assert body["query"] == {"bool": {
        "must": [{"multi_match": {"query": "love", "type": "best_fields", "fields": FIELDS, "tie_breaker": 0.3}}],
        "filter": [{"term": {"country": "se"}}]}}


def test_popular_golden_and_adopted_feature():
    body = get_strategy("popular").build(parse_query("love"), 20)
    assert body["query"] == {"bool": {
        "must": [{"multi_match": {"query": "love", "type": "best_fields", "fields": FIELDS, "tie_breaker": 0.3}}],
        "should": [{"rank_feature": {"field": "popularity", "saturation": {"pivot": 50}, "boost": 20.0}}]}}
    adopted = get_strategy("popular", FieldMap(popularity="plays"), "lrr_popularity").build(parse_query("love"), 20)
    assert adopted["query"]["bool"]["should"][0]["rank_feature"]["field"] == "lrr_popularity"
    plain = get_strategy("popular", FieldMap(popularity=None)).build(parse_query("love"), 20)
    assert plain["query"] == get_strategy("lexical").build(parse_query("love"), 20)["query"]


def test_fuzzy_golden():
    body = get_strategy("fuzzy").build(parse_query("tayler swift"), 30)
    assert body["query"] == {"bool": {"should": [
        {"multi_match": {"query": "tayler swift", "type": "best_fields", "fields": FIELDS, "fuzziness": "AUTO",
                         "prefix_length": 1, "max_expansions": 20}},
        {"match": {"lrr_phonetic": {"query": "TLR SWFT", "operator": "or", "minimum_should_match": "2<75%",
                                    "boost": 1.5}}},
        {"multi_match": {"query": "tayler swift", "type": "best_fields", "fields": ["title.prefix", "artist.prefix"],
                         "operator": "and", "boost": 0.5}},
    ], "minimum_should_match": 1}}


def test_memory_golden():
    body = get_strategy("memory").build(parse_query("Swift Taylor"), 25)
    assert body["query"] == {"bool": {"should": [
        {"rank_feature": {"field": "q2e.swift_taylor", "saturation": {"pivot": 1.0}, "boost": 10.0}},
        {"match": {"q2e_queries": {"query": "Swift Taylor", "fuzziness": "AUTO", "prefix_length": 1, "operator": "and"}}},
    ], "minimum_should_match": 1}}


def test_explore_golden():
    body = get_strategy("explore").build(parse_query("rock", seed=99), 15)
    assert body["query"] == {"function_score": {
        "query": {"multi_match": {"query": "rock", "fields": ["title", "artist", "genre.text"], "operator": "or"}},
        "functions": [{"random_score": {"seed": 99, "field": "_seq_no"}}], "boost_mode": "replace"}}


def test_unknown_strategy_lists_known_ones():
    with pytest.raises(ConfigError, match=r"unknown strategy 'magic' \(known: explore, fuzzy, lexical, memory, popular, semantic, structured\)"):
        get_strategy("magic")


HOSTILE = ['"quoted" \\back\\slash', "title:(love OR hate) AND -x~2 /re.*gex/ [a TO z] {b} ^3 && || !", "'; DROP",
           "𝄞 Beyoncé 東京 עברית \u200b\u0000", "x" * 10_000, "a " * 5_000, "!!!"]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_contract_bodies_serialize_do_not_mutate_and_repeat(name, text):
    # strategies that require a resource (STRATEGIES[name].requires) get a tiny literal one
    resources = {"semantic": tiny_model(), "gazetteer": GAZ}
    strategy = get_strategy(name, FieldMap(title=("name", "name.prefix"), people=("performer",)), resources=resources)
    assert strategy.available
    query, filters = parse_query(text, seed=3), copy.deepcopy(COUNTRY)
    body = strategy.build(query, 40, filters)
    assert json.loads(json.dumps(body)) == body
    assert filters == COUNTRY and body["query"]["bool"]["filter"] is not filters
    assert strategy.build(parse_query(text, seed=3), 40, filters) == body
    assert body["size"] == 40 and len(json.dumps(body)) < 4 * MAX_QUERY_CHARS + 2000
    desc = strategy.descriptors()
    assert desc["name"] == name and desc["cost"] > 0 and isinstance(desc["kind"], str)


@pytest.mark.parametrize("quota", [0, -1, 1001, 2.5, True, "10"])
def test_bad_quotas_are_refused(quota):
    with pytest.raises(QueryError, match="quota must be an integer"):
        get_strategy("lexical").build(parse_query("x"), quota)


# --- structured -------------------------------------------------------------------------------

GAZ_COUNTS = {"genre": {"rock": 500, "love": 40}, "decade": {"1980s": 3000},
              "artist": {"taylor swift": 120, "love": 5}, "entity_type": {"song": 20000}}
GAZ = Gazetteer("music", GAZ_COUNTS, 30000, aliases=derived_aliases(GAZ_COUNTS))
TEXT = {"multi_match": {"query": "rock", "type": "best_fields", "fields": FIELDS, "tie_breaker": 0.3}}
# a keyword slot also holds for an entity named by the matched text (so a name never filters itself out)
ROCK = {"bool": {"should": [{"term": {"genre": "rock"}}, {"term": {"main_genre": "rock"}}, {"term": {"title.keyword": "rock"}}],
                 "minimum_should_match": 1}}
EIGHTIES = {"bool": {"should": [{"term": {"decade": "1980s"}}, {"term": {"title.keyword": "80s"}}], "minimum_should_match": 1}}
POPULARITY = {"rank_feature": {"field": "popularity", "saturation": {"pivot": 50}, "boost": 4.0}}


def with_readings(text, *readings):
    return dataclasses.replace(parse_query(text), interpretations=readings)


def test_structured_golden_boosts_each_reading_by_its_likelihood():
    query = with_readings(
        "80s rock",
        Interpretation((Slot("decade", "1980s", "80s", 0.79), Slot("genre", "rock", "rock", 0.7)), "", 0.6),
        Interpretation((Slot("decade", "1980s", "80s", 0.79),), "rock", 0.3),
        Interpretation((), "80s rock", 0.1))
    body = get_strategy("structured").build(query, 50)
    assert body == {"size": 50, "track_total_hits": False, "query": {"bool": {
        "must": [{"bool": {"should": [
            {"bool": {"must": [{"constant_score": {"filter": {"bool": {"filter": [EIGHTIES, ROCK]}},
                                                   "boost": 10.0}}], "boost": 0.6}},
            {"bool": {"must": [{"constant_score": {"filter": {"bool": {"filter": [EIGHTIES]}},
                                                   "boost": 10.0}}, TEXT], "boost": 0.3}},
            {"bool": {"must": [{"multi_match": {"query": "80s rock", "type": "best_fields", "fields": FIELDS,
                                                "tie_breaker": 0.3}}], "boost": 0.1}},
        ], "minimum_should_match": 1}}],
        "should": [{"constant_score": {"filter": {"bool": {"filter": [EIGHTIES, ROCK]}}, "boost": 10.0}},  # it leads
                   {"constant_score": {"filter": {"term": {"main_genre": "rock"}}, "boost": 0.6}}, POPULARITY]}}}


def test_structured_golden_filters_a_near_certain_reading():
    query = with_readings(
        "taylor swift love story",
        Interpretation((Slot("artist", "taylor swift", "taylor swift", 0.6),), "love story", 0.9),
        Interpretation((), "taylor swift love story", 0.1))
    body = get_strategy("structured").build(query, 10, COUNTRY)
    assert body["query"] == {"bool": {"must": [{"bool": {
        "filter": [{"bool": {"should": [{"term": {"artist.keyword": "taylor swift"}},
                                        {"term": {"title.keyword": "taylor swift"}}], "minimum_should_match": 1}}],
        "must": [{"multi_match": {"query": "love story", "type": "best_fields", "fields": FIELDS, "tie_breaker": 0.3}}],
        "should": [POPULARITY]}}], "filter": COUNTRY}}


def test_structured_without_slots_is_the_lexical_query():
    plain = with_readings("rock", Interpretation((), "rock", 1.0))
    assert get_strategy("structured").build(plain, 20) == get_strategy("lexical").build(parse_query("rock"), 20)
    assert get_strategy("structured").build(parse_query("rock"), 20) == get_strategy("lexical").build(parse_query("rock"), 20)


def test_structured_uses_the_apps_field_names():
    fields = field_map("fields", {"title": "name", "artist": "performer", "genre": "style", "main_genre": None,
                                  "decade": None, "year": "released", "popularity": None})
    query = with_readings("80s rock", Interpretation((Slot("decade", "1980s", "80s", 0.8),
                                                      Slot("genre", "rock", "rock", 0.7),
                                                      Slot("genre", "pop", "pop", 0.7)), "", 0.95))
    assert get_strategy("structured", fields).build(query, 5)["query"] == {"bool": {"filter": [
        {"bool": {"should": [{"range": {"released": {"gte": 1980, "lt": 1990}}}], "minimum_should_match": 1}},
        {"bool": {"should": [{"terms": {"style": ["rock", "pop"]}}, {"terms": {"name.keyword": ["rock", "pop"]}}],
                  "minimum_should_match": 1}}]}}


def test_structured_reads_the_query_itself_when_given_a_gazetteer():
    strategy = get_strategy("structured", resources={"gazetteer": GAZ})
    assert strategy.available and not get_strategy("structured").available
    assert strategy.build(parse_query("80s rock"), 20) == get_strategy("structured").build(
        understand(parse_query("80s rock"), GAZ), 20)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("text", [*HOSTILE, "80s rock songs", "love taylor swift eighties"], ids=range(len(HOSTILE) + 2))
def test_contract_with_interpretations(name, text):
    strategy = get_strategy(name, FieldMap(title=("name",), people=("performer",)),
                            resources={"gazetteer": GAZ, "semantic": tiny_model()})
    query, filters = understand(parse_query(text, seed=3), GAZ), copy.deepcopy(COUNTRY)
    before = copy.deepcopy(query)
    body = strategy.build(query, 40, filters)
    assert json.loads(json.dumps(body)) == body
    assert query == before and filters == COUNTRY
    assert strategy.build(query, 40, filters) == body
    assert len(json.dumps(body)) < 8 * MAX_QUERY_CHARS + 4000


def test_a_strategy_whose_search_would_equal_lexicals_is_unavailable_and_says_why():
    no_popularity = get_strategy("popular", FieldMap(popularity=None))
    assert not no_popularity.available
    assert why_unavailable(no_popularity, "shop") == "no popularity field: its search would be lexical's"
    plain = field_map("fields", {"title": "name", "attributes": []})
    structured = get_strategy("structured", plain, resources={"gazetteer": GAZ})
    assert not structured.available and "no attributes, entity type or people field" in why_unavailable(structured, "shop")
    empty = Gazetteer("shop", {}, 10)
    assert "the gazetteer holds no values" in why_unavailable(get_strategy("structured", resources={"gazetteer": empty}), "x")
    assert get_strategy("popular").available and get_strategy("structured", resources={"gazetteer": GAZ}).available
    unavailable_names = set(unavailable({n: get_strategy(n, FieldMap(popularity=None)) for n in STRATEGIES}, "shop"))
    assert unavailable_names == {"popular", "structured", "semantic"}


def test_text_roles_search_with_their_weights():
    fields = field_map("fields", {"title": ["name", "name.prefix"], "aliases": "aka", "people": {"fields": "brand", "weight": 1.5},
                                  "description": "about"})
    body = get_strategy("lexical", fields).build(parse_query("lamp"), 5)
    assert body["query"]["multi_match"]["fields"] == ["name^3", "name.prefix^3", "aka^2", "brand^1.5", "about^0.5"]


def test_structured_only_a_reading_more_likely_than_not_leads_and_its_rest_must_match_too():
    unsure = with_readings(
        "80s rock",
        Interpretation((Slot("decade", "1980s", "80s", 0.79), Slot("genre", "rock", "rock", 0.7)), "", 0.45),
        Interpretation((), "80s rock", 0.4))
    should = get_strategy("structured").build(unsure, 50)["query"]["bool"]["should"]
    assert should == [{"constant_score": {"filter": {"term": {"main_genre": "rock"}}, "boost": 0.45}}, POPULARITY]
    with_rest = with_readings(
        "80s love",
        Interpretation((Slot("decade", "1980s", "80s", 0.79),), "love", 0.7),
        Interpretation((), "80s love", 0.3))
    lead = get_strategy("structured").build(with_rest, 50)["query"]["bool"]["should"][0]
    assert lead == {"constant_score": {"filter": {"bool": {"filter": [
        EIGHTIES, {"multi_match": {"query": "love", "type": "best_fields", "fields": FIELDS, "tie_breaker": 0.3}}]}},
        "boost": 10.0}}

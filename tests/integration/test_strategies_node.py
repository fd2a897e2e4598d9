"""Strategies on a real node with the MusicOSet catalog: each retrieves what it is for."""
import pytest

from lrr_es import es as esio
from lrr_es.q2e import q2e_key, update_script
from lrr_es.parse import parse_query
from lrr_es.strategies import STRATEGIES, get_strategy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(music_index):
    return music_index


# strategies that need a resource (the semantic model) are exercised on the node in their own modules
NO_RESOURCES = sorted(name for name, cls in STRATEGIES.items() if not cls.requires)


def run(es, index, name, text, quota=10, filters=None, seed=0):
    body = get_strategy(name).build(parse_query(text, seed=seed), quota, filters)
    body["_source"] = ["title", "artist", "entity_type", "popularity"]
    return esio.search(es, index, body)["hits"]["hits"]


def artists_of(hits):
    return {a for h in hits for a in h["_source"].get("artist", [])}


@pytest.mark.parametrize("typo, artist", [("beyonse", "Beyoncé"), ("tayler swfit", "Taylor Swift")])
def test_fuzzy_finds_a_misspelled_artist_that_lexical_misses(es, catalog, typo, artist):
    assert artist in artists_of(run(es, catalog, "fuzzy", typo))
    assert artist not in artists_of(run(es, catalog, "lexical", typo))


def test_memory_returns_the_remembered_document_first(es, catalog):
    lexical = run(es, catalog, "lexical", "girl", quota=50)  # "girl": a query no other test writes to
    low = lexical[-1]["_id"]  # ranked 50th by BM25
    script = update_script(q2e_key("girl"), 5.0, 1_700_000_000_000, decay_days=30, max_keys=64, max_increment=5,
                           max_queries=20, query="girl")
    esio.update(es, catalog, low, {"script": script}, refresh=True)
    assert run(es, catalog, "memory", "girl")[0]["_id"] == low
    assert run(es, catalog, "lexical", "girl")[0]["_id"] != low


def test_explore_differs_from_lexical_and_repeats_per_seed(es, catalog):
    lexical = {h["_id"] for h in run(es, catalog, "lexical", "love rock", quota=20)}
    explore = [h["_id"] for h in run(es, catalog, "explore", "love rock", quota=20, seed=11)]
    assert len(set(explore) - lexical) >= 10
    assert [h["_id"] for h in run(es, catalog, "explore", "love rock", quota=20, seed=11)] == explore
    assert [h["_id"] for h in run(es, catalog, "explore", "love rock", quota=20, seed=12)] != explore


def test_popular_prefers_popular_entities(es, catalog):
    def mean_popularity(name, text):
        hits = run(es, catalog, name, text, 20)
        return sum(h["_source"].get("popularity", 0) for h in hits) / len(hits)
    queries = ["love", "home", "rock", "night", "baby"]
    lift = [mean_popularity("popular", q) - mean_popularity("lexical", q) for q in queries]
    assert min(lift) > 0 and sum(lift) / len(lift) > 8, lift


def test_app_filters_hold_for_every_strategy(es, catalog):
    for name in NO_RESOURCES:
        hits = run(es, catalog, name, "love", quota=20, filters=[{"term": {"entity_type": "artist"}}])
        assert all(h["_source"]["entity_type"] == "artist" for h in hits), name


HOSTILE = ['"quoted" \\back\\slash', "title:(love OR hate) AND -x~2 /re.*gex/ [a TO z] {b} ^3 && || !",
           "𝄞 Beyoncé 東京 עברית \u200b", "x" * 10_000, "love " * 2_000, "!!!"]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_every_strategy_body_is_accepted_by_the_node(es, catalog, text):
    for name in NO_RESOURCES:
        run(es, catalog, name, text)  # raises on a 400 from Elasticsearch

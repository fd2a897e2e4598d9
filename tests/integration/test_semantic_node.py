"""The semantic strategy on a real node: build over MusicOSet, retrieve, store and reload the model."""
import random

import numpy as np
import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.migrate import migrate, setup_steps
from lrr_es.semantic import build_semantic, embedding_fields, load_semantic, model_id, store_model
from lrr_es.parse import parse_query
from lrr_es.strategies import get_strategy
from lrr_es.strategies.semantic import semantic_clause
from lrr_es.templates import script_id

pytestmark = pytest.mark.integration
SELF_SAMPLE = 100


@pytest.fixture(scope="module")
def built(es, music_index):
    """The semantic model built over the session's MusicOSet index (the other modules may use it too)."""
    config = config_from_dict({"indices": {music_index: {}}})
    es.delete(index="lrr-models", id=model_id(music_index), ignore=[404], refresh=True)
    report = build_semantic(es, config.index(music_index), progress=False, echo=lambda _: None)
    yield music_index, report, load_semantic(es, music_index)
    es.delete(index="lrr-models", id=model_id(music_index), ignore=[404], refresh=True)


def search(es, index, model, text, quota=10, filters=None, source=("title", "artist", "genre")):
    body = get_strategy("semantic", resources={"semantic": model}).build(parse_query(text), quota, filters)
    body["_source"] = list(source)
    return esio.search(es, index, body)["hits"]["hits"]


def test_build_embeds_the_catalog_with_explicit_doc_value_mappings(es, built):
    name, report, model = built
    assert report.documents == esio.count(es, name) == 31921 and report.version == 1
    assert report.embedded > 0.99 * report.documents and model.dims == 64 and model.clusters == 268
    mapping = esio.get_mapping(es, esio.alias_targets(es, name)[0])["properties"]
    assert mapping["lrr_emb"]["properties"]["d63"] == {"type": "float", "index": False}
    assert esio.count(es, name, {"exists": {"field": "lrr_sem_cluster"}}) == report.embedded
    assert report.capabilities["native_knn"] is False and report.capabilities["version"] == "7.10.2"
    assert esio.get_stored_script(es, script_id("semantic-dot")) is not None  # installed by migrate


def test_a_song_is_found_by_its_own_title_and_artist(es, built):
    name, _, model = built
    songs = [h for h in esio.scan(es, name, {"term": {"entity_type": "song"}}, source=["title", "artist"])]
    sample = random.Random(5).sample(songs, SELF_SAMPLE)
    found = sum(h["_id"] in {x["_id"] for x in search(es, name, model, f"{h['_source']['title']} "
                                                                        f"{' '.join(h['_source']['artist'])}")}
                for h in sample)
    print(f"self-retrieval@10: {found}/{SELF_SAMPLE}")
    # 64-dim LSA is topical, not a title index: about a quarter of songs come back in their own top 10
    # (see benchmarks/bench_semantic.py); 15% is a stable floor far above chance (10 of 32k)
    assert found >= 15


def test_hits_come_only_from_probed_clusters_and_are_scored_exactly(es, built):
    name, _, model = built
    clause = semantic_clause(model, parse_query("summer love").tokens, nprobe=4)
    probed = set(clause["script_score"]["query"]["terms"]["lrr_sem_cluster"])
    hits = esio.search(es, name, {"size": 200, "query": clause, "_source": ["lrr_sem_cluster", "lrr_emb"]})["hits"]["hits"]
    assert len(hits) == 200 and len(probed) == 4
    assert {h["_source"]["lrr_sem_cluster"] for h in hits} <= probed
    query = model.embed(parse_query("summer love").tokens)
    for h in hits:
        doc = np.array([h["_source"]["lrr_emb"][f.split(".")[1]] for f in embedding_fields(model.dims)], np.float32)
        assert h["_score"] == pytest.approx(1.0 + float(doc @ query), abs=1e-5)


@pytest.mark.parametrize("word, least", [("rap", 18), ("country", 9)])
def test_a_genre_word_returns_mostly_that_genre(es, built, word, least):
    name, _, model = built
    hits = search(es, name, model, word, quota=20)
    with_genre = sum(any(word in g for g in h["_source"].get("genre", [])) for h in hits)
    print(f"{word}: {with_genre}/20 of the top 20 have a {word} genre")
    assert len(hits) == 20 and with_genre >= least


def test_unknown_words_match_nothing_and_app_filters_hold(es, built):
    name, _, model = built
    assert search(es, name, model, "zzqxv 東京") == []
    hits = search(es, name, model, "rock", quota=30, filters=[{"term": {"entity_type": "artist"}}],
                  source=("entity_type",))
    assert len(hits) == 30 and {h["_source"]["entity_type"] for h in hits} == {"artist"}


@pytest.mark.parametrize("text", ['"quoted" \\back\\slash', "title:(love OR hate) AND -x~2 /re.*gex/ [a TO z] {b} ^3",
                                  "𝄞 Beyoncé 東京 עברית \u200b", "x" * 10_000, "love " * 2_000, "!!!"])
def test_hostile_text_bodies_are_accepted_by_the_node(es, built, text):
    name, _, model = built
    hits = search(es, name, model, text)  # a 400 from Elasticsearch would raise here
    assert len(hits) <= 10 and all(h["_score"] >= 0 for h in hits)


def test_model_round_trips_through_lrr_models_and_reloads_on_a_new_version(es, built):
    name, _, model = built
    assert load_semantic(es, name) is model  # cached: same version, no new decode
    stored = esio.get_document(es, "lrr-models", model_id(name), source_excludes=["artifact"])["_source"]
    assert (stored["kind"], stored["index"], stored["version"], stored["params"]["dims"]) == ("semantic", name, 1, 64)
    assert store_model(es, name, model) == 2
    again = load_semantic(es, name)
    assert again is not model and again.version == 2 and again.vocab == model.vocab
    for field in ("idf", "components", "centroids"):
        assert np.array_equal(getattr(again, field), getattr(model, field))
    assert load_semantic(es, "no-such-alias") is None


def test_build_on_a_strict_app_mapping(es, alias, make_config):
    words = {"rap": ["rap", "trap", "flow"], "country": ["truck", "whiskey", "road"], "rock": ["guitar", "riff", "loud"]}
    index = f"{alias}-v1"
    esio.create_index(es, index, {"mappings": {"dynamic": "strict", "properties": {
        "title": {"type": "text"}, "artist": {"type": "text"}, "genre": {"type": "keyword"},
        "lrr_sem_cluster": {"type": "keyword"}, "lrr_emb": {"type": "object"}}}})
    esio.update_aliases(es, [{"add": {"index": index, "alias": alias, "is_write_index": True}}])
    actions = [{"_op_type": "index", "_index": index, "_id": f"{g}-{i}",
                "_source": {"title": f"{w[i % 3]} {w[(i + 1) % 3]}", "artist": [f"{g} band"], "genre": [g]}}
               for g, w in words.items() for i in range(12)]
    assert all(ok for ok, _ in esio.bulk(es, actions, refresh=True))
    for _, install in setup_steps(es, make_config(alias)):  # stored script and lrr-models, whatever ran before
        install()
    report = build_semantic(es, make_config(alias).index(alias), dims=3, clusters=3, progress=False, echo=lambda _: None)
    assert (report.documents, report.embedded) == (36, 36)
    hits = search(es, alias, load_semantic(es, alias), "whiskey truck", quota=5)
    assert len(hits) == 5 and all(h["_id"].startswith("country-") for h in hits)
    es.delete(index="lrr-models", id=model_id(alias), ignore=[404])

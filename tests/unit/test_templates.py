import json
from pathlib import Path

import pytest

from lrr_es.catalog.document import index_document
from lrr_es.config import config_from_dict
from lrr_es.names import SYSTEM_INDICES
from lrr_es.templates import LRR_FIELDS, catalog_template, script_id, script_names, script_source, system_template

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((ROOT / "index_templates").glob("*.json")), ids=lambda p: p.name)
def test_template_files_are_json_with_a_version(path):
    body = json.loads(path.read_text())
    assert isinstance(body["version"], int) and body["version"] >= 1
    assert "mappings" in body["template"] and "settings" in body["template"]


@pytest.mark.parametrize("name", SYSTEM_INDICES)
def test_system_templates_are_strict_and_match_their_index(name):
    body = system_template(name)
    assert body["index_patterns"] == [f"{name}*"]
    assert body["template"]["mappings"]["dynamic"] == "strict"
    assert "_comment" not in body


def test_catalog_template_for_default_fields():
    body = catalog_template(config_from_dict({}).index("music"))
    props = body["template"]["mappings"]["properties"]
    assert body["index_patterns"] == ["music-v*"]
    # the numeric sub-field gives the ranking features popularity from doc values (rank_feature has none)
    assert props["popularity"] == {"type": "rank_feature", "fields": {"value": {"type": "double", "index": False}}}
    assert props["q2e"] == {"type": "rank_features"}
    assert set(props["title"]["fields"]) == {"keyword", "prefix", "shingles"}
    assert props["added_at"] == {"type": "date"} and props["entity_type"] == {"type": "keyword"}
    assert "_comment" not in body


def test_catalog_template_keeps_the_apps_field_names():
    config = config_from_dict({"indices": {"songs": {
        "fields": {"title": ["name", "name.prefix"], "artist": "performer", "popularity": "plays", "genre": "style"},
        "shards": 3, "replicas": 1}}})
    body = catalog_template(config.index("songs"))
    props = body["template"]["mappings"]["properties"]
    assert {"name", "performer", "plays", "style"} <= set(props)
    assert "name.prefix" not in props and "title" not in props and "artist" not in props
    assert props["plays"]["type"] == "rank_feature" and "value" in props["plays"]["fields"]
    assert body["template"]["settings"]["index"]["number_of_shards"] == 3
    assert body["template"]["settings"]["index"]["number_of_replicas"] == 1


def test_script_ids_follow_the_source():
    assert "q2e-update" in script_names()
    sid = script_id("q2e-update")
    assert sid.startswith("lrr-q2e-update-") and len(sid) == len("lrr-q2e-update-") + 10
    assert "params.incs" in script_source("q2e-update")
    with pytest.raises(ValueError, match="unknown stored script 'nope'"):
        script_source("nope")


def test_no_user_input_is_formatted_into_painless():
    source = script_source("q2e-update")
    assert "{" in source and "%s" not in source and "{}" not in source.replace("{ }", "")


def test_index_document_popularity_and_seeds():
    music = config_from_dict({}).index("music")
    doc = index_document({"id": "s1", "title": "Home", "artist": ["Zoë"], "genre": ["folk"], "popularity": 0}, music)
    assert "id" not in doc and "popularity" not in doc  # a rank_feature refuses zero
    assert doc["q2e"]["home"] == 0.5 and doc["q2e"]["home_zoe"] == 1.0
    assert doc["q2e_seeded"] == sorted(doc["q2e"])
    doc = index_document({"id": "s2", "title": "Home", "popularity": "57"}, music)
    assert doc["popularity"] == 57.0
    assert index_document({"title": "x", "popularity": float("nan")}, music).get("popularity") is None
    kept = index_document({"title": "x", "q2e": {"k": 2.0}}, music)
    assert kept["q2e"] == {"k": 2.0}  # observed memory is never overwritten by predictions


def test_index_document_copies_popularity_into_an_adopted_feature():
    songs = config_from_dict({"indices": {"songs": {"fields": {"title": "name", "popularity": "plays"}}}}).index("songs")
    doc = index_document({"name": "Home", "plays": 12}, songs, popularity_feature="lrr_popularity")
    assert doc["plays"] == 12 and doc["lrr_popularity"] == 12.0
    doc = index_document({"name": "Home", "plays": 0}, songs, popularity_feature="lrr_popularity")
    assert doc["plays"] == 0 and "lrr_popularity" not in doc


def test_index_document_adds_phonetic_keys_of_title_and_artist():
    index = config_from_dict({}).index("music")
    source = index_document({"id": "s1", "title": "Love Story", "artist": ["Taylor Swift"], "popularity": 80}, index)
    assert source["lrr_phonetic"] == "LF STR TLR SWFT"
    untitled = index_document({"id": "s2", "title": "1989", "artist": []}, index)
    assert "lrr_phonetic" not in untitled


def test_catalog_template_meta_changes_with_the_rendered_body():
    one = catalog_template(config_from_dict({}).index("music"))
    two = catalog_template(config_from_dict({"indices": {"music": {"shards": 2}}}).index("music"))
    renamed = catalog_template(config_from_dict({"indices": {"music": {"fields": {"title": ["name"]}}}}).index("music"))
    hashes = {t["_meta"]["lrr"]["body_hash"] for t in (one, two, renamed)}
    assert len(hashes) == 3
    assert catalog_template(config_from_dict({}).index("music")) == one


MUSIC_TEMPLATE_FIELDS = {"entity_type", "title", "artist", "genre", "main_genre", "year", "decade", "popularity",
                         "explicit", "added_at", "followers", "song_type", "billboard"}


def test_a_music_field_map_keeps_the_music_template():
    """The music spelling (or no field map at all) renders the template of earlier versions: upgrading
    reindexes nothing."""
    props = catalog_template(config_from_dict({}).index("music"))["template"]["mappings"]["properties"]
    assert set(props) == MUSIC_TEMPLATE_FIELDS | set(LRR_FIELDS)
    assert props["year"] == {"type": "short"} and props["billboard"]["type"] == "text"


def test_a_domain_neutral_field_map_maps_only_its_own_fields():
    config = config_from_dict({"indices": {"shop": {"fields": {
        "title": ["name", "name.prefix"], "aliases": "aka", "people": {"fields": "brand", "weight": 1.5},
        "description": "about", "attributes": {"category": "category", "price": {"field": "price", "kind": "number"}},
        "popularity": "sold", "freshness": "listed", "entity_type": "kind"}}}})
    props = catalog_template(config.index("shop"))["template"]["mappings"]["properties"]
    assert set(props) == {"name", "aka", "brand", "about", "category", "price", "sold", "listed", "kind", *LRR_FIELDS}
    assert set(props["name"]["fields"]) == set(props["brand"]["fields"]) == {"keyword", "prefix", "shingles"}
    assert props["about"] == {"type": "text", "analyzer": "lrr_text"}
    assert props["category"] == {"type": "keyword", "normalizer": "lrr_keyword",
                                 "fields": {"text": {"type": "text", "analyzer": "lrr_text"}}}
    assert props["price"] == {"type": "double"} and props["sold"] == {"type": "rank_feature", "fields": {"value": {"type": "double", "index": False}}}
    assert props["listed"] == {"type": "date"} and props["kind"] == {"type": "keyword"}
    # title alone is the music spelling too (music defaults); one domain-neutral key names exactly the fields
    minimal = config_from_dict({"indices": {"places": {"fields": {"title": "label", "attributes": []}}}})
    assert set(catalog_template(minimal.index("places"))["template"]["mappings"]["properties"]) == {"label", *LRR_FIELDS}

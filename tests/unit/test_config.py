import re

import pytest

from lrr_es.config import Attribute, Config, FieldMap, config_from_dict, load_config
from lrr_es.errors import ConfigError


def test_defaults_without_file_or_env():
    config = load_config(env={})
    assert config.elasticsearch.url == "http://127.0.0.1:9200"
    assert list(config.indices) == ["music"]
    assert config.index("music").fields == FieldMap()
    assert config.bandit.policy == "thompson" and config.bandit.budget == 4


def test_yaml_file_and_env_overrides(tmp_path):
    path = tmp_path / "lrr.yaml"
    path.write_text(
        "elasticsearch: {url: http://10.0.0.1:9200}\n"
        "indices:\n  songs:\n    fields: {title: [name, name.prefix], popularity: plays}\n"
        "    strategies: [lexical, memory]\n"
        "feedback: {decay_days: 7}\n"
    )
    config = load_config(path, env={"ES_URL": "http://127.0.0.1:9999", "LRR_BANDIT__POLICY": "linucb",
                                    "LRR_FEEDBACK__MAX_KEYS": "8"})
    assert config.elasticsearch.url == "http://127.0.0.1:9999"
    songs = config.index("songs")
    assert songs.fields.title == ("name", "name.prefix") and songs.fields.popularity == "plays"
    assert songs.strategies == ("lexical", "memory")
    assert config.bandit.policy == "linucb"
    assert config.feedback.decay_days == 7 and config.feedback.max_keys == 8


@pytest.mark.parametrize("raw, message", [
    ({"bandit": {"policy": "ucb9"}}, "bandit.policy: unknown 'ucb9'"),
    ({"bandit": {"budget": 0}}, "bandit.budget must be a number in [1, 100], got 0"),
    ({"bandit": {"budget": True}}, "bandit.budget must be a number"),
    ({"feedback": {"decay_days": "soon"}}, "feedback.decay_days must be a number"),
    ({"feedback": {"weights": {"click": "x"}}}, "feedback.weights.click must be a number"),
    ({"elasticsearch": {"url": "localhost:9200"}}, "elasticsearch.url must start with http://"),
    ({"colour": "blue"}, "config: unknown field(s) colour"),
    ({"indices": {"Music": {}}}, "'Music' is not a valid index alias"),
    ({"indices": {"music": {"fields": {"titel": "x"}}}}, "indices.music.fields: unknown field(s) titel"),
    ({"indices": {"music": {"fields": {"title": []}}}}, "indices.music.fields.title must name one or more fields"),
    ({"indices": {"music": {"strategies": ["lexical", "magic"]}}}, "unknown ['magic']"),
    ({"indices": {}}, "indices must be a non-empty mapping"),
    ({"ranker": {"interleave_share": 1.5}}, "ranker.interleave_share must be a number in [0, 1], got 1.5"),
    ({"ranker": {"interleave_alpha": 0}}, "ranker.interleave_alpha must be a number"),
    ({"ranker": {"interleave_min": 0}}, "ranker.interleave_min"),
    ({"retrieval": {"request_cache": "yes"}}, "retrieval.request_cache must be true or false, got 'yes'"),
])
def test_bad_values_are_named(raw, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw)
    assert message in str(info.value)


def test_unknown_index_lists_configured_ones():
    with pytest.raises(ConfigError, match=r"index 'songs' is not configured \(configured: music\)"):
        Config().index("songs")


def test_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("indices: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, env={})
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(listy, env={})


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("yaml_text, message", [
    ("elasticsearch:\n", None),  # empty section with ES_URL set: the URL wins, no crash
    ("indices:\n  music:\n    strategies:\n", "strategies must be a non-empty list"),
    ("indices:\n  music:\n    fields: [{title: x}]\n", "fields must be a mapping"),
    ("indices:\n  music: {}\n  podcasts: {}\n", None),
    ("indices:\n  music: {}\n  music-videos: {}\n", "collides with the versioned indices"),
    ("indices:\n  music: {}\n  music-v2: {}\n", "collides with the versioned indices of 'music'"),
])
def test_odd_yaml_gives_config_errors_not_crashes(tmp_path, yaml_text, message):
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    if message is None:
        assert load_config(path, env={"ES_URL": "http://127.0.0.1:9"}).elasticsearch.url == "http://127.0.0.1:9"
    else:
        with pytest.raises(ConfigError, match=message):
            load_config(path, env={})


def test_the_music_spelling_maps_onto_the_roles():
    """A configuration written before the domain-neutral roles reads as it always did."""
    fields = config_from_dict({"indices": {"songs": {"fields": {
        "title": ["name", "name.prefix"], "artist": ["performer"], "genre": "style", "main_genre": None,
        "popularity": "plays", "added_at": "released", "mood": "mood"}}}}).index("songs").fields
    assert fields.title == ("name", "name.prefix") and fields.people == fields.artist == ("performer",)
    assert fields.attributes == (Attribute("genre", ("style",)), Attribute("decade", ("decade",)),
                                 Attribute("year", ("year",), "number"), Attribute("mood", ("mood",)))
    assert fields.popularity == "plays" and fields.added_at == "released" and fields.entity_type == "entity_type"
    assert fields.music and fields.people_role == "artist" and fields.category == "style"
    assert fields.text_roles() == (("title", ("name", "name.prefix"), 3.0), ("people", ("performer",), 2.0))
    default = FieldMap()
    assert default.attributes == (Attribute("genre", ("genre", "main_genre")), Attribute("decade", ("decade",)),
                                  Attribute("year", ("year",), "number"))


def test_a_null_role_is_left_out():
    fields = config_from_dict({"indices": {"podcasts": {"fields": {
        "artist": None, "popularity": None, "genre": None, "main_genre": None, "decade": None, "year": None,
        "entity_type": None}}}}).index("podcasts").fields
    assert fields.people == () and fields.popularity is None and fields.attributes == () and fields.entity_type is None
    assert fields.text_roles() == (("title", ("title",), 3.0),) and fields.slot_fields() == {}


def test_the_domain_neutral_spelling_names_exactly_its_fields():
    fields = config_from_dict({"indices": {"sports": {"fields": {
        "title": "label", "aliases": {"fields": ["aliases"], "weight": 2.5}, "description": "description",
        "attributes": ["sport", "country"], "entity_type": "kind"}}}}).index("sports").fields
    assert fields.title == ("label",) and fields.aliases == ("aliases",) and fields.people == ()
    assert fields.popularity is None and fields.added_at is None and not fields.music
    assert fields.text_roles() == (("title", ("label",), 3.0), ("aliases", ("aliases",), 2.5),
                                   ("description", ("description",), 0.5))
    assert fields.slot_fields() == {"sport": ("sport",), "country": ("country",), "entity_type": ("kind",)}
    shop = config_from_dict({"indices": {"shop": {"fields": {"people": "brand", "attributes": {
        "brand": "brand", "year": {"field": "released_year", "kind": "number"}}}}}}).index("shop").fields
    assert shop.title == ("title",) and shop.people_role == "people"
    assert shop.slot_fields() == {"brand": ("brand.keyword",), "year": ("released_year",), "people": ("brand.keyword",)}


@pytest.mark.parametrize("fields, message", [
    ({"artist": "a", "people": "b"}, "artist belong(s) to the music spelling and people to the domain-neutral one"),
    ({"genre": "g", "attributes": ["sport"]}, "use one (artist -> people"),
    ({"people": "brand", "title": None}, "fields.title must name one or more fields"),
    ({"people": {"fields": "brand", "weight": 0}}, "fields.people.weight must be a number in (0, 100]"),
    ({"people": {"field": "brand"}}, "fields.people: unknown field(s) field"),
    ({"attributes": {"Sport": "sport"}}, "'Sport' is not a usable slot name"),
    ({"attributes": {"people": "brand"}}, "'people' is not a usable slot name"),
    ({"attributes": {"price": {"field": "price", "kind": "money"}}}, "kind must be one of keyword, number"),
    ({"attributes": "sport"}, "attributes must be a list of field names or a mapping"),
    ({"artist": 3}, "fields.artist must name one or more fields (or be null), got 3"),
])
def test_bad_field_roles_are_named(fields, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict({"indices": {"x": {"fields": fields}}})
    assert message in str(info.value)


def test_caller_context_fields_and_memory_key():
    index = config_from_dict({"indices": {"shop": {"context": {"fields": ["market"], "memory_key": ["locale", "market"]}}}})
    assert index.index("shop").context.fields == ("market",)
    assert index.index("shop").context.memory_key == ("locale", "market")
    for context, message in (({"memory_key": ["market"]}, "market is neither locale nor one of context.fields"),
                             ({"fields": ["locale"]}, "locale are built in"),
                             ({"fields": "Market!"}, "context.fields must be a list of field names"),
                             ({"keys": []}, "unknown field(s) keys")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            config_from_dict({"indices": {"shop": {"context": context}}})

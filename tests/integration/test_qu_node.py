"""Query understanding on a real node with MusicOSet: the gazetteer, its storage, the structured strategy."""
import pytest
from click.testing import CliRunner

from lrr_es import es as esio
from lrr_es.cli import cli
from lrr_es.config import config_from_dict
from lrr_es.errors import QueryError
from lrr_es.qu import interpret, understand
from lrr_es.qu.store import (MODELS_INDEX, GazetteerCache, build_gazetteer, load_gazetteer, model_id,
                             rebuild_gazetteer, save_gazetteer)
from lrr_es.parse import parse_query
from lrr_es.strategies import get_strategy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(es, music_index):
    yield config_from_dict({"indices": {music_index: {}}}).index(music_index)
    es.delete(index=MODELS_INDEX, id=model_id(music_index), ignore=[404], refresh=True)


@pytest.fixture(scope="module")
def gazetteer(es, catalog):
    return build_gazetteer(es, catalog)


def top_hits(es, index, name, query, size=20):
    body = get_strategy(name).build(query, size)
    body["_source"] = ["title", "genre", "main_genre", "decade", "entity_type"]
    return esio.search(es, index, body)["hits"]["hits"]


def share_80s_rock(hits):
    return sum(h["_source"].get("decade") == "1980s" and "rock" in h["_source"].get("genre", []) for h in hits) / len(hits)


def test_gazetteer_holds_the_catalogs_own_values(es, catalog, gazetteer):
    counts = gazetteer.counts
    assert {"rock", "dance pop", "hip hop", "soft rock"} <= set(counts["genre"])
    assert {"taylor swift", "ariana grande", "queen"} <= set(counts["artist"])
    assert {"1980s", "1990s", "2010s"} <= set(counts["decade"]) and set(counts["entity_type"]) == {"song", "artist"}
    assert "1987" in counts["year"]
    assert gazetteer.aliases["decade"]["80s"] == "1980s" and gazetteer.aliases["decade"]["eighties"] == "1980s"
    assert gazetteer.total == esio.count(es, catalog.name) > 30_000
    assert len(counts["artist"]) > 10_000  # more than one composite page
    assert sum(counts["entity_type"].values()) == gazetteer.total
    assert gazetteer.fields == {"genre": "genre", "decade": "decade", "year": "year", "entity_type": "entity_type",
                                "artist": "artist.keyword"}


def test_80s_rock_reads_as_decade_and_genre(gazetteer):
    top = interpret("80s rock", gazetteer)[0]
    assert [(s.role, s.value) for s in top.slots] == [("decade", "1980s"), ("genre", "rock")] and top.rest == ""
    misspelt = interpret("tayler swift", gazetteer)[0]
    assert [(s.role, s.value) for s in misspelt.slots] == [("artist", "taylor swift")]


def test_structured_finds_1980s_rock_where_lexical_does_not(es, catalog, gazetteer):
    query = understand(parse_query("80s rock"), gazetteer)
    structured = share_80s_rock(top_hits(es, catalog.name, "structured", query))
    lexical = share_80s_rock(top_hits(es, catalog.name, "lexical", query))
    assert structured == 1.0 and lexical <= 0.5, (structured, lexical)


def test_structured_keeps_the_rest_of_the_text(es, catalog, gazetteer):
    query = understand(parse_query("queen bohemian rhapsody"), gazetteer)
    hits = top_hits(es, catalog.name, "structured", query, size=3)
    assert "Bohemian Rhapsody" in hits[0]["_source"]["title"]


def test_gazetteer_round_trips_through_lrr_models(es, catalog, gazetteer):
    first = save_gazetteer(es, gazetteer)
    second = save_gazetteer(es, gazetteer)
    assert second.version == first.version + 1
    loaded = load_gazetteer(es, catalog.name)
    assert loaded == second and loaded.exact(("80s",)) == gazetteer.exact(("80s",))
    doc = esio.get_source(es, MODELS_INDEX, model_id(catalog.name))
    assert (doc["kind"], doc["index"], doc["status"], doc["version"]) == ("gazetteer", catalog.name, "live", second.version)
    assert load_gazetteer(es, "test-never-built") is None


def test_cache_reloads_only_after_the_ttl_and_a_new_version(es, catalog, gazetteer):
    now = [0.0]
    cache = GazetteerCache(ttl=30, clock=lambda: now[0])
    stored = save_gazetteer(es, gazetteer)
    assert cache.get(es, catalog.name).version == stored.version and cache.loads == 1
    newer = save_gazetteer(es, gazetteer)
    now[0] = 29.0
    assert cache.get(es, catalog.name).version == stored.version and cache.loads == 1  # within the TTL
    now[0] = 31.0
    assert cache.get(es, catalog.name).version == newer.version and cache.loads == 2  # new version: reloaded
    now[0] = 62.0
    assert cache.get(es, catalog.name).version == newer.version and cache.loads == 2  # same version: kept


def test_cli_rebuilds_and_shows(es_url, catalog, tmp_path):
    config = tmp_path / "lrr.yaml"
    config.write_text(f"indices:\n  {catalog.name}: {{}}\n")
    runner = CliRunner(env={"ES_URL": es_url})
    built = runner.invoke(cli, ["--config", str(config), "gazetteer", "rebuild", "--index", catalog.name])
    assert built.exit_code == 0, built.output
    assert "genre" in built.output and "artist" in built.output and "surface forms" in built.output
    shown = runner.invoke(cli, ["--config", str(config), "gazetteer", "show", "--index", catalog.name,
                                "--query", "80s rock"])
    assert shown.exit_code == 0, shown.output
    assert "decade='1980s' ('80s'" in shown.output.splitlines()[1] and "genre='rock'" in shown.output.splitlines()[1]


def test_rebuild_of_a_missing_index_names_it(es):
    with pytest.raises(QueryError, match="'test-missing-qu' does not exist"):
        rebuild_gazetteer(es, config_from_dict({"indices": {"test-missing-qu": {}}}).index("test-missing-qu"))


HOSTILE = ['"quoted" \\back\\slash', "title:(love OR hate) AND -x~2 /re.*gex/ [a TO z] {b} ^3 && || !",
           "𝄞 Beyoncé 東京 עברית \u200b", "x" * 10_000, "rock " * 2_000, "80s 90s rock pop songs artists 1987"]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_structured_bodies_from_the_real_gazetteer_are_accepted(es, catalog, gazetteer, text):
    top_hits(es, catalog.name, "structured", understand(parse_query(text), gazetteer))  # raises on a 400

"""The seeded query-set generator: literal relevance on a hand-made catalog, properties on the sample."""
from __future__ import annotations

import json
import statistics

import Levenshtein
import pytest
from click.testing import CliRunner

from lrr_es.catalog import make_doc, sample_catalog
from lrr_es.cli import cli
from lrr_es.errors import LoadError, SimulationError
from lrr_es.q2e import query_tokens
from lrr_es.simulate import (
    DEFAULT_MIX,
    INTENTS,
    GeneratedQuery,
    generate_queries,
    intent_counts,
    load_queries,
    read_source,
    save_queries,
)
from lrr_es.simulate.catalog_view import CatalogView, core_title, norm
from lrr_es.simulate.queries import allot
from lrr_es.simulate.typos import MAX_EDITS_PER_TYPO


def tiny_catalog() -> list[dict]:
    """Two artists; a song, its remastered duplicate, a same-title song by another artist, and more."""
    return [
        make_doc(doc_id="artist:a1", entity_type="artist", title="The Velvet Owls", artist=["The Velvet Owls"],
                 genre=["indie rock"], main_genre="indie rock", popularity=50),
        make_doc(doc_id="artist:a2", entity_type="artist", title="Mara Soul", artist=["Mara Soul"],
                 genre=["soul"], main_genre="soul", popularity=30),
        make_doc(doc_id="song:s1", entity_type="song", title="Midnight Train", artist=["The Velvet Owls"],
                 genre=["indie rock"], year=1985, popularity=80),
        make_doc(doc_id="song:s2", entity_type="song", title="Midnight Train - Remastered 2011",
                 artist=["The Velvet Owls"], genre=["indie rock"], year=1986, popularity=20),
        make_doc(doc_id="song:s3", entity_type="song", title="Midnight Train", artist=["Mara Soul"],
                 genre=["soul"], year=1999, popularity=10),
        make_doc(doc_id="song:s4", entity_type="song", title="Soul Kitchen (feat. The Velvet Owls)",
                 artist=["Mara Soul", "The Velvet Owls"], genre=["soul", "indie rock"], year=1999, popularity=40),
    ]


# What each target must get, computed by hand from the fields above.
TINY_KNOWN_ITEM = {  # exact title or typo: target + duplicates 3, other songs of the same title 1
    "song:s1": {"song:s1": 3, "song:s2": 3, "song:s3": 1},
    "song:s2": {"song:s2": 3, "song:s1": 3, "song:s3": 1},
    "song:s3": {"song:s3": 3, "song:s1": 1, "song:s2": 1},
    "song:s4": {"song:s4": 3},
}
TINY_ARTIST = {  # the artist 3, its songs 2
    "artist:a1": {"artist:a1": 3, "song:s1": 2, "song:s4": 2, "song:s2": 2},
    "artist:a2": {"artist:a2": 3, "song:s4": 2, "song:s3": 2},
}


@pytest.fixture(scope="module")
def sample_docs():
    return sample_catalog()


@pytest.fixture(scope="module")
def queries(sample_docs):
    return generate_queries(sample_docs, 1000, seed=7)


def test_tiny_catalog_known_item_and_artist_relevance():
    found = generate_queries(tiny_catalog(), 60, seed=1, mix={"known_item_exact": 1, "artist": 1})
    assert intent_counts(found) == {"known_item_exact": 30, "artist": 30}
    for query in found:
        expected = TINY_KNOWN_ITEM if query.intent == "known_item_exact" else TINY_ARTIST
        assert query.relevant == expected[query.target]
    typed = {q.meta.get("clean", q.text).lower() for q in found}  # artist queries may carry a typo
    assert typed == {"midnight train", "soul kitchen", "the velvet owls", "velvet owls", "mara soul"}
    assert any("typos" in q.meta for q in found if q.intent == "artist")


def test_tiny_catalog_title_artist_and_partial_keep_only_the_recording():
    found = generate_queries(tiny_catalog(), 40, seed=2, mix={"title_artist": 1, "known_item_partial": 1})
    for query in found:
        assert query.relevant == {k: v for k, v in TINY_KNOWN_ITEM[query.target].items() if v == 3}


def test_tiny_catalog_lookups():
    view = CatalogView(tiny_catalog())
    assert view.genre_docs("rock") == ("song:s1", "artist:a1", "song:s4", "song:s2")
    assert view.genre_docs("rock", "1980s") == ("song:s1", "song:s2")
    assert view.genre_docs("indie rock", "1990s") == ("song:s4",)
    assert view.genre_docs("ck") == ()  # whole tokens only
    assert view.word_docs("soul") == (("song:s4",), ("artist:a2", "song:s3"))
    assert view.same_recording("song:s2") == ["song:s1", "song:s2"]
    assert core_title("Soul Kitchen (feat. The Velvet Owls)") == "Soul Kitchen"
    assert core_title("(Intro)") == "(Intro)"


def test_same_seed_same_queries_other_seed_differs(sample_docs, queries):
    assert generate_queries(sample_docs, 1000, seed=7) == queries
    assert generate_queries(sample_docs, 1000, seed=8) != queries
    assert generate_queries(sample_docs, 0, seed=7) == []


def test_default_mix_is_allotted_exactly(queries):
    assert intent_counts(queries) == {
        "known_item_exact": 200, "known_item_partial": 120, "known_item_typo": 130, "title_artist": 150,
        "artist": 150, "genre_decade": 130, "ambiguous": 120,
    }
    assert allot(7, DEFAULT_MIX) == {name: 1 for name in INTENTS}
    assert sum(DEFAULT_MIX.values()) == pytest.approx(1.0)


def test_custom_mix_within_tolerance(sample_docs):
    found = generate_queries(sample_docs, 333, seed=3, mix={"artist": 1, "ambiguous": 2, "genre_decade": 0.5})
    counts = intent_counts(found)
    assert set(counts) == {"artist", "ambiguous", "genre_decade"}
    for intent, weight in {"artist": 1, "ambiguous": 2, "genre_decade": 0.5}.items():
        assert abs(counts[intent] / 333 - weight / 3.5) <= 1 / 333


def test_every_query_is_well_formed(sample_docs, queries):
    ids = {doc["id"] for doc in sample_docs}
    assert len({q.qid for q in queries}) == len(queries)
    for query in queries:
        assert query.text.strip() and query.relevant
        assert set(query.relevant) <= ids
        assert set(query.relevant.values()) <= {1, 2, 3}
        if query.target is not None:
            assert query.relevant[query.target] == 3
        assert (query.target is None) == (query.intent in ("genre_decade", "ambiguous"))


def test_texts_match_their_intent(sample_docs, queries):
    docs = {doc["id"]: doc for doc in sample_docs}
    for q in queries:
        if q.target is None:
            continue
        doc, typed = docs[q.target], norm(q.text)
        core = norm(core_title(doc["title"]))
        if q.intent == "known_item_exact":
            assert typed == core
        elif q.intent == "known_item_partial":
            assert core.startswith(typed) and typed != core
        elif q.intent == "known_item_typo":
            assert norm(q.meta["clean"]) == core and q.text != q.meta["clean"]
            assert Levenshtein.distance(q.text, q.meta["clean"]) <= MAX_EDITS_PER_TYPO * len(q.meta["typos"])
        elif q.intent == "title_artist":
            assert core in typed and norm(doc["artist"][0]).removeprefix("the ") in typed
        elif q.intent == "artist":
            assert doc["entity_type"] == "artist"
            assert all(docs[i]["title"] in docs[i]["artist"] or doc["title"] in docs[i]["artist"] for i in q.relevant)


def test_broad_queries_match_their_slots(sample_docs, queries):
    docs = {doc["id"]: doc for doc in sample_docs}
    for q in (q for q in queries if q.intent == "genre_decade"):
        grades = list(q.relevant.values())
        assert len(grades) <= 100 and grades.count(2) <= 20 and grades == sorted(grades, reverse=True)
        for doc_id in q.relevant:
            doc = docs[doc_id]
            if q.meta["decade"]:
                assert doc["decade"] == q.meta["decade"]
            if q.meta["genre"]:
                genre = f" {norm(q.meta['genre'])} "
                assert any(genre in f" {norm(g)} " for g in doc["genre"] + [doc["main_genre"]])


def test_ambiguous_words_are_in_titles_and_artists_or_genres(sample_docs, queries):
    docs = {doc["id"]: doc for doc in sample_docs}
    ambiguous = [q for q in queries if q.intent == "ambiguous"]
    assert len({q.text.lower() for q in ambiguous}) > 20
    for q in ambiguous:
        word = q.text.lower()
        for doc_id, grade in q.relevant.items():
            doc = docs[doc_id]
            in_title = word in query_tokens(doc["title"]) and doc["entity_type"] == "song"
            elsewhere = any(word in query_tokens(name) for name in doc["artist"] + doc["genre"])
            assert (grade == 2 and in_title) or (grade == 1 and elsewhere)


def test_targets_favour_popular_songs_but_reach_the_tail(sample_docs):
    songs = sorted((d for d in sample_docs if d["entity_type"] == "song"), key=lambda d: (d["popularity"], d["id"]))
    bottom_half = {d["id"] for d in songs[: len(songs) // 2]}
    top_tenth = {d["id"] for d in songs[-len(songs) // 10:]}
    targets = [q.target for q in generate_queries(sample_docs, 2000, seed=5, mix={"known_item_exact": 1})]
    # measured with seed 5: about 0.66 from the top tenth and 0.16 from the bottom half
    assert sum(t in top_tenth for t in targets) / len(targets) > 0.4
    assert sum(t in bottom_half for t in targets) / len(targets) > 0.08
    assert len(set(targets)) > 500
    popularity = {d["id"]: d["popularity"] for d in songs}
    assert statistics.mean(popularity[t] for t in targets) > 3 * statistics.mean(popularity.values())


def test_jsonl_round_trip_is_exact(tmp_path, queries):
    path = tmp_path / "queries.jsonl"
    assert save_queries(path, queries) == 1000
    loaded = load_queries(path)
    assert loaded == queries
    assert [list(q.relevant.items()) for q in loaded] == [list(q.relevant.items()) for q in queries]
    again = tmp_path / "again.jsonl"
    save_queries(again, loaded)
    assert again.read_bytes() == path.read_bytes()
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0]) == queries[0].to_dict()


def test_from_dict_refuses_bad_records(tmp_path):
    good = {"qid": "q1", "text": "love", "intent": "ambiguous", "relevant": {"song:1": 2}, "target": None, "meta": {}}
    assert GeneratedQuery.from_dict(good).to_dict() == good
    bad = [
        ({k: v for k, v in good.items() if k != "text"}, "lacks text"),
        ({**good, "text": "  "}, "non-empty"),
        ({**good, "intent": "shopping"}, "unknown intent"),
        ({**good, "relevant": {"song:1": 4}}, "grades must be 1, 2 or 3"),
        ({**good, "target": "song:1"}, "must be relevant with grade 3"),
        ({**good, "relevant": ["song:1"]}, "relevant must be an object"),
    ]
    for record, message in bad:
        with pytest.raises(SimulationError, match=message):
            GeneratedQuery.from_dict(record)
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(good) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(SimulationError, match="line 2"):
        load_queries(path)


def test_bad_arguments_and_catalogs_raise_clear_errors(sample_docs):
    with pytest.raises(SimulationError, match="n must be an integer >= 0"):
        generate_queries(sample_docs, -1, seed=1)
    with pytest.raises(SimulationError, match="unknown intent.*'shopping'.*known intents"):
        generate_queries(sample_docs, 5, seed=1, mix={"shopping": 1})
    with pytest.raises(SimulationError, match="all zero"):
        generate_queries(sample_docs, 5, seed=1, mix={"artist": 0})
    with pytest.raises(SimulationError, match="finite number >= 0"):
        generate_queries(sample_docs, 5, seed=1, mix={"artist": -1})
    with pytest.raises(SimulationError, match="no documents"):
        generate_queries([], 5, seed=1)
    with pytest.raises(SimulationError, match="occurs twice"):
        generate_queries(tiny_catalog() + tiny_catalog()[:1], 5, seed=1)
    artists_only = [d for d in tiny_catalog() if d["entity_type"] == "artist"]
    with pytest.raises(SimulationError, match="cannot produce any of the intents"):
        generate_queries(artists_only, 5, seed=1, mix={"known_item_exact": 1})


def test_unsupported_intents_are_dropped_from_the_mix():
    songs_only = [d for d in sample_catalog(300, seed=2) if d["entity_type"] == "song"]
    counts = intent_counts(generate_queries(songs_only, 200, seed=1))
    assert "artist" not in counts and sum(counts.values()) == 200


def test_read_source(tmp_path):
    assert len(read_source("sample", sample_size=100).docs) == 110
    path = tmp_path / "catalog.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in tiny_catalog()) + "not json\n", encoding="utf-8")
    source = read_source(str(path))
    assert [d["id"] for d in source.docs] == [d["id"] for d in tiny_catalog()] and source.bad_rows == 1
    with pytest.raises(LoadError, match="not found"):
        read_source(str(tmp_path / "missing.jsonl"))
    text_file = tmp_path / "catalog.txt"
    text_file.write_text("x", encoding="utf-8")
    with pytest.raises(LoadError, match="cannot tell the format"):
        read_source(str(text_file))


def test_cli_writes_the_same_queries_as_the_function(tmp_path):
    out = tmp_path / "q.jsonl"
    result = CliRunner().invoke(cli, ["simulate", "queries", "--source", "sample", "--sample-size", "200",
                                      "--n", "50", "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "50 queries over 220 documents" in result.output and "known_item_exact" in result.output
    assert load_queries(out) == generate_queries(sample_catalog(200, 7), 50, seed=4)
    bad = CliRunner().invoke(cli, ["simulate", "queries", "--mix", "artist", "--out", str(out)])
    assert bad.exit_code != 0 and "NAME=VALUE" in bad.output


def test_candidate_recall_is_capped_at_k():
    q = GeneratedQuery("q1", "rock", "genre_decade", {f"d{i}": 1 for i in range(5)}, None, {})
    assert q.recall(["d0", "d1", "x"], k=100) == 2 / 5
    assert q.recall(iter(["d0", "d1", "d1"]), k=2) == 1.0  # two relevant found, at most two could count
    assert GeneratedQuery("q2", "x", "ambiguous", {}, None, {}).recall(["d0"]) == 0.0

"""The synthetic sample catalog: deterministic, canonical, ambiguous, skewed, multilingual."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from lrr_es.catalog import DOC_FIELDS, decade_of, sample_catalog


@pytest.fixture(scope="module")
def docs():
    return sample_catalog()


def songs_of(docs):
    return [doc for doc in docs if doc["entity_type"] == "song"]


def test_same_seed_same_catalog_and_other_seed_differs(docs):
    assert sample_catalog() == docs
    assert json.dumps(sample_catalog(seed=7)) == json.dumps(docs)
    assert sample_catalog(seed=8) != docs


def test_sizes_and_order(docs):
    kinds = [doc["entity_type"] for doc in docs]
    assert kinds == ["artist"] * 200 + ["song"] * 2000
    assert len({doc["id"] for doc in docs}) == len(docs)
    assert [d["entity_type"] for d in sample_catalog(n_songs=25, seed=1)] == ["artist"] * 2 + ["song"] * 25
    assert sample_catalog(n_songs=0) == []


def test_every_doc_has_the_canonical_schema(docs):
    for doc in docs:
        assert tuple(doc) == DOC_FIELDS
        assert isinstance(doc["id"], str) and doc["id"]
        assert isinstance(doc["title"], str) and doc["title"]
        assert doc["artist"] and all(isinstance(name, str) and name for name in doc["artist"])
        assert all(isinstance(genre, str) for genre in doc["genre"])
        assert doc["main_genre"] is None or doc["main_genre"] in doc["genre"]
        assert isinstance(doc["popularity"], float) and 0.0 <= doc["popularity"] <= 100.0
        assert doc["decade"] == decade_of(doc["year"])
        assert doc["song_type"] is None or isinstance(doc["song_type"], str)
        if doc["entity_type"] == "artist":
            assert doc["artist"] == [doc["title"]] and doc["id"].startswith("artist:")
            assert isinstance(doc["followers"], int) and doc["followers"] >= 0
            assert doc["year"] is doc["explicit"] is doc["added_at"] is doc["billboard"] is None
        else:
            assert doc["entity_type"] == "song" and doc["id"].startswith("song:")
            assert isinstance(doc["year"], int) and 1950 <= doc["year"] <= 2024
            assert isinstance(doc["explicit"], bool)
            assert dt.date.fromisoformat(doc["added_at"]).year == doc["year"]
            assert doc["followers"] is None
            assert doc["song_type"] in ("Solo", "Collaboration")
            assert doc["billboard"] is None or isinstance(doc["billboard"], str)


def test_song_artists_are_artists_of_the_catalog(docs):
    names = {doc["title"] for doc in docs if doc["entity_type"] == "artist"}
    assert all(set(song["artist"]) <= names for song in songs_of(docs))
    assert any(song["song_type"] == "Collaboration" for song in songs_of(docs))


def test_titles_are_ambiguous(docs):
    titles = Counter(song["title"] for song in songs_of(docs))
    assert titles.most_common(1)[0][1] >= 3
    assert titles["Love"] >= 3 and titles["Home"] >= 3
    title_words = {word for title in titles for word in title.split()}
    genres = {genre for doc in docs for genre in doc["genre"]}
    artist_words = {w for doc in docs if doc["entity_type"] == "artist" for w in doc["title"].split()}
    assert artist_words & title_words
    assert {w.lower() for w in artist_words} & genres


def test_popularity_is_skewed(docs):
    popularity = sorted((song["popularity"] for song in songs_of(docs)), reverse=True)
    top = popularity[: len(popularity) // 20]
    assert sum(top) > 0.25 * sum(popularity)


def test_names_are_not_all_ascii(docs):
    names = [doc["title"] for doc in docs] + [name for doc in docs for name in doc["artist"]]
    assert any(not name.isascii() for name in names)
    assert any("ë" in name or "ö" in name for name in names)
    assert any(any("\u0400" <= ch <= "\u04ff" or "\u3040" <= ch <= "\u9fff" for ch in name) for name in names)


def test_spans_decades_and_genres(docs):
    songs = songs_of(docs)
    assert len({song["decade"] for song in songs}) >= 7
    assert len({genre for song in songs for genre in song["genre"]}) >= 12
    assert 0 < sum(song["explicit"] for song in songs) < len(songs) / 2


def test_negative_size_is_refused():
    with pytest.raises(ValueError):
        sample_catalog(n_songs=-1)

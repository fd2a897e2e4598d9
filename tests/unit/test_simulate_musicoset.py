"""The query generator on the real MusicOSet: 1,000 queries, structure and sanity."""
from __future__ import annotations

import statistics

import pytest

from lrr_es.catalog import read_musicoset
from lrr_es.simulate import DEFAULT_MIX, generate_queries, intent_counts, load_queries, save_queries
from lrr_es.simulate.queries import allot


@pytest.fixture(scope="module")
def docs(musicoset):
    return {row.doc["id"]: row.doc for row in read_musicoset(musicoset) if row.ok}


@pytest.fixture(scope="module")
def queries(docs):
    return generate_queries(list(docs.values()), 1000, seed=7)


def test_musicoset_query_set_structure(docs, queries):
    assert len(docs) > 30_000
    assert intent_counts(queries) == allot(1000, DEFAULT_MIX)
    assert len({q.qid for q in queries}) == 1000
    ids = set(docs)
    for q in queries:
        assert q.text.strip() and q.text == q.text.strip()
        assert q.relevant and set(q.relevant) <= ids
        assert set(q.relevant.values()) <= {1, 2, 3} and len(q.relevant) <= 100
        if q.target is not None:
            kind = docs[q.target]["entity_type"]
            assert kind == ("artist" if q.intent == "artist" else "song")
            assert q.relevant[q.target] == 3


def test_musicoset_query_set_sanity(docs, queries):
    by_intent = {intent: [q for q in queries if q.intent == intent] for intent in DEFAULT_MIX}
    # broad queries retrieve sizeable sets; known items are narrow
    assert statistics.median(len(q.relevant) for q in by_intent["genre_decade"]) >= 50
    assert statistics.median(len(q.relevant) for q in by_intent["known_item_exact"]) <= 5
    assert all(q.text != q.meta["clean"] for q in by_intent["known_item_typo"])
    # variety: targets and words are not a handful of repeats
    assert len({q.target for q in by_intent["known_item_exact"]}) > 150
    assert len({q.text.lower() for q in by_intent["ambiguous"]}) > 50
    assert len({q.meta["genre"] for q in by_intent["genre_decade"] if q.meta["genre"]}) > 15
    # popular songs are sought more often than the catalog average suggests
    songs = [d["popularity"] for d in docs.values() if d["entity_type"] == "song"]
    targets = [docs[q.target]["popularity"] for q in by_intent["known_item_exact"]]
    assert statistics.mean(targets) > statistics.mean(songs) + 10


def test_musicoset_round_trip(tmp_path, queries):
    path = tmp_path / "musicoset-queries.jsonl"
    save_queries(path, queries)
    assert load_queries(path) == queries

"""The vectorized ranking features equal a straightforward per-candidate implementation, value for value.

``reference_features`` below is the row-by-row code the features were first written as (FEATURE_VERSION
1): trained models and logged rows depend on these values, so the fast code must give exactly them
(bit for bit, not approximately) on varied pools: unicode and accents, missing and odd fields, several
artists, strings past the edit-distance window, repeated strategies, odd ranks and scores.
"""
import math
import random

import Levenshtein
import numpy as np
import pytest
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein as RapidLevenshtein

from lrr_es.config import KNOWN_STRATEGIES, FieldMap
from lrr_es.context import CONTEXT_SCHEMA, context_vector
from lrr_es.merge import Candidate, Provenance
from lrr_es.parse import parse_query
from lrr_es.rank import features
from lrr_es.rank.features import (DOC_FEATURES, ENTITY_TYPES, STRATEGY_FEATURES, candidate_features, feature_schema,
                                  strategy_best)
from lrr_es.rank.textmatch import EDIT_CHARS

NOW = 1_700_000_000.0
YEAR_S = 365.25 * 86_400


def reference_features(query, pool, strategies, fields=FieldMap(), now=NOW, best=None):
    """FEATURE_VERSION 1, one candidate at a time."""
    x = np.zeros((len(pool), len(feature_schema(strategies))))
    if not pool:
        return x
    width = 4 * len(strategies)
    column = {s: 4 * i for i, s in enumerate(strategies)}
    for r, c in enumerate(pool):
        for p in c.provenance:
            if p.strategy in column:
                k = column[p.strategy]
                x[r, k:k + 3] = (1.0, 1.0 / p.rank if isinstance(p.rank, int) and p.rank >= 1 else 0.0,
                                 features._finite(p.score))
    scores = x[:, 2:width:4]
    best = np.maximum(scores.max(axis=0), 0.0) if best is None else best
    x[:, 3:width:4] = np.where(best > 0, scores / np.where(best > 0, best, 1.0), 0.0)
    title_field = next((f for f in fields.title if "." not in f), None)
    artist_field = next((f for f in fields.artist if "." not in f), None)
    q_tokens = tuple(query.tokens)
    q_set = set(q_tokens)
    for r, c in enumerate(pool):
        source = c.source if isinstance(c.source, dict) else {}
        title = [features._folded(t) for t in features._strings(source.get(title_field))[:1]]
        artists = [features._folded(a) for a in features._strings(source.get(artist_field))]
        seen = set(title[0][0]) if title else set()
        for tokens, _ in artists:
            seen.update(tokens)
        ranks = [p.rank for p in c.provenance if isinstance(p.rank, int) and p.rank >= 1]
        q2e = features._q2e(source, query.key) if "q2e" in source else None
        added = source.get(fields.added_at)
        added = features._added_seconds(added) if added is not None else None
        kind = features._strings(source.get(fields.entity_type))[:1]
        kind = kind[0] if kind and kind[0] in ENTITY_TYPES else "other"
        x[r, width:width + len(DOC_FEATURES)] = (
            features._finite(c.fused), len(c.provenance), 1.0 / min(ranks) if ranks else 0.0,
            features._popularity(source.get(fields.popularity)), q2e or 0.0, q2e is not None,
            0.0 if added is None else min(max((now - added) / YEAR_S, 0.0), 200.0), added is not None,
            *(float(kind == t) for t in (*ENTITY_TYPES, "other")),
            *reference_match(q_tokens, title), *reference_match(q_tokens, artists),
            len(q_set & seen) / len(q_set) if q_set else 0.0, len(title[0][0]) if title else 0)
    x[:, width + len(DOC_FEATURES):] = context_vector(query)[[CONTEXT_SCHEMA.index(n) for n in features.QUERY_FEATURES]]
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def reference_match(q_tokens, values):
    q_joined, q_set = " ".join(q_tokens), set(q_tokens)
    best = (0.0, 0.0, 0.0, 0.0)
    for tokens, joined in values:
        if q_joined and joined:
            q_edit, b = q_joined[:EDIT_CHARS], joined[:EDIT_CHARS]
            best = max(best, (float(joined == q_joined), float(joined.startswith(q_joined)),
                              len(q_set.intersection(tokens)) / len(q_set),
                              1.0 - Levenshtein.distance(q_edit, b) / max(len(q_edit), len(b))))
    return best


WORDS = ["love", "Love", "LOVE", "lové", "Beyoncé", "beyonce", "Ölçü", "straße", "STRASSE", "東京", "東京タワー",
         "Ιός", "ﬁre", "İstanbul", "the", "the", "rock", "80s", "1999", "a", "😀", "x-y", "don't", "  ", ""]
QUERIES = ["love", "the love", "beyonce", "straße", "東京", "rock 80s", "a a a", "ιος", "fire", "istanbul",
           "love " * 40, "1999", "x", "don t", "😀 love"]


def random_text(rng, words=6):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, words)))


def random_candidate(rng, i):
    source = {}
    if rng.random() < 0.9:
        source["title"] = rng.choice([random_text(rng), random_text(rng, 60), 42, None, ["x", "love"], "love"])
    if rng.random() < 0.9:
        source["artist"] = rng.choice([random_text(rng), [random_text(rng) for _ in range(rng.randint(0, 4))],
                                       [None, {"x": 1}, "Love"], ["", "love", "love"], 7])
    if rng.random() < 0.8:
        source["popularity"] = rng.choice([rng.uniform(0, 100), -3, "very", float("nan"), True, 10 ** 3])
    if rng.random() < 0.7:
        source["added_at"] = rng.choice(["2008-09-12", "2020-01-01T10:00:00Z", "not a date", 1.5e12, "3000-01-01", None])
    if rng.random() < 0.8:
        source["entity_type"] = rng.choice([*ENTITY_TYPES, "station", ["song"], None])
    if rng.random() < 0.1:
        source["q2e"] = rng.choice([{"love": 2.5}, {"love": float("inf")}, {"love": True}, "x"])
    strategies = list(KNOWN_STRATEGIES) + ["unknown"]
    provenance = tuple(Provenance(rng.choice(strategies), rng.choice([1, 2, 7, 250, 0, -1, True, 3.0, None]),
                                  rng.choice([rng.uniform(-5, 30), 0.0, float("nan"), float("inf"), None, 12]))
                       for _ in range(rng.randint(0, 4)))
    fused = rng.choice([rng.random(), float("nan"), float("inf"), 1, None])
    return Candidate(f"doc-{i}", source if rng.random() < 0.97 else None, provenance, fused)


@pytest.mark.parametrize("seed", range(12))
def test_vectorized_features_equal_the_reference_bit_for_bit(seed):
    rng = random.Random(seed)
    features.clear_caches()
    pool = [random_candidate(rng, i) for i in range(rng.choice([0, 1, 2, 30, 200]))]
    for text in rng.sample(QUERIES, 4):
        query = parse_query(text)
        for _ in range(2):  # cold, then warm (cached document parts)
            got = candidate_features(query, pool, KNOWN_STRATEGIES, now=NOW)
            want = reference_features(query, pool, KNOWN_STRATEGIES)
            assert got.shape == want.shape
            assert np.array_equal(got, want), np.argwhere(got != want)[:5]
        head = strategy_best(pool, KNOWN_STRATEGIES)
        assert np.array_equal(candidate_features(query, pool[:3], KNOWN_STRATEGIES, now=NOW, best=head),
                              reference_features(query, pool[:3], KNOWN_STRATEGIES, best=head))


def test_several_artists_and_long_strings_pick_the_same_best_artist():
    long_title = "love " * 60  # past the 128-character window of the edit similarity
    pool = [Candidate("a", {"title": long_title, "artist": ["Love", "lové story", "The Love", "LOVE"]}, (), 0.1),
            Candidate("b", {"title": "Lové", "artist": ["", "xx", "love love", "lo"]}, (), 0.1),
            Candidate("c", {"title": long_title.strip(), "artist": "beyoncé"}, (), 0.1),
            Candidate("d", {}, (), 0.1)]
    for text in ("love", long_title, long_title.strip(), "love story", "lo"):
        query = parse_query(text)
        assert np.array_equal(candidate_features(query, pool, now=NOW), reference_features(query, pool, KNOWN_STRATEGIES))


def test_a_changed_document_is_not_served_from_the_cache():
    query = parse_query("love")
    before = [Candidate("same", {"title": "Love", "popularity": 5}, (Provenance("lexical", 1, 2.0),), 0.1)]
    after = [Candidate("same", {"title": "Hate", "popularity": 50}, (Provenance("lexical", 1, 2.0),), 0.1)]
    assert not np.array_equal(candidate_features(query, before, now=NOW), candidate_features(query, after, now=NOW))
    assert np.array_equal(candidate_features(query, after, now=NOW), reference_features(query, after, KNOWN_STRATEGIES))


def test_other_field_maps_follow_their_fields():
    fields = FieldMap(title=("name", "name.folded"), people=("performer",), popularity="plays", added_at="released",
                      entity_type="kind")
    pool = [Candidate("x", {"name": "Beyoncé Love", "performer": ["Beyoncé"], "plays": 12, "released": "2001-02-03",
                            "kind": "album", "title": "ignored"}, (Provenance("fuzzy", 2, 4.0),), 0.2)]
    query = parse_query("beyonce")
    assert np.array_equal(candidate_features(query, pool, fields=fields, now=NOW),
                          reference_features(query, pool, KNOWN_STRATEGIES, fields=fields))


def test_rapidfuzz_edit_similarity_equals_the_levenshtein_formula():
    rng = random.Random(3)
    alphabet = "abcéü ßİı漢字😀xyz"
    for _ in range(300):
        q = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 140)))[:EDIT_CHARS]
        choices = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 140)))[:EDIT_CHARS] for _ in range(4)]
        got = process.cdist((q,), choices, scorer=RapidLevenshtein.normalized_similarity, dtype=np.float64, workers=1)[0]
        assert got.tolist() == [1.0 - Levenshtein.distance(q, b) / max(len(q), len(b)) for b in choices]


def test_empty_pool_and_strategy_columns():
    assert candidate_features(parse_query("love"), [], KNOWN_STRATEGIES).shape == (0, len(feature_schema()))
    assert len(STRATEGY_FEATURES) == 4 and math.isfinite(NOW)

"""Ranking features on literal candidates: values, conventions for missing or hostile data, shapes."""
import math

import numpy as np
import pytest

from lrr_es.config import KNOWN_STRATEGIES, FieldMap
from lrr_es.context import context_vector
from lrr_es.errors import QueryError
from lrr_es.merge import Candidate, Provenance
from lrr_es.rank.features import (DOC_FEATURES, FEATURE_SCHEMA, FEATURE_VERSION, QUERY_FEATURES, candidate_features,
                                  feature_schema, schema_id)
from lrr_es.parse import parse_query

NOW = 1_700_000_000.0  # 2023-11-14
COL = {name: i for i, name in enumerate(FEATURE_SCHEMA)}


def _features(query, pool, **kwargs):
    return candidate_features(parse_query(query), pool, KNOWN_STRATEGIES, now=NOW, **kwargs)


def love_story():
    return Candidate("song:1", {"title": "Love Story", "artist": ["Taylor Swift"], "popularity": 80.0,
                                "added_at": "2008-09-12", "entity_type": "song"},
                     (Provenance("lexical", 1, 12.0), Provenance("memory", 4, 6.0)), 1 / 61 + 1 / 64)


def test_schema_is_named_versioned_and_follows_the_strategies():
    assert len(FEATURE_SCHEMA) == len(set(FEATURE_SCHEMA)) == 4 * len(KNOWN_STRATEGIES) + len(DOC_FEATURES) + len(QUERY_FEATURES)
    assert FEATURE_SCHEMA[:4] == ("lexical_found", "lexical_rr", "lexical_score", "lexical_score_rel")
    assert feature_schema(["fuzzy"])[:4] == ("fuzzy_found", "fuzzy_rr", "fuzzy_score", "fuzzy_score_rel")
    assert schema_id(FEATURE_SCHEMA).startswith(f"ltr{FEATURE_VERSION}-")
    assert schema_id(FEATURE_SCHEMA) != schema_id(feature_schema(["lexical"]))
    with pytest.raises(QueryError, match="distinct"):
        feature_schema(["lexical", "lexical"])


def test_values_of_one_literal_candidate():
    x = _features("taylor swift love story", [love_story()])[0]
    expected = {"lexical_found": 1, "lexical_rr": 1, "lexical_score": 12, "lexical_score_rel": 1,
                "memory_found": 1, "memory_rr": 0.25, "memory_score": 6, "popular_found": 0, "popular_rr": 0,
                "fused": 1 / 61 + 1 / 64, "found_count": 2, "best_rr": 1, "popularity_log": math.log1p(80),
                "q2e_known": 0, "age_known": 1, "type_song": 1, "type_other": 0, "title_exact": 0,
                "title_overlap": 0.5, "artist_overlap": 0.5, "title_artist_coverage": 1, "title_tokens": 2,
                "q_tokens_4plus": 1}
    assert {k: x[COL[k]] for k in expected} == pytest.approx(expected)
    assert x[COL["age_years"]] == pytest.approx(15.17, abs=0.01)


def test_exact_prefix_and_edit_distance_fold_case_and_accents():
    c = Candidate("a", {"title": "Beyoncé", "artist": "BEYONCÉ"}, (Provenance("fuzzy", 1, 3.0),), 0.1)
    x = _features("beyonce", [c])[0]
    assert (x[COL["title_exact"]], x[COL["title_prefix"]], x[COL["artist_exact"]], x[COL["title_edit"]]) == (1, 1, 1, 1)
    typo = _features("beyonse", [c])[0]
    assert typo[COL["title_exact"]] == 0 and typo[COL["title_edit"]] == pytest.approx(1 - 1 / 7)
    prefix = _features("beyo", [c])[0]
    assert (prefix[COL["title_exact"]], prefix[COL["title_prefix"]]) == (0, 1)


def test_q2e_is_read_when_the_map_is_in_source():
    c = Candidate("a", {"title": "x", "q2e": {"love_story": 2.5, "other": 9.0}}, (Provenance("memory", 1, 7.0),), 0.1)
    x = _features("Story love", [c])[0]
    assert (x[COL["q2e_score"]], x[COL["q2e_known"]]) == (2.5, 1)


def test_missing_fields_and_nan_inf_give_the_documented_defaults():
    bare = Candidate("bare", {}, (Provenance("explore", 2, float("nan")),), float("inf"))
    odd = Candidate("odd", {"title": 42, "artist": [None, {"x": 1}], "popularity": "very", "added_at": "not a date",
                            "entity_type": ["station"], "q2e": {"love": float("inf")}},
                    (Provenance("lexical", 3, float("-inf")),), float("nan"))
    X = _features("love", [bare, odd])
    assert np.isfinite(X).all()
    for row in X:
        assert row[COL["popularity_log"]] == row[COL["age_known"]] == row[COL["fused"]] == row[COL["title_edit"]] == 0
        assert row[COL["type_other"]] == 1
    assert X[0][COL["explore_found"]] == 1 and X[0][COL["explore_score"]] == 0 and X[0][COL["explore_rr"]] == 0.5
    assert X[1][COL["q2e_known"]] == 1 and X[1][COL["q2e_score"]] == 0


def test_an_empty_pool_gives_zero_rows():
    assert _features("love", []).shape == (0, len(FEATURE_SCHEMA))


@pytest.mark.parametrize("hostile", ["x" * 20_000, "💥" * 500, "<script>alert(1)</script>", "\x00\n\t", "Ⅻ ﬁ ß İ"])
def test_hostile_strings_are_bounded_and_finite(hostile):
    c = Candidate("h", {"title": hostile, "artist": [hostile] * 100, "entity_type": hostile, "added_at": hostile},
                  (Provenance("lexical", 1, 1.0),), 0.1)
    x = _features(hostile[:200] if hostile.strip("\x00\n\t") else "love", [c])
    assert x.shape == (1, len(FEATURE_SCHEMA)) and np.isfinite(x).all()


def test_query_features_come_from_the_given_context_vector():
    query = parse_query("love")
    ctx = context_vector(query, {"device": "tv"}, vocabulary={"love"})
    x = candidate_features(query, [love_story()], context=ctx, now=NOW)[0]
    assert x[COL["q_known_token_share"]] == 1 and x[COL["q_tokens_1"]] == 1
    with pytest.raises(QueryError, match="shape"):
        candidate_features(query, [love_story()], context=np.zeros(3))


def test_strategies_outside_the_schema_are_ignored_and_fields_follow_the_field_map():
    c = Candidate("a", {"name": "Love", "by": "Me"}, (Provenance("lexical", 1, 2.0), Provenance("custom", 1, 5.0)), 0.1)
    x = candidate_features(parse_query("love"), [c], ["lexical"], FieldMap(title=("name",), people=("by",)), now=NOW)
    schema = feature_schema(["lexical"])
    assert x.shape == (1, len(schema)) and x[0][schema.index("title_exact")] == 1
    assert x[0][schema.index("found_count")] == 2  # provenance count still sees every strategy


def test_a_changed_document_is_not_served_from_the_static_feature_cache():
    import dataclasses
    first = _features("love story", [love_story()])[0]
    renamed = dataclasses.replace(love_story(), source={**love_story().source, "title": "Blank Space", "popularity": 5.0,
                                                        "entity_type": "album"})
    second = _features("love story", [renamed])[0]
    assert first[COL["title_exact"]] == 1 and second[COL["title_exact"]] == 0
    assert second[COL["popularity_log"]] == pytest.approx(math.log1p(5)) and second[COL["type_album"]] == 1
    assert np.array_equal(_features("love story", [love_story()])[0], first)  # and back again

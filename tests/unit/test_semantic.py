"""The semantic model (LSA, clusters, serialization) and the semantic strategy's body, on literal data."""
import numpy as np
import pytest

from lrr_es.config import FieldMap
from lrr_es.errors import ConfigError, QueryError
from lrr_es.semantic import SemanticModel, document_tokens, embedding_fields, fit_semantic
from lrr_es.semantic.linalg import randomized_svd, spherical_kmeans, top_k
from lrr_es.parse import parse_query
from lrr_es.strategies import get_strategy
from lrr_es.strategies.semantic import semantic_clause

TOPICS = {"rap": ["rap", "hip", "hop", "trap", "flow", "beat"],
          "country": ["country", "truck", "whiskey", "nashville", "road", "porch"],
          "rock": ["rock", "guitar", "metal", "riff", "stage", "loud"]}
# 90 literal documents: 30 per topic, each three words of its topic chosen by position
CORPUS = [[words[i % 6], words[(i * 2 + 1) % 6], words[(i * 5 + 3) % 6]]
          for words in TOPICS.values() for i in range(30)]


def tiny_model() -> SemanticModel:
    """Three words, two dims, two clusters: love -> d00, rap and rock -> d01 (0.6 / 0.8)."""
    return SemanticModel(("love", "rap", "rock"), np.ones(3, np.float32),
                         np.array([[1, 0, 0], [0, 0.6, 0.8]], np.float32), np.array([[1, 0], [0, 1]], np.float32))


def test_document_tokens_fold_title_artist_then_distinct_genre_words():
    doc = {"title": "Love Story", "artist": ["Taylor Swift"], "genre": ["Country Pop", "pop", "country"]}
    assert document_tokens(doc) == ["love", "story", "taylor", "swift", "country", "pop"]
    other = FieldMap(title=("name", "name.prefix"), people=("performer",), attributes=())
    assert document_tokens({"name": "Beyoncé", "performer": "Jay-Z", "genre": "rap"}, other) == ["beyonce", "jay", "z"]


def test_fit_shapes_unit_vectors_and_seeded_determinism():
    first, again = fit_semantic(CORPUS, dims=4, clusters=3, seed=7), fit_semantic(CORPUS, dims=4, clusters=3, seed=7)
    m = first.model
    assert (len(m.vocab), m.idf.shape, m.components.shape, m.centroids.shape) == (18, (18,), (4, 18), (3, 4))
    assert first.vectors.shape == (90, 4) and first.vectors.dtype == np.float32 and first.assignments.shape == (90,)
    assert np.allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-6)
    assert np.allclose(m.components @ m.components.T, np.eye(4), atol=1e-5)
    for a, b in [(first.vectors, again.vectors), (m.components, again.model.components), (m.centroids, again.model.centroids),
                 (first.assignments, again.assignments)]:
        assert np.array_equal(a, b)
    assert m.params["dims"] == 4 and m.params["clusters"] == 3 and m.params["documents"] == 90


def test_clusters_follow_the_topics_and_queries_find_their_topic():
    fit = fit_semantic(CORPUS, dims=4, clusters=3, seed=7)
    labels = fit.assignments.reshape(3, 30)
    assert [len(set(row)) for row in labels] == [1, 1, 1] and len({row[0] for row in labels}) == 3
    vector = fit.model.embed(["whiskey", "truck"])
    assert all(30 <= i < 60 for i in top_k(fit.vectors @ vector, 10))  # the country documents
    assert fit.model.probe(vector, 1) == [int(labels[1][0])]


def test_the_clusters_do_not_hang_on_the_seed():
    # a seed stands for any small change in the arithmetic (BLAS threads, CPU): one k-means run got
    # [2, 2, 1] here on another machine; the restarts must find the three topics from every start
    for seed in range(30):
        labels = fit_semantic(CORPUS, dims=4, clusters=3, seed=seed).assignments.reshape(3, 30)
        assert [len(set(row)) for row in labels] == [1, 1, 1] and len({row[0] for row in labels}) == 3, seed


def test_unknown_tokens_are_ignored_and_an_unknown_query_matches_nothing():
    model = tiny_model()
    assert model.embed(["zzz", "qqq"]) is None
    assert np.array_equal(model.embed(["love", "zzz"]), model.embed(["love"]))
    assert semantic_clause(model, ("zzz",)) == {"match_none": {}}
    body = get_strategy("semantic", resources={"semantic": model}).build(parse_query("!!! 東京"), 7, [{"term": {"x": 1}}])
    assert body == {"size": 7, "track_total_hits": False,
                    "query": {"bool": {"must": [{"match_none": {}}], "filter": [{"term": {"x": 1}}]}}}


def test_semantic_golden_body():
    strategy = get_strategy("semantic", resources={"semantic": tiny_model()})
    assert strategy.available and strategy.descriptors() == {"name": "semantic", "kind": "semantic", "cost": 1.5}
    assert strategy.build(parse_query("Love ROCK zzz"), 5) == {"size": 5, "track_total_hits": False, "query": {
        "script_score": {
            "query": {"terms": {"lrr_sem_cluster": ["0", "1"]}},
            "script": {"id": "lrr-semantic-dot-d4730af58b",
                       "params": {"fields": ["lrr_emb.d00", "lrr_emb.d01"], "vector": [0.7808688, 0.62469506]}}}}}


def test_nprobe_limits_the_probed_clusters():
    model = tiny_model()
    assert semantic_clause(model, ("rap",), nprobe=1)["script_score"]["query"] == {"terms": {"lrr_sem_cluster": ["1"]}}


def test_without_a_model_the_strategy_is_unavailable_and_says_why():
    strategy = get_strategy("semantic")
    assert not strategy.available
    with pytest.raises(QueryError, match="no semantic model loaded.*lrr-es semantic build"):
        strategy.build(parse_query("love"), 10)


def test_serialization_round_trip_is_exact():
    model = fit_semantic(CORPUS, dims=4, clusters=3, seed=7).model
    back = SemanticModel.from_bytes(model.to_bytes(), version=3)
    assert back.vocab == model.vocab and back.params == model.params and back.version == 3
    for name in ("idf", "components", "centroids"):
        assert getattr(back, name).dtype == np.float32 and np.array_equal(getattr(back, name), getattr(model, name))
    assert np.array_equal(back.embed(["rap", "flow"]), model.embed(["rap", "flow"]))


def test_damaged_artifacts_and_bad_parameters_are_refused():
    with pytest.raises(ConfigError, match="semantic artifact cannot be read"):
        SemanticModel.from_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"semantic dims must be an integer in \[1, 100\], got 0"):
        fit_semantic(CORPUS, dims=0)
    with pytest.raises(ConfigError, match="18 terms in at least 2 documents; 20 dims need more"):
        fit_semantic(CORPUS, dims=20)
    with pytest.raises(ConfigError, match="inconsistent semantic model"):
        SemanticModel(("a",), np.ones(2, np.float32), np.ones((1, 1), np.float32), np.ones((1, 1), np.float32))


def test_embedding_field_names():
    assert embedding_fields(3) == ["lrr_emb.d00", "lrr_emb.d01", "lrr_emb.d02"]


def test_randomized_svd_matches_the_exact_svd():
    matrix = np.random.default_rng(0).standard_normal((40, 12)) @ np.diag(np.linspace(10, 1, 12))
    components, singular = randomized_svd(matrix, 3, seed=1)
    _, exact, vt = np.linalg.svd(matrix, full_matrices=False)
    assert np.allclose(singular, exact[:3], rtol=1e-6)
    assert np.allclose(np.abs(components @ vt[:3].T), np.eye(3), atol=1e-5)


def test_spherical_kmeans_on_two_obvious_groups():
    points = np.array([[1, 0], [0.99, 0.141], [0, 1], [0.141, 0.99]], dtype=np.float64)
    centroids = spherical_kmeans(points, 2, seed=3)
    assert sorted((points @ centroids.T).argmax(axis=1).tolist()) == [0, 0, 1, 1]
    assert (points[:2] @ centroids.T).argmax(axis=1).tolist()[0] != (points[2:] @ centroids.T).argmax(axis=1).tolist()[0]

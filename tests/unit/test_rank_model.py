"""The ranker's estimator contract and the pure rank stage (fallbacks without a node)."""
import threading

import numpy as np
import pytest

from lrr_es.config import FieldMap
from lrr_es.errors import ModelError
from lrr_es.merge import Candidate, Provenance
from lrr_es.rank import FEATURE_SCHEMA, LtrRanker, feature_schema
from lrr_es.rank.predict import inplace_scores
from lrr_es.rank.registry import LiveRanker
from lrr_es.rank.serve import rank_pool
from lrr_es.rank.metrics import ndcg_at_k
from lrr_es.parse import parse_query


def data(seed=0, rows=400, width=8):
    rng = np.random.default_rng(seed)
    X = rng.random((rows, width))
    y = np.clip((3 * X[:, 2] + rng.normal(0, 0.3, rows)).round(), 0, 3)
    return X, y, rng.permutation(np.arange(rows) // 20)  # qids shuffled: fit must sort them


def test_fit_returns_self_and_sets_model():
    X, y, qid = data()
    ranker = LtrRanker(n_estimators=5)
    assert ranker.fit(X, y, qid=qid) is ranker
    assert ranker.model_ is not None and ranker.n_features_in_ == 8
    assert ranker.get_params()["n_estimators"] == 5


def test_init_only_stores_parameters_and_fit_validates_them():
    ranker = LtrRanker(n_estimators=0)
    assert not hasattr(ranker, "model_")
    with pytest.raises(ModelError, match="n_estimators must be an integer >= 1, got 0"):
        ranker.fit(*data()[:2])


def test_seeded_fits_repeat_exactly():
    X, y, qid = data()
    a = LtrRanker(n_estimators=20, subsample=0.7, colsample_bytree=0.7, random_state=3).fit(X, y, qid=qid)
    b = LtrRanker(n_estimators=20, subsample=0.7, colsample_bytree=0.7, random_state=3).fit(X, y, qid=qid)
    assert np.array_equal(a.predict(X), b.predict(X))


def test_qid_and_the_equivalent_sorted_groups_give_the_same_model():
    X, y, qid = data()
    order = np.argsort(qid, kind="stable")
    by_qid = LtrRanker(n_estimators=10).fit(X, y, qid=qid)
    by_group = LtrRanker(n_estimators=10).fit(X[order], y[order], group=np.bincount(qid).tolist())
    assert np.array_equal(by_qid.predict(X), by_group.predict(X))


def test_predict_refuses_a_feature_count_mismatch_and_an_unfitted_model():
    X, y, qid = data()
    ranker = LtrRanker(n_estimators=3).fit(X, y, qid=qid)
    with pytest.raises(ModelError, match="X has 7 features, but this ranker was fitted with 8"):
        ranker.predict(X[:, :7])
    with pytest.raises(ModelError, match="not fitted"):
        LtrRanker().predict(X)


@pytest.mark.parametrize("kwargs, message", [
    ({"group": [10, 10]}, "sum to 400"),
    ({"qid": np.arange(3)}, "one entry per row"),
    ({"group": [400], "qid": np.zeros(400)}, "not both"),
    ({"qid": np.arange(400) // 20, "sample_weight": np.arange(400.0)}, "varies within a query"),
])
def test_fit_names_bad_groups_and_weights(kwargs, message):
    X, y, _ = data()
    with pytest.raises(ModelError, match=message):
        LtrRanker(n_estimators=2).fit(X, y, **kwargs)


def test_bytes_round_trip_gives_identical_scores_and_keeps_the_schema():
    X, y, qid = data(width=len(FEATURE_SCHEMA))
    ranker = LtrRanker(n_estimators=15, max_depth=3).fit(X, y, qid=qid, sample_weight=np.ones(20),
                                                       feature_names=FEATURE_SCHEMA)
    blob = ranker.to_bytes()
    assert not blob.startswith(b"\x80")  # UBJSON, not a pickle
    loaded = LtrRanker.from_bytes(blob)
    assert np.array_equal(loaded.predict(X), ranker.predict(X))
    assert loaded.feature_names_in_ == FEATURE_SCHEMA and loaded.schema_id == ranker.schema_id
    assert loaded.get_params() == ranker.get_params()
    assert set(ranker.feature_importances_) <= set(FEATURE_SCHEMA)
    with pytest.raises(ModelError, match="not an lrr-es ranker"):
        LtrRanker.from_bytes(b"garbage")


def test_predict_gives_exactly_what_xgboost_inplace_predict_gives():
    X, y, qid = data(width=len(FEATURE_SCHEMA))
    X[::7, 3] = np.nan  # missing values go the trees' default way, as in XGBoost
    ranker = LtrRanker(n_estimators=30, max_depth=5).fit(X, y, qid=qid)
    for rows in (X, X[:1], np.asfortranarray(X[:50]), X[::3]):  # float64, one row, Fortran order, strided
        want = ranker.model_.inplace_predict(rows, validate_features=False)
        assert np.array_equal(ranker.predict(rows), want)
        assert np.array_equal(inplace_scores(ranker.model_, rows.astype(np.float32)), want)
    scores = []
    threads = [threading.Thread(target=lambda: scores.append(ranker.predict(X))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(scores) == 4 and all(np.array_equal(s, ranker.model_.inplace_predict(X)) for s in scores)


def test_a_learnable_signal_is_learned():
    X, y, qid = data(rows=2000)
    train, test = qid < 70, qid >= 70
    ranker = LtrRanker(n_estimators=30).fit(X[train], y[train], qid=qid[train])
    assert ndcg_at_k(ranker.predict(X[test]), y[test], qid[test]) > ndcg_at_k(X[test, 0], y[test], qid[test]) + 0.15


# --- the rank stage ----------------------------------------------------------------------------

def pool(n=30):
    return [Candidate(f"d{i}", {"title": f"song {i}", "popularity": float(i)}, (Provenance("lexical", i + 1, 10.0 - i / 10),),
                      1 / (61 + i)) for i in range(n)]


class Constant:
    def __init__(self, scores):
        self.scores = scores

    def predict(self, X):
        return np.asarray(self.scores(X), dtype=float)


def live(model, schema=feature_schema(["lexical"])):
    return LiveRanker("idx", 4, "id", tuple(schema), model)


def test_rank_pool_reorders_the_head_by_the_ranker_and_keeps_the_tail():
    schema = feature_schema(["lexical"])
    popularity = schema.index("popularity_log")
    ranked = rank_pool(parse_query("song"), pool(), ["lexical"], FieldMap(), None,
                       live(Constant(lambda X: X[:, popularity])), limit=10)
    assert ranked.version == 4 and ranked.fallback is None
    assert [c.id for c in ranked.pool] == [f"d{i}" for i in range(9, -1, -1)] + [f"d{i}" for i in range(10, 30)]
    assert np.all(np.diff(ranked.scores) < 0) and ranked.features.shape == (10, len(schema))
    assert np.all(np.diff(ranked.features[:, popularity]) < 0)  # feature rows follow the served order


@pytest.mark.parametrize("given, reason", [
    (None, "no live ranker"),
    (ModelError("damaged"), "not loaded: damaged"),
    ("mismatch", "feature schema"),
    (lambda X: np.full(len(X), np.nan), "non-finite"),
    (lambda X: 1 / 0, "predict failed"),
])
def test_rank_pool_falls_back_to_rrf_and_says_why(given, reason):
    if given == "mismatch":
        given = live(Constant(lambda X: X[:, 0]), FEATURE_SCHEMA)
    elif callable(given):
        given = live(Constant(given))
    original = pool()
    ranked = rank_pool(parse_query("song"), original, ["lexical"], FieldMap(), None, given)
    assert ranked.version == "rrf" and reason in ranked.fallback
    assert list(ranked.pool) == original and ranked.scores.tolist() == [c.fused for c in original]
    assert ranked.features.shape == (30, len(feature_schema(["lexical"])))


def test_rank_pool_survives_a_feature_failure():
    ranked = rank_pool(parse_query("song"), pool(), ["lexical", "lexical"], FieldMap(), None, None)
    assert ranked.version == "rrf" and ranked.features is None and "features failed" in ranked.fallback

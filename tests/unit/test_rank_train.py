"""Training from the logs: the examination estimate, the examples and their IPW copies, the holdout split."""
import random

import numpy as np
import pytest

from lrr_es.errors import ModelError
from lrr_es.rank.features import feature_schema, schema_id
from lrr_es.learn.examination import estimate_examination, estimate_from_swaps
from lrr_es.learn.examples import ExampleLog, build_examples, split_holdout
from lrr_es.learn.join import joined_decisions
from lrr_es.rank.metrics import ndcg_from_gains
from lrr_es.simulate.clicks import ClickModel, positive


def _impressions(shuffle: float, searches: int = 6000, seed: int = 1):
    """Impressions of a position-based click model (examination 1 / position) over 300 queries of 10 docs,
    shown best first (as a ranker would) except for a ``shuffle`` share of randomized pages."""
    rng = random.Random(seed)
    model = ClickModel()
    relevant = {f"q{q}": {f"d{q}_{i}": rng.choice([0, 0, 1, 2, 3]) for i in range(10)} for q in range(300)}
    rows = []
    for _ in range(searches):
        q = f"q{rng.randrange(300)}"
        shown = sorted(relevant[q], key=lambda d: -relevant[q][d])
        if rng.random() < shuffle:
            rng.shuffle(shown)
        engaged = positive(model.react(shown, relevant[q], rng))
        rows += [(q, d, p, d in engaged) for p, d in enumerate(shown, 1)]
    return [list(column) for column in zip(*rows)]


def test_em_recovers_the_click_models_examination_by_position_from_randomized_orders():
    exam = estimate_examination(*_impressions(shuffle=1.0), smooth=False)
    truth = 1.0 / np.arange(1, 11)
    assert exam.method == "em" and exam.probabilities[0] == 1.0
    assert np.abs(exam.probabilities - truth).max() < 0.06, exam.probabilities
    assert exam.support.sum() == 60_000


def test_em_separates_position_from_relevance_better_than_the_raw_click_rate():
    keys, docs, positions, engaged = _impressions(shuffle=0.3)
    exam = estimate_examination(keys, docs, positions, engaged, smooth=False)
    pos, clicks = np.array(positions), np.array(engaged, dtype=float)
    raw = np.array([clicks[pos == p].mean() for p in range(1, 11)])
    raw = raw / raw[0]  # the click rate by position mixes examination with the ranker's relevance order
    truth = 1.0 / np.arange(1, 11)
    em_error, raw_error = np.abs(exam.probabilities - truth).mean(), np.abs(raw - truth).mean()
    assert em_error < 0.06 and em_error < raw_error / 2, (exam.probabilities, raw)


def test_the_power_law_fit_steadies_em_when_each_query_has_few_searches():
    impressions = _impressions(shuffle=0.3, searches=900)  # three searches per query
    truth = 1.0 / np.arange(1, 11)
    raw = estimate_examination(*impressions, smooth=False)
    fitted = estimate_examination(*impressions)
    assert fitted.method.startswith("em (eta") and np.all(np.diff(fitted.probabilities) < 0)
    assert np.abs(fitted.probabilities - truth).mean() < np.abs(raw.probabilities - truth).mean() / 1.5


def _swap_logs(rate: float, searches: int, seed: int = 2, eta: float = 1.0):
    """Pages shown best first by a position-based click model, a ``rate`` share with the top swapped."""
    rng = random.Random(seed)
    model = ClickModel(eta=eta)
    relevant = {f"q{q}": {f"d{q}_{i}": rng.choice([0, 0, 1, 2, 3]) for i in range(10)} for q in range(500)}
    swapped, unswapped = [], []
    for _ in range(searches):
        q = f"q{rng.randrange(500)}"
        shown = sorted(relevant[q], key=lambda d: -relevant[q][d])
        k = rng.randrange(2, 11) if rng.random() < rate else None
        if k:
            shown[0], shown[k - 1] = shown[k - 1], shown[0]
        engaged = positive(model.react(shown, relevant[q], rng))
        if k:
            swapped.append((k, shown[k - 1] in engaged, shown[0] in engaged))
        else:
            unswapped.append([d in engaged for d in shown])
    return swapped, unswapped


@pytest.mark.parametrize("eta", [0.7, 1.0, 1.5])
def test_randomized_swaps_recover_the_examination_curve(eta):
    exam = estimate_from_swaps(*_swap_logs(0.05, 8000, eta=eta))
    fitted = float(exam.method.split("eta ")[1].split(",")[0])
    assert exam.method.startswith("swaps") and abs(fitted - eta) < 0.2, exam.method
    assert np.allclose(exam.probabilities, np.arange(1, 11) ** -fitted, rtol=0.03)  # eta printed to 2 places


def test_too_few_swaps_leave_the_estimate_to_em():
    assert estimate_from_swaps(*_swap_logs(0.002, 4000)) is None


def test_too_few_impressions_give_the_prior_and_say_so():
    exam = estimate_examination(["q"] * 5, ["d1", "d2", "d3", "d4", "d5"], [1, 2, 3, 4, 5], [True, False, False, False, False])
    assert exam.method == "prior" and np.allclose(exam.probabilities, 1 / np.arange(1, 6))
    assert exam.at(9, 0.1) == pytest.approx(0.2) and exam.at(3, 0.5) == 0.5


SCHEMA = feature_schema(("lexical", "fuzzy"))


def _decision(sid, key, ids, shown, ts, schema=SCHEMA, rows=None):
    width = len(schema)
    return {"search_id": sid, "index": "music", "query": key, "q2e_key": key, "timestamp": ts, "shown": shown,
            "candidates": [{"id": i} for i in ids], "feature_schema": schema_id(schema),
            "features": {"ids": ids, "rows": rows if rows is not None else [[float(n)] * width for n in range(len(ids))]}}


def test_examples_label_by_the_strongest_action_and_repeat_engaged_rows_by_inverse_examination():
    decisions = [_decision("s1", "love", ["a", "b", "c"], ["a", "b", "c"], 1000),
                 _decision("s2", "rain", ["x", "y"], ["x", "y"], 2000),  # no engagement: not an example
                 _decision("s3", "sun", ["u"], ["u"], 3000, schema=feature_schema(("lexical",)))]  # old schema
    events = [{"search_id": "s1", "doc_id": "c", "action": "click", "position": 3, "timestamp": 1},
              {"search_id": "s1", "doc_id": "c", "action": "play", "position": 3, "timestamp": 2},
              {"search_id": "s1", "doc_id": "a", "action": "click", "position": 1, "timestamp": 3},
              {"search_id": "s3", "doc_id": "u", "action": "play", "position": 1, "timestamp": 4}]
    examples, exam, counts = build_examples(decisions, events, {"click": 1, "play": 3}, SCHEMA, min_examination=0.1)
    assert counts == {"decisions": 3, "with_features": 2, "other_schema": 1, "engaged": 1, "rows": 3}
    assert exam.method == "prior"  # six impressions: 1 / position
    assert examples.y.tolist() == [1, 0, 3] and examples.qid.tolist() == [0, 0, 0]
    assert examples.copies.tolist() == [1, 1, 3]  # c was engaged at position 3: weight 1 / (1/3)
    assert examples.gains.tolist() == pytest.approx([1.0, 0.0, 7 * 3])
    X, y, qid = examples.expanded()
    assert len(y) == 5 and y.tolist() == [1, 0, 3, 3, 3] and np.array_equal(X[2], X[4])
    assert examples.keys == ["love"] and examples.times == [1000] and examples.shown.all()
    unweighted, _, _ = build_examples(decisions, events, {"click": 1, "play": 3}, SCHEMA, ipw=False)
    assert unweighted.copies.tolist() == [1, 1, 1]


def test_a_damaged_feature_record_is_skipped_not_fatal():
    decisions = [_decision("s1", "love", ["a", "b"], ["a", "b"], 1, rows=[[1.0, 2.0]]),  # wrong width
                 _decision("s2", "love", ["a"], ["a"], 2, rows=[[float("nan")] * len(SCHEMA)])]
    events = [{"search_id": s, "doc_id": "a", "action": "play", "position": 1, "timestamp": 1} for s in ("s1", "s2")]
    examples, _, counts = build_examples(decisions, events, {"play": 3}, SCHEMA)
    assert counts["engaged"] == 1 and counts["other_schema"] == 1
    assert np.isfinite(examples.X).all() and examples.X.shape == (1, len(SCHEMA))


def test_the_holdout_is_split_by_query_key_and_by_time():
    rng = random.Random(3)
    decisions, events = [], []
    for n in range(400):
        key = f"q{rng.randrange(60)}"
        decisions.append(_decision(f"s{n}", key, ["a", "b"], ["a", "b"], 1000 + n))
        events.append({"search_id": f"s{n}", "doc_id": "a", "action": "play", "position": 1, "timestamp": n})
    examples, _, _ = build_examples(decisions, events, {"play": 3}, SCHEMA)
    train, held = split_holdout(examples, 0.2)
    keys = np.array(examples.keys)
    times = np.array(examples.times)
    assert len(train) > 100 and len(held) > 5
    assert not set(keys[train]) & set(keys[held])
    assert times[train].max() < times[held].min()
    with pytest.raises(ModelError, match="holdout"):
        split_holdout(examples, 1.5)


def test_examples_written_in_small_batches_are_the_examples_of_one_batch(tmp_path):
    rng = random.Random(4)
    decisions, events = [], []
    for n in range(60):
        ids = [f"d{rng.randrange(20)}{k}" for k in range(4)]
        decisions.append(_decision(f"s{n}", f"q{n % 7}", ids, ids[:3], 1000 + n))
        events.append({"search_id": f"s{n}", "doc_id": ids[n % 3], "action": "play", "position": n % 3 + 1,
                       "timestamp": n})
    one, _, counts = build_examples(decisions, events, {"play": 3}, SCHEMA)
    with ExampleLog(SCHEMA, tmp_path, batch_rows=5) as log:
        log.read(joined_decisions(decisions, events, {"play": 3}))
        batches = list(log.batches(log.examination()))
        assert len(batches) == 30 and log.counts == counts  # 4 rows a search: a batch closes at 8 rows
        many = log.examples(log.examination())
    for name in ("X", "y", "qid", "gains", "copies", "fused", "served", "shown"):
        assert np.array_equal(getattr(many, name), getattr(one, name)), name


def test_ndcg_from_gains_reads_each_query_whatever_the_row_order():
    scores = np.array([0.1, 0.9, 0.5, 0.2])
    gains = np.array([1.0, 0.0, 0.0, 3.0])
    qid = np.array([7, 3, 7, 3])  # query 7: gain on the lower score; query 3: gain on the lower score too
    discount = 1 / np.log2(3)
    assert ndcg_from_gains(scores, gains, qid) == pytest.approx(discount)

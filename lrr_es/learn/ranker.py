"""Training the ranker from the logs (DESIGN.md §7; ``lrr-es train``).

1. Examples: the logged decisions of the index whose record carries ranking features in the index's
   current schema (``ranker.log_features``) and whose page received some positive engagement. Their
   rows are the logged candidates (the first ``ranker.log_depth`` of the served order and every shown
   hit), labelled with the grade of the strongest action on each (FeedbackConfig.weights, e.g. click
   1, like 2, play 3; 0 for no engagement).
2. Position bias: the probability that a user examines each shown position (position 1 = 1),
   estimated from the logs (:mod:`lrr_es.learn.examination`). With enough randomized swaps (``ranker.swap_rate``; at least 50
   swapped pages) from the swap intervention (``estimate_from_swaps``); otherwise by
   expectation-maximization under the position-based model, P(engaged) = examination(position) x
   attractiveness(query, document), over the (query, document) pairs shown at more than one
   position (``estimate_examination``; noisy when each query has few searches); with too little of
   either, the prior 1 / position. Clipped below at ``min_examination``.
3. Correction, by inverse propensity weighting in the pairwise form of propensity-weighted ranking
   (Joachims et al., 2017): every engaged row at shown position p weighs 1 / examination(p) against
   the other rows of its search. XGBoost 1.7's ranking weights are per query, so the weight is
   realized by repeating the row within its query (stochastic rounding with a fixed seed): each copy
   adds the row's pairs once more.
4. Holdout, split by query and by time: a share ``holdout`` of the query keys (by a stable hash) is
   held out, and so is the last ``holdout`` of the window in time; the model trains on the other
   keys' searches before that time and is judged on the held-out keys' searches after it.
5. Metrics on the holdout: NDCG@10 over the shown rows (a row never shown could not earn a click,
   so judging a model for lifting it would punish it for the logging policy's choice), with
   position-debiased gains ((2^grade - 1) / examination of the position where the engagement
   happened), for the new model, the live model (when its schema fits), weighted RRF and the
   served order. The new version is saved as a candidate with these
   figures and promoted when it beats the live one on this same holdout (``promote_if_better``).
"""
from __future__ import annotations

import logging
import random
import time
import zlib
from dataclasses import dataclass, field
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from ..config import Config
from ..errors import ModelError
from ..rank.features import feature_schema, schema_id
from ..rank.metrics import ndcg_from_gains
from ..rank.model import LtrRanker
from ..rank.registry import load_live, promote as promote_version, promote_if_better, save_ranker
from ..timestamps import epoch_ms
from .examination import Examination, estimate_examination, estimate_from_swaps
from .join import join_events, load_logs

log = logging.getLogger(__name__)


@dataclass
class Examples:
    """Rows of logged candidates: X (n, f), integer grades y (n,), search number qid (n,), gains (n,)
    (debiased: (2^grade - 1) / examination, 0 when not engaged), copies (n,) (IPW repetitions),
    fused RRF score (n,), served rank (n,), and per search its key and timestamp."""

    X: np.ndarray
    y: np.ndarray
    qid: np.ndarray
    gains: np.ndarray
    copies: np.ndarray
    fused: np.ndarray
    served: np.ndarray
    shown: np.ndarray  # (n,) bool: the row's document was on the page
    keys: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def subset(self, searches: np.ndarray) -> "Examples":
        """The rows of the search numbers in ``searches``."""
        return self.rows(np.isin(self.qid, searches))

    def rows(self, keep: np.ndarray) -> "Examples":
        """The rows where ``keep`` (n,) is true."""
        return Examples(self.X[keep], self.y[keep], self.qid[keep], self.gains[keep], self.copies[keep],
                        self.fused[keep], self.served[keep], self.shown[keep], self.keys, self.times)

    def expanded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """X, y, qid with every row repeated ``copies`` times (the IPW training set)."""
        repeat = self.copies.astype(int)
        return np.repeat(self.X, repeat, axis=0), np.repeat(self.y, repeat), np.repeat(self.qid, repeat)


def build_examples(decisions: Sequence[Mapping], events: Sequence[Mapping], grades: Mapping[str, float],
                   schema: Sequence[str], min_examination: float = 0.1, ipw: bool = True,
                   seed: int = 0) -> tuple[Examples, Examination, dict]:
    """The training examples and the examination estimate from decision and event documents.

    Returns (examples, examination, counts) where counts says how many decisions were read, had
    features in ``schema``, had engagement, and how many were skipped and why.
    """
    wanted = schema_id(schema)
    joined = join_events(decisions, events, grades)
    by_id = {d.get("search_id"): d for d in decisions}
    counts = {"decisions": len(joined), "with_features": 0, "other_schema": 0, "engaged": 0, "rows": 0}
    keys, docs, positions, engaged_flags = [], [], [], []
    swapped, unswapped = [], []
    for search in joined:
        decision = by_id[search.search_id]
        key = str(decision.get("q2e_key") or search.query or "")
        positive = {e.doc_id for e in search.engaged if e.grade > 0}
        for label in search.labels:
            if label.shown_position is not None:
                keys.append(key)
                docs.append(label.doc_id)
                positions.append(label.shown_position)
                engaged_flags.append(label.doc_id in positive)
        shown = [str(d) for d in decision.get("shown") or []]
        swap = decision.get("swap")
        if isinstance(swap, list) and len(swap) == 2 and isinstance(swap[1], int) and 2 <= swap[1] <= len(shown):
            swapped.append((swap[1], shown[swap[1] - 1] in positive, shown[0] in positive))
        elif shown:
            unswapped.append([d in positive for d in shown])
    exam = estimate_from_swaps(swapped, unswapped) or estimate_examination(keys, docs, positions, engaged_flags)
    rng = random.Random(seed)
    width = len(schema)
    rows, y, qid, gains, copies, fused, served, shown = [], [], [], [], [], [], [], []
    out_keys, out_times = [], []
    fused_col = list(schema).index("fused") if "fused" in schema else None
    for search in joined:
        decision = by_id[search.search_id]
        logged = decision.get("features") if isinstance(decision.get("features"), Mapping) else None
        if logged is None:
            continue
        if decision.get("feature_schema") != wanted:
            counts["other_schema"] += 1
            continue
        counts["with_features"] += 1
        engaged = {e.doc_id: e for e in search.engaged if e.grade > 0}
        if not engaged:
            continue
        on_page = {label.doc_id for label in search.labels if label.shown_position is not None}
        ids, matrix = logged.get("ids") or [], logged.get("rows") or []
        try:
            X = np.asarray(matrix, dtype=float).reshape(len(ids), width)
        except (ValueError, TypeError):
            counts["other_schema"] += 1
            continue
        counts["engaged"] += 1
        n = len(out_keys)
        out_keys.append(str(decision.get("q2e_key") or search.query or ""))
        out_times.append(_millis(decision.get("timestamp")))
        for rank, (doc_id, row) in enumerate(zip(ids, np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0))):
            e = engaged.get(doc_id)
            grade = int(min(max(round(e.grade), 0), 31)) if e is not None else 0
            weight, gain = 1.0, 0.0
            if e is not None:
                p = exam.at(e.position, min_examination) if isinstance(e.position, int) else 1.0
                weight = 1.0 / p if ipw else 1.0
                gain = (2.0 ** grade - 1.0) / p
            rows.append(row)
            y.append(grade)
            qid.append(n)
            gains.append(gain)
            copies.append(_stochastic_round(weight, rng))
            fused.append(row[fused_col] if fused_col is not None else 0.0)
            served.append(rank)
            shown.append(doc_id in on_page)
    counts["rows"] = len(rows)
    X = np.vstack(rows) if rows else np.zeros((0, width))
    return Examples(X, np.array(y, dtype=float), np.array(qid, dtype=int), np.array(gains), np.array(copies, dtype=int),
                    np.array(fused), np.array(served, dtype=float), np.array(shown, dtype=bool), out_keys,
                    out_times), exam, counts


def _stochastic_round(value: float, rng: random.Random) -> int:
    whole = int(value)
    return max(1, whole + (1 if rng.random() < value - whole else 0))


def _millis(value: Any) -> float:
    ms = epoch_ms(value)
    return float(ms) if ms is not None else 0.0


def split_holdout(examples: Examples, holdout: float) -> tuple[np.ndarray, np.ndarray]:
    """(train search numbers, holdout search numbers): held-out query keys after the time cut vs the
    other keys before it (see the module docstring)."""
    if not 0 < holdout < 1:
        raise ModelError(f"holdout must be a share between 0 and 1, got {holdout!r}")
    times = np.array(examples.times)
    cut = np.quantile(times, 1 - holdout) if len(times) else 0.0
    held_key = np.array([zlib.crc32(k.encode()) % 10_000 < holdout * 10_000 for k in examples.keys], dtype=bool)
    searches = np.arange(len(examples.keys))
    return searches[~held_key & (times < cut)], searches[held_key & (times >= cut)]


@dataclass
class TrainReport:
    """What one training run read, estimated, measured on the holdout and stored (``report_lines`` prints it)."""

    index: str
    counts: dict
    examination: Examination
    train_searches: int
    holdout_searches: int
    metrics: dict
    version: int | None
    promoted: bool
    live_version: int | None
    fit_s: float
    importance: list[tuple[str, float]]
    dry_run: bool = False
    auto_promote: bool = True
    ranker: LtrRanker | None = field(default=None, repr=False)


def train(es: Elasticsearch, config: Config, index: str, since: Any = None, until: Any = None,
          holdout: float = 0.2, params: Mapping[str, Any] | None = None, promote: bool = True,
          dry_run: bool = False, ipw: bool = True, min_examination: float = 0.1, seed: int = 0,
          min_searches: int = 20, min_holdout: int = 25, echo: Callable[[str], None] = lambda _: None) -> TrainReport:
    """Build the examples of ``index`` from the logs of [since, until), train, evaluate, save, promote.

    A model judged on fewer than ``min_holdout`` held-out searches is saved but not promoted
    automatically (the comparison is too noisy to act on).
    """
    cfg = config.index(index)
    schema = feature_schema(cfg.strategies)
    started = time.perf_counter()
    decisions, events = load_logs(es, since, until, where=[{"term": {"index": index}}])
    echo(f"read {len(decisions)} decision(s) and {len(events)} event(s) in {time.perf_counter() - started:.1f}s")
    examples, exam, counts = build_examples(decisions, events, config.feedback.weights, schema,
                                            min_examination, ipw, seed)
    train_ids, hold_ids = split_holdout(examples, holdout)
    if len(train_ids) < min_searches or len(hold_ids) < 1:
        raise ModelError(
            f"too little to train on for {index}: {counts['engaged']} search(es) with features and engagement "
            f"({len(train_ids)} for training, {len(hold_ids)} held out; at least {min_searches} and 1 needed). "
            f"Read {counts['decisions']} decision(s), {counts['with_features']} with features in the current "
            f"schema, {counts['other_schema']} in another; features are logged when ranker.log_features is on")
    # judged on the shown rows only: a row never shown could not be engaged with, whatever its worth
    fit_set, hold = examples.subset(train_ids), examples.subset(hold_ids)
    hold = hold.rows(hold.shown)
    X, y, qid = fit_set.expanded()
    started = time.perf_counter()
    ranker = LtrRanker(**{"random_state": seed, **dict(params or {})}).fit(X, y, qid=qid, feature_names=schema)
    fit_s = time.perf_counter() - started
    metrics = {"ndcg@10": ndcg_from_gains(ranker.predict(hold.X), hold.gains, hold.qid),
               "rrf_ndcg@10": ndcg_from_gains(hold.fused, hold.gains, hold.qid),
               "served_ndcg@10": ndcg_from_gains(-hold.served, hold.gains, hold.qid),
               "train_searches": int(len(train_ids)), "holdout_searches": int(len(hold_ids)),
               "rows": int(len(fit_set.y)), "ipw": ipw}
    live_version = None
    try:
        live = load_live(es, index)
    except ModelError as exc:
        live = None
        echo(f"the live ranker could not be loaded ({exc}); comparing against RRF only")
    if live is not None:
        live_version = live.version
        if tuple(live.feature_names or ()) == tuple(schema):
            metrics["live_ndcg@10"] = ndcg_from_gains(live.ranker.predict(hold.X), hold.gains, hold.qid)
        else:
            echo(f"the live ranker v{live.version} has another feature schema; it cannot be judged on these rows")
    importance = sorted(ranker.feature_importances_.items(), key=lambda kv: -kv[1])
    version, promoted = None, False
    if not dry_run:
        window = {"since": since, "until": until, "decisions": counts["decisions"]}
        version = save_ranker(es, index, ranker, metrics, training_window=window)
        if len(hold_ids) < min_holdout:
            promote = False
            echo(f"only {len(hold_ids)} held-out search(es) (fewer than {min_holdout}): saved, not promoted")
        if promote and "live_ndcg@10" in metrics:  # both judged on this holdout
            promoted = promote_if_better(es, index, version)
        elif promote and metrics["ndcg@10"] > metrics["rrf_ndcg@10"]:  # RRF is what serves now
            promote_version(es, index, version)
            promoted = True
    return TrainReport(index, counts, exam, len(train_ids), len(hold_ids), metrics, version, promoted,
                       live_version, fit_s, importance[:15], dry_run, promote, ranker)


def report_lines(report: TrainReport) -> list[str]:
    """What ``lrr-es train`` prints."""
    c, m, exam = report.counts, report.metrics, report.examination
    probs = " ".join(f"{p:.2f}" for p in exam.probabilities[:10])
    lines = [
        f"{report.index}: {c['decisions']} search(es) read, {c['with_features']} with features, "
        f"{c['engaged']} with engagement ({c['other_schema']} in another feature schema, skipped)",
        f"examination by position ({exam.method}{f', {exam.iterations} iterations' if exam.iterations else ''}, "
        f"from {int(exam.support.sum())} shown impressions): {probs}",
        f"trained on {report.train_searches} search(es), {m['rows']} rows, in {report.fit_s:.1f}s"
        f"{'' if m['ipw'] else ' (no position-bias correction)'}; held out {report.holdout_searches}",
        "holdout NDCG@10 (position-debiased gains):",
        f"  new model       {m['ndcg@10']:.4f}",
    ]
    if "live_ndcg@10" in m:
        lines.append(f"  live model v{report.live_version:<3} {m['live_ndcg@10']:.4f}")
    lines += [f"  RRF             {m['rrf_ndcg@10']:.4f}", f"  served order    {m['served_ndcg@10']:.4f}",
              "top features: " + ", ".join(f"{name} {value:.2f}" for name, value in report.importance[:8])]
    if report.dry_run:
        lines.append("dry run: nothing stored")
    elif report.promoted:
        lines.append(f"saved as version {report.version} and promoted: serving processes switch within a minute")
    elif not report.auto_promote:
        lines.append(f"saved as version {report.version} (candidate); `lrr-es models promote {report.version}` makes it live")
    else:
        lines.append(f"saved as version {report.version} (candidate): it did not beat "
                     f"{'the live model' if 'live_ndcg@10' in m else 'RRF'} on the holdout")
    return lines

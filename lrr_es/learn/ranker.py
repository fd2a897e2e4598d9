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
   served order. The new version is saved as a candidate with these figures. The holdout is the
   first gate: a model that beats the live one on this same holdout (RRF when none is live) is put
   on trial, interleaved with the live order on ``ranker.interleave_share`` of the searches, and
   promoted once the interleaving is significantly in its favour (lrr_es.learn.interleaving; a
   trial still running is settled first). With ``interleave_share`` 0 the holdout alone decides
   (``promote_if_better``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch
from tqdm import tqdm

from ..config import Config
from ..errors import ModelError
from ..rank.features import feature_schema
from ..rank.metrics import ndcg_from_gains
from ..rank.model import LtrRanker
from ..rank.registry import (load_live, promote as promote_version, promote_if_better, save_ranker,
                             start_interleaving)
from .examination import Examination
from .examples import ExampleLog, Examples
from .interleaving import Settlement, settle_interleaving
from .join import count_decisions, join_pages, read_logs

log = logging.getLogger(__name__)


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
    on_trial: bool = False  # put on trial: interleaved with the live order until the result is significant
    settled: Settlement | None = None  # the trial that was running before, judged first


def train(es: Elasticsearch, config: Config, index: str, since: Any = None, until: Any = None,
          holdout: float = 0.2, params: Mapping[str, Any] | None = None, promote: bool = True,
          dry_run: bool = False, ipw: bool = True, min_examination: float = 0.1, seed: int = 0,
          min_searches: int = 20, min_holdout: int = 25, progress: bool = False, work_dir: str | None = None,
          echo: Callable[[str], None] = lambda _: None) -> TrainReport:
    """Build the examples of ``index`` from the logs of [since, until), train, evaluate, save, promote.

    The logs are read once, a page at a time; the example rows wait on disk (under ``work_dir``, a
    temporary directory by default) and reach XGBoost batch by batch (:meth:`LtrRanker.fit_batches`).
    A model judged on fewer than ``min_holdout`` held-out searches is saved but not promoted
    automatically (the comparison is too noisy to act on).
    """
    cfg = config.index(index)
    schema = feature_schema(cfg.strategies)
    settled = settle_interleaving(es, config, index, echo) if promote and not dry_run else None
    with ExampleLog(schema, work_dir) as log:
        started, events = time.perf_counter(), [0]
        pages = _counted(read_logs(es, since, until, where=[{"term": {"index": index}}]), events,
                         count_decisions(es, since, until, [{"term": {"index": index}}]) if progress else None)
        log.read(join_pages(pages, config.feedback.weights))
        counts = dict(log.counts)
        echo(f"read {counts['decisions']} decision(s) and {events[0]} event(s) in {time.perf_counter() - started:.1f}s")
        exam = log.examination()
        train_ids, hold_ids = log.split(holdout)
        if len(train_ids) < min_searches or len(hold_ids) < 1:
            raise ModelError(
                f"too little to train on for {index}: {counts['engaged']} search(es) with features and engagement "
                f"({len(train_ids)} for training, {len(hold_ids)} held out; at least {min_searches} and 1 needed). "
                f"Read {counts['decisions']} decision(s), {counts['with_features']} with features in the current "
                f"schema, {counts['other_schema']} in another; features are logged when ranker.log_features is on")

        in_train, held = _mask(train_ids, len(log.keys)), _mask(hold_ids, len(log.keys))

        def training_rows() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            for batch in log.batches(exam, min_examination, ipw, seed):
                yield batch.rows(in_train[batch.qid]).expanded()

        started = time.perf_counter()
        ranker = LtrRanker(**{"random_state": seed, **dict(params or {})}).fit_batches(
            training_rows, feature_names=schema, cache_dir=work_dir)
        fit_s = time.perf_counter() - started
        live, live_version = _live(es, index, schema, echo)
        judged = {"new": ranker, **({"live": live} if live is not None else {})}
        ndcg, rows = _judge(log.batches(exam, min_examination, ipw, seed), in_train, held, judged)
    metrics = {"ndcg@10": ndcg["new"], "rrf_ndcg@10": ndcg["rrf"], "served_ndcg@10": ndcg["served"],
               "train_searches": int(len(train_ids)), "holdout_searches": int(len(hold_ids)),
               "rows": rows, "ipw": ipw}
    if "live" in ndcg:
        metrics["live_ndcg@10"] = ndcg["live"]
    importance = sorted(ranker.feature_importances_.items(), key=lambda kv: -kv[1])
    version, promoted, on_trial = None, False, False
    if not dry_run:
        window = {"since": since, "until": until, "decisions": counts["decisions"]}
        version = save_ranker(es, index, ranker, metrics, training_window=window)
        if len(hold_ids) < min_holdout:
            promote = False
            echo(f"only {len(hold_ids)} held-out search(es) (fewer than {min_holdout}): saved, not promoted")
        passed = metrics["ndcg@10"] > metrics.get("live_ndcg@10", metrics["rrf_ndcg@10"])
        if promote and passed and config.ranker.interleave_share > 0:
            start_interleaving(es, index, version)
            on_trial = True
        elif promote and "live_ndcg@10" in metrics:  # both judged on this holdout
            promoted = promote_if_better(es, index, version)
        elif promote and metrics["ndcg@10"] > metrics["rrf_ndcg@10"]:  # RRF is what serves now
            promote_version(es, index, version)
            promoted = True
    return TrainReport(index, counts, exam, len(train_ids), len(hold_ids), metrics, version, promoted,
                       live_version, fit_s, importance[:15], dry_run, promote, ranker, on_trial, settled)


def _counted(pages: Iterator[tuple[list[dict], list[dict]]], events: list[int],
             total: int | None) -> Iterator[tuple[list[dict], list[dict]]]:
    """``pages`` as they come, counting their events into ``events[0]``, with a progress bar when
    ``total`` (the decisions to read) is given."""
    with tqdm(total=total, desc="read logs", unit="decision", disable=True if total is None else None,
              mininterval=0.5) as bar:
        for decisions, page_events in pages:
            events[0] += len(page_events)
            yield decisions, page_events
            bar.update(len(decisions))


def _live(es: Elasticsearch, index: str, schema: tuple[str, ...],
          echo: Callable[[str], None]) -> tuple[LtrRanker | None, int | None]:
    """(the live ranker when it can be judged on rows of ``schema``, its version)."""
    try:
        live = load_live(es, index)
    except ModelError as exc:
        echo(f"the live ranker could not be loaded ({exc}); comparing against RRF only")
        return None, None
    if live is None:
        return None, None
    if tuple(live.feature_names or ()) != tuple(schema):
        echo(f"the live ranker v{live.version} has another feature schema; it cannot be judged on these rows")
        return None, live.version
    return live.ranker, live.version


def _mask(searches: np.ndarray, count: int) -> np.ndarray:
    """(count,) bool: true at the search numbers in ``searches`` (a row's search is then one lookup)."""
    mask = np.zeros(count, dtype=bool)
    mask[searches] = True
    return mask


def _judge(batches: Iterator[Examples], in_train: np.ndarray, held: np.ndarray,
           models: Mapping[str, LtrRanker]) -> tuple[dict[str, float], int]:
    """(NDCG@10 on the held-out searches' shown rows, position-debiased gains, of each model, of RRF
    ("rrf") and of the served order ("served"); the count of training rows), one batch at a time.
    ``in_train``, ``held``: (searches,) bool masks by search number."""
    scores: dict[str, list[np.ndarray]] = {name: [] for name in (*models, "rrf", "served")}
    gains, qid, rows = [], [], 0
    for batch in batches:
        rows += int(in_train[batch.qid].sum())
        hold = batch.rows(held[batch.qid])
        # judged on the shown rows only: a row never shown could not be engaged with, whatever its worth
        hold = hold.rows(hold.shown)
        for name, model in models.items():
            scores[name].append(model.predict(hold.X))
        scores["rrf"].append(hold.fused)
        scores["served"].append(-hold.served)
        gains.append(hold.gains)
        qid.append(hold.qid)
    gains_all, qid_all = np.concatenate(gains or [np.zeros(0)]), np.concatenate(qid or [np.zeros(0, dtype=int)])
    return {name: ndcg_from_gains(np.concatenate(parts or [np.zeros(0)]), gains_all, qid_all)
            for name, parts in scores.items()}, rows


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
    elif report.on_trial:
        lines.append(f"saved as version {report.version} and put on trial: it beat "
                     f"{'the live model' if 'live_ndcg@10' in m else 'RRF'} on the holdout, and is interleaved with "
                     f"the live order on ranker.interleave_share of the searches until the result is significant "
                     f"(`lrr-es models show {report.version}`)")
    elif not report.auto_promote:
        lines.append(f"saved as version {report.version} (candidate); `lrr-es models promote {report.version}` makes it live")
    else:
        lines.append(f"saved as version {report.version} (candidate): it did not beat "
                     f"{'the live model' if 'live_ndcg@10' in m else 'RRF'} on the holdout")
    return lines

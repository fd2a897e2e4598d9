"""The ranker's training examples, built from a stream of joined logged searches (``lrr-es train``).

:class:`ExampleLog` reads the joined searches one at a time (:func:`lrr_es.learn.join.join_pages`)
and keeps on disk, in batches of whole searches, the rows of each search with logged features in
the current schema and some positive engagement; in memory it keeps only the position-bias counts
(:class:`~lrr_es.learn.examination.Impressions`, :class:`~lrr_es.learn.examination.SwapCounts`) and
one query key and timestamp per example search. Once the stream is read, :meth:`ExampleLog.examination`
estimates position bias and :meth:`ExampleLog.batches` replays the rows with their IPW copies and
debiased gains, batch by batch, as many times as the trainer needs (XGBoost's external-memory
input passes over the data more than once). :func:`build_examples` is the same in memory, for small
logs and tests. See :mod:`lrr_es.learn.ranker` for what the rows, labels, weights and gains are.
"""
from __future__ import annotations

import random
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..rank.features import schema_id
from ..rank.logged import logged_rows
from ..timestamps import epoch_ms
from .examination import Examination, Impressions, SwapCounts
from .join import SearchFeedback, joined_decisions

BATCH_ROWS = 65_536  # rows per batch on disk (whole searches: a batch may hold a few more)


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


_COLUMNS = ("X", "y", "qid", "engaged", "positioned", "position", "fused", "served", "shown")


class ExampleLog:
    """The rows of the example searches of a stream of joined searches, on disk in batches.

    ``directory``: where the batches go (a temporary directory removed by :meth:`close` when None).
    ``counts`` says how many decisions were read, had features in ``schema``, had engagement, were
    in another schema (or damaged), and how many rows were kept.
    """

    def __init__(self, schema: Sequence[str], directory: str | Path | None = None,
                 batch_rows: int = BATCH_ROWS) -> None:
        self.schema, self.width, self.wanted = tuple(schema), len(schema), schema_id(schema)
        self.fused_col = self.schema.index("fused") if "fused" in self.schema else None
        self.impressions, self.swaps = Impressions(), SwapCounts()
        self.counts = {"decisions": 0, "with_features": 0, "other_schema": 0, "engaged": 0, "rows": 0}
        self.keys: list[str] = []
        self.times: list[float] = []
        self.batch_rows = batch_rows
        self._temporary = tempfile.TemporaryDirectory(prefix="lrr-examples-") if directory is None else None
        self.directory = Path(self._temporary.name if self._temporary else directory)
        self._files: list[Path] = []
        self._pending: dict[str, list] = {name: [] for name in _COLUMNS}
        self._pending_rows = 0

    def __enter__(self) -> "ExampleLog":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        """Remove the batches written to a temporary directory."""
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def read(self, joined: Iterable[tuple[Mapping, SearchFeedback]]) -> "ExampleLog":
        """Add every (decision, joined search) of ``joined``; returns self once the batches are written."""
        for decision, search in joined:
            self.add(decision, search)
        self._flush()
        return self

    def add(self, decision: Mapping, search: SearchFeedback) -> None:
        """Count one search's impressions and keep its rows when it is an example."""
        self.counts["decisions"] += 1
        positive = {e.doc_id: e for e in search.engaged if e.grade > 0}
        key = str(decision.get("q2e_key") or search.query or "")
        self._count_impressions(decision, search, key, positive)
        logged = decision.get("features") if isinstance(decision.get("features"), Mapping) else None
        if logged is None:
            return
        if decision.get("feature_schema") != self.wanted:
            self.counts["other_schema"] += 1
            return
        self.counts["with_features"] += 1
        if not positive:
            return
        ids = logged.get("ids") or []
        try:
            X = logged_rows(logged, self.width)
        except (ValueError, TypeError):
            self.counts["other_schema"] += 1
            return
        self.counts["engaged"] += 1
        self._keep(decision, search, key, positive, [str(i) for i in ids], X)

    def _count_impressions(self, decision: Mapping, search: SearchFeedback, key: str, positive: Mapping) -> None:
        for label in search.labels:
            if label.shown_position is not None:
                self.impressions.add(key, label.doc_id, label.shown_position, label.doc_id in positive)
        shown = [str(d) for d in decision.get("shown") or []]
        swap = decision.get("swap")
        if isinstance(swap, list) and len(swap) == 2 and isinstance(swap[1], int) and 2 <= swap[1] <= len(shown):
            self.swaps.add_swapped(swap[1], shown[swap[1] - 1] in positive, shown[0] in positive)
        elif shown:
            self.swaps.add_unswapped([d in positive for d in shown])

    def _keep(self, decision: Mapping, search: SearchFeedback, key: str, positive: Mapping, ids: list[str],
              X: np.ndarray) -> None:
        number = len(self.keys)
        self.keys.append(key)
        self.times.append(_millis(decision.get("timestamp")))
        X = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
        on_page = {label.doc_id for label in search.labels if label.shown_position is not None}
        engagements = [positive.get(doc_id) for doc_id in ids]
        columns = self._pending
        columns["X"].append(X)
        columns["y"].extend(int(min(max(round(e.grade), 0), 31)) if e is not None else 0 for e in engagements)
        columns["qid"].extend([number] * len(ids))
        columns["engaged"].extend(e is not None for e in engagements)
        columns["positioned"].extend(e is not None and isinstance(e.position, int) for e in engagements)
        columns["position"].extend(e.position if e is not None and isinstance(e.position, int) else 0
                                   for e in engagements)
        columns["fused"].extend(X[:, self.fused_col] if self.fused_col is not None else np.zeros(len(ids)))
        columns["served"].extend(range(len(ids)))
        columns["shown"].extend(doc_id in on_page for doc_id in ids)
        self.counts["rows"] += len(ids)
        self._pending_rows += len(ids)
        if self._pending_rows >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._pending_rows:
            return
        columns = self._pending
        arrays = {"X": np.vstack(columns["X"]), "y": np.array(columns["y"], dtype=float),
                  "qid": np.array(columns["qid"], dtype=int), "engaged": np.array(columns["engaged"], dtype=bool),
                  "positioned": np.array(columns["positioned"], dtype=bool),
                  "position": np.array(columns["position"], dtype=int), "fused": np.array(columns["fused"]),
                  "served": np.array(columns["served"], dtype=float), "shown": np.array(columns["shown"], dtype=bool)}
        path = self.directory / f"batch-{len(self._files):06d}.npz"
        np.savez(path, **arrays)
        self._files.append(path)
        self._pending = {name: [] for name in _COLUMNS}
        self._pending_rows = 0

    def examination(self) -> Examination:
        """Position bias from the swaps when there are enough, else by EM over the impressions."""
        return self.swaps.estimate() or self.impressions.estimate()

    def batches(self, exam: Examination, min_examination: float = 0.1, ipw: bool = True,
                seed: int = 0) -> Iterator[Examples]:
        """The rows again, batch by batch, with their IPW copies and debiased gains (``seed``: the
        stochastic rounding of the copies; every pass gives the same copies)."""
        rng = random.Random(seed)
        for path in self._files:
            with np.load(path) as stored:
                batch = {name: stored[name] for name in _COLUMNS}
            gains, copies = _weights(batch, exam, min_examination, ipw, rng)
            yield Examples(batch["X"], batch["y"], batch["qid"], gains, copies, batch["fused"], batch["served"],
                           batch["shown"], self.keys, self.times)

    def examples(self, exam: Examination, min_examination: float = 0.1, ipw: bool = True, seed: int = 0) -> Examples:
        """Every row in memory (small logs and tests)."""
        parts = list(self.batches(exam, min_examination, ipw, seed))
        if not parts:
            empty = np.zeros(0)
            return Examples(np.zeros((0, self.width)), empty, empty.astype(int), empty, empty.astype(int), empty,
                            empty, empty.astype(bool), self.keys, self.times)
        return Examples(*(np.concatenate([getattr(p, name) for p in parts]) for name in
                          ("X", "y", "qid", "gains", "copies", "fused", "served", "shown")), self.keys, self.times)

    def split(self, holdout: float) -> tuple[np.ndarray, np.ndarray]:
        """(train search numbers, holdout search numbers): see :func:`split_holdout`."""
        return split_searches(self.keys, self.times, holdout)


def _weights(batch: Mapping[str, np.ndarray], exam: Examination, min_examination: float, ipw: bool,
             rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """(debiased gains (m,), IPW copies (m,)) of a batch: an engaged row at position p weighs
    1 / examination(p) (1 without a position) and gains (2^grade - 1) / examination(p)."""
    gains, copies = np.zeros(len(batch["y"])), np.ones(len(batch["y"]), dtype=int)
    for n, (engaged, positioned, position, grade) in enumerate(zip(batch["engaged"], batch["positioned"],
                                                                    batch["position"], batch["y"])):
        weight = 1.0
        if engaged:
            p = exam.at(int(position), min_examination) if positioned else 1.0
            weight = 1.0 / p if ipw else 1.0
            gains[n] = (2.0 ** grade - 1.0) / p
        copies[n] = _stochastic_round(weight, rng)
    return gains, copies


def build_examples(decisions: Sequence[Mapping], events: Sequence[Mapping], grades: Mapping[str, float],
                   schema: Sequence[str], min_examination: float = 0.1, ipw: bool = True,
                   seed: int = 0) -> tuple[Examples, Examination, dict]:
    """The training examples and the examination estimate from decision and event documents, in memory.

    Returns (examples, examination, counts) where counts says how many decisions were read, had
    features in ``schema``, had engagement, and how many were skipped and why.
    """
    with ExampleLog(schema) as log:
        log.read(joined_decisions(decisions, events, grades))
        exam = log.examination()
        return log.examples(exam, min_examination, ipw, seed), exam, dict(log.counts)


def _stochastic_round(value: float, rng: random.Random) -> int:
    whole = int(value)
    return max(1, whole + (1 if rng.random() < value - whole else 0))


def _millis(value: Any) -> float:
    ms = epoch_ms(value)
    return float(ms) if ms is not None else 0.0


def split_holdout(examples: Examples, holdout: float) -> tuple[np.ndarray, np.ndarray]:
    """(train search numbers, holdout search numbers) of ``examples``: see :func:`split_searches`."""
    return split_searches(examples.keys, examples.times, holdout)


def split_searches(keys: Sequence[str], times: Sequence[float], holdout: float) -> tuple[np.ndarray, np.ndarray]:
    """(train search numbers, holdout search numbers): a share ``holdout`` of the query keys (by a
    stable hash) after the time cut (the last ``holdout`` of the searches in time) vs the other keys
    before it."""
    if not 0 < holdout < 1:
        raise ModelError(f"holdout must be a share between 0 and 1, got {holdout!r}")
    times = np.array(times)
    cut = np.quantile(times, 1 - holdout) if len(times) else 0.0
    held_key = np.array([zlib.crc32(k.encode()) % 10_000 < holdout * 10_000 for k in keys], dtype=bool)
    searches = np.arange(len(keys))
    return searches[~held_key & (times < cut)], searches[held_key & (times >= cut)]

"""Simulated training data for the ranker: real searches, simulated users (benchmarks, learnability test).

``collect`` runs each generated query once through the engine (the features are the served ones),
shows a page to ``users`` simulated users of a click model and labels every reranked candidate with
how many of them engaged positively (capped at 3). The page is the RRF top ``page``, or, with
``explore`` > 0, a random ``page`` of the RRF top ``explore`` in random order per user (randomized
exploration, so candidates below the RRF page can earn clicks). The true relevance grades of the generated
queries are kept alongside, so a holdout can be judged with NDCG@k against the truth, not clicks.
Position bias is NOT corrected here (only the shown page can earn clicks); that is the job of the
learner's inverse propensity weighting.
"""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import SimulationError
from ..simulate.clicks import ClickModel, positive
from ..simulate.queries import GeneratedQuery


@dataclass(frozen=True)
class SimulatedSet:
    """Rows of (query, candidate): X (n, f), click labels y (n,), query index qid (n,), true grades
    (n,), RRF fused scores (n,); ``schema`` names the columns."""

    X: np.ndarray
    y: np.ndarray
    qid: np.ndarray
    grades: np.ndarray
    fused: np.ndarray
    schema: tuple[str, ...]

    def subset(self, queries: np.ndarray) -> "SimulatedSet":
        """The rows of the query indices in ``queries``."""
        keep = np.isin(self.qid, queries)
        return SimulatedSet(self.X[keep], self.y[keep], self.qid[keep], self.grades[keep], self.fused[keep], self.schema)


def collect(engine: Any, index: str, queries: Sequence[GeneratedQuery], click_model: ClickModel = ClickModel(),
            users: int = 5, page: int = 10, explore: int = 0, seed: int = 0) -> SimulatedSet:
    """Search every query once (RRF order) and label its reranked candidates by simulated engagement.

    The features are the ones the engine served, so its config must have ``ranker.always_features``
    (or a live ranker); a run in which no search served features raises SimulationError.
    """
    rng = random.Random(seed)
    rows: list[np.ndarray] = []
    y, qid, grades, fused = [], [], [], []
    schema: tuple[str, ...] = ()
    for n, q in enumerate(queries):
        result = engine.search(index, q.text, size=page, seed=zlib.crc32(q.qid.encode()))
        if result.features is None or not len(result.features):
            continue
        schema = result.feature_schema
        pool = result.pool[:len(result.features)]
        engaged: dict[str, int] = {}
        for _ in range(users):
            shown = [c.id for c in result.pool[:page]]
            if explore > 0:
                shown = rng.sample([c.id for c in result.pool[:explore]], min(page, len(result.pool[:explore])))
            for doc_id in positive(click_model.react(shown, q.relevant, rng)):
                engaged[doc_id] = engaged.get(doc_id, 0) + 1
        rows.append(result.features)
        y += [min(engaged.get(c.id, 0), 3) for c in pool]
        grades += [q.relevant.get(c.id, 0) for c in pool]
        fused += [c.fused for c in pool]
        qid += [n] * len(pool)
    X = np.vstack(rows) if rows else np.zeros((0, len(schema)))
    if not rows:
        raise SimulationError("no search served ranking features: give the engine a config with "
                              "ranker.always_features: true")
    return SimulatedSet(X, np.array(y, dtype=float), np.array(qid), np.array(grades, dtype=float),
                        np.array(fused), schema)

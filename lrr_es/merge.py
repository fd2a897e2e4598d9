"""Merge: the union of the strategies' hits, deduplicated by _id, with provenance (pure).

Every candidate keeps, for each strategy that found it, the rank (1-based) and the score it had
there; the ranker's features and the bandit's rewards are read from that provenance, never
recomputed. Before a learned model exists the pool is ordered by weighted reciprocal rank fusion:
``fused(d) = sum over strategies s that found d of w_s / (k + rank_s(d))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .execute import StrategyResult

RRF_K = 60  # the constant of Cormack et al.; it damps the head so agreement across lists counts


@dataclass(frozen=True)
class Provenance:
    strategy: str
    rank: int
    score: float


@dataclass(frozen=True)
class Candidate:
    """One merged document: its _source (from the first strategy that returned it) and provenance."""

    id: str
    source: dict
    provenance: tuple[Provenance, ...]
    fused: float
    index: str | None = None  # the concrete index the document came from (with its _type on 7.x servers)
    type: str | None = None
    seq: tuple[int, int] | None = None  # the version found (Hit.seq), when the search asked for it

    def found_by(self, strategy: str) -> Provenance | None:
        return next((p for p in self.provenance if p.strategy == strategy), None)

    @property
    def strategies(self) -> tuple[str, ...]:
        return tuple(p.strategy for p in self.provenance)


def merge(results: Sequence[StrategyResult], weights: Mapping[str, float] | None = None,
          k: float = RRF_K) -> list[Candidate]:
    """The deduplicated pool ordered by weighted RRF, ties broken deterministically.

    Ties go to the better best rank, then to the strategy earlier in the plan, then to the _id, so
    the same results always give the same order. A strategy's weight defaults to 1; a weight of 0
    keeps its candidates in the pool (with provenance) but gives them no fused score from it.
    """
    weights = weights or {}
    order = {r.strategy: i for i, r in reversed(list(enumerate(results)))}
    first: dict[str, Any] = {}  # the hit a document came with first: its source, index, type and version
    provenance: dict[str, list[Provenance]] = {}
    fused: dict[str, float] = {}  # weighted RRF, summed in provenance order
    key: dict[str, tuple[int, int]] = {}  # (best rank, earliest plan position of a strategy that found it)
    for result in results:
        strategy, weight, position = result.strategy, float(weights.get(result.strategy, 1.0)), order[result.strategy]
        seen: set[str] = set()
        for rank, hit in enumerate(result.hits, start=1):
            doc_id = hit.id
            if doc_id in seen:  # a strategy lists a doc once; keep its best rank
                continue
            seen.add(doc_id)
            entry = Provenance(strategy, rank, hit.score)
            provs = provenance.get(doc_id)
            if provs is None:
                provenance[doc_id], first[doc_id], fused[doc_id] = [entry], hit, weight / (k + rank)
                key[doc_id] = (rank, position)
            else:
                provs.append(entry)
                fused[doc_id] += weight / (k + rank)
                best_rank, earliest = key[doc_id]
                key[doc_id] = (min(best_rank, rank), min(earliest, position))
    pool = [Candidate(doc_id, first[doc_id].source, tuple(provs), fused[doc_id], first[doc_id].index,
                      first[doc_id].type, first[doc_id].seq) for doc_id, provs in provenance.items()]
    pool.sort(key=lambda c: (-c.fused, *key[c.id], c.id))
    return pool


def hold_back(pool: list[Candidate], strategies: Sequence[str], top: int) -> list[Candidate]:
    """``pool`` with the candidates found ONLY by ``strategies`` moved below the first ``top`` positions
    (the others keep their order; so do the held-back ones among themselves). Used to keep explore's
    random candidates off the head of the page when no policy chose to explore (lrr_es.fusion)."""
    held = set(strategies)
    if top <= 0 or not any(set(c.strategies) <= held for c in pool[:top]):
        return pool
    head_ids = {c.id for c in pool if not set(c.strategies) <= held}
    head, skipped, at = [], [], 0
    for at, c in enumerate(pool):  # the first ``top`` other candidates, and the held ones met on the way
        if len(head) == top:
            break
        (head if c.id in head_ids else skipped).append(c)
    else:
        at = len(pool)
    return head + skipped + pool[at:]


def lead(pool: list[Candidate], strategy: str, n: int) -> list[Candidate]:
    """``pool`` with the candidates ``strategy`` ranked in its first ``n`` moved to the front, in that
    strategy's order; the others keep theirs. Used when query understanding is confident that the
    query asks for field values (lrr_es.fusion): the structured strategy's best hits lead the page."""
    if n <= 0:
        return pool
    ranks = {c.id: p.rank for c in pool for p in c.provenance if p.strategy == strategy and p.rank <= n}
    if not ranks:
        return pool
    front = sorted((c for c in pool if c.id in ranks), key=lambda c: ranks[c.id])
    return front + [c for c in pool if c.id not in ranks]

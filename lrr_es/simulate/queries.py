"""Seeded query sets over a catalog, with graded relevance: the ground truth of retrieval benchmarks.

>>> queries = generate_queries(sample_catalog(), n=1000, seed=7)
>>> save_queries("queries.jsonl", queries)

The intent mix is allotted exactly (largest remainder), then shuffled: ``n=1000`` with the
default mix gives 200 exact known-item queries, 120 partial ones, and so on. Targets are drawn
with a long tail (see ``catalog_view.PopularitySampler``), so popular queries repeat, as in real
traffic. The same documents (in the same order), ``n``, ``seed`` and ``mix`` give the same queries.
"""
from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import SimulationError
from .catalog_view import CatalogView
from .intents import INTENTS, available_intents

# The default share of each intent. Known-item lookups dominate music search; broad and
# ambiguous queries are the ones a single static query plan handles worst.
DEFAULT_MIX: dict[str, float] = {
    "known_item_exact": 0.20,
    "known_item_partial": 0.12,
    "known_item_typo": 0.13,
    "title_artist": 0.15,
    "artist": 0.15,
    "genre_decade": 0.13,
    "ambiguous": 0.12,
}
MAX_DRAWS = 50  # draws per query before an intent is declared impossible for this catalog
GRADES = (1, 2, 3)


@dataclass(frozen=True)
class GeneratedQuery:
    """One simulated query.

    ``relevant`` maps doc id -> grade (3 the item sought, 2 relevant, 1 partly relevant), most
    relevant first; ``target`` is the doc the user is after (known-item and artist intents) or
    None; ``meta`` holds JSON-safe details (clean text and typo kinds, genre and decade slots...).
    """

    qid: str
    text: str
    intent: str
    relevant: dict[str, int]
    target: str | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise SimulationError(f"query {self.qid!r}: text must be a non-empty string, got {self.text!r}")
        if self.intent not in INTENTS:
            raise SimulationError(f"query {self.qid!r}: unknown intent {self.intent!r}; known: {', '.join(INTENTS)}")
        bad = {doc_id: g for doc_id, g in self.relevant.items() if g not in GRADES or isinstance(g, bool)}
        if bad:
            raise SimulationError(f"query {self.qid!r}: grades must be 1, 2 or 3, got {bad}")
        if self.target is not None and self.relevant.get(self.target) != 3:
            raise SimulationError(f"query {self.qid!r}: target {self.target!r} must be relevant with grade 3")

    def recall(self, candidates: Iterable[str], k: int = 100) -> float:
        """Relevant documents among ``candidates`` / min(#relevant, k): candidate recall capped at k."""
        if not self.relevant:
            return 0.0
        return len(set(candidates) & self.relevant.keys()) / min(len(self.relevant), k)

    def to_dict(self) -> dict:
        """A JSON-safe dict; ``from_dict`` turns it back into an equal query."""
        return {"qid": self.qid, "text": self.text, "intent": self.intent, "target": self.target,
                "relevant": dict(self.relevant), "meta": self.meta}

    @classmethod
    def from_dict(cls, data: Mapping) -> "GeneratedQuery":
        """The query of a ``to_dict`` result; SimulationError naming what is missing or wrong."""
        if not isinstance(data, Mapping):
            raise SimulationError(f"a query must be an object, got {type(data).__name__}")
        missing = [key for key in ("qid", "text", "intent", "relevant") if key not in data]
        if missing:
            raise SimulationError(f"query {data.get('qid')!r} lacks {', '.join(missing)}")
        if not isinstance(data["relevant"], Mapping):
            raise SimulationError(f"query {data['qid']!r}: relevant must be an object of doc id -> grade")
        return cls(qid=str(data["qid"]), text=data["text"], intent=data["intent"], relevant=dict(data["relevant"]),
                   target=data.get("target"), meta=dict(data.get("meta") or {}))


def check_mix(mix: Mapping[str, float] | None) -> dict[str, float]:
    """``mix`` (intent -> non-negative weight; missing intents get 0) normalized to sum 1.

    None gives DEFAULT_MIX. SimulationError for an unknown intent, a negative or non-finite
    weight, or weights that are all zero.
    """
    if mix is None:
        return dict(DEFAULT_MIX)
    unknown = [name for name in mix if name not in INTENTS]
    if unknown:
        raise SimulationError(f"unknown intent(s) in mix: {', '.join(map(repr, unknown))}; "
                              f"known intents: {', '.join(INTENTS)}")
    for name, weight in mix.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise SimulationError(f"mix weight of {name!r} must be a finite number >= 0, got {weight!r}")
    total = float(sum(mix.values()))
    if total <= 0:
        raise SimulationError("mix weights are all zero: give at least one intent a positive weight")
    return {name: mix.get(name, 0.0) / total for name in INTENTS}


def allot(n: int, mix: Mapping[str, float]) -> dict[str, int]:
    """Query counts per intent summing to ``n``, by largest remainder (ties in INTENTS order)."""
    exact = {name: n * share for name, share in mix.items()}
    counts = {name: math.floor(value) for name, value in exact.items()}
    order = sorted(exact, key=lambda name: -(exact[name] - counts[name]))
    for name in order[: n - sum(counts.values())]:
        counts[name] += 1
    return counts


def generate_queries(docs: Iterable[Mapping], n: int, seed: int, mix: Mapping[str, float] | None = None,
                     popular_share: float = 0.7) -> list[GeneratedQuery]:
    """``n`` queries over ``docs`` (canonical catalog documents), deterministic for ``seed``.

    ``mix`` weights the intents (see DEFAULT_MIX and ``check_mix``); an intent the catalog cannot
    produce (no artist documents, no genres...) is dropped and its share spread over the others.
    ``popular_share`` is the fraction of targets drawn by popularity rather than uniformly.
    Every relevant id is a catalog id. Raises SimulationError for a bad ``n``, ``mix`` or catalog.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise SimulationError(f"n must be an integer >= 0, got {n!r}")
    if not 0.0 <= popular_share <= 1.0:
        raise SimulationError(f"popular_share must be within [0, 1], got {popular_share!r}")
    shares = check_mix(mix)
    view = CatalogView(docs, popular_share=popular_share)
    return generate_from_view(view, n, seed, shares)


def generate_from_view(view: CatalogView, n: int, seed: int, shares: Mapping[str, float]) -> list[GeneratedQuery]:
    """``generate_queries`` over a prepared CatalogView (reuse it across seeds); ``shares`` as from check_mix."""
    possible = set(available_intents(view))
    usable = {name: share for name, share in shares.items() if name in possible and share > 0}
    if not usable:
        wanted = [name for name, share in shares.items() if share > 0]
        raise SimulationError(f"this catalog cannot produce any of the intents {wanted}; "
                              f"it supports {sorted(possible) or 'none'}")
    total = sum(usable.values())
    rng = random.Random(seed)
    plan = [name for name, count in allot(n, {k: v / total for k, v in usable.items()}).items() for _ in range(count)]
    rng.shuffle(plan)
    width = max(5, len(str(n)))
    return [_one(view, rng, intent, f"q{seed}-{number:0{width}d}") for number, intent in enumerate(plan)]


def _one(view: CatalogView, rng: random.Random, intent: str, qid: str) -> GeneratedQuery:
    for _ in range(MAX_DRAWS):
        draft = INTENTS[intent](view, rng)
        if draft is not None and draft.text.strip() and draft.relevant:
            return GeneratedQuery(qid, draft.text, intent, draft.relevant, draft.target, draft.meta)
    raise SimulationError(f"could not build a {intent!r} query in {MAX_DRAWS} draws: "
                          f"the catalog has too few suitable documents for this intent")


def intent_counts(queries: Sequence[GeneratedQuery]) -> dict[str, int]:
    """Queries per intent, in INTENTS order, intents with no query left out."""
    counts = Counter(q.intent for q in queries)
    return {name: counts[name] for name in INTENTS if counts[name]}


def save_queries(path: str | Path, queries: Iterable[GeneratedQuery]) -> int:
    """Write ``queries`` as JSON Lines (UTF-8, one ``to_dict`` per line); returns the count."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for query in queries:
            out.write(json.dumps(query.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def load_queries(path: str | Path) -> list[GeneratedQuery]:
    """The queries of a ``save_queries`` file; SimulationError naming the line of a bad record."""
    queries: list[GeneratedQuery] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                queries.append(GeneratedQuery.from_dict(json.loads(line)))
            except (json.JSONDecodeError, SimulationError) as exc:
                raise SimulationError(f"{path} line {number}: {exc}") from None
    return queries

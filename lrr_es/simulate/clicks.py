"""Click models: how a simulated user reacts to a ranked page (pure, seeded).

Position-based model (PBM): the user examines position r (1-based) with probability
``examination[r-1]`` (default ``1 / r ** eta``), and an examined document attracts an action with
a probability set by its relevance grade (0-3). The cascade variant scans from the top and stops
after the first satisfying action (a play of a grade >= 2 document) or with probability
``abandon`` after each examined document. What an attracted user does depends on the grade: a
relevant item is played (long for grade 3) and sometimes liked; a non-relevant one is clicked and
skipped.

Both take a ``random.Random`` so a simulation repeats exactly for a seed. Relevance is the
generated query's ``relevant`` map (doc id -> grade); unknown docs have grade 0.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from ..errors import SimulationError

ATTRACTION = (0.03, 0.25, 0.55, 0.9)  # P(action | examined, grade 0..3)
LIKE = (0.0, 0.02, 0.1, 0.3)  # P(like | played, grade)


@dataclass(frozen=True)
class Action:
    """One simulated user action on a shown document."""

    doc_id: str
    position: int  # 1-based
    action: str  # click, play, like, skip
    value: float | None = None  # play completion in [0, 1]


@dataclass(frozen=True)
class ClickModel:
    """A position-based click model, or its cascade variant (``cascade=True``)."""

    eta: float = 1.0
    examination: tuple[float, ...] | None = None  # overrides 1 / r ** eta
    attraction: tuple[float, ...] = ATTRACTION
    cascade: bool = False
    abandon: float = 0.1  # cascade: P(stop) after an examined document that did not satisfy
    like: tuple[float, ...] = LIKE
    name: str = field(default="pbm")

    def __post_init__(self) -> None:
        if len(self.attraction) != 4 or not all(0 <= p <= 1 for p in self.attraction):
            raise SimulationError(f"attraction needs 4 probabilities (grades 0-3), got {self.attraction!r}")
        if self.examination is not None and not all(0 <= p <= 1 for p in self.examination):
            raise SimulationError(f"examination probabilities must be in [0, 1], got {self.examination!r}")
        if not 0 <= self.abandon <= 1 or self.eta < 0:
            raise SimulationError(f"abandon must be in [0, 1] and eta >= 0, got {self.abandon!r}, {self.eta!r}")

    def examine(self, position: int) -> float:
        """P(the user looks at ``position``), 1-based."""
        if self.examination is not None:
            return self.examination[position - 1] if position <= len(self.examination) else 0.0
        return 1.0 / position ** self.eta

    def react(self, shown: Sequence[str], relevant: Mapping[str, int], rng: random.Random) -> list[Action]:
        """The actions of one user on the page ``shown`` (doc ids, top first)."""
        actions: list[Action] = []
        for position, doc_id in enumerate(shown, start=1):
            grade = max(0, min(3, int(relevant.get(doc_id, 0))))
            if not self.cascade and rng.random() >= self.examine(position):
                continue
            satisfied = False
            if rng.random() < self.attraction[grade]:
                actions += self._engage(doc_id, position, grade, rng)
                satisfied = grade >= 2
            if self.cascade and (satisfied or rng.random() < self.abandon):
                break
        return actions

    def _engage(self, doc_id: str, position: int, grade: int, rng: random.Random) -> list[Action]:
        if grade == 0:
            return [Action(doc_id, position, "click"), Action(doc_id, position, "skip")]
        completion = round(min(1.0, (0.3 + 0.25 * grade) * (0.6 + 0.4 * rng.random())), 3)
        out = [Action(doc_id, position, "click"), Action(doc_id, position, "play", completion)]
        if rng.random() < self.like[grade]:
            out.append(Action(doc_id, position, "like"))
        return out


def positive(actions: Sequence[Action]) -> set[str]:
    """The documents that earned a positive engagement (a play or a like)."""
    return {a.doc_id for a in actions if a.action in ("play", "like")}

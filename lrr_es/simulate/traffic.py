"""Simulated traffic through the real search path: users pick queries, search, react to the page.

``run_traffic`` draws queries from a generated query set (seeded; popular targets repeat, as in
real traffic), runs each through ``LrrEngine.search`` on a real node, lets the click model react
to the page, and sends every action as feedback (``send``; by default the engine's own
``feedback`` when it has one). Each search's outcome records what the learners need to be judged:
the shown page, the actions, the candidate pool's recall and the number of sub-searches.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from tqdm import tqdm

from ..errors import SimulationError
from .clicks import Action, ClickModel, positive
from .queries import GeneratedQuery

Send = Callable[[str, Action, str], Any]  # (search_id, action, session_id)


@dataclass(frozen=True)
class SearchOutcome:
    search_id: str
    qid: str
    intent: str
    text: str
    shown: tuple[str, ...]
    actions: tuple[Action, ...]
    positives: frozenset[str]
    recall: float  # relevant docs in the candidate pool / min(#relevant, k)
    subsearches: int


def run_traffic(engine: Any, index: str, queries: Sequence[GeneratedQuery], searches: int,
                click_model: ClickModel = ClickModel(), seed: int = 7, page: int = 10, k: int = 100,
                send: Send | None = None, plan: Any = None, progress: bool = False) -> list[SearchOutcome]:
    """Run ``searches`` simulated searches; returns one outcome per search, in order."""
    if not queries:
        raise SimulationError("run_traffic needs at least one query")
    if send is None and hasattr(engine, "feedback"):
        send = _engine_sender(engine)
    rng = random.Random(seed)
    outcomes = []
    for n in tqdm(range(searches), desc="simulated searches", disable=None if progress else True, mininterval=0.5):
        q = queries[rng.randrange(len(queries))]
        session = f"sim-{seed}-{n}"
        result = engine.search(index, q.text, size=page, plan=plan, seed=rng.randrange(2**31))
        shown = tuple(h["_id"] for h in result.hits)
        actions = tuple(click_model.react(shown, q.relevant, rng))
        if send is not None:
            for action in actions:
                send(result.search_id, action, session)
        outcomes.append(SearchOutcome(result.search_id, q.qid, q.intent, q.text, shown, actions,
                                      frozenset(positive(actions)), q.recall((c.id for c in result.pool), k),
                                      sum(1 for r in result.results)))
    return outcomes


def _engine_sender(engine: Any) -> Send:
    def send(search_id: str, action: Action, session: str) -> None:
        engine.feedback(search_id, action.doc_id, action.action, position=action.position, session_id=session,
                        value=action.value)
    return send


@dataclass(frozen=True)
class TrafficSummary:
    searches: int
    engaged_share: float  # searches with a play or like
    recall: float  # mean candidate recall
    subsearches: float  # per search
    actions: int
    by_intent: dict[str, tuple[int, float]]  # intent -> (searches, engaged share)

    def lines(self) -> list[str]:
        out = [f"{self.searches} searches: {self.engaged_share:.1%} with a play or like, candidate recall "
               f"{self.recall:.3f}, {self.subsearches:.2f} sub-searches per search, {self.actions} actions"]
        out += [f"  {intent:<20} {n:>6} searches, {share:6.1%} engaged" for intent, (n, share) in self.by_intent.items()]
        return out


def summarize(outcomes: Sequence[SearchOutcome]) -> TrafficSummary:
    """What a run of simulated traffic amounted to; zeros for an empty run."""
    n = len(outcomes)
    intents: dict[str, list[SearchOutcome]] = {}
    for o in outcomes:
        intents.setdefault(o.intent, []).append(o)
    return TrafficSummary(
        searches=n,
        engaged_share=sum(bool(o.positives) for o in outcomes) / n if n else 0.0,
        recall=sum(o.recall for o in outcomes) / n if n else 0.0,
        subsearches=sum(o.subsearches for o in outcomes) / n if n else 0.0,
        actions=sum(len(o.actions) for o in outcomes),
        by_intent={i: (len(os), sum(bool(o.positives) for o in os) / len(os)) for i, os in sorted(intents.items())},
    )

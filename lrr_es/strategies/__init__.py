"""Candidate-generation strategies (the bandit's arms) and their registry."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..config import FieldMap
from ..errors import ConfigError, QueryError
from ..parse import Query
from .base import Strategy
from .explore import ExploreStrategy
from .memory import MemoryStrategy
from .semantic import SemanticStrategy
from .structured import StructuredStrategy
from .text import FuzzyStrategy, LexicalStrategy, PopularStrategy

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (LexicalStrategy, PopularStrategy, StructuredStrategy, MemoryStrategy, FuzzyStrategy,
                               SemanticStrategy, ExploreStrategy)
}


def get_strategy(name: str, fields: FieldMap = FieldMap(), popularity_feature: str | None = None,
                 resources: Mapping[str, Any] | None = None) -> Strategy:
    """An instance of the strategy called ``name``; an unknown name lists the known ones.

    ``resources`` holds what some strategies need besides the field map, by name (the query
    understanding gazetteer, the semantic model); see each strategy's ``requires``.
    """
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r} (known: {', '.join(sorted(STRATEGIES))})") from None
    return cls(fields, popularity_feature, resources)


def build_plan(plan: Sequence[Any], strategies: Mapping[str, Strategy], query: Query, filters: list[dict],
               index: str) -> tuple[list[tuple[Any, dict]], dict[str, str]]:
    """Stage 4, build: (plan item, search body) for each item of ``plan`` (lrr_es.decide.PlanItem) whose
    strategy can run, and the skipped strategies with the reason; pure.

    A plan item naming a strategy that is not among ``strategies`` (those configured for ``index``)
    raises QueryError.
    """
    built, skipped = [], {}
    for item in plan:
        strategy = strategies.get(item.strategy)
        if strategy is None:
            raise QueryError(f"unknown strategy {item.strategy!r} in plan (configured for {index}: "
                             f"{', '.join(strategies)})")
        if not strategy.available:
            skipped[item.strategy] = why_unavailable(strategy, index)
            continue
        built.append((item, strategy.build(query, item.quota, filters)))
    return built, skipped


BUILT_BY = {"semantic": "lrr-es semantic build", "gazetteer": "lrr-es gazetteer rebuild"}


def unavailable(strategies: Mapping[str, Strategy], index: str,
                problems: Mapping[str, str] | None = None) -> dict[str, str]:
    """The strategies of ``strategies`` that cannot run, with the reason; pure.

    ``problems`` says, by resource name, why a resource could not be loaded (a damaged model); a
    resource without one was never built.
    """
    return {name: why_unavailable(s, index, problems) for name, s in strategies.items() if not s.available}


def why_unavailable(strategy: Strategy, index: str, problems: Mapping[str, str] | None = None) -> str:
    """Why ``strategy`` cannot run on ``index``: each resource it lacks, missing or damaged, or the
    inputs whose absence makes its search equal another's."""
    redundant = strategy.redundant()
    reasons = [redundant] if redundant else []
    for name in strategy.requires:
        if strategy.resources.get(name) is not None:
            continue
        problem = (problems or {}).get(name)
        build = f"`{BUILT_BY.get(name, 'build it')} --index {index}`"
        reasons.append(f"needs {name}, which {index} has but cannot load ({problem})" if problem else
                       f"needs {name}, which {index} does not have yet ({build})")
    return "; ".join(reasons)


__all__ = ["STRATEGIES", "Strategy", "build_plan", "get_strategy", "unavailable", "why_unavailable"]

"""Candidate-generation strategies (the bandit's arms) and their registry."""
from __future__ import annotations

from typing import Any, Mapping

from ..config import FieldMap
from ..errors import ConfigError
from .base import MAX_QUERY_CHARS, Query, Strategy, parse_query
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


__all__ = ["MAX_QUERY_CHARS", "STRATEGIES", "Query", "Strategy", "get_strategy", "parse_query"]

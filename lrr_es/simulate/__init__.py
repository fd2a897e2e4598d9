"""Simulated users: seeded query sets with graded relevance (benchmarks), later whole traffic.

Relevance is derived from catalog fields only, never from a retrieval strategy, so the query sets
can judge every strategy fairly.
"""
from .intents import INTENTS, available_intents
from .queries import (
    DEFAULT_MIX,
    GeneratedQuery,
    check_mix,
    generate_queries,
    intent_counts,
    load_queries,
    save_queries,
)
from .source import CatalogSource, read_source
from .typos import TYPO_KINDS, Misspelling, misspell, misspell_word

__all__ = [
    "DEFAULT_MIX",
    "INTENTS",
    "TYPO_KINDS",
    "CatalogSource",
    "GeneratedQuery",
    "Misspelling",
    "available_intents",
    "check_mix",
    "generate_queries",
    "intent_counts",
    "load_queries",
    "misspell",
    "misspell_word",
    "read_source",
    "save_queries",
]

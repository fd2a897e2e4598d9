"""The memory strategy: what users engaged with for this query (or similar ones) before."""
from __future__ import annotations

from .base import Query, Strategy


class MemoryStrategy(Strategy):
    """``rank_feature`` on ``q2e.<key>`` (one postings list) plus fuzzy matches of past queries."""

    name, kind, cost = "memory", "memory", 0.5
    needs = "lrr-es's q2e fields (every catalog index has them)"

    def _query(self, query: Query) -> dict:
        return {"bool": {"should": [
            {"rank_feature": {"field": f"q2e.{query.key}", "saturation": {"pivot": 1.0}, "boost": 10.0}},
            {"match": {"q2e_queries": {"query": query.text, "fuzziness": "AUTO", "prefix_length": 1, "operator": "and"}}},
        ], "minimum_should_match": 1}}

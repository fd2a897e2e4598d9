"""The explore strategy: loosely matching items in random order, for counterfactual data."""
from __future__ import annotations

from .base import Query, Strategy


class ExploreStrategy(Strategy):
    """Any-token matches (text roles but the description, and the category attribute's words: music's
    genre) in an order drawn from the per-search seed."""

    name, kind, cost = "explore", "explore", 1.2
    repeatable = False  # a new random order per search: caching it would only evict others

    def _query(self, query: Query) -> dict:
        f = self.fields
        fields = [*f.title, *f.aliases, *f.people] + ([f"{f.category}.text"] if f.category else [])
        return {"function_score": {
            "query": {"multi_match": {"query": query.text, "fields": fields, "operator": "or"}},
            "functions": [{"random_score": {"seed": query.seed, "field": "_seq_no"}}],
            "boost_mode": "replace",
        }}

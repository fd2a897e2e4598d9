"""The explore strategy: loosely matching items in random order, for counterfactual data."""
from __future__ import annotations

from .base import Query, Strategy


class ExploreStrategy(Strategy):
    """Any-token matches (title, artist, genre) in an order drawn from the per-search seed."""

    name, kind, cost = "explore", "explore", 1.2

    def _query(self, query: Query) -> dict:
        fields = [*self.fields.title, *self.fields.artist] + ([f"{self.fields.genre}.text"] if self.fields.genre else [])
        return {"function_score": {
            "query": {"multi_match": {"query": query.text, "fields": fields, "operator": "or"}},
            "functions": [{"random_score": {"seed": query.seed, "field": "_seq_no"}}],
            "boost_mode": "replace",
        }}

"""The strategy contract: a parsed query in, one Elasticsearch search body out (pure).

A strategy never touches a client. ``build(query, quota, filters)`` returns a new dict; the app's
filters (a list of query clauses) are applied to every strategy as ``bool.filter``.
"""
from __future__ import annotations

import copy
from typing import Any, ClassVar, Mapping

from ..config import FieldMap
from ..errors import QueryError
from ..parse import Query

MAX_QUOTA = 1000


class Strategy:
    """Base class. Subclasses set ``name``, ``kind``, ``cost`` and implement ``_query``."""

    name: ClassVar[str]
    kind: ClassVar[str]
    cost: ClassVar[float]  # relative Elasticsearch work, lexical = 1.0
    requires: ClassVar[tuple[str, ...]] = ()  # names of resources (models) the strategy cannot build without
    needs: ClassVar[str] = "a text field"  # what the strategy reads from the catalog (the README's table)
    # the same query gives the same body: its results may come from Elasticsearch's shard request cache
    # (retrieval.request_cache); False for a body that changes with every search (explore's seed)
    repeatable: ClassVar[bool] = True

    def __init__(self, fields: FieldMap = FieldMap(), popularity_feature: str | None = None,
                 resources: Mapping[str, Any] | None = None) -> None:
        self.fields = fields
        self.popularity_feature = popularity_feature or fields.popularity
        self.resources = dict(resources or {})

    @property
    def available(self) -> bool:
        """Whether every resource this strategy needs (e.g. a semantic model) was given and its search
        could differ from another strategy's (see :meth:`redundant`)."""
        return all(self.resources.get(name) is not None for name in self.requires) and self.redundant() is None

    def redundant(self) -> str | None:
        """Why this strategy's search would equal another's on this index (say, popular without a
        popularity field is lexical), or None when it adds something of its own."""
        return None

    @classmethod
    def descriptors(cls) -> dict:
        """The static arm features of this strategy for the bandit."""
        return {"name": cls.name, "kind": cls.kind, "cost": cls.cost}

    def build(self, query: Query, quota: int, filters: list[dict] | None = None) -> dict:
        """One search body retrieving at most ``quota`` candidates for ``query`` under ``filters``."""
        if isinstance(quota, bool) or not isinstance(quota, int) or not 1 <= quota <= MAX_QUOTA:
            raise QueryError(f"{self.name}: quota must be an integer in [1, {MAX_QUOTA}], got {quota!r}")
        clause = self._query(query)
        app_filters = copy.deepcopy(list(filters or []))
        if app_filters:
            clause = {"bool": {"must": [clause], "filter": app_filters}}
        return {"size": quota, "track_total_hits": False, "query": clause}

    def _query(self, query: Query) -> dict:
        raise NotImplementedError

    # shared field lists
    def _text_fields(self) -> list[str]:
        """Every text-role field with its role's weight (``title^3``, ``aliases^2``, ...)."""
        return [f"{f}^{weight:g}" for _, fields, weight in self.fields.text_roles() for f in fields]

"""The structured strategy: search the slots of the query's interpretations, match the rest as text."""
from __future__ import annotations

import re
from typing import Any, Iterable

from ..qu import interpret, role_fields
from .base import Query, Strategy

NEAR_CERTAIN = 0.85  # a reading at least this likely filters instead of boosting
SLOT_WEIGHT = 10.0  # a reading's slots weigh about as much as a good BM25 title match
POPULARITY_BOOST = 4.0  # orders the many equally-matching items of a slot, e.g. every 1980s rock song
_DECADE_START = re.compile(r"^(\d{4})s$")


class StructuredStrategy(Strategy):
    """Query understanding's readings as a search.

    With one reading at least NEAR_CERTAIN likely, its slots are filters and the rest of the text
    must match. Otherwise every reading is a ``should`` scored ``likelihood * (SLOT_WEIGHT + BM25 of
    its rest)``, so a doc gains in proportion to how likely the reading it satisfies is; the
    all-text reading is one of them. Slots of one role are alternatives (``terms``), slots of
    different roles all hold. A main genre equal to a genre slot and popularity add a little, to
    order items that satisfy a reading equally. Without slotted readings this is the lexical query.

    The readings come from ``query.interpretations`` or, when those are empty and a ``gazetteer``
    resource was given, from :func:`lrr_es.qu.interpret` (pure either way).
    """

    name, kind, cost = "structured", "structured", 1.3
    requires = ("gazetteer",)

    def _query(self, query: Query) -> dict:
        readings = tuple(query.interpretations)
        gazetteer = self.resources.get("gazetteer")
        if not readings and gazetteer is not None:
            readings = interpret(query.text, gazetteer)
        slotted = [r for r in readings if r.slots]
        if not slotted:
            return self._text(query.text)
        top = readings[0]
        if top.likelihood >= NEAR_CERTAIN and self._slot_clauses(top.slots):
            return self._filtered(top)
        should = [self._reading(r, query.text) for r in readings]
        return {"bool": {"must": [{"bool": {"should": should, "minimum_should_match": 1}}],
                         "should": self._tie_breakers(slotted)}}

    def _filtered(self, reading: Any) -> dict:
        clause: dict = {"filter": self._slot_clauses(reading.slots)}
        if reading.rest:
            clause["must"] = [self._text(reading.rest)]
        tie_breakers = self._tie_breakers([reading])
        if tie_breakers:
            clause["should"] = tie_breakers
        return {"bool": clause}

    def _reading(self, reading: Any, text: str) -> dict:
        must: list[dict] = []
        clauses = self._slot_clauses(reading.slots)
        if clauses:
            must.append({"constant_score": {"filter": {"bool": {"filter": clauses}}, "boost": SLOT_WEIGHT}})
        rest = reading.rest if clauses else text  # slots this field map cannot search are text again
        if rest:
            must.append(self._text(rest))
        return {"bool": {"must": must, "boost": round(reading.likelihood, 6)}}

    def _text(self, text: str) -> dict:
        return {"multi_match": {"query": text, "type": "best_fields", "fields": self._text_fields(), "tie_breaker": 0.3}}

    def _slot_clauses(self, slots: Iterable[Any]) -> list[dict]:
        """One clause per role (in first-seen order); values of one role are alternatives."""
        by_role: dict[str, list] = {}
        for slot in slots:
            values = by_role.setdefault(slot.role, [])
            if slot.value not in values:
                values.append(slot.value)
        clauses = [self._role_clause(role, values) for role, values in by_role.items()]
        return [c for c in clauses if c is not None]

    def _role_clause(self, role: str, values: list) -> dict | None:
        f = self.fields
        if role == "genre" and f.genre and f.main_genre:
            return {"bool": {"should": [_terms(f.genre, values), _terms(f.main_genre, values)], "minimum_should_match": 1}}
        if role == "decade" and not f.decade and f.year:
            ranges = [_decade_range(f.year, v) for v in values]
            ranges = [r for r in ranges if r is not None]
            return {"bool": {"should": ranges, "minimum_should_match": 1}} if ranges else None
        field = role_fields(f).get(role)
        return _terms(field, values) if field else None

    def _tie_breakers(self, readings: Iterable[Any]) -> list[dict]:
        """Main genre (weighted by the likelihood of the readings naming it) and popularity."""
        out: list[dict] = []
        if self.fields.main_genre:
            weights: dict[Any, float] = {}
            for reading in readings:
                for genre in dict.fromkeys(s.value for s in reading.slots if s.role == "genre"):
                    weights[genre] = weights.get(genre, 0.0) + reading.likelihood
            out += [{"term": {self.fields.main_genre: {"value": g, "boost": round(w, 6)}}} for g, w in weights.items()]
        if self.popularity_feature:
            out.append({"rank_feature": {"field": self.popularity_feature, "saturation": {"pivot": 50},
                                         "boost": POPULARITY_BOOST}})
        return out


def _terms(field: str, values: list) -> dict:
    return {"term": {field: values[0]}} if len(values) == 1 else {"terms": {field: list(values)}}


def _decade_range(year_field: str, value: Any) -> dict | None:
    match = _DECADE_START.match(str(value))
    if not match:
        return None
    start = int(match.group(1))
    return {"range": {year_field: {"gte": start, "lt": start + 10}}}

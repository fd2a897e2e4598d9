"""The structured strategy: search the slots of the query's interpretations, match the rest as text."""
from __future__ import annotations

import re
from typing import Any, Iterable

from ..qu import interpret
from .base import Query, Strategy

NEAR_CERTAIN = 0.85  # a reading at least this likely filters instead of boosting
LIKELY = 0.5  # a reading at least this likely (more than all others together) leads: its documents come first
SLOT_WEIGHT = 10.0  # a reading's slots weigh about as much as a good BM25 title match
POPULARITY_BOOST = 4.0  # orders the many equally-matching items of a slot, e.g. every 1980s rock song
_DECADE_START = re.compile(r"^(\d{4})s$")


class StructuredStrategy(Strategy):
    """Query understanding's readings as a search.

    With one reading at least NEAR_CERTAIN likely, its slots are filters and the rest of the text
    must match. Otherwise every reading is a ``should`` scored ``likelihood * (SLOT_WEIGHT + BM25 of
    its rest)``, so a doc gains in proportion to how likely the reading it satisfies is; the
    all-text reading is one of them. A most likely reading at least LIKELY (more likely than all the
    others together) also leads: a document satisfying all its slots (and matching its rest) gains
    SLOT_WEIGHT more, so it comes before documents that satisfy less of it. Slots of one role are
    alternatives (``terms``), slots of different roles all hold. A further field of a slot's attribute
    (music's main genre beside the genre: at most the likelihood of the readings naming the value,
    a constant score) and popularity add a little, to order items that satisfy a reading equally.
    Without slotted readings this is the lexical query.

    The readings come from ``query.interpretations`` or, when those are empty and a ``gazetteer``
    resource was given, from :func:`lrr_es.qu.interpret` (pure either way).
    """

    name, kind, cost = "structured", "structured", 1.3
    requires = ("gazetteer",)
    needs = "attributes (or an entity type or people field) and the gazetteer"

    def redundant(self) -> str | None:
        if not self.fields.slot_fields():
            return "no attributes, entity type or people field to understand: its search would be lexical's"
        gazetteer = self.resources.get("gazetteer")
        if gazetteer is not None and not gazetteer.counts:
            return "the gazetteer holds no values: its search would be lexical's"
        return None

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
                         "should": self._lead(top) + self._tie_breakers(slotted)}}

    def _lead(self, top: Any) -> list[dict]:
        """SLOT_WEIGHT more for the documents that satisfy the whole most likely reading when it is at
        least LIKELY: [] otherwise. Without it the tie-breakers (popularity, up to POPULARITY_BOOST)
        and the less likely readings could lift a famous 1981 rock song over 1960s ones for "60s rock"."""
        clauses = self._slot_clauses(top.slots)
        if top.likelihood < LIKELY or not clauses:
            return []
        if top.rest:
            clauses = clauses + [self._text(top.rest)]
        return [{"constant_score": {"filter": {"bool": {"filter": clauses}}, "boost": SLOT_WEIGHT}}]

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
        by_role: dict[str, tuple[list, list]] = {}
        for slot in slots:
            values, texts = by_role.setdefault(slot.role, ([], []))
            if slot.value not in values:
                values.append(slot.value)
            if slot.matched_text not in texts:
                texts.append(slot.matched_text)
        clauses = [self._role_clause(role, values, texts) for role, (values, texts) in by_role.items()]
        return [c for c in clauses if c is not None]

    def _role_clause(self, role: str, values: list, texts: list[str]) -> dict | None:
        """The slot as a clause on its fields. A keyword or people slot also holds for an entity whose
        name is the matched text, so that reading "fc porto" as a club attribute never filters out
        the club itself."""
        f = self.fields
        named = f.slot_fields().get(role)
        if role == "decade" and not named and f.attribute("year"):
            ranges = [_decade_range(f.attribute("year").field, v) for v in values]
            ranges = [r for r in ranges if r is not None]
            return {"bool": {"should": ranges, "minimum_should_match": 1}} if ranges else None
        if not named:
            return None
        clauses = [_terms(field, values) for field in named]
        attribute = f.attribute(role)
        named_entity = self._title_keyword()
        if named_entity and role != "entity_type" and (attribute is None or attribute.kind == "keyword"):
            clauses.append(_terms(named_entity, texts))
        return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}

    def _title_keyword(self) -> str | None:
        title = next((t for t in self.fields.title if "." not in t), None)
        return f"{title}.keyword" if title else None

    def _tie_breakers(self, readings: Iterable[Any]) -> list[dict]:
        """Further fields of a slot's attribute (music: main_genre beside genre), weighted by the
        likelihood of the readings naming it, and popularity."""
        out: list[dict] = []
        for attribute in (a for a in self.fields.attributes if len(a.fields) > 1):
            weights: dict[Any, float] = {}
            for reading in readings:
                for value in dict.fromkeys(s.value for s in reading.slots if s.role == attribute.name):
                    weights[value] = weights.get(value, 0.0) + reading.likelihood
            # a constant score: a term query's own score (idf) would weigh several points, no tie-breaker
            out += [{"constant_score": {"filter": {"term": {field: v}}, "boost": round(w, 6)}}
                    for field in attribute.fields[1:] for v, w in weights.items()]
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

"""Text strategies: lexical, popularity-biased lexical, and fuzzy (misspellings)."""
from __future__ import annotations

from ..phonetic import phonetic_keys
from ..templates import PHONETIC_FIELD
from .base import Query, Strategy


class LexicalStrategy(Strategy):
    """BM25 over the index's text-role fields, each with its role's weight (the safe arm)."""

    name, kind, cost = "lexical", "text", 1.0

    def _query(self, query: Query) -> dict:
        return {"multi_match": {"query": query.text, "type": "best_fields", "fields": self._text_fields(),
                                "tie_breaker": 0.3}}


class PopularStrategy(Strategy):
    """Lexical matches biased towards popular entities by the popularity rank_feature.

    The rank_feature clause is a ``should`` beside the text ``must``, which keeps Lucene's top-k
    skipping (block-max WAND) available with ``track_total_hits: false``. The bias is scaled to the
    size of a BM25 title match (a popularity of 100 adds about 13 points, 50 adds 10): on MusicOSet
    that lifts the mean popularity of the top 20 by 11-17 points over lexical, where a boost of 4
    barely changed the list.
    """

    name, kind, cost = "popular", "text", 1.1
    needs = "a popularity field"

    def redundant(self) -> str | None:
        return None if self.popularity_feature else "no popularity field: its search would be lexical's"

    def _query(self, query: Query) -> dict:
        text = LexicalStrategy._query(self, query)
        if not self.popularity_feature:
            return text
        return {"bool": {"must": [text], "should": [
            {"rank_feature": {"field": self.popularity_feature, "saturation": {"pivot": 50}, "boost": 20.0}}]}}


class FuzzyStrategy(Strategy):
    """Misspellings: edit-distance matching, phonetic keys (Metaphone, indexed with the document)
    and edge n-gram prefixes of the first title, aliases and people fields.

    Edit distance catches typos ("tayler"), phonetic keys catch spellings by ear that are more
    than two edits away ("beyonse", "emenim"), prefixes catch unfinished words ("midn").
    """

    name, kind, cost = "fuzzy", "text", 2.0

    def _query(self, query: Query) -> dict:
        f = self.fields
        prefixes = [f"{n}.prefix" for n in (*f.title[:1], *f.aliases[:1], *f.people[:1]) if "." not in n]
        should = [{"multi_match": {"query": query.text, "type": "best_fields", "fields": self._text_fields(),
                                   "fuzziness": "AUTO", "prefix_length": 1, "max_expansions": 20}}]
        keys = phonetic_keys(query.text)
        if keys:
            should.append({"match": {PHONETIC_FIELD: {"query": " ".join(keys), "operator": "or",
                                                      "minimum_should_match": "2<75%", "boost": 1.5}}})
        if prefixes:
            should.append({"multi_match": {"query": query.text, "type": "best_fields", "fields": prefixes,
                                           "operator": "and", "boost": 0.5}})
        return {"bool": {"should": should, "minimum_should_match": 1}}

"""The catalog document transform: what lrr-es indexes for one catalog document (pure).

Loading (``lrr-es load``) and migrations (reindex, adoption) pass every document through
:func:`index_document`: popularity becomes a ``rank_feature``-safe value, the title and artist get
their phonetic keys (fuzzy strategy) and the document gets its cold-start Q2E seeds.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..config import IndexConfig
from ..phonetic import phonetic_field
from ..q2e import seed_fields
from ..templates import PHONETIC_FIELD


def index_document(doc: Mapping[str, Any], index: IndexConfig, popularity_feature: str | None = None,
                   seed: bool = True) -> dict:
    """The _source to index for a catalog document: rank_feature-safe popularity, cold-start Q2E seeds.

    ``popularity_feature`` is the rank_feature field; when it differs from the index's popularity
    field (an adopted app index keeps its numeric field), the value is copied into it. A rank_feature
    takes only positive numbers, so zero, negative or non-numeric popularity is left out of it.
    ``lrr_phonetic`` gets the Metaphone keys of the title, aliases and people values (fuzzy strategy).
    The seeds come from the title, the people role and the category attribute (music: title, artist,
    genre); a role the index does not have adds no seed.
    ``id`` is not part of the source (it becomes _id).
    """
    fields = index.fields
    source = {k: v for k, v in doc.items() if k != "id"}
    feature = popularity_feature or fields.popularity
    if fields.popularity and feature:
        value = _positive(source.get(fields.popularity))
        if feature == fields.popularity and value is None:
            source.pop(fields.popularity, None)
        elif value is not None:
            source[feature] = value
    named = (*fields.title, *fields.aliases, *fields.people)
    phonetic = phonetic_field([source.get(f) for f in named if "." not in f])
    if phonetic:
        source[PHONETIC_FIELD] = phonetic
    if seed and fields.title and "q2e" not in source:
        source.update(seed_fields(source, fields.title[0], fields.people[0] if fields.people else None,
                                  fields.category, fields.popularity))
    return source


def _positive(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < float("inf") else None

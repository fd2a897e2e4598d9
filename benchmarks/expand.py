"""A seeded N-fold expansion of a catalog (issue 13, P6): each real document and N-1 variants of it.

A variant is what a real catalog holds many of beside the original: a live take, a remaster, a
cover, a tribute act. It keeps the original's fields and entity type, with a new id, a title (or
artist name, for artists) carrying a variant marker, a lower popularity, a nearby year and a later
``added_at``. The same rows, factor and seed give the same documents, in the same order, so two runs
load the same index.
"""
from __future__ import annotations

import random
from typing import Iterator, Sequence

from lrr_es.catalog.rows import ParsedRow, decade_of, good_row

SONG_MARKERS = (" (Live)", " - Remastered", " (Acoustic)", " (Radio Edit)", " (Remix)", " - Demo",
                " (Instrumental)", " (Extended Mix)", " (Mono)", " - Single Version", " (Unplugged)", " (Cover)")
ARTIST_MARKERS = (" Tribute Band", " Revival", " & Friends", " Experience", " (Cover Band)", " Orchestra")


def expand_rows(rows: Sequence[ParsedRow], factor: int, seed: int = 31) -> list[ParsedRow]:
    """The good rows of ``rows`` and, after each, ``factor - 1`` seeded variants of its document."""
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    return list(_expanded(rows, factor, seed))


def _expanded(rows: Sequence[ParsedRow], factor: int, seed: int) -> Iterator[ParsedRow]:
    for row in rows:
        if not row.ok:
            continue
        yield row
        for k in range(1, factor):
            yield good_row(row.source, row.line, variant(row.doc, k, seed))


def variant(doc: dict, k: int, seed: int) -> dict:
    """Variant ``k`` of ``doc`` (see the module docstring); deterministic in (doc id, k, seed)."""
    rng = random.Random(f"{seed}:{doc['id']}:{k}")
    out = dict(doc, id=f"{doc['id']}~v{k}")
    if doc.get("entity_type") == "artist":
        out["title"] = f"{doc['title']}{rng.choice(ARTIST_MARKERS)}"
        out["artist"] = out["title"]
    else:
        out["title"] = f"{doc['title']}{rng.choice(SONG_MARKERS)}"
    if isinstance(doc.get("popularity"), (int, float)):
        out["popularity"] = round(doc["popularity"] * rng.uniform(0.05, 0.6), 3)
    if isinstance(doc.get("year"), int):
        out["year"] = doc["year"] + rng.randrange(0, 6)
        out["decade"] = decade_of(out["year"])
    if isinstance(doc.get("followers"), int):
        out["followers"] = int(doc["followers"] * rng.uniform(0.01, 0.3))
    return out

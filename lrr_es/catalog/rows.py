"""The catalog's record contract: one parsed row, and the canonical document it carries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# The canonical document schema, in order. Every document the catalog package builds itself
# (MusicOSet, sample) has exactly these keys.
DOC_FIELDS = (
    "id",
    "entity_type",
    "title",
    "artist",
    "genre",
    "main_genre",
    "year",
    "decade",
    "popularity",
    "explicit",
    "added_at",
    "followers",
    "song_type",
    "billboard",
)
ENTITY_TYPES = ("song", "artist")


@dataclass(frozen=True)
class ParsedRow:
    """One data row of a catalog file: a document, or the reason the row was skipped.

    Exactly one of ``doc`` and ``error`` is set. ``line`` is the 1-based line number where the
    row starts in ``source`` (for CSV/TSV the header is line 1, so the first data row is line 2).
    """

    source: str
    line: int
    doc: dict | None
    error: str | None

    def __post_init__(self) -> None:
        if (self.doc is None) == (self.error is None):
            raise ValueError("ParsedRow needs exactly one of doc and error")

    @property
    def ok(self) -> bool:
        """True for a row that produced a document."""
        return self.error is None


def good_row(source: str, line: int, doc: dict) -> ParsedRow:
    """A row that produced ``doc``."""
    return ParsedRow(source=source, line=line, doc=doc, error=None)


def bad_row(source: str, line: int, error: str) -> ParsedRow:
    """A row that was skipped, with a human-readable reason."""
    return ParsedRow(source=source, line=line, doc=None, error=error)


def decade_of(year: int | None) -> str | None:
    """The decade label of a year: ``decade_of(1987) == "1980s"``; None stays None."""
    if year is None:
        return None
    return f"{year // 10 * 10}s"


def make_doc(
    *,
    doc_id: str,
    entity_type: str,
    title: str,
    artist: Iterable[str],
    genre: Iterable[str] = (),
    main_genre: str | None = None,
    year: int | None = None,
    popularity: float = 0.0,
    explicit: bool | None = None,
    added_at: str | None = None,
    followers: int | None = None,
    song_type: str | None = None,
    billboard: str | None = None,
) -> dict:
    """A canonical document with every key of ``DOC_FIELDS``; ``decade`` is derived from ``year``."""
    if entity_type not in ENTITY_TYPES:
        raise ValueError(f"entity_type must be one of {ENTITY_TYPES}, got {entity_type!r}")
    return {
        "id": doc_id,
        "entity_type": entity_type,
        "title": title,
        "artist": list(artist),
        "genre": list(genre),
        "main_genre": main_genre,
        "year": year,
        "decade": decade_of(year),
        "popularity": float(popularity),
        "explicit": explicit,
        "added_at": added_at,
        "followers": followers,
        "song_type": song_type,
        "billboard": billboard,
    }

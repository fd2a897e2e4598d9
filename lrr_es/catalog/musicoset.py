"""MusicOSet (Silva, Rocha & Moro, 2019) as canonical catalog documents.

The layout under ``root``: ``metadata/artists.csv``, ``metadata/songs.csv`` and
``metadata/tracks.csv``, TAB-separated despite the extension and never quoted: a ``"`` or
``'`` inside a field is a literal character (``Royce Da 5'9"``), hence ``csv.QUOTE_NONE``.
Python literals inside fields are parsed with ``ast.literal_eval`` only.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

from ..errors import LoadError
from .fields import (
    BadRow,
    dedupe,
    first_string,
    number,
    optional,
    optional_int,
    release_date,
    required,
    string_dict,
    string_list,
)
from .rows import ParsedRow, bad_row, good_row, make_doc
from .textfile import check_file, csv_records

ARTISTS = "metadata/artists.csv"
SONGS = "metadata/songs.csv"
TRACKS = "metadata/tracks.csv"
ARTIST_COLUMNS = ("artist_id", "name", "followers", "popularity", "artist_type", "main_genre", "genres")
SONG_COLUMNS = ("song_id", "song_name", "billboard", "artists", "popularity", "explicit", "song_type")
TRACK_COLUMNS = ("song_id", "release_date")
_FLAGS = {"true": True, "false": False}

Fields = Mapping[str, str]


@dataclass(frozen=True)
class Release:
    """What tracks.csv says about one song: its release year and date, or why that is unusable."""

    year: int | None = None
    added_at: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ArtistInfo:
    """What a song inherits from one of its artists."""

    genres: tuple[str, ...]
    main_genre: str | None


def read_musicoset(root: str | Path) -> Iterator[ParsedRow]:
    """One row per artist (artists.csv order), then one per song (songs.csv order).

    Songs take year and ``added_at`` from tracks.csv and genres from their artists. Bad rows
    are yielded with a reason; a missing file raises ``LoadError`` naming it.
    """
    root = Path(root)
    if not root.is_dir():
        raise LoadError(f"MusicOSet directory not found: {root}")
    paths = [_required_file(root, name) for name in (ARTISTS, SONGS, TRACKS)]
    return _read(*paths)


def _required_file(root: Path, name: str) -> Path:
    try:
        return check_file(root / name)
    except LoadError as exc:
        raise LoadError(f"MusicOSet layout incomplete, {name} is unusable: {exc}") from None


def _read(artists_csv: Path, songs_csv: Path, tracks_csv: Path) -> Iterator[ParsedRow]:
    releases = read_releases(tracks_csv)
    artists: dict[str, ArtistInfo] = {}
    for row in _parse(artists_csv, ARTIST_COLUMNS, "artist_id", _artist_doc):
        if row.ok:
            artist_id = row.doc["id"].split(":", 1)[1]
            artists[artist_id] = ArtistInfo(tuple(row.doc["genre"]), row.doc["main_genre"])
        yield row
    yield from _parse(songs_csv, SONG_COLUMNS, "song_id", lambda f: _song_doc(f, artists, releases))


def _parse(
    path: Path, columns: tuple[str, ...], id_column: str, build: Callable[[Fields], dict]
) -> Iterator[ParsedRow]:
    """``build`` applied to every data row of a MusicOSet table; duplicate ids are bad rows."""
    source, first_seen = str(path), {}  # first_seen: doc id -> line
    for line, fields, error in _table(path, columns):
        try:
            if error is not None:
                raise BadRow(error)
            doc = build(fields)
            _check_unique(id_column, doc["id"], line, first_seen)
        except BadRow as exc:
            yield bad_row(source, line, str(exc))
        else:
            yield good_row(source, line, doc)


def _check_unique(id_column: str, doc_id: str, line: int, first_seen: dict[str, int]) -> None:
    seen = first_seen.setdefault(doc_id, line)
    if seen != line:
        raise BadRow(f"{id_column}: duplicate of line {seen}")


def _table(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, Fields | None, str | None]]:
    """(line, {column: text}, None) per data row, or (line, None, reason) for a broken one."""
    records = csv_records(path, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(records, None)
    names = [name.strip() for name in header.fields] if header and header.fields else []
    missing = [name for name in columns if name not in names]
    if missing:
        raise LoadError(f"{path}: header lacks column(s) {', '.join(missing)}")
    for record in records:
        if record.error is not None:
            yield record.line, None, record.error
        elif len(record.fields) != len(names):
            yield record.line, None, f"expected {len(names)} columns, got {len(record.fields)}"
        else:
            yield record.line, dict(zip(names, record.fields)), None


def read_releases(path: Path) -> dict[str, Release]:
    """tracks.csv as {song_id: Release}; the first row for a song wins."""
    releases: dict[str, Release] = {}
    name = Path(path).name
    for line, fields, _ in _table(path, TRACK_COLUMNS):
        if fields is None:
            continue  # a broken row names no song for sure; its song simply has no date
        song_id = fields["song_id"].strip()
        if song_id and song_id not in releases:
            releases[song_id] = _release(fields, f"{name} line {line}")
    return releases


def _release(fields: Fields, where: str) -> Release:
    try:
        year, added_at = release_date("release_date", fields["release_date"])
    except BadRow as exc:
        return Release(error=f"{exc} ({where})")
    return Release(year=year, added_at=added_at)


def _artist_doc(fields: Fields) -> dict:
    artist_id = required("artist_id", fields["artist_id"])
    name = required("name", fields["name"])
    genres = string_list("genres", fields["genres"]) if optional(fields["genres"]) else []
    return make_doc(
        doc_id=f"artist:{artist_id}",
        entity_type="artist",
        title=name,
        artist=[name],
        genre=dedupe(genres),
        main_genre=optional(fields["main_genre"]),
        popularity=number("popularity", fields["popularity"]),
        followers=optional_int("followers", fields["followers"]),
        song_type=_label(fields["artist_type"]),
    )


def _song_doc(fields: Fields, artists: Mapping[str, ArtistInfo], releases: Mapping[str, Release]) -> dict:
    song_id = required("song_id", fields["song_id"])
    title = required("song_name", fields["song_name"])
    billboard = first_string("billboard", fields["billboard"]) if optional(fields["billboard"]) else None
    credits = {key.strip(): name.strip() for key, name in string_dict("artists", fields["artists"]).items()}
    popularity = number("popularity", fields["popularity"])
    release = releases.get(song_id, Release())
    if release.error is not None:
        raise BadRow(release.error)
    known = [artists[artist_id] for artist_id in credits if artist_id in artists]
    return make_doc(
        doc_id=f"song:{song_id}",
        entity_type="song",
        title=title,
        artist=[name for name in credits.values() if name],
        genre=dedupe(genre for info in known for genre in info.genres),
        main_genre=next((info.main_genre for info in known if info.main_genre), None),
        year=release.year,
        popularity=popularity,
        explicit=_FLAGS.get(fields["explicit"].strip().lower()),
        added_at=release.added_at,
        song_type=_label(fields["song_type"]),
        billboard=billboard,
    )


def _label(text: str) -> str | None:
    """A short label such as "band"; the data once writes it quoted ("'band'")."""
    return optional(text.strip().strip("'\""))

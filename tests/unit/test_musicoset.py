"""MusicOSet reader: literal fixture files in the real layout, plus one check on the real data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lrr_es.catalog import read_catalog, read_musicoset
from lrr_es.errors import LoadError


ARTIST_HEADER = "artist_id\tname\tfollowers\tpopularity\tartist_type\tmain_genre\tgenres\timage_url"
SONG_HEADER = "song_id\tsong_name\tbillboard\tartists\tpopularity\texplicit\tsong_type"
TRACK_HEADER = "song_id\talbum_id\ttrack_number\trelease_date\trelease_date_precision"


# Would create the file "pwned" in the working directory if anything evaluated it as code.
HOSTILE = "__import__('os').system('touch pwned')"


def write_layout(root: Path) -> Path:
    """A small MusicOSet tree; CRLF line ends and unquoted quote characters, like the real files."""
    artists = [
        ARTIST_HEADER,
        "A1\tAriana Grande\t34554242\t96\tsinger\tdance pop\t['dance pop', 'pop', 'post-teen pop']\thttps://i/1",
        "A2\tRoyce Da 5'9\"\tNone\t67\t'band'\t-\t[]\t-",
        "A3\t \t5\t10\t-\t-\t[]\t-",
        "A4\tMark \"Exit\" Goodchild\t9\t29\trapper\thip hop\t['hip hop', 'pop']\t-",
        f"A5\tHostile\t1\t1\t-\t-\t{HOSTILE}\t-",
    ]
    songs = [
        SONG_HEADER,
        "S1\tthank u, next\t('Thank U, Next', 'Ariana Grande')\t{'A1': 'Ariana Grande'}\t86\tTrue\tSolo",
        "S2\tTeam Up\t(\"Don't Stop\", 'Mark')\t"
        "{'A4': 'Mark \"Exit\" Goodchild', 'A1': 'Ariana Grande', 'A2': 'Royce Da 5\\'9\"'}"
        "\t40\tFalse\tCollaboration",
        "S3\tBroken\t('Broken', 'X')\t{'A1': 'Ariana Grande'\t50\tFalse\tSolo",
        "S4\t\t('Nameless', 'X')\t{'A1': 'Ariana Grande'}\t50\tFalse\tSolo",
        "S5\tStranger\t('Stranger', 'Nobody')\t{'ZZ': 'Nobody Known'}\t0\tFalse\tSolo",
        f"S6\tEvil\t{HOSTILE}\t{{'A1': 'Ariana Grande'}}\t1\tFalse\tSolo",
        "S7\tWrong Type\t('Wrong Type', 'X')\t['A1']\t1\tFalse\tSolo",
        "S8\tShort Row\t('Short Row', 'X')\t{'A1': 'Ariana Grande'}\t1\tFalse",
        "S9\tBad Date\t('Bad Date', 'X')\t{'A1': 'Ariana Grande'}\t1\tFalse\tSolo",
        "S1\tthank u, next (again)\t('Thank U, Next', 'Ariana Grande')\t{'A1': 'Ariana Grande'}\t1\tTrue\tSolo",
    ]
    tracks = [
        TRACK_HEADER,
        "S1\tB1\t11\t2019-02-08\tday",
        "S2\tB2\t1\t1998-07\tmonth",
        "S5\tB3\t4\t1963\tyear",
        "S9\tB4\t2\t2019-13-01\tday",
    ]
    meta = root / "metadata"
    meta.mkdir(parents=True)
    for name, lines in (("artists.csv", artists), ("songs.csv", songs), ("tracks.csv", tracks)):
        (meta / name).write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return root


def artist(id_, name, genre, main_genre, popularity, followers, kind):
    return {
        "id": id_, "entity_type": "artist", "title": name, "artist": [name], "genre": genre,
        "main_genre": main_genre, "year": None, "decade": None, "popularity": popularity,
        "explicit": None, "added_at": None, "followers": followers, "song_type": kind, "billboard": None,
    }


def song(id_, title, artists, genre, main_genre, year, decade, popularity, explicit, added_at, kind, billboard):
    return {
        "id": id_, "entity_type": "song", "title": title, "artist": artists, "genre": genre,
        "main_genre": main_genre, "year": year, "decade": decade, "popularity": popularity,
        "explicit": explicit, "added_at": added_at, "followers": None, "song_type": kind,
        "billboard": billboard,
    }


@pytest.fixture()
def layout(tmp_path, monkeypatch):
    """(root, marker): the fixture tree, and the file the hostile literal would create."""
    monkeypatch.chdir(tmp_path)
    return write_layout(tmp_path / "musicoset"), tmp_path / "pwned"


def test_fixture_docs_are_exact(layout):
    root, _ = layout
    docs = [row.doc for row in read_musicoset(root) if row.ok]
    assert docs == [
        artist("artist:A1", "Ariana Grande", ["dance pop", "pop", "post-teen pop"], "dance pop", 96.0,
               34554242, "singer"),
        artist("artist:A2", "Royce Da 5'9\"", [], None, 67.0, None, "band"),
        artist("artist:A4", 'Mark "Exit" Goodchild', ["hip hop", "pop"], "hip hop", 29.0, 9, "rapper"),
        song("song:S1", "thank u, next", ["Ariana Grande"], ["dance pop", "pop", "post-teen pop"], "dance pop",
             2019, "2010s", 86.0, True, "2019-02-08", "Solo", "Thank U, Next"),
        song("song:S2", "Team Up", ['Mark "Exit" Goodchild', "Ariana Grande", "Royce Da 5'9\""],
             ["hip hop", "pop", "dance pop", "post-teen pop"], "hip hop",
             1998, "1990s", 40.0, False, "1998-07-01", "Collaboration", "Don't Stop"),
        song("song:S5", "Stranger", ["Nobody Known"], [], None,
             1963, "1960s", 0.0, False, "1963-01-01", "Solo", "Stranger"),
    ]


def test_fixture_bad_rows_are_reported_with_lines(layout):
    root, _ = layout
    bad = [(Path(row.source).name, row.line, row.error) for row in read_musicoset(root) if not row.ok]
    assert bad == [
        ("artists.csv", 4, "name: empty"),
        ("artists.csv", 6, "genres: not a list literal: \"__import__('os').system('touch pwned')\""),
        ("songs.csv", 4, "artists: not a dict literal: \"{'A1': 'Ariana Grande'\""),
        ("songs.csv", 5, "song_name: empty"),
        ("songs.csv", 7, "billboard: not a tuple literal: \"__import__('os').system('touch pwned')\""),
        ("songs.csv", 8, "artists: not a dict literal: \"['A1']\""),
        ("songs.csv", 9, "expected 7 columns, got 6"),
        ("songs.csv", 10, "release_date: not a date: '2019-13-01' (tracks.csv line 5)"),
        ("songs.csv", 11, "song_id: duplicate of line 2"),
    ]


def test_hostile_literal_is_never_executed(layout, monkeypatch):
    root, marker = layout
    calls = []
    monkeypatch.setattr(os, "system", calls.append)
    rows = list(read_musicoset(root))
    assert calls == [] and not marker.exists()
    assert len(rows) == 5 + 10


def test_artists_come_before_songs_in_file_order(layout):
    root, _ = layout
    rows = list(read_catalog(root, "musicoset"))
    assert [(Path(r.source).name, r.line) for r in rows] == [("artists.csv", n) for n in range(2, 7)] + [
        ("songs.csv", n) for n in range(2, 12)
    ]


@pytest.mark.parametrize("name", ["artists.csv", "songs.csv", "tracks.csv"])
def test_missing_file_raises_load_error_naming_it(layout, name):
    root, _ = layout
    (root / "metadata" / name).unlink()
    with pytest.raises(LoadError, match=f"metadata/{name}"):
        read_musicoset(root)


def test_missing_root_and_missing_column_raise_load_error(layout, tmp_path):
    root, _ = layout
    with pytest.raises(LoadError, match="not found"):
        read_musicoset(tmp_path / "nowhere")
    songs = root / "metadata" / "songs.csv"
    songs.write_text(SONG_HEADER.replace("\tartists", "\tperformers") + "\n", encoding="utf-8")
    with pytest.raises(LoadError, match="lacks column.*artists"):
        list(read_musicoset(root))


def test_real_musicoset_counts_and_a_known_song(musicoset):
    meta = musicoset / "metadata"
    data_rows = sum(_line_count(meta / name) - 1 for name in ("songs.csv", "artists.csv"))

    rows = list(read_musicoset(musicoset))

    artists = [r for r in rows if r.ok and r.doc["entity_type"] == "artist"]
    songs = [r for r in rows if r.ok and r.doc["entity_type"] == "song"]
    bad = [r for r in rows if not r.ok]
    assert len(artists) + len(songs) + len(bad) == data_rows
    assert len(bad) < 0.01 * data_rows
    thank_u = [r.doc for r in songs if r.doc["title"] == "thank u, next" and r.doc["artist"] == ["Ariana Grande"]]
    assert len(thank_u) == 1
    assert "dance pop" in thank_u[0]["genre"]
    assert thank_u[0]["year"] == 2019


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)

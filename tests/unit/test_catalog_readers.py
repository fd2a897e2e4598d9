"""JSONL/CSV/TSV readers, the format registry, and the row contract: literal fixtures."""
from __future__ import annotations

import pytest

from lrr_es.catalog import ParsedRow, decade_of, read_catalog, read_csv, read_jsonl
from lrr_es.errors import LoadError

RENAME = {"name": "title", "artists": "artist"}

JSONL = (
    b'{"id": "s1", "name": "Love", "artists": ["A"], "popularity": 50}\n'
    b"\n"
    b'{"id": 7, "name": "Home", "year": 1987}\r\n'
    b'{"name": "No id"}\n'
    b"[1, 2]\n"
    b"{id: 1}\n"
    b'{"id": "  ", "name": "blank id"}\n'
    b'{"id": ["a"]}\n'
    b'{"id": "z", "popularity": NaN}\n'
    b'{"id": "u", "name": "caf\xe9"}\n'
    b'{"id": "k", "name": "Zo\xc3\xab", "id_alias": 3.0}\n'
    b"   \n"
)

CSV = (
    "id,name,artists,genre,popularity,year,followers,note\n"
    's1,Love,A|B,pop|rock,50,1987,,"has, comma"\n'
    's2,"Multi\nline",C,jazz,0,n/a,12.0,x\n'
    "s3,Home,D,,high,2000,,x\n"
    "s4,Short,E\n"
    "\n"
    ",No id,F,,1,,,x\n"
    's6,"She said ""hi""",G | H ,soul,7.5,1999.0,3,x\n'
)


def rows_of(rows):
    return [(row.line, row.doc if row.ok else row.error) for row in rows]


@pytest.fixture()
def jsonl(tmp_path):
    path = tmp_path / "songs.jsonl"
    path.write_bytes(JSONL)
    return path


@pytest.fixture()
def csv_file(tmp_path):
    path = tmp_path / "songs.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_jsonl_good_and_bad_rows_with_lines(jsonl):
    assert rows_of(read_jsonl(jsonl, rename=RENAME)) == [
        (1, {"id": "s1", "title": "Love", "artist": ["A"], "popularity": 50}),
        (3, {"id": "7", "title": "Home", "year": 1987}),
        (4, "missing id field 'id'"),
        (5, "not a JSON object: got array"),
        (6, "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
        (7, "id field 'id' is empty"),
        (8, "id field 'id' is not a string or number: got array"),
        (9, "invalid JSON: NaN is not a number in JSON"),
        (10, "not valid UTF-8"),
        (11, {"id": "k", "title": "Zoë", "id_alias": 3.0}),
    ]


def test_jsonl_rows_carry_their_source(jsonl):
    assert {row.source for row in read_jsonl(jsonl)} == {str(jsonl)}


def test_jsonl_id_from_another_field_which_is_kept(jsonl):
    by_alias = [row.doc for row in read_jsonl(jsonl, id_field="id_alias") if row.ok]
    assert by_alias == [{"id": "3", "name": "Zoë", "id_alias": 3.0}]


def test_jsonl_id_from_a_field_renamed_to_id(tmp_path):
    path = tmp_path / "songs.jsonl"
    path.write_text('{"song_id": 12, "name": "Love"}\n', encoding="utf-8")
    rows = read_jsonl(path, rename={"song_id": "id", "name": "title"})
    assert rows_of(rows) == [(1, {"id": "12", "title": "Love"})]


def test_jsonl_unreadable_files_raise_load_error(tmp_path):
    with pytest.raises(LoadError, match="not found"):
        read_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(LoadError, match="not a file"):
        read_jsonl(tmp_path)
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_bytes('{"id": "a"}\n'.encode("utf-16"))
    with pytest.raises(LoadError, match="not UTF-8"):
        list(read_jsonl(utf16))


def test_jsonl_accepts_a_utf8_bom(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a"}\n')
    assert rows_of(read_jsonl(path)) == [(1, {"id": "a"})]


def test_csv_good_and_bad_rows_with_lines(csv_file):
    assert rows_of(read_csv(csv_file, rename=RENAME)) == [
        (2, {"id": "s1", "title": "Love", "artist": ["A", "B"], "genre": ["pop", "rock"], "popularity": 50.0,
             "year": 1987, "followers": None, "note": "has, comma"}),
        (3, {"id": "s2", "title": "Multi\nline", "artist": ["C"], "genre": ["jazz"], "popularity": 0.0,
             "year": "n/a", "followers": 12, "note": "x"}),
        (5, "popularity: not a number: 'high'"),
        (6, "expected 8 columns, got 3"),
        (8, "id field 'id' is empty"),
        (9, {"id": "s6", "title": 'She said "hi"', "artist": ["G", "H"], "genre": ["soul"], "popularity": 7.5,
             "year": 1999, "followers": 3, "note": "x"}),
    ]


def test_tsv_through_the_registry(tmp_path):
    path = tmp_path / "songs.tsv"
    path.write_text("song_id\tname\tartist\n1\tHome\tZoë|Björn\n2\tLove\n", encoding="utf-8")
    rows = read_catalog(path, "tsv", rename={"name": "title"}, id_field="song_id")
    assert rows_of(rows) == [
        (2, {"id": "1", "song_id": "1", "title": "Home", "artist": ["Zoë", "Björn"]}),
        (3, "expected 3 columns, got 2"),
    ]


def test_csv_header_problems_raise_load_error(tmp_path):
    no_id = tmp_path / "no_id.csv"
    no_id.write_text("name,artist\nLove,A\n", encoding="utf-8")
    with pytest.raises(LoadError, match="no id column 'id'; columns: name, artist"):
        list(read_csv(no_id))
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("id,name,title\n1,Love,Love\n", encoding="utf-8")
    with pytest.raises(LoadError, match="repeated column.*title"):
        list(read_csv(repeated, rename={"name": "title"}))


def test_empty_csv_has_no_rows(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert list(read_csv(path)) == []


def test_csv_line_that_is_not_utf8_is_a_bad_row(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,name\n1,Caf\xe9\n2,Tea\n")
    assert rows_of(read_csv(path)) == [(2, "not valid UTF-8"), (3, {"id": "2", "name": "Tea"})]


def test_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(LoadError, match="unknown catalog format 'xml'; known formats: csv, jsonl, musicoset, tsv"):
        read_catalog(tmp_path / "x.xml", "xml")


def test_parsed_row_holds_exactly_one_of_doc_and_error():
    assert ParsedRow("f", 2, {"id": "a"}, None).ok
    assert not ParsedRow("f", 3, None, "bad").ok
    with pytest.raises(ValueError):
        ParsedRow("f", 2, None, None)
    with pytest.raises(ValueError):
        ParsedRow("f", 2, {"id": "a"}, "bad")


@pytest.mark.parametrize(
    "year, decade", [(1987, "1980s"), (1980, "1980s"), (2019, "2010s"), (1900, "1900s"), (None, None)]
)
def test_decade_of(year, decade):
    assert decade_of(year) == decade

"""Generic catalog files (JSON Lines, CSV, TSV) as documents, and the format registry.

These readers keep a file's own fields: ``rename`` maps source names to canonical ones and
every document gets a non-empty string ``id``. CSV values are text, so CSV rows also get
numbers for ``popularity``/``year``/``followers`` and lists for ``artist``/``genre``.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Callable, Iterator, Mapping

from ..errors import LoadError
from .fields import BadRow, is_number, number, whole_or_float
from .musicoset import read_musicoset
from .rows import ParsedRow, bad_row, good_row
from .textfile import NOT_UTF8, Record, check_file, csv_records, utf8_lines

NUMERIC_FIELDS = ("popularity", "year", "followers")
LIST_FIELDS = ("artist", "genre")
LIST_SEPARATOR = "|"
_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def read_jsonl(
    path: str | Path, rename: Mapping[str, str] | None = None, id_field: str = "id"
) -> Iterator[ParsedRow]:
    """One row per non-blank line of a JSON Lines file; each line must hold a JSON object.

    ``id_field`` names the field that becomes ``id`` (numbers become strings).
    """
    return _read_jsonl(check_file(path), dict(rename or {}), id_field)


def read_csv(
    path: str | Path, rename: Mapping[str, str] | None = None, id_field: str = "id", delimiter: str = ","
) -> Iterator[ParsedRow]:
    """One row per record of a delimited file whose first line is the header.

    Standard CSV quoting applies (a quoted field may contain the delimiter, ``""`` or newlines).
    A header without the id column, or with a repeated column, raises ``LoadError``.
    """
    return _read_csv(check_file(path), dict(rename or {}), id_field, delimiter)


READERS: dict[str, Callable[..., Iterator[ParsedRow]]] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "tsv": functools.partial(read_csv, delimiter="\t"),
    "musicoset": read_musicoset,
}


def read_catalog(path: str | Path, fmt: str, **kw) -> Iterator[ParsedRow]:
    """The rows of the catalog at ``path`` read as ``fmt`` (one of ``READERS``)."""
    reader = READERS.get(fmt)
    if reader is None:
        raise LoadError(f"unknown catalog format {fmt!r}; known formats: {', '.join(sorted(READERS))}")
    return reader(path, **kw)


def _read_jsonl(path: Path, rename: dict[str, str], id_field: str) -> Iterator[ParsedRow]:
    source, undecodable = str(path), set()
    for line, text in enumerate(utf8_lines(path, undecodable), start=1):
        if not text.strip():
            continue
        try:
            if line in undecodable:
                raise BadRow(NOT_UTF8)
            doc = _with_id(_json_object(text), rename, id_field)
        except BadRow as exc:
            yield bad_row(source, line, str(exc))
        else:
            yield good_row(source, line, doc)


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadRow(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise BadRow("invalid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise BadRow(f"not a JSON object: got {_JSON_TYPES.get(type(value), 'null')}")
    return value


def _reject_constant(name: str) -> None:
    raise BadRow(f"invalid JSON: {name} is not a number in JSON")


def _with_id(record: Mapping[str, object], rename: Mapping[str, str], id_field: str) -> dict:
    """``record`` with its fields renamed and ``id`` first.

    ``id`` comes from field ``id_field``, looked up under its renamed name when ``rename`` maps it
    (so both ``id_field="song_id"`` and ``rename={"song_id": "id"}`` work); the field stays too.
    """
    doc = {rename.get(name, name): value for name, value in record.items()}
    id_key = rename.get(id_field, id_field)
    if id_key not in doc:
        raise BadRow(f"missing id field {id_field!r}")
    doc_id = _id_text(id_field, doc[id_key])
    return {"id": doc_id, **{name: value for name, value in doc.items() if name != "id"}}


def _id_text(id_field: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        kind = _JSON_TYPES.get(type(value), "null")
        raise BadRow(f"id field {id_field!r} is not a string or number: got {kind}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        raise BadRow(f"id field {id_field!r} is empty")
    return text


def _read_csv(path: Path, rename: dict[str, str], id_field: str, delimiter: str) -> Iterator[ParsedRow]:
    records = csv_records(path, delimiter)
    header = next(records, None)
    if header is None:
        return
    names = _header(path, header, rename, id_field)
    source = str(path)
    for record in records:
        try:
            doc = _convert(_with_id(_fields(record, names), rename, id_field))
        except BadRow as exc:
            yield bad_row(source, record.line, str(exc))
        else:
            yield good_row(source, record.line, doc)


def _header(path: Path, header: Record, rename: Mapping[str, str], id_field: str) -> list[str]:
    """The column names; LoadError when the header cannot be used for any row."""
    if header.fields is None:
        raise LoadError(f"{path}: cannot read the header: {header.error}")
    names = [name.strip() for name in header.fields]
    renamed = [rename.get(name, name) for name in names]
    repeated = sorted({name for name in renamed if renamed.count(name) > 1})
    if repeated:
        raise LoadError(f"{path}: repeated column(s) after renaming: {', '.join(repeated)}")
    if rename.get(id_field, id_field) not in renamed:
        raise LoadError(f"{path}: no id column {id_field!r}; columns: {', '.join(names)}")
    return names


def _fields(record: Record, names: list[str]) -> dict[str, str]:
    if record.fields is None:
        raise BadRow(record.error or "unreadable record")
    if len(record.fields) != len(names):
        raise BadRow(f"expected {len(names)} columns, got {len(record.fields)}")
    return dict(zip(names, record.fields))


def _convert(doc: dict) -> dict:
    """Numbers and lists for the canonical fields a CSV file can only hold as text."""
    for name in NUMERIC_FIELDS:
        if isinstance(doc.get(name), str):
            doc[name] = _numeric(name, doc[name])
    for name in LIST_FIELDS:
        if isinstance(doc.get(name), str):
            doc[name] = _split(doc[name])
    return doc


def _numeric(name: str, text: str) -> float | int | str | None:
    """popularity must be a number (float); year and followers become numbers when they look like one."""
    if not text.strip():
        return None
    if name == "popularity":
        return number(name, text)
    return whole_or_float(text) if is_number(text) else text


def _split(text: str) -> list[str]:
    """"A | B" -> ["A", "B"]; a value without the separator is a one-item list."""
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]

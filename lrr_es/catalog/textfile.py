"""Reading catalog files as UTF-8 lines and CSV records, with bad lines reported, not raised.

A file that is missing, unreadable, or not UTF-8 from its first line raises ``LoadError``.
A later line that is not valid UTF-8 only spoils the record it belongs to.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import LoadError

NOT_UTF8 = "not valid UTF-8"


@dataclass(frozen=True)
class Record:
    """One CSV record: its first line (1-based) and its fields, or why it could not be split."""

    line: int
    fields: list[str] | None
    error: str | None


def check_file(path: str | Path) -> Path:
    """``path`` as a Path, or LoadError if it is not an existing regular file."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"catalog file not found: {path}")
    if not path.is_file():
        raise LoadError(f"catalog path is not a file: {path}")
    return path


def utf8_lines(path: Path, undecodable: set[int]) -> Iterator[str]:
    """The lines of ``path`` (with their line ends), decoded as UTF-8; a leading BOM is dropped.

    Lines that are not valid UTF-8 are yielded with replacement characters and their numbers
    added to ``undecodable``; if the very first line is not UTF-8 the file is rejected.
    """
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                yield _decode(path, number, raw, undecodable)
    except OSError as exc:
        raise LoadError(f"cannot read catalog file {path}: {exc.strerror or exc}") from exc


def _decode(path: Path, number: int, raw: bytes, undecodable: set[int]) -> str:
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        if number == 1:
            raise LoadError(f"catalog file is not UTF-8 text: {path} ({exc.reason})") from exc
        undecodable.add(number)
        return raw.decode("utf-8", errors="replace")


def csv_records(path: Path, delimiter: str, quoting: int = csv.QUOTE_MINIMAL) -> Iterator[Record]:
    """The records of a delimited file, header included, blank lines skipped.

    A record spans several lines only inside a quoted field; ``Record.line`` is its first line.
    """
    undecodable: set[int] = set()
    reader = csv.reader(utf8_lines(path, undecodable), delimiter=delimiter, quoting=quoting)
    last_line = 0
    while True:
        try:
            fields = next(reader)
            error = None
        except StopIteration:
            return
        except csv.Error as exc:
            fields, error = None, f"malformed {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}"
        first_line, last_line = last_line + 1, reader.line_num
        if fields == []:
            continue
        if error is None and undecodable.intersection(range(first_line, last_line + 1)):
            fields, error = None, NOT_UTF8
        yield Record(line=first_line, fields=fields, error=error)

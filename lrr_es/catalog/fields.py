"""Parsers for single field values. Each returns the clean value or raises ``BadRow``.

``BadRow`` never leaves the catalog package: the readers turn it into a ``ParsedRow`` error.
"""
from __future__ import annotations

import ast
import datetime as dt
import math
import re
from typing import Iterable

# Values the source files use for "no value".
MISSING = ("", "-", "None", "null", "NULL")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
# Longer literal text is rejected unparsed: literal_eval's time and memory grow with its input.
_MAX_LITERAL_CHARS = 100_000


class BadRow(Exception):
    """A field makes its row unusable; the message is the reason reported to the user."""


def clip(text: str, limit: int = 60) -> str:
    """``repr(text)``, shortened to about ``limit`` characters for an error message."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def required(field: str, text: str) -> str:
    """``text`` stripped; BadRow if nothing is left."""
    value = text.strip()
    if not value:
        raise BadRow(f"{field}: empty")
    return value


def optional(text: str) -> str | None:
    """``text`` stripped, or None for a missing-value marker such as "" or "-"."""
    value = text.strip()
    return None if value in MISSING else value


def literal(field: str, text: str, kind: type) -> object:
    """A Python literal of type ``kind`` parsed with ``ast.literal_eval`` (never ``eval``)."""
    if len(text) > _MAX_LITERAL_CHARS:
        raise BadRow(f"{field}: literal too long ({len(text)} characters)")
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = None
    if not isinstance(value, kind):
        raise BadRow(f"{field}: not a {kind.__name__} literal: {clip(text)}")
    return value


def string_list(field: str, text: str) -> list[str]:
    """A list literal of strings, e.g. ``"['pop', 'dance pop']"``."""
    value = literal(field, text, list)
    if not all(isinstance(item, str) for item in value):
        raise BadRow(f"{field}: list has non-string items: {clip(text)}")
    return [item.strip() for item in value if item.strip()]


def string_dict(field: str, text: str) -> dict[str, str]:
    """A dict literal from string to string, e.g. ``"{'66CX...': 'Ariana Grande'}"``."""
    value = literal(field, text, dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise BadRow(f"{field}: dict has non-string keys or values: {clip(text)}")
    return value


def first_string(field: str, text: str) -> str | None:
    """The first element of a tuple literal, which must be a string; None for ``()``."""
    value = literal(field, text, tuple)
    if not value:
        return None
    if not isinstance(value[0], str):
        raise BadRow(f"{field}: first element is not a string: {clip(text)}")
    return value[0].strip() or None


def is_number(text: str) -> bool:
    """True for a plain decimal number such as "12", "-3.5" or "1e3" (not "nan" or "inf")."""
    return _NUMBER.fullmatch(text.strip()) is not None


def number(field: str, text: str) -> float:
    """A finite float; BadRow for anything that does not look like a plain number."""
    if not is_number(text):
        raise BadRow(f"{field}: not a number: {clip(text)}")
    value = float(text)
    if not math.isfinite(value):
        raise BadRow(f"{field}: not a finite number: {clip(text)}")
    return value


def whole_or_float(text: str) -> int | float:
    """A number-looking string as an int when it is whole ("1987", "1987.0"), else a float."""
    value = float(text)
    return int(value) if value.is_integer() else value


def optional_int(field: str, text: str) -> int | None:
    """An integer, None for a missing-value marker; BadRow for anything else."""
    value = optional(text)
    if value is None:
        return None
    if not is_number(value) or not float(value).is_integer():
        raise BadRow(f"{field}: not an integer: {clip(text)}")
    return int(float(value))


def release_date(field: str, text: str) -> tuple[int | None, str | None]:
    """(year, "YYYY-MM-DD") from a date of day, month or year precision; missing month/day are 01.

    ``"2019-02"`` gives ``(2019, "2019-02-01")``; an empty value gives ``(None, None)``.
    """
    value = optional(text)
    if value is None:
        return None, None
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        year, month, day = (int(part) if part else 1 for part in match.groups())
        date = dt.date(year, month, day)
    except ValueError:
        raise BadRow(f"{field}: not a date: {clip(text)}") from None
    return date.year, date.isoformat()


def dedupe(items: Iterable[str]) -> list[str]:
    """``items`` without repeats, in first-seen order."""
    return list(dict.fromkeys(items))

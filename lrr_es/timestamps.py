"""Timestamps as lrr-es stores them: epoch milliseconds, read from numbers, ISO 8601 text or datetimes.

One reading for the whole package: ``Z`` means UTC, a date-time without a zone is UTC, a date alone
is its midnight (UTC). :func:`epoch_ms` is lenient (None when unreadable, for data read back from
Elasticsearch); :func:`parse_iso` raises, for input that must be validated.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any


def parse_iso(text: str) -> datetime:
    """The aware datetime of an ISO 8601 date or date-time (naive = UTC); ValueError when it is not one."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def datetime_ms(value: datetime) -> int:
    """Epoch milliseconds of ``value`` (naive = UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


def epoch_ms(value: Any) -> int | None:
    """Epoch milliseconds from a finite number, a string of digits (epoch ms), an ISO 8601 string or a
    datetime; None when ``value`` is none of these (booleans, NaN, free text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return datetime_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            return datetime_ms(parse_iso(text))
        except (ValueError, OverflowError, OSError):
            return None
    return None

"""The local spool: events a writer could not write before it closed, replayed on the next start.

One JSON object per line: the event's fields plus ``attempted`` (whether a write of it may already
have reached Elasticsearch, so that a 409 on replay means "ours", not "a duplicate").
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterable

from ..errors import FeedbackError
from .events import FeedbackEvent

log = logging.getLogger(__name__)
SPOOL_NAME = "feedback-spool.jsonl"


def default_spool_path() -> Path:
    """``$LRR_HOME/feedback-spool.jsonl``, by default ``~/.local/share/lrr-es/feedback-spool.jsonl``."""
    home = os.environ.get("LRR_HOME") or Path.home() / ".local" / "share" / "lrr-es"
    return Path(home) / SPOOL_NAME


def write_spool(path: Path, items: Iterable[tuple[FeedbackEvent, bool]]) -> int:
    """Replace the spool at ``path`` with ``items`` (event, attempted), durably (fsync, atomic rename)."""
    items = list(items)
    if not items:
        path.unlink(missing_ok=True)
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for event, attempted in items:
            out.write(json.dumps({**event.to_dict(), "attempted": attempted}, ensure_ascii=True) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return len(items)


def read_spool(path: Path) -> list[tuple[FeedbackEvent, bool]]:
    """The (event, attempted) pairs in the spool at ``path``; unreadable lines are logged and skipped."""
    if not path.exists():
        return []
    items: list[tuple[FeedbackEvent, bool]] = []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                attempted = bool(raw.pop("attempted", True))
                items.append((FeedbackEvent.from_dict(raw), attempted))
            except (ValueError, FeedbackError, AttributeError) as exc:
                log.error("feedback spool %s line %d cannot be replayed (%s); kept in %s.bad", path, n, exc, path)
                with path.with_name(path.name + ".bad").open("a", encoding="utf-8") as bad:
                    bad.write(line if line.endswith("\n") else line + "\n")
    return items


def dead_letter(path: Path, event: FeedbackEvent, status: int | None, reason: str) -> None:
    """Append ``event`` with why Elasticsearch refused it to the dead-letter file at ``path`` (JSONL:
    the event's fields plus ``status`` and ``reason``); nothing reads it back on its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({**event.to_dict(), "status": status, "reason": reason}, ensure_ascii=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")

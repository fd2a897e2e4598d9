"""The local spool: events a writer could not write before it closed, replayed on the next start.

One JSON object per line: the event's fields plus ``attempted`` (whether a write of it may already
have reached Elasticsearch, so that a 409 on replay means "ours", not "a duplicate").

A spool file belongs to one writer at a time, across threads and processes: a writer holds an
exclusive lock (``<file>.lock``, filelock) on its slot for its whole life. The configured path is
slot 0; a writer that finds it taken (a second process, say a web server's second worker) takes the
next free slot, ``feedback-spool.1.jsonl``, ``.2``... (at most MAX_SLOTS). A writer also adopts the
slot files no running writer holds, so events spooled by a process that does not come back are
replayed too.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterable

from filelock import FileLock, Timeout

from ..errors import FeedbackError
from .events import FeedbackEvent

log = logging.getLogger(__name__)
SPOOL_NAME = "feedback-spool.jsonl"
MAX_SLOTS = 64


def default_spool_path() -> Path:
    """``$LRR_HOME/feedback-spool.jsonl``, by default ``~/.local/share/lrr-es/feedback-spool.jsonl``."""
    home = os.environ.get("LRR_HOME") or Path.home() / ".local" / "share" / "lrr-es"
    return Path(home) / SPOOL_NAME


def slot_path(path: Path, n: int) -> Path:
    """Slot ``n`` of the spool at ``path``: ``path`` itself for 0, else ``<stem>.<n><suffix>``."""
    return path if n == 0 else path.with_name(f"{path.stem}.{n}{path.suffix}")


def _try_lock(slot: Path) -> FileLock | None:
    lock = FileLock(slot.with_name(slot.name + ".lock"), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


def claim_slot(path: Path) -> tuple[Path, FileLock]:
    """The first spool slot of ``path`` no other writer holds, and its lock (held until released).

    FeedbackError when all MAX_SLOTS are held (a leak of writers: one per process is enough).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for n in range(MAX_SLOTS):
        lock = _try_lock(slot_path(path, n))
        if lock is not None:
            return slot_path(path, n), lock
    raise FeedbackError(f"all {MAX_SLOTS} feedback spool slots of {path} are held by running writers; "
                        "use one writer per process (LrrEngine.feedback_writer) or a spool_path of its own")


def orphaned_slots(path: Path, own: Path) -> list[tuple[Path, FileLock]]:
    """The other slot files of ``path`` that no running writer holds, each with its lock (now ours)."""
    found = []
    for n in range(MAX_SLOTS):
        slot = slot_path(path, n)
        if slot == own or not slot.exists():
            continue
        lock = _try_lock(slot)
        if lock is None:
            continue
        if slot.exists():  # its writer may have finished it meanwhile
            found.append((slot, lock))
        else:
            lock.release()
    return found


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

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
from .events import FeedbackEvent, event_bytes

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
            if n:
                log.info("feedback spool %s is held by another writer (another process?); this one spools to %s",
                         path, slot_path(path, n))
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


def write_spool(path: Path, items: Iterable[tuple[FeedbackEvent, bool]], unread: Iterable[str] = ()) -> int:
    """Replace the spool at ``path`` with ``items`` (event, attempted) followed by ``unread`` (spool lines
    never replayed, copied as they are), durably (fsync, atomic rename); how many lines it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    written = 0
    with tmp.open("w", encoding="utf-8") as out:
        for event, attempted in items:
            out.write(json.dumps({**event.to_dict(), "attempted": attempted}, ensure_ascii=True) + "\n")
            written += 1
        for line in unread:
            out.write(line if line.endswith("\n") else line + "\n")
            written += 1
        out.flush()
        os.fsync(out.fileno())
    if not written:
        tmp.unlink()
        path.unlink(missing_ok=True)
        return 0
    os.replace(tmp, path)
    return written


def read_spool(path: Path) -> list[tuple[FeedbackEvent, bool]]:
    """The (event, attempted) pairs in the spool at ``path``; unreadable lines are logged and skipped."""
    return [(event, attempted) for event, attempted, _ in SpoolReplay([path]).take(float("inf"))]


class SpoolReplay:
    """Reads spool files a piece at a time, so that replaying a large spool holds a bounded number of
    bytes: ``take(max_bytes)`` parses the next events until they would hold more than that in memory,
    ``unread()`` yields the lines not taken yet (to be written back to a spool at close)."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self._paths = [p for p in paths if p.exists()]
        self._file = None
        self._line_no = 0
        self._pending: str | None = None  # a line read but over the last take's budget

    @property
    def exhausted(self) -> bool:
        return self._pending is None and not self._paths and self._file is None

    def take(self, max_bytes: float) -> list[tuple[FeedbackEvent, bool, int]]:
        """The next (event, attempted, bytes held), at least one when any is left, until the events would
        hold more than ``max_bytes`` (lrr_es.feedback.events.event_bytes)."""
        taken: list[tuple[FeedbackEvent, bool, int]] = []
        used = 0
        while (line := self._next_line()) is not None:
            parsed = self._parse(line)
            if parsed is None:
                continue
            size = event_bytes(parsed[0])
            if taken and used + size > max_bytes:
                self._pending = line
                break
            used += size
            taken.append((*parsed, size))
        return taken

    def unread(self) -> Iterable[str]:
        """The lines not taken yet, consuming them."""
        while (line := self._next_line()) is not None:
            if line.strip():
                yield line

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._paths, self._pending = [], None

    def _next_line(self) -> str | None:
        if self._pending is not None:
            line, self._pending = self._pending, None
            return line
        while True:
            if self._file is None:
                if not self._paths:
                    return None
                self._file, self._line_no = self._paths[0].open(encoding="utf-8"), 0
            line = self._file.readline()
            if line:
                self._line_no += 1
                return line
            self._file.close()
            self._file = None
            self._paths.pop(0)

    def _parse(self, line: str) -> tuple[FeedbackEvent, bool] | None:
        if not line.strip():
            return None
        path = self._paths[0] if self._paths else Path("spool")
        try:
            raw = json.loads(line)
            attempted = bool(raw.pop("attempted", True))
            return FeedbackEvent.from_dict(raw), attempted
        except (ValueError, FeedbackError, AttributeError) as exc:
            log.error("feedback spool %s line %d cannot be replayed (%s); kept in %s.bad", path, self._line_no, exc, path)
            with path.with_name(path.name + ".bad").open("a", encoding="utf-8") as bad:
                bad.write(line if line.endswith("\n") else line + "\n")
            return None


def dead_letter(path: Path, event: FeedbackEvent, status: int | None, reason: str, max_bytes: int | None = None) -> bool:
    """Append ``event`` with why Elasticsearch refused it to the dead-letter file at ``path`` (JSONL:
    the event's fields plus ``status`` and ``reason``); nothing reads it back on its own. False (nothing
    written) when the file would grow past ``max_bytes``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({**event.to_dict(), "status": status, "reason": reason}, ensure_ascii=True) + "\n"
    if max_bytes is not None and (path.stat().st_size if path.exists() else 0) + len(line) > max_bytes:
        return False
    with path.open("a", encoding="utf-8") as out:
        out.write(line)
    return True

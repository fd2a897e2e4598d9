"""Long work started from the panel (training a ranker), run in a background thread with a visible status.

A request that starts a job answers at once; the page shows the job's state and the lines it printed
until it ends (and reloads itself meanwhile). At most one job of a kind runs per index: a second
start while one runs is refused with the running one. The last job of each kind and index is kept
(in this process only) to show how it ended; what it changed is in lrr-models and the audit trail.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One background job: who started it, with what, and how far it got."""

    kind: str
    index: str
    user: str
    params: dict
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    state: str = "running"  # running, done, failed
    finished_ms: int | None = None
    lines: list[str] = field(default_factory=list)
    error: str | None = None

    def echo(self, line: str) -> None:
        self.lines.append(str(line))


class Jobs:
    """The panel's background jobs by (kind, index); thread-safe."""

    def __init__(self) -> None:
        self._jobs: dict[tuple[str, str], Job] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, index: str) -> Job | None:
        with self._lock:
            return self._jobs.get((kind, index))

    def start(self, job: Job, work: Callable[[Job], None]) -> tuple[Job, bool]:
        """Run ``work(job)`` in a daemon thread unless a job of that kind runs for the index:
        (the job that runs, whether it is the new one)."""
        key = (job.kind, job.index)
        with self._lock:
            running = self._jobs.get(key)
            if running is not None and running.state == "running":
                return running, False
            self._jobs[key] = job
        threading.Thread(target=self._run, args=(job, work), name=f"lrr-admin-{job.kind}-{job.index}",
                         daemon=True).start()
        return job, True

    @staticmethod
    def _run(job: Job, work: Callable[[Job], None]) -> None:
        try:
            work(job)
        except Exception as exc:  # noqa: BLE001 - the page shows why; the panel goes on
            log.warning("admin job %s on %s failed: %s", job.kind, job.index, exc, exc_info=True)
            job.error = f"{type(exc).__name__}: {exc}"[:2000]
            job.state = "failed"
        else:
            job.state = "done"
        finally:
            job.finished_ms = int(time.time() * 1000)

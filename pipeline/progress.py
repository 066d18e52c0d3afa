"""Following a job until it ends, with a progress bar for a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from .jobs import Job, JobStore


def wait_for_job(
    jobs: JobStore, job_id: str, timeout: float | None = None, on_change: Callable[[Job], None] | None = None, poll: float = 0.2
) -> Job:
    deadline = None if timeout is None else time.monotonic() + timeout
    last = None
    while True:
        job = jobs.get(job_id)
        seen = (job.state, job.stage, job.letters_done)
        if on_change and seen != last:
            on_change(job)
            last = seen
        if job.finished:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.state} ({job.stage}) after {timeout:.0f} s")
        time.sleep(poll)


class ProgressBar:
    """One line redrawn in place on a terminal; one line per change elsewhere (logs, CI)."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()

    def __call__(self, job: Job) -> None:
        total = job.letters_total or 0
        done = min(job.letters_done, total)
        filled = int(self.width * done / total) if total else 0
        bar = "#" * filled + "-" * (self.width - filled)
        stage = job.stage or job.state
        line = f"[{bar}] {done}/{total or '?'} letters  {stage}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width + 40))
            if job.finished:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

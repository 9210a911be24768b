"""Progress lines with an ETA for long runs: by finished tasks (the local executor) and within one task by bytes.

One task can run for minutes: SynSQL's data.json is ONE 9.36 GB array, and with ``--tasks 1`` the executor's
per-task line comes only at the end. Readers that stream a byte range report how far they are through it with
:class:`ByteProgress`, through datatrove's logger (the task's log file and, locally, the console).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from datatrove.utils.logging import logger


def duration(seconds: float) -> str:
    """``1h02m03s`` or ``2m03s``; ``?`` for NaN (nothing to estimate from yet)."""
    if seconds != seconds:  # nan
        return "?"
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


#: records a reader reads between two calls of :meth:`ByteProgress.update` (each looks at the clock)
PROGRESS_CHECK_RECORDS = 1024


class ByteProgress:
    """Logs, at most every ``interval_seconds``, how far a task is through the bytes ``[start, end)`` of a file.

    The line gives MB done of the range, records so far, records/s and an ETA: the time per byte so far times the
    bytes left. A reader runs at the pace of the steps after it, so the ETA is the whole task's.
    ``interval_seconds`` 0 (or less) logs nothing.
    """

    def __init__(
        self,
        label: str,
        start: int,
        end: int,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self.start, self.end = label, start, end
        self.interval_seconds, self.clock = interval_seconds, clock
        self.started = clock()
        self.next_report = self.started + interval_seconds

    def update(self, offset: int, records: int) -> None:
        """The task has read ``records`` records and reached byte ``offset`` of the file."""
        if self.interval_seconds <= 0:
            return
        now = self.clock()
        if now < self.next_report:
            return
        self.next_report = now + self.interval_seconds
        elapsed, done = now - self.started, offset - self.start
        left = max(self.end - offset, 0)
        eta = elapsed / done * left if done > 0 else float("nan")
        logger.info(
            f"{self.label}: {done / 1e6:,.0f} of {(self.end - self.start) / 1e6:,.0f} MB "
            f"({100 * done / max(self.end - self.start, 1):.0f} %), {records:,} records, "
            f"{records / elapsed if elapsed > 0 else 0:,.0f} records/s, ETA {duration(eta)}"
        )

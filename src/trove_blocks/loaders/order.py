"""Epoch order over rows stored in groups (Parquet row groups, blocks of JSONL lines), read a window at a time.

The order of an epoch is a pure function of ``(seed, epoch, rank, world_size)`` and the row count of every group,
so it is computed without reading any data, and a saved position is enough to resume:

1. the groups are permuted (seeded by ``seed, epoch``; identical on every rank);
2. the rows of the permuted groups, laid end to end, are cut into ``world_size`` contiguous ranges whose sizes
   differ by at most one row; rank ``r`` takes range ``r``. Every row is in exactly one rank's range, and a rank
   reads only about ``1 / world_size`` of the groups;
3. the rank's segments (a group, or the part of it in the range) are taken ``window_groups`` at a time, and the rows
   of one window are permuted together (seeded by ``seed, epoch, rank, world_size, window``).

Memory: one window of data (``window_groups`` groups), plus the next one being read in a background thread when
``prefetch`` is on (decoding Parquet releases the GIL, so reading overlaps the work on the current window), whatever
the dataset size; the plan itself is a few integers per group. A batch's rows are then a contiguous slice of a
window (or two, where windows meet).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Segment:
    """Rows ``[start, stop)`` of group ``group``."""

    group: int
    start: int
    stop: int

    @property
    def rows(self) -> int:
        return self.stop - self.start


class WindowRows(Protocol):
    """Rows of one window, in their epoch order: a length and contiguous slices."""

    def __len__(self) -> int: ...

    def slice(self, start: int, stop: int) -> Any: ...


#: ``load_window(segments, permutation)``: read the segments' rows (in segment order), then reorder them so that
#: row ``i`` of the result is row ``permutation[i]`` of the concatenation
WindowLoader = Callable[[list[Segment], np.ndarray], WindowRows]


def rank_segments(
    group_rows: Sequence[int], seed: int, epoch: int, rank: int, world_size: int, shuffle: bool = True
) -> list[Segment]:
    """The segments of rank ``rank`` in epoch ``epoch`` (steps 1-2 of the module docstring)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in 0..{world_size - 1} (world_size {world_size})")
    rows = np.asarray(group_rows, dtype=np.int64)
    order = np.random.default_rng([seed, epoch]).permutation(len(rows)) if shuffle else np.arange(len(rows))
    total = int(rows.sum())
    low, high = rank * total // world_size, (rank + 1) * total // world_size
    segments = []
    position = 0
    for group in order.tolist():
        count = int(rows[group])
        start, stop = max(low, position), min(high, position + count)
        if start < stop:
            segments.append(Segment(group, start - position, stop - position))
        position += count
        if position >= high:
            break
    return segments


class RowStream:
    """One rank's rows, epoch after epoch, in the order of the module docstring; ``take`` moves a cursor.

    ``position`` counts the rows taken in the current ``epoch``; ``state_dict()`` / ``load_state_dict()`` save
    and restore both, and the rows taken after a restore are exactly those an uninterrupted stream would give.
    """

    def __init__(
        self,
        group_rows: Sequence[int],
        load_window: WindowLoader,
        *,
        seed: int = 0,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
        window_groups: int = 4,
        prefetch: bool = True,
    ):
        if window_groups < 1:
            raise ValueError(f"window_groups must be >= 1, got {window_groups}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in 0..{world_size - 1} (world_size {world_size})")
        self.group_rows = [int(rows) for rows in group_rows]
        self.total_rows = sum(self.group_rows)  # rows of all groups (all ranks)
        self.load_window = load_window
        self.seed = seed
        self.shuffle = shuffle
        self.rank = rank
        self.world_size = world_size
        self.window_groups = window_groups
        self.epoch = 0
        self.position = 0
        self._plan_epoch: int | None = None
        self._windows: list[list[Segment]] = []
        self._window_starts = [0]  # first row of each window in the epoch, then the epoch's row count
        self._loaded: tuple[int, WindowRows] | None = None
        # one reader thread: every window is read there, one at a time, so the window loader needs no locking
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="row-stream") if prefetch else None
        self._next: tuple[tuple[int, int], Future] | None = None

    @property
    def rows_per_epoch(self) -> int:
        """Rows of this rank in one epoch (ranks differ by at most one)."""
        total = self.total_rows
        return (self.rank + 1) * total // self.world_size - self.rank * total // self.world_size

    @property
    def min_rows_per_epoch(self) -> int:
        """Rows per epoch of the rank with the fewest (the same number on every rank)."""
        return self.total_rows // self.world_size

    def _plan(self) -> None:
        if self._plan_epoch == self.epoch:
            return
        segments = rank_segments(self.group_rows, self.seed, self.epoch, self.rank, self.world_size, self.shuffle)
        self._windows = [segments[i : i + self.window_groups] for i in range(0, len(segments), self.window_groups)]
        sizes = [sum(segment.rows for segment in window) for window in self._windows]
        self._window_starts = [0, *itertools.accumulate(sizes)]
        self._plan_epoch = self.epoch
        self._loaded = None

    def _read(self, epoch: int, index: int, segments: list[Segment]) -> WindowRows:
        rows = sum(segment.rows for segment in segments)
        if self.shuffle:
            permutation = np.random.default_rng([self.seed, epoch, self.rank, self.world_size, index]).permutation(rows)
        else:
            permutation = np.arange(rows)
        return self.load_window(segments, permutation)

    def _window(self, index: int) -> WindowRows:
        if self._loaded is None or self._loaded[0] != index:
            self._loaded = None  # free the previous window before reading the next one
            key = (self.epoch, index)
            if self._next is not None and self._next[0] == key:
                window = self._next[1].result()
            elif self._reader is not None:
                window = self._reader.submit(self._read, self.epoch, index, self._windows[index]).result()
            else:
                window = self._read(self.epoch, index, self._windows[index])
            self._next = None
            self._loaded = (index, window)
            if self._reader is not None and index + 1 < len(self._windows):
                following = (self.epoch, index + 1)
                self._next = (following, self._reader.submit(self._read, *following, self._windows[index + 1]))
        return self._loaded[1]

    def take(self, count: int) -> list[Any]:
        """Up to ``count`` next rows of the current epoch, as window slices (fewer at the end of the epoch)."""
        self._plan()
        pieces = []
        end = min(self.position + count, self.rows_per_epoch)
        while self.position < end:
            index = bisect.bisect_right(self._window_starts, self.position) - 1
            start = self._window_starts[index]
            stop = min(end, self._window_starts[index + 1])
            pieces.append(self._window(index).slice(self.position - start, stop - start))
            self.position = stop
        return pieces

    def take_cycling(self, count: int) -> list[Any]:
        """Exactly ``count`` next rows, continuing into the next epochs when this one ends."""
        if self.rows_per_epoch == 0:
            raise ValueError("this rank has no rows: cannot cycle over an empty stream")
        pieces = []
        while count > 0:
            if self.position >= self.rows_per_epoch:
                self.next_epoch()
            taken = self.take(count)
            count -= sum(len(piece) for piece in taken)
            pieces.extend(taken)
        return pieces

    def next_epoch(self) -> None:
        self.epoch += 1
        self.position = 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "position": self.position,
            "seed": self.seed,
            "shuffle": self.shuffle,
            "rank": self.rank,
            "world_size": self.world_size,
            "window_groups": self.window_groups,
            "group_rows_fingerprint": fingerprint(self.group_rows),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``; raises when it was saved by a stream with other data or settings."""
        mine = self.state_dict()
        different = [
            f"{key}: saved {state.get(key)!r}, here {mine[key]!r}"
            for key in mine
            if key not in ("epoch", "position") and state.get(key) != mine[key]
        ]
        if different:
            raise ValueError(
                "cannot resume: the state was saved with other data or settings (" + "; ".join(different) + ")"
            )
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self._plan_epoch = None
        self._next = None

    def batches_per_epoch(self, batch_size: int, drop_last: bool) -> int:
        """Batches this rank gives per epoch (``drop_last``: only full ones, the same count on every rank)."""
        if drop_last:
            return self.min_rows_per_epoch // batch_size
        return -(-self.rows_per_epoch // batch_size)

    def rows_used_per_epoch(self, batch_size: int, drop_last: bool) -> int:
        """Rows of an epoch that end up in batches (the rest of a ``drop_last`` epoch is skipped)."""
        return self.batches_per_epoch(batch_size, True) * batch_size if drop_last else self.rows_per_epoch

    def checkpoint(self, settings: dict[str, Any], epoch_rows: int) -> dict[str, Any]:
        """:meth:`state_dict` plus a dataset's ``settings``; once ``epoch_rows`` rows are taken it already points at
        the start of the next epoch."""
        state = dict(settings) | self.state_dict()
        if state["position"] >= epoch_rows:
            state["epoch"], state["position"] = state["epoch"] + 1, 0
        return state

    def restore(self, settings: dict[str, Any], state: dict[str, Any]) -> None:
        """Continue from a :meth:`checkpoint`; raises when the dataset's ``settings`` differ from the saved ones."""
        check_resume(settings, state)
        self.load_state_dict(state)


def check_resume(settings: dict[str, Any], saved: dict[str, Any]) -> None:
    """Raise ValueError naming every one of ``settings`` that a ``saved`` state holds another value of (or none):
    a loader resumes only where it stopped, on the data and with the settings it had."""
    different = [
        f"{key} saved {saved.get(key)!r}, here {mine!r}" for key, mine in settings.items() if saved.get(key) != mine
    ]
    if different:
        raise ValueError("cannot resume: " + "; ".join(different))


def fingerprint(values: Sequence[int]) -> str:
    """A short stable digest of a list of integers (the groups' row counts), to refuse resuming on other data."""
    return hashlib.blake2b(np.asarray(values, dtype=np.int64).tobytes(), digest_size=8).hexdigest()

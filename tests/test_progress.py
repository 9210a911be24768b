"""Progress lines: durations, and a byte range's share done, rate and ETA from a controlled clock."""

from __future__ import annotations

from datatrove.utils.logging import logger

from trove_blocks.progress import ByteProgress, duration


def test_duration_formats_minutes_hours_and_unknown():
    assert duration(0) == "0m00s"
    assert duration(125.4) == "2m05s"
    assert duration(3723) == "1h02m03s"
    assert duration(float("nan")) == "?"


def logged_lines(start: int, end: int, interval: float, updates: list[tuple[float, int, int]]) -> list[str]:
    """The lines a ByteProgress over bytes ``[start, end)`` started at time 100 logs for ``(time, offset, records)``
    updates."""
    now = [100.0]
    progress = ByteProgress("data.json", start, end, interval, clock=lambda: now[0])
    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}")
    try:
        for now[0], offset, records in updates:
            progress.update(offset, records)
    finally:
        logger.remove(sink)
    return lines


def test_byte_progress_logs_at_most_every_interval_with_an_eta():
    lines = logged_lines(
        1_000_000,
        5_000_000,
        10.0,
        [
            (105.0, 2_000_000, 500),  # before the interval: silent
            (120.0, 2_000_000, 1_000),  # 1 MB of 4 in 20 s: 3 MB left take 60 s
            (125.0, 3_000_000, 1_500),  # within the next interval: silent
        ],
    )
    assert len(lines) == 1
    assert "data.json: 1 of 4 MB (25 %), 1,000 records, 50 records/s, ETA 1m00s" in lines[0]


def test_byte_progress_with_no_interval_logs_nothing():
    assert logged_lines(0, 1_000, 0, [(100.0 + 3600 * step, 250 * step, step) for step in range(1, 5)]) == []

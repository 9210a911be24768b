"""Epoch order over grouped rows (trove_blocks.loaders.order), with the real example texts as rows in groups of
uneven size: every row in exactly one rank's range, windows read a few groups at a time, the order a pure function
of (seed, epoch, rank, world_size), and a saved position that resumes exactly where the stream stopped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trove_blocks.loaders.order import RowStream, Segment, check_resume, fingerprint, rank_segments

REAL_TEXT = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "real_text"
#: rows: (position, text) of every real example text (the position tells apart the one text that occurs twice)
TEXTS = list(enumerate(json.loads(line)["text"] for path in sorted(REAL_TEXT.glob("*.jsonl")) for line in path.open()))
#: groups of 1 to 9 rows, like Parquet row groups of uneven size
SIZES = [1 + (i * 5) % 9 for i in range(200)]
GROUPS: list[list[tuple[int, str]]] = []
for _size in SIZES:
    first = sum(len(g) for g in GROUPS)
    if first + _size > len(TEXTS):
        break
    GROUPS.append(TEXTS[first : first + _size])
GROUP_ROWS = [len(g) for g in GROUPS]


class Rows(list):
    def slice(self, start: int, stop: int) -> list:
        return self[start:stop]


class Loader:
    """A window loader over GROUPS that records what it was asked to read."""

    def __init__(self):
        self.calls: list[tuple[list[Segment], int]] = []

    def __call__(self, segments: list[Segment], permutation: np.ndarray) -> Rows:
        self.calls.append((segments, len(permutation)))
        rows = [text for s in segments for text in GROUPS[s.group][s.start : s.stop]]
        return Rows(rows[i] for i in permutation)


def stream(loader=None, **kwargs) -> RowStream:
    kwargs.setdefault("seed", 3)
    return RowStream(GROUP_ROWS, loader or Loader(), **kwargs)


def flat(pieces) -> list:
    return [row for piece in pieces for row in piece]


def epoch_rows(**kwargs) -> list:
    s = stream(**kwargs)
    return flat(s.take(s.rows_per_epoch + 5))


def test_the_test_data_has_real_rows_in_many_uneven_groups():
    assert len(GROUPS) > 20 and len(set(GROUP_ROWS)) > 3 and len(set(TEXTS)) == len(TEXTS)


@pytest.mark.parametrize("world_size", [1, 2, 3, 7])
def test_every_row_is_in_exactly_one_ranks_segments_and_ranks_differ_by_at_most_one(world_size):
    cells, per_rank = [], []
    for rank in range(world_size):
        segments = rank_segments(GROUP_ROWS, 11, 2, rank, world_size)
        assert all(0 <= s.start < s.stop <= GROUP_ROWS[s.group] for s in segments)
        cells += [(s.group, row) for s in segments for row in range(s.start, s.stop)]
        per_rank.append(sum(s.rows for s in segments))
    assert sorted(cells) == [(g, r) for g, n in enumerate(GROUP_ROWS) for r in range(n)]
    assert max(per_rank) - min(per_rank) <= 1


def test_segments_are_a_pure_function_of_seed_and_epoch():
    assert rank_segments(GROUP_ROWS, 1, 0, 1, 3) == rank_segments(GROUP_ROWS, 1, 0, 1, 3)
    assert rank_segments(GROUP_ROWS, 1, 0, 1, 3) != rank_segments(GROUP_ROWS, 1, 1, 1, 3)
    assert rank_segments(GROUP_ROWS, 1, 0, 1, 3) != rank_segments(GROUP_ROWS, 2, 0, 1, 3)
    in_order = rank_segments(GROUP_ROWS, 1, 0, 0, 1, shuffle=False)
    assert [s.group for s in in_order] == list(range(len(GROUP_ROWS)))
    with pytest.raises(ValueError, match=r"rank 3 is not in 0..2 \(world_size 3\)"):
        rank_segments(GROUP_ROWS, 1, 0, 3, 3)


@pytest.mark.parametrize("world_size", [1, 3])
def test_an_epoch_of_all_ranks_gives_every_row_once(world_size):
    rows = [epoch_rows(rank=rank, world_size=world_size) for rank in range(world_size)]
    assert sorted(flat(rows)) == sorted(TEXTS[: sum(GROUP_ROWS)])
    assert [len(r) for r in rows] == [stream(rank=r, world_size=world_size).rows_per_epoch for r in range(world_size)]


def test_rows_are_shuffled_within_windows_and_unshuffled_rows_keep_their_order():
    assert epoch_rows(shuffle=False) == TEXTS[: sum(GROUP_ROWS)]
    shuffled = epoch_rows()
    assert shuffled != TEXTS[: sum(GROUP_ROWS)] and shuffled == epoch_rows()
    assert shuffled != epoch_rows(seed=4)


def test_a_window_is_window_groups_segments_read_at_once():
    loader = Loader()
    s = stream(loader, window_groups=4, prefetch=False)
    flat(s.take(s.rows_per_epoch))
    assert all(1 <= len(segments) <= 4 for segments, _ in loader.calls)
    assert [rows for _, rows in loader.calls] == [sum(seg.rows for seg in segments) for segments, _ in loader.calls]
    assert len(loader.calls) == -(-len(GROUP_ROWS) // 4)  # each window read once


@pytest.mark.parametrize("step", [1, 5, 23, 1000])
def test_taking_in_any_batch_size_and_with_or_without_prefetch_gives_the_same_rows(step):
    whole = epoch_rows(window_groups=3)
    s = stream(window_groups=3, prefetch=step % 2 == 1)
    taken = []
    while piece := flat(s.take(step)):
        taken += piece
    assert taken == whole


def test_take_cycling_continues_into_the_next_epoch_in_another_order():
    s = stream(prefetch=False)
    n = s.rows_per_epoch
    rows = flat(s.take_cycling(n + 10))
    assert len(rows) == n + 10 and s.epoch == 1 and s.position == 10
    second = stream(prefetch=False)
    second.next_epoch()
    next_epoch = flat(second.take(second.rows_per_epoch))
    assert rows[n:] == next_epoch[:10]
    assert sorted(next_epoch) == sorted(rows[:n]) and next_epoch != rows[:n]


def test_a_restored_stream_continues_exactly_where_the_saved_one_stopped():
    uninterrupted = stream(window_groups=2)
    expected = flat(uninterrupted.take_cycling(3 * uninterrupted.rows_per_epoch))
    for stop in (0, 7, uninterrupted.rows_per_epoch - 1, uninterrupted.rows_per_epoch + 13):
        first = stream(window_groups=2)
        head = flat(first.take_cycling(stop)) if stop else []
        resumed = stream(window_groups=2)
        resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))  # as saved in a checkpoint file
        assert head + flat(resumed.take_cycling(len(expected) - stop)) == expected


def test_a_state_saved_with_other_data_or_settings_is_refused_naming_what_differs():
    saved = stream(rank=0, world_size=2).state_dict()
    with pytest.raises(ValueError, match=r"cannot resume.*seed: saved 3, here 4.*rank: saved 0, here 1"):
        stream(seed=4, rank=1, world_size=2).load_state_dict(saved)
    other_data = RowStream(GROUP_ROWS[:-1], Loader(), seed=3, rank=0, world_size=2)
    with pytest.raises(ValueError, match="group_rows_fingerprint"):
        other_data.load_state_dict(saved)


def test_a_checkpoint_at_the_end_of_an_epoch_points_at_the_next_and_restores_with_its_settings():
    s = stream(prefetch=False)
    settings = {"batch_size": 4, "split": "train"}
    used = s.rows_used_per_epoch(4, drop_last=True)
    s.take(used)
    state = s.checkpoint(settings, used)
    assert (state["epoch"], state["position"]) == (1, 0) and state["split"] == "train"
    restored = stream(prefetch=False)
    restored.restore(settings, state)
    assert (restored.epoch, restored.position) == (1, 0)
    with pytest.raises(ValueError, match=r"cannot resume: batch_size saved 4, here 8"):
        stream().restore({**settings, "batch_size": 8}, state)


def test_batch_counts_with_and_without_drop_last():
    ranks = [stream(rank=r, world_size=3) for r in range(3)]
    assert {s.batches_per_epoch(4, True) for s in ranks} == {sum(GROUP_ROWS) // 3 // 4}  # same on every rank
    for s in ranks:
        assert s.batches_per_epoch(4, False) == -(-s.rows_per_epoch // 4)
        assert s.rows_used_per_epoch(4, False) == s.rows_per_epoch
        assert s.rows_used_per_epoch(4, True) == s.batches_per_epoch(4, True) * 4 <= s.rows_per_epoch


def test_settings_and_empty_ranks_are_checked():
    with pytest.raises(ValueError, match="window_groups must be >= 1, got 0"):
        stream(window_groups=0)
    with pytest.raises(ValueError, match=r"rank 2 is not in 0..1"):
        stream(rank=2, world_size=2)
    empty = RowStream([1], Loader(), rank=0, world_size=2)
    assert empty.rows_per_epoch == 0 and empty.take(5) == []
    with pytest.raises(ValueError, match="this rank has no rows"):
        empty.take_cycling(1)


def test_check_resume_and_fingerprint():
    check_resume({"a": 1}, {"a": 1, "b": 2})
    with pytest.raises(ValueError, match=r"cannot resume: a saved 2, here 1; c saved None, here 3"):
        check_resume({"a": 1, "c": 3}, {"a": 2})
    assert fingerprint(GROUP_ROWS) == fingerprint(list(GROUP_ROWS)) and len(fingerprint(GROUP_ROWS)) == 16
    assert fingerprint(GROUP_ROWS) != fingerprint(GROUP_ROWS[::-1])

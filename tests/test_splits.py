"""Exact subset and split from (id, seed), independent of how records are spread over tasks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from trove_blocks.splits import (
    ALL,
    NONE,
    Cutoff,
    plan_selection,
    smallest_cutoff,
    split_key,
    subset_key,
    val_count,
)


def rows_for(ids, seed):
    return [(subset_key(i, seed), split_key(i, seed), i) for i in ids]


@pytest.mark.parametrize("subset_size", [0, 1, 37, 999, 1000, 5000])
@pytest.mark.parametrize("val_ratio", [0.0, 0.05, 0.333, 1.0])
def test_plan_keeps_exactly_min_n_total_and_val_within_rounding(subset_size, val_ratio):
    ids = [f"data.json/{i * 17}" for i in range(1000)]
    rows = rows_for(ids, 7)
    plan = plan_selection(lambda: iter(rows), subset_size, val_ratio)
    splits = [plan.split_of(a, b, i) for a, b, i in rows]
    kept = [s for s in splits if s is not None]
    assert len(kept) == plan.kept == min(subset_size, len(ids))
    assert kept.count("val") == plan.val == val_count(len(kept), val_ratio)
    assert abs(kept.count("val") - val_ratio * len(kept)) <= 0.5


def test_decisions_do_not_depend_on_record_order_or_partition():
    ids = [f"f/{i}" for i in range(500)]
    rows = rows_for(ids, 3)
    shuffled = rows[:]
    random.Random(0).shuffle(shuffled)
    a = plan_selection(lambda: iter(rows), 123, 0.1)
    b = plan_selection(lambda: iter(shuffled), 123, 0.1)
    assert a == b
    assert {i: a.split_of(x, y, i) for x, y, i in rows} == {i: b.split_of(x, y, i) for x, y, i in shuffled}


def test_seed_changes_the_selection():
    ids = [f"f/{i}" for i in range(300)]
    chosen = []
    for seed in (1, 2):
        rows = rows_for(ids, seed)
        plan = plan_selection(lambda rows=rows: iter(rows), 50, 0.0)
        chosen.append({i for a, b, i in rows if plan.split_of(a, b, i)})
    assert len(chosen[0]) == len(chosen[1]) == 50 and chosen[0] != chosen[1]


def test_hash_ties_are_broken_by_id_exactly():
    keys = np.array([5, 1, 5, 5, 9, 5], dtype=np.int64)
    ids = ["e", "a", "c", "b", "z", "d"]
    cutoff = smallest_cutoff(lambda: [keys], 3, len(keys), lambda k: [i for key, i in zip(keys, ids) if key == k])
    admitted = [i for key, i in zip(keys, ids) if cutoff.admits(int(key), i)]
    assert sorted(admitted) == ["a", "b", "c"]
    rows = [(int(k), int(k), i) for k, i in zip(keys, ids)]
    plan = plan_selection(lambda: iter(rows), 4, 0.5)
    kept = {i: plan.split_of(a, b, i) for a, b, i in rows if plan.split_of(a, b, i)}
    assert set(kept) == {"a", "b", "c", "d"}
    assert sorted(i for i, s in kept.items() if s == "val") == ["a", "b"]


def test_special_cutoffs():
    assert not NONE.admits(0, "x") and ALL.admits(2**63 - 1, "x")
    assert Cutoff.from_json(Cutoff(4, "q").to_json()) == Cutoff(4, "q")
    assert 0 <= subset_key("x", 1) < 2**63 and subset_key("x", 1) != split_key("x", 1)


def test_selection_keys_equal_the_key_functions_and_survive_pickling():
    import pickle

    from trove_blocks.splits import SelectionKeys, split_key, subset_key

    keys = pickle.loads(pickle.dumps(SelectionKeys(11)))
    for record_id in ("a", "data.json/123", "é/ü", ""):
        assert keys(record_id) == (subset_key(record_id, 11), split_key(record_id, 11))
    assert SelectionKeys(12)("a") != keys("a")


@pytest.mark.parametrize("subset_size", [0, 3, 4, 6, 10])
def test_split_codes_equal_split_of_also_on_hash_ties(subset_size):
    from trove_blocks.splits import NOT_KEPT, SPLITS, plan_selection_of_chunks

    subset_keys = np.array([5, 1, 5, 5, 9, 5, 2, 7], dtype=np.int64)
    split_keys = np.array([3, 3, 8, 3, 1, 3, 0, 3], dtype=np.int64)
    ids = ["e", "a", "c", "b", "z", "d", "q", "m"]
    asked: list[int] = []

    def ids_at(indices):
        asked.extend(int(i) for i in indices)
        return [ids[i] for i in indices]

    halves = [(subset_keys[:3], split_keys[:3]), (subset_keys[3:], split_keys[3:])]  # positions across chunks
    plan = plan_selection_of_chunks(lambda: halves, ids_at, subset_size, 0.5)
    rows = [(int(a), int(b), i) for a, b, i in zip(subset_keys, split_keys, ids)]
    assert plan == plan_selection(lambda: iter(rows), subset_size, 0.5)
    codes = plan.split_codes(subset_keys, split_keys, ids_at)
    expected = [plan.split_of(a, b, i) for a, b, i in rows]
    assert [SPLITS[c] if c != NOT_KEPT else None for c in codes] == expected
    assert sum(code != NOT_KEPT for code in codes) == min(subset_size, len(ids))
    assert set(asked) <= {index for index, key in enumerate(subset_keys) if key == 5} | {
        index for index, key in enumerate(split_keys) if key == 3
    }


def awkward_keys(seed: int) -> np.ndarray:
    """3,274 keys in random order: uniform ones, ties, both extremes, a cluster of near-equal keys, and more equal
    keys (30 x 777) than a small ``SELECT_COLLECT`` lets collect."""
    rng = np.random.default_rng(seed)
    keys = np.concatenate(
        [
            rng.integers(0, 2**63 - 1, 3000, dtype=np.int64),
            np.full(40, 12345, np.int64),
            np.array([0, 0, 2**63 - 1, 2**63 - 1], np.int64),
            rng.integers(2**40, 2**40 + 50, 200, dtype=np.int64),
            np.full(30, 777, np.int64),
        ]
    )
    rng.shuffle(keys)
    return keys


@pytest.mark.parametrize("collect", [1, 7, 1 << 20])
def test_kth_smallest_by_histogram_passes_equals_sorting(monkeypatch, collect):
    """Few collected keys force histogram passes down to single key values; ties and extremes included."""
    from trove_blocks import splits

    monkeypatch.setattr(splits, "SELECT_COLLECT", collect)
    keys = awkward_keys(collect)
    chunks = np.array_split(keys, 7)
    ordered = np.sort(keys)
    for k in (1, 2, 3, 5, 20, 500, 1501, 3100, 3200, len(keys) - 1, len(keys)):
        value, below, equal = splits.kth_smallest(lambda: chunks, k, len(keys))
        assert value == ordered[k - 1]
        assert below == np.count_nonzero(keys < value) and equal == np.count_nonzero(keys == value)


def test_plan_by_histogram_passes_equals_the_plan_of_one_collect(monkeypatch):
    """With tiny collection limits the plan of 20 k records equals the plan made by sorting everything."""
    from trove_blocks import splits

    ids = [f"data.json/{i * 31}" for i in range(20_000)]
    rows = rows_for(ids, 9)
    expected = plan_selection(lambda: iter(rows), 7_000, 0.05)
    monkeypatch.setattr(splits, "SELECT_COLLECT", 16)
    monkeypatch.setattr(splits, "SELECT_BIN_BITS", 4)
    assert plan_selection(lambda: iter(rows), 7_000, 0.05) == expected
    assert expected.kept == 7_000 and expected.val == 350


def test_duplicate_ids_where_the_selection_ends_are_an_error():
    rows = [(5, 5, "a"), (1, 1, "b"), (5, 5, "a"), (9, 9, "c")]  # the 2nd and 3rd smallest are the same record id
    with pytest.raises(ValueError, match="2 records share the id 'a'.*ids must be unique"):
        plan_selection(lambda: iter(rows), 2, 0.0)
    plan = plan_selection(lambda: iter(rows), 3, 0.0)  # both copies in, or both out: exact
    assert plan.kept == 3


@pytest.mark.parametrize("collect", [1, 50, 1 << 20])
def test_repeated_keys_equal_counting(monkeypatch, collect):
    """One range or thousands of them (few collected keys): the repeated values, extremes and chunk borders too."""
    from collections import Counter

    from trove_blocks import splits

    monkeypatch.setattr(splits, "SELECT_COLLECT", collect)
    keys = awkward_keys(collect)
    chunks = np.array_split(keys, 9)
    expected = sorted(key for key, count in Counter(keys.tolist()).items() if count > 1)
    assert splits.repeated_keys(lambda: chunks, len(keys)) == expected
    assert splits.repeated_keys(lambda: [np.unique(keys)], len(np.unique(keys))) == []

"""PackedDataset over a real packed manifest: batch format, shuffling, sharding, resume, memory, errors."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from trove_blocks.loaders.packed import (
    EmptyManifestError,
    ManifestNotFoundError,
    PackedDataset,
    ShardFormatError,
    UnknownSplitError,
)


def row_keys(batch) -> list[bytes]:
    return [row.tobytes() for row in np.asarray(batch["input_ids"])]


def epoch_keys(dataset) -> list[bytes]:
    return [key for batch in dataset for key in row_keys(batch)]


def test_batches_are_mlx_arrays_with_consistent_columns(packed_manifest, stored_rows):
    import mlx.core as mx

    dataset = PackedDataset(packed_manifest, batch_size=5, seed=3)
    stored = stored_rows(packed_manifest)
    for batch in dataset:
        ids = np.asarray(batch["input_ids"])
        assert all(isinstance(value, mx.array) and value.dtype == mx.int32 for value in batch.values())
        assert ids.shape[1] == 64 and batch["labels"].shape == ids.shape == batch["segment_ids"].shape
        segments = np.asarray(batch["segment_ids"])
        labels = np.asarray(batch["labels"])
        lengths = np.asarray(batch["seq_lengths"])
        # attention mask = non-padding = tokens with a segment; seq_lengths = run lengths of the segments
        assert ((segments > 0) == (np.asarray(batch["attention_mask"]) == 1)).all()
        for row in range(len(ids)):
            counts = np.bincount(segments[row], minlength=lengths.shape[1] + 1)[1:]
            assert counts.tolist() == lengths[row].tolist()
        # labels: the next token inside the same piece, -100 elsewhere
        same = (segments[:, :-1] == segments[:, 1:]) & (segments[:, :-1] > 0)
        assert (labels[:, :-1] == np.where(same, ids[:, 1:], -100)).all() and (labels[:, -1] == -100).all()
        assert all(key in stored for key in row_keys(batch))


def test_each_row_once_per_epoch_and_the_shuffle_changes_per_epoch(packed_manifest, stored_rows):
    stored = stored_rows(packed_manifest)
    dataset = PackedDataset(packed_manifest, batch_size=8, seed=11)
    first, second = epoch_keys(dataset), epoch_keys(dataset)
    assert Counter(first) == Counter(list(stored)) == Counter(second)
    assert first != second
    assert epoch_keys(PackedDataset(packed_manifest, batch_size=8, seed=11)) == first
    assert epoch_keys(PackedDataset(packed_manifest, batch_size=8, seed=12)) != first
    in_order = epoch_keys(PackedDataset(packed_manifest, batch_size=8, shuffle=False))
    assert Counter(in_order) == Counter(list(stored)) and in_order != first


@pytest.mark.parametrize("world_size", [2, 3])
def test_ranks_are_disjoint_and_cover_every_row_once_per_epoch(packed_manifest, stored_rows, world_size):
    stored = stored_rows(packed_manifest)
    ranks = [PackedDataset(packed_manifest, batch_size=4, seed=5, rank=r, world_size=world_size) for r in range(2)]
    ranks += [
        PackedDataset(packed_manifest, batch_size=4, seed=5, rank=r, world_size=world_size)
        for r in range(2, world_size)
    ]
    for _epoch in range(2):
        per_rank = [epoch_keys(dataset) for dataset in ranks]
        assert Counter(key for keys in per_rank for key in keys) == Counter(list(stored))
        assert max(map(len, per_rank)) - min(map(len, per_rank)) <= 1


def test_drop_last_keeps_ranks_in_lock_step(packed_manifest, stored_rows):
    ranks = [PackedDataset(packed_manifest, batch_size=7, rank=r, world_size=3, drop_last=True) for r in range(3)]
    counts = [len(list(dataset)) for dataset in ranks]
    total = len(stored_rows(packed_manifest))
    assert counts == [len(ranks[0])] * 3 == [total // 3 // 7] * 3


@pytest.mark.parametrize("stop_after", [1, 13, 26, 27])  # rank 1 has 26 batches per epoch
def test_resume_gives_exactly_the_uninterrupted_batches(packed_manifest, stop_after):
    def stream(dataset, count):
        batches = dataset.batches()
        return [np.asarray(next(batches)["input_ids"]).copy() for _ in range(count)]

    settings = dict(batch_size=6, seed=2, rank=1, world_size=2)
    reference = stream(PackedDataset(packed_manifest, **settings), 60)  # > 2 epochs of rank 1
    interrupted = PackedDataset(packed_manifest, **settings)
    head = stream(interrupted, stop_after)
    state = json.loads(json.dumps(interrupted.state_dict()))  # a checkpoint survives JSON
    resumed = PackedDataset(packed_manifest, **settings)
    resumed.load_state_dict(state)
    tail = stream(resumed, 60 - stop_after)
    assert all((a == b).all() for a, b in zip(head + tail, reference, strict=True))


def test_resume_refuses_other_settings(packed_manifest):
    saved = PackedDataset(packed_manifest, batch_size=6, seed=2).state_dict()
    with pytest.raises(ValueError, match="seed: saved 2, here 3"):
        PackedDataset(packed_manifest, batch_size=6, seed=3).load_state_dict(saved)
    with pytest.raises(ValueError, match="batch_size saved 6, here 5"):
        PackedDataset(packed_manifest, batch_size=5, seed=2).load_state_dict(saved)


def test_resume_refuses_other_data_with_the_same_row_counts(tmp_path, real_token_ids, packed_builder):
    """Same splits, row groups and row counts, other tokens: the manifest's shard sha256s tell them apart."""
    layout = dict(max_seq_length=32, rows_per_group=4, rows_per_shard=12)
    first = packed_builder(tmp_path / "a", {"s": ("code", real_token_ids[:20])}, **layout)
    shifted = [[token + 1 for token in ids] for ids in real_token_ids[:20]]  # the same lengths, other tokens
    other = packed_builder(tmp_path / "b", {"s": ("code", shifted)}, **layout)
    saved = PackedDataset(first, batch_size=2).state_dict()
    assert PackedDataset(other, batch_size=2).source.rows == PackedDataset(first, batch_size=2).source.rows
    with pytest.raises(ValueError, match="cannot resume: data saved '[0-9a-f]+', here '[0-9a-f]+'"):
        PackedDataset(other, batch_size=2).load_state_dict(saved)


def test_listed_splits_only(packed_manifest, stored_rows):
    stored = stored_rows(packed_manifest)
    dataset = PackedDataset(packed_manifest, ["split_1", "split_3"], batch_size=8)
    keys = epoch_keys(dataset)
    assert Counter(stored[key] for key in keys) == Counter(
        name for name in stored.values() if name in ("split_1", "split_3")
    )


def test_memory_holds_one_window_of_row_groups(packed_manifest):
    dataset = PackedDataset(packed_manifest, batch_size=4, window_groups=2)
    loaded_rows = []
    for _batch in dataset:
        loaded_rows.append(len(dataset.stream._loaded[1]))
    assert max(loaded_rows) <= 2 * 7  # two row groups of 7 rows, never the dataset (~300 rows)


def test_missing_manifest_names_the_command(tmp_path):
    with pytest.raises(ManifestNotFoundError, match=r"no manifest.json.*python pipelines/preprocess_to_parquet.py"):
        PackedDataset(tmp_path / "nowhere", batch_size=2)


def test_unknown_split_lists_the_available_ones(packed_manifest):
    with pytest.raises(UnknownSplitError, match=r"unknown split\(s\) \['openhermes'\]; available: split_0, split_1"):
        PackedDataset(packed_manifest, ["split_0", "openhermes"], batch_size=2)


def test_no_split_with_sequences(tmp_path, packed_manifest):
    manifest = json.loads(packed_manifest.read_text())
    for split in manifest["splits"].values():
        split["sequences"] = 0
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EmptyManifestError, match="no split has sequences > 0 .*split_0=0"):
        PackedDataset(tmp_path, batch_size=2)
    with pytest.raises(EmptyManifestError, match=r"split\(s\) \['split_2'\] have no sequences"):
        PackedDataset(tmp_path, ["split_2"], batch_size=2)


def test_a_row_of_the_wrong_length_is_named(tmp_path, real_token_ids, packed_builder):
    manifest = packed_builder(tmp_path, {"a": ("code", real_token_ids[:3])}, 32, rows_per_group=4, rows_per_shard=100)
    data = json.loads(manifest.read_text())
    data["max_seq_length"] = 30
    manifest.write_text(json.dumps(data))
    with pytest.raises(ShardFormatError, match=r"shard_0000.parquet row group \d column input_ids, row 0: 32 tokens"):
        list(PackedDataset(manifest, batch_size=2))


def test_a_damaged_shard_is_named_with_the_command_that_checks_them(tmp_path, real_token_ids, packed_builder):
    manifest = packed_builder(tmp_path, {"a": ("code", real_token_ids[:20])}, 32, rows_per_group=4, rows_per_shard=12)
    shard = sorted(tmp_path.rglob("*.parquet"))[0]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])  # cut short: no footer
    with pytest.raises(ShardFormatError, match=rf"{shard.name}: cannot read it as parquet .*verify_manifest.py"):
        PackedDataset(manifest, batch_size=2)
    middle = len(data) // 3
    shard.write_bytes(data[:middle] + bytes(64) + data[middle + 64 :])  # footer intact, a page overwritten
    with pytest.raises(ShardFormatError, match=rf"(?s)cannot read row groups of .*{shard.name}.*verify_manifest.py"):
        list(PackedDataset(manifest, batch_size=2, window_groups=8))
    flipped = bytearray(data)
    for at in range(200, 400):  # inside the first page's values: it still decodes, to other tokens
        flipped[at] ^= 0xFF
    shard.write_bytes(bytes(flipped))
    with pytest.raises(ShardFormatError, match=rf"(?s)cannot read row groups of .*{shard.name}.*CRC checksum"):
        list(PackedDataset(manifest, batch_size=2, window_groups=8))


def test_a_window_read_in_one_scan_keeps_every_group_apart(packed_manifest):
    """Row groups of several shards, asked for in a shuffled order, come back each with its own rows."""
    import pyarrow.parquet as pq

    from trove_blocks.loaders.packed import open_manifest, packed_rows, read_row_group_tables

    source = open_manifest(packed_manifest)
    groups = [source.row_groups[index] for index in np.random.default_rng(0).permutation(len(source.row_groups))[:6]]
    assert len({group.shard for group in groups}) > 1
    for group, table in zip(groups, read_row_group_tables(groups), strict=True):
        rows = packed_rows(table, str(group.shard), source.max_seq_length)
        stored = pq.ParquetFile(group.shard).read_row_group(group.index).to_pydict()
        assert rows.input_ids.tolist() == stored["input_ids"] and rows.labels.tolist() == stored["labels"]
        assert [lengths[:count] for lengths, count in zip(rows.seq_lengths.tolist(), rows.pieces)] == stored[
            "seq_lengths"
        ]


def test_window_slices_are_the_permuted_rows(packed_manifest):
    """Batches gathered from the window equal the rows of its groups concatenated, then permuted."""
    from trove_blocks.loaders.packed import PackedRows, PackedWindow, open_manifest, packed_rows, read_row_group_tables

    source = open_manifest(packed_manifest)
    tables = read_row_group_tables(source.row_groups[:3])
    parts = [packed_rows(table, "test", source.max_seq_length) for table in tables]
    parts[1] = parts[1].slice(2, 5)  # a rank's share of a group
    permutation = np.random.default_rng(1).permutation(sum(len(part) for part in parts))
    window = PackedWindow(parts, permutation)
    expected = PackedRows.concat(parts).take(permutation)
    assert len(window) == len(permutation)
    for start, stop in [(0, 4), (4, 5), (5, len(permutation))]:
        rows = window.slice(start, stop)
        for got, want in zip(rows.arrays(), expected.slice(start, stop).arrays(), strict=True):
            width = max(got.shape[1], want.shape[1])
            assert (
                got.dtype == np.int32
                and (
                    np.pad(got, ((0, 0), (0, width - got.shape[1])))
                    == np.pad(want, ((0, 0), (0, width - want.shape[1])))
                ).all()
            )
        assert (rows.pieces == expected.pieces[start:stop]).all()

"""Splits: exact sizes, reproducible from (id, seed) whatever the number of sample files (tasks)."""

from __future__ import annotations

import json

import pytest

from trove_blocks.finewiki.splitting import make_splits


def write_samples(root, ids, files):
    """Sample records spread round-robin over ``files`` files, as ``files`` tasks would write them."""
    folder = root / "samples"
    folder.mkdir(parents=True)
    handles = [open(folder / f"{rank:05d}.jsonl", "w") for rank in range(files)]
    for index, sample in enumerate(ids):
        handles[index % files].write(json.dumps({"id": sample, "context_tokens": [index]}) + "\n")
    for handle in handles:
        handle.close()


IDS = [f"sample_{page:06d}_chunk_{k}" for page in range(1, 120) for k in range(3)]


@pytest.mark.parametrize("files", [1, 4])
def test_sizes_are_exact(tmp_path, files):
    write_samples(tmp_path, IDS, files)
    manifest = make_splits(tmp_path, "files", tmp_path / "splits", max_samples=100, val_size=7, seed=3)
    assert (manifest["kept"], manifest["train"], manifest["val"]) == (100, 93, 7)
    train = [json.loads(line)["id"] for line in (tmp_path / "splits" / "train.jsonl").open()]
    val = [json.loads(line)["id"] for line in (tmp_path / "splits" / "val.jsonl").open()]
    assert len(train) == 93 and len(val) == 7 and not set(train) & set(val)
    assert json.loads((tmp_path / "splits" / "split_manifest.json").read_text()) == manifest


def test_same_split_for_any_number_of_files_other_split_for_another_seed(tmp_path):
    manifests = []
    for files in (1, 3, 5):
        root = tmp_path / f"run{files}"
        write_samples(root, IDS, files)
        manifests.append(make_splits(root, "files", root / "splits", max_samples=200, val_size=20, seed=11))
    digests = {(m["train_ids_digest"], m["val_ids_digest"]) for m in manifests}
    assert len(digests) == 1
    other = make_splits(tmp_path / "run1", "files", tmp_path / "other", max_samples=200, val_size=20, seed=12)
    assert (other["train_ids_digest"], other["val_ids_digest"]) not in digests


def test_fewer_samples_than_asked_keeps_all(tmp_path):
    write_samples(tmp_path, IDS[:10], 2)
    manifest = make_splits(tmp_path, "files", tmp_path / "splits", max_samples=510000, val_size=3, seed=0)
    assert (manifest["total"], manifest["kept"], manifest["train"], manifest["val"]) == (10, 10, 7, 3)


def test_duplicate_ids_are_an_error(tmp_path):
    write_samples(tmp_path, IDS[:5] + IDS[:1], 1)
    with pytest.raises(ValueError, match="duplicate sample ids"):
        make_splits(tmp_path, "files", tmp_path / "splits", max_samples=5, val_size=1, seed=0)


def test_duplicate_id_error_names_it_and_hash_ties_are_not_duplicates(tmp_path, monkeypatch):
    from trove_blocks.finewiki import splitting

    write_samples(tmp_path / "dup", IDS[:40] + [IDS[7]], 3)
    with pytest.raises(ValueError, match=IDS[7]):
        make_splits(tmp_path / "dup", "files", tmp_path / "dup_splits", max_samples=10, val_size=1, seed=0)

    class CollidingKeys:
        """Forced ties of the hash: 40 different ids on 4 subset keys and 5 split keys."""

        def __init__(self, seed):
            pass

        def __call__(self, sample):
            number = IDS.index(sample)
            return number % 4, number % 5

    monkeypatch.setattr(splitting, "SelectionKeys", CollidingKeys)
    write_samples(tmp_path / "ties", IDS[:40], 3)
    manifest = make_splits(tmp_path / "ties", "files", tmp_path / "ties_splits", max_samples=21, val_size=4, seed=0)
    assert (manifest["kept"], manifest["train"], manifest["val"]) == (21, 17, 4)
    assert manifest["plan"]["subset"]["tie_id"] is not None


def test_parquet_layout_gives_the_files_layout_split(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_samples(tmp_path / "files", IDS, 2)
    (tmp_path / "pq" / "parquet").mkdir(parents=True)
    for part in range(3):
        ids = IDS[part::3]
        pq.write_table(
            pa.table({"id": ids, "n": list(range(len(ids)))}), tmp_path / "pq" / "parquet" / f"{part}.parquet"
        )
    by_files = make_splits(tmp_path / "files", "files", tmp_path / "files_splits", max_samples=150, val_size=9, seed=4)
    by_parquet = make_splits(tmp_path / "pq", "parquet", tmp_path / "pq_splits", max_samples=150, val_size=9, seed=4)
    for key in ("total", "kept", "train", "val", "train_ids_digest", "val_ids_digest", "plan"):
        assert by_files[key] == by_parquet[key]
    val = pq.read_table(tmp_path / "pq_splits" / "val.parquet")
    assert val.num_rows == 9 and val.column_names == ["id", "n"]
    val_files = {json.loads(line)["id"] for line in (tmp_path / "files_splits" / "val.jsonl").open()}
    assert set(val.column("id").to_pylist()) == val_files


def test_memory_does_not_grow_with_the_number_of_samples(tmp_path, monkeypatch):
    """Peak traced memory (Python and numpy) of a split of 4x the samples stays within 1.5x, with small chunks."""
    import tracemalloc

    from trove_blocks import splits
    from trove_blocks.finewiki import splitting

    monkeypatch.setattr(splitting, "KEY_CHUNK", 512)
    monkeypatch.setattr(splits, "SELECT_COLLECT", 512)
    peaks = []
    for count in (5_000, 20_000):
        root = tmp_path / str(count)
        write_samples(root, [f"sample_{i}_chunk_0" for i in range(count)], 2)
        tracemalloc.start()
        manifest = make_splits(root, "files", root / "splits", max_samples=count // 2, val_size=count // 20, seed=1)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert (manifest["kept"], manifest["val"]) == (count // 2, count // 20)
    assert peaks[1] < 1.5 * peaks[0], peaks

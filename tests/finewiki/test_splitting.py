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
    digests = {(m["train_ids_sha256"], m["val_ids_sha256"]) for m in manifests}
    assert len(digests) == 1
    other = make_splits(tmp_path / "run1", "files", tmp_path / "other", max_samples=200, val_size=20, seed=12)
    assert (other["train_ids_sha256"], other["val_ids_sha256"]) not in digests


def test_fewer_samples_than_asked_keeps_all(tmp_path):
    write_samples(tmp_path, IDS[:10], 2)
    manifest = make_splits(tmp_path, "files", tmp_path / "splits", max_samples=510000, val_size=3, seed=0)
    assert (manifest["total"], manifest["kept"], manifest["train"], manifest["val"]) == (10, 10, 7, 3)


def test_duplicate_ids_are_an_error(tmp_path):
    write_samples(tmp_path, IDS[:5] + IDS[:1], 1)
    with pytest.raises(ValueError, match="duplicate sample ids"):
        make_splits(tmp_path, "files", tmp_path / "splits", max_samples=5, val_size=1, seed=0)

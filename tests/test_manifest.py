"""Manifest: records, atomic write, verification catches missing, resized and flipped-byte shards, mixture report."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trove_blocks.manifest import (
    COLUMNS,
    FORMAT_VERSION,
    Manifest,
    SplitRecord,
    format_mixture,
    load_manifest,
    mixture_report,
    shard_record,
    verify_manifest,
)


def write_shard(path, rows: int, width: int = 8):
    ids = pa.array([[i] * width for i in range(rows)], type=pa.list_(pa.int32()))
    table = pa.table({name: ids for name in COLUMNS})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")


@pytest.fixture
def packed(tmp_path):
    splits = []
    for name, category, rows in [("gsm8k", "math_reasoning", 3), ("squad", "factual_qa", 5)]:
        shards = []
        for index in range(2):
            shard = tmp_path / name / f"shard_{index:04d}.parquet"
            write_shard(shard, rows)
            shards.append(shard_record(tmp_path, shard, rows))
        splits.append(
            SplitRecord(
                name,
                str(tmp_path / name),
                category,
                f"{name}.jsonl",
                2 * rows,
                10,
                16 * rows,
                0,
                0,
                {category: 16 * rows},
                {},
                shards,
            )
        )
    manifest = Manifest(
        "cl100k_base",
        8,
        2.0,
        "in",
        str(tmp_path),
        2,
        "bfd",
        0,
        None,
        splits,
        {"math_reasoning": 0.2, "factual_qa": 0.1, "code": 0.25},
    )
    manifest.write(tmp_path)
    return tmp_path


def test_manifest_has_the_seed_keys_and_verifies(packed):
    data = load_manifest(packed)
    for key in ("tokenizer", "max_seq_length", "shard_size_gb", "input_path", "output_path", "files_processed"):
        assert key in data
    assert data["format_version"] == FORMAT_VERSION
    split = data["splits"]["gsm8k"]
    assert {"path", "shards", "sequences", "samples", "tokens", "category", "padding_tokens"} <= set(split)
    assert split["shards"] == len(split["shard_files"]) == 2
    assert {"path", "rows", "bytes", "sha256"} == set(split["shard_files"][0])
    assert verify_manifest(packed) == []
    assert not list(packed.glob(".manifest.json.tmp-*"))


def test_a_flipped_byte_is_caught_and_named(packed):
    shard = packed / "squad" / "shard_0001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    problems = verify_manifest(packed)
    assert len(problems) == 1
    assert problems[0].startswith("squad/shard_0001.parquet: sha256")


def test_missing_resized_and_miscounted_shards_are_named(packed):
    (packed / "gsm8k" / "shard_0000.parquet").unlink()
    with open(packed / "squad" / "shard_0000.parquet", "ab") as handle:
        handle.write(b"x")
    manifest = json.loads((packed / "manifest.json").read_text())
    manifest["splits"]["squad"]["sequences"] = 11
    (packed / "manifest.json").write_text(json.dumps(manifest))
    problems = "\n".join(verify_manifest(packed))
    assert "gsm8k/shard_0000.parquet: missing" in problems
    assert "squad/shard_0000.parquet: " in problems and "bytes on disk" in problems
    assert "split squad: shards hold 10 rows, 11 sequences recorded" in problems


def test_no_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no manifest"):
        load_manifest(tmp_path)


def test_mixture_report_shares_against_targets():
    splits = [
        SplitRecord("a", "a", "code", "a.jsonl", tokens=300, category_tokens={"code": 300}),
        SplitRecord("b", "b", "math_reasoning", "b.jsonl", tokens=100, category_tokens={"math_reasoning": 60, "x": 40}),
    ]
    report = mixture_report(splits, {"code": 0.25, "math_reasoning": 0.2, "factual_qa": 0.1})
    assert report["code"] == {"tokens": 300, "share": 0.75, "target_share": 0.25}
    assert report["math_reasoning"]["share"] == 0.15
    assert report["factual_qa"]["tokens"] == 0
    assert report["x"]["target_share"] is None
    table = format_mixture(report)
    assert "75.0%" in table and "25%" in table

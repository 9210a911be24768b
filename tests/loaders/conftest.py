"""Fixtures for the loader tests: small packed-Parquet datasets built from real text with the real tokenizer.

Rows are packed with :mod:`trove_blocks.packing` and written in the packed-Parquet format of
:mod:`trove_blocks.writers.packed_parquet` (its schema), with a manifest from :mod:`trove_blocks.manifest`; shards are
cut into small row groups so that windows, shards and splits all come into play.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_TEXT = REPO / "examples_local" / "data" / "real_text"


def real_texts() -> list[str]:
    return [json.loads(line)["text"] for path in sorted(REAL_TEXT.glob("*.jsonl")) for line in path.open()]


def build_packed(
    root: Path,
    splits: dict[str, tuple[str, list[list[int]]]],
    max_seq_length: int,
    rows_per_group: int,
    rows_per_shard: int,
) -> Path:
    """Write ``splits`` ({name: (category, token id lists)}) as packed shards + manifest.json under ``root``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from trove_blocks.manifest import Manifest, SplitRecord, shard_record
    from trove_blocks.packing import ConcatPacker, labels_and_attention_mask
    from trove_blocks.writers.packed_parquet import parquet_schema

    records = []
    schema = parquet_schema()
    for name, (category, documents) in splits.items():
        packer = ConcatPacker(max_seq_length, pad_id=100257)
        rows = [row for ids in documents for row in packer.add(ids)] + packer.finish()
        record = SplitRecord(name=name, path=str(root / name), category=category, source_file=f"{name}.jsonl")
        (root / name).mkdir(parents=True)
        for shard_index, first in enumerate(range(0, len(rows), rows_per_shard)):
            shard_rows = rows[first : first + rows_per_shard]
            input_ids = np.stack([row.input_ids for row in shard_rows])
            lengths = [row.seq_lengths for row in shard_rows]
            labels, mask = labels_and_attention_mask(input_ids, lengths)
            flat = pa.ListArray.from_arrays
            offsets = pa.array(np.arange(len(shard_rows) + 1, dtype=np.int32) * max_seq_length)
            table = pa.Table.from_arrays(
                [
                    flat(offsets, pa.array(input_ids.reshape(-1))),
                    flat(offsets, pa.array(mask.reshape(-1))),
                    flat(offsets, pa.array(labels.reshape(-1))),
                    pa.array(lengths, type=pa.list_(pa.int32())),
                ],
                schema=schema,
            )
            path = root / name / f"shard_{shard_index:04d}.parquet"
            pq.write_table(table, path, row_group_size=rows_per_group, compression="snappy", write_page_checksum=True)
            record.shard_files.append(shard_record(root, path, len(shard_rows)))
            record.sequences += len(shard_rows)
            record.tokens += int(mask.sum())
            record.samples = len(documents)
        records.append(record)
    Manifest(
        tokenizer="cl100k_base",
        max_seq_length=max_seq_length,
        shard_size_gb=0.001,
        input_path="examples_local/data/real_text",
        output_path=str(root),
        files_processed=len(records),
        packing="concat",
        pad_token_id=100257,
        eos_token_id=100257,
        splits=records,
        targets={},
    ).write(root)
    return root / "manifest.json"


@pytest.fixture(scope="session")
def real_token_ids() -> list[list[int]]:
    """The real example texts tokenized with cl100k, each followed by <|endoftext|>."""
    from trove_blocks.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("cl100k_base")
    return [encoding.ids + [100257] for encoding in tokenizer.encode_batch(real_texts())]


CATEGORIES = ("instruction_chat", "code", "math_reasoning", "factual_qa")


@pytest.fixture(scope="session")
def packed_manifest(tmp_path_factory, real_token_ids) -> Path:
    """Four splits, one per seed category (the real documents dealt round-robin), 64-token rows, row groups of
    7 rows, shards of 30 rows: several shards per split and several row groups per shard, odd sizes everywhere."""
    root = tmp_path_factory.mktemp("packed")
    splits = {
        f"split_{index}": (category, real_token_ids[index :: len(CATEGORIES)])
        for index, category in enumerate(CATEGORIES)
    }
    return build_packed(root, splits, max_seq_length=64, rows_per_group=7, rows_per_shard=30)


def read_stored_rows(manifest: Path) -> dict[bytes, str]:
    """Every row of the manifest's shards, read directly with pyarrow: input_ids bytes -> split name."""
    import pyarrow.parquet as pq

    data = json.loads(manifest.read_text())
    rows = {}
    for name, split in data["splits"].items():
        for shard in split["shard_files"]:
            table = pq.read_table(manifest.parent / shard["path"], columns=["input_ids"])
            for ids in table.column("input_ids").to_pylist():
                rows[np.asarray(ids, dtype=np.int32).tobytes()] = name
    return rows


@pytest.fixture(scope="session")
def stored_rows():
    """``stored_rows(manifest)``: every stored row, input_ids bytes -> split name (read without the loader)."""
    return read_stored_rows


@pytest.fixture(scope="session")
def packed_builder():
    """``packed_builder(root, {name: (category, ids)}, max_seq_length, rows_per_group, rows_per_shard)``."""
    return build_packed

"""The seed's train/val split (``--max-samples --val-size --seed``) over sample records, with
:mod:`trove_blocks.splits`: membership depends only on (sample id, seed), never on tasks or file order.

:mod:`trove_blocks.splits` takes a validation *ratio*; the seed asks for a *count*. With ``kept`` =
``min(max_samples, total)`` the ratio ``val_size / kept`` gives exactly ``min(val_size, kept)`` validation samples
(``val_count`` rounds ``ratio * kept`` half up). Rows are written in input order (files sorted by name). The
manifest carries a digest of each split's ids that does not depend on their order (the SHA-256 of every id,
summed modulo 2**256), equal for any number of tasks.

Memory does not grow with the number of samples: the two keys of every sample go to an unnamed temporary file
beside the output (16 bytes per sample), which the planner and the duplicate check read a chunk at a time; ids
are read from the sample files again only where a hash tie needs them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO

import numpy as np

from trove_blocks.finewiki.samples import iter_jsonl, sample_files
from trove_blocks.io import atomic_output, write_json_atomic
from trove_blocks.splits import (
    SPLITS,
    SelectionKeys,
    ids_at_positions,
    plan_selection_of_chunks,
    positions_where,
    repeated_keys,
)

#: samples per chunk of keys (two int64 each: 1 MB)
KEY_CHUNK = 1 << 16
#: a sample id -> "train", "val", or None (not in the subset)
SplitOf = Callable[[str], "str | None"]


def _iter_ids(root: Path, layout: str) -> Iterator[str]:
    """Every sample id, in input order (files sorted by name)."""
    if layout == "files":
        for path in sample_files(root, layout):
            for _, _, record in iter_jsonl(path):
                yield record["id"]
        return
    import pyarrow.parquet as pq

    for path in sample_files(root, layout):
        for batch in pq.ParquetFile(path).iter_batches(columns=["id"], batch_size=KEY_CHUNK):
            yield from batch.column(0).to_pylist()


class _KeyFile:
    """Every sample's ``(subset key, split key)`` in input order, in an unnamed temporary file (gone on exit, or
    when the process is killed)."""

    def __init__(self, handle: IO[bytes], ids: Iterator[str], keys_of: SelectionKeys):
        self.handle = handle
        self.count = 0
        while batch := list(islice(ids, KEY_CHUNK)):
            np.array([keys_of(sample) for sample in batch], dtype=np.int64).tofile(handle)
            self.count += len(batch)
        handle.flush()

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(subset keys, split keys)`` of :data:`KEY_CHUNK` samples at a time (positioned reads: iterations may
        overlap)."""
        offset = 0
        while block := os.pread(self.handle.fileno(), 16 * KEY_CHUNK, offset):
            offset += len(block)
            rows = np.frombuffer(block, dtype=np.int64).reshape(-1, 2)
            yield rows[:, 0].copy(), rows[:, 1].copy()


def _check_unique(root: Path, layout: str, keys: _KeyFile) -> None:
    """Fail on an id that occurs twice (several wikis or runs in one output): it would be written twice."""
    for key in repeated_keys(lambda: (subset_keys for subset_keys, _ in keys.chunks()), keys.count):
        positions = positions_where(keys.chunks, lambda subset_keys, _, first, key=key: subset_keys == key)
        ids = ids_at_positions(_iter_ids(root, layout), positions)  # one more pass over the ids: rare
        if len(set(ids)) < len(ids):  # else a tie of the 63-bit hash between different ids: harmless
            twice = next(sample for sample in ids if ids.count(sample) > 1)
            raise ValueError(f"{root}: duplicate sample ids, e.g. {twice!r} (several wikis or runs in one output?)")


class _IdsDigest:
    """An order-free digest of a set of ids: their SHA-256 values summed modulo 2**256, as 64 hex digits."""

    def __init__(self):
        self.total = 0
        self.count = 0

    def add(self, sample: str) -> None:
        self.total += int.from_bytes(hashlib.sha256(sample.encode("utf-8")).digest(), "big")
        self.count += 1

    def hexdigest(self) -> str:
        return f"{self.total % 2**256:064x}"


def make_splits(root: str | Path, layout: str, output: str | Path, max_samples: int, val_size: int, seed: int) -> dict:
    """Write ``train`` / ``val`` (``.jsonl`` for the files layout, ``.parquet`` for the parquet one) and
    ``split_manifest.json`` into ``output``; returns the manifest."""
    if max_samples < 0 or val_size < 0:
        raise ValueError(f"max_samples and val_size must be >= 0, got {max_samples}, {val_size}")
    root, output = Path(root), Path(output)
    output.mkdir(parents=True, exist_ok=True)
    keys_of = SelectionKeys(seed)  # both keys from one hash per sample
    with tempfile.TemporaryFile(dir=output) as handle:
        keys = _KeyFile(handle, _iter_ids(root, layout), keys_of)
        _check_unique(root, layout, keys)
        kept = min(max_samples, keys.count)
        plan = plan_selection_of_chunks(
            keys.chunks,
            lambda indices: ids_at_positions(_iter_ids(root, layout), indices),  # hash ties only
            max_samples,
            val_size / kept if kept else 0.0,
        )
    digests = {split: _IdsDigest() for split in SPLITS}
    write = _write_jsonl_splits if layout == "files" else _write_parquet_splits
    outputs = write(root, output, lambda sample: plan.split_of(*keys_of(sample), sample), digests)
    manifest = {
        "seed": seed,
        "max_samples": max_samples,
        "val_size": val_size,
        "layout": layout,
        "total": plan.total,
        "kept": plan.kept,
        "train": digests["train"].count,
        "val": digests["val"].count,
        "train_ids_digest": digests["train"].hexdigest(),
        "val_ids_digest": digests["val"].hexdigest(),
        "plan": plan.to_json(),
        "inputs": [str(path.relative_to(root)) for path in sample_files(root, layout)],
        "outputs": outputs,
    }
    write_json_atomic(output / "split_manifest.json", manifest)
    return manifest


def _write_jsonl_splits(root: Path, output: Path, split_of: SplitOf, digests: dict[str, _IdsDigest]) -> dict:
    with atomic_output(output / "train.jsonl") as train, atomic_output(output / "val.jsonl") as val:
        handles = {"train": train, "val": val}
        for path in sample_files(root, "files"):
            for _, line, record in iter_jsonl(path):
                split = split_of(record["id"])
                if split:
                    digests[split].add(record["id"])
                    handles[split].write(line if line.endswith("\n") else line + "\n")
    return {"train": "train.jsonl", "val": "val.jsonl"}


def _write_parquet_splits(root: Path, output: Path, split_of: SplitOf, digests: dict[str, _IdsDigest]) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sample_files(root, "parquet")
    with atomic_output(output / "train.parquet", "wb") as train, atomic_output(output / "val.parquet", "wb") as val:
        schema = pq.ParquetFile(files[0]).schema_arrow if files else pa.schema([("id", pa.string())])
        writers = {
            name: pq.ParquetWriter(handle, schema, compression="zstd")
            for name, handle in (("train", train), ("val", val))
        }
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
                ids = batch.column("id").to_pylist()
                splits = [split_of(sample) for sample in ids]
                for sample, split in zip(ids, splits):
                    if split:
                        digests[split].add(sample)
                for split, writer in writers.items():
                    if split in splits:
                        writer.write_batch(batch.filter(pa.array([chosen == split for chosen in splits])))
        for writer in writers.values():
            writer.close()
    return {"train": "train.parquet", "val": "val.parquet"}

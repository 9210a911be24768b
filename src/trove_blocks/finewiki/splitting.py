"""The seed's train/val split (``--max-samples --val-size --seed``) over sample records, with
:mod:`trove_blocks.splits`: membership depends only on (sample id, seed), never on tasks or file order.

:mod:`trove_blocks.splits` takes a validation *ratio*; the seed asks for a *count*. With ``kept`` =
``min(max_samples, total)`` the ratio ``val_size / kept`` gives exactly ``min(val_size, kept)`` validation samples
(``val_count`` rounds ``ratio * kept`` half up). Rows are written in input order (files sorted by name); the
manifest carries the SHA-256 of the sorted ids of each split, equal for any number of tasks.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from trove_blocks.finewiki.samples import iter_jsonl, sample_files
from trove_blocks.io import atomic_output, write_json_atomic
from trove_blocks.splits import SelectionKeys, plan_selection


def _sample_ids(root: Path, layout: str) -> list[str]:
    if layout == "files":
        return [record["id"] for path in sample_files(root, layout) for _, _, record in iter_jsonl(path)]
    import pyarrow.parquet as pq

    return [
        sample
        for path in sample_files(root, layout)
        for sample in pq.read_table(path, columns=["id"])["id"].to_pylist()
    ]


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def make_splits(root: str | Path, layout: str, output: str | Path, max_samples: int, val_size: int, seed: int) -> dict:
    """Write ``train`` / ``val`` (``.jsonl`` for the files layout, ``.parquet`` for the parquet one) and
    ``split_manifest.json`` into ``output``; returns the manifest."""
    if max_samples < 0 or val_size < 0:
        raise ValueError(f"max_samples and val_size must be >= 0, got {max_samples}, {val_size}")
    root, output = Path(root), Path(output)
    ids = _sample_ids(root, layout)
    if len(set(ids)) != len(ids):
        raise ValueError(f"{root}: duplicate sample ids (several wikis or runs in one output?)")
    keys_of = SelectionKeys(seed)  # both keys from one hash per sample
    keys = [(*keys_of(sample), sample) for sample in ids]
    kept = min(max_samples, len(ids))
    plan = plan_selection(lambda: iter(keys), max_samples, val_size / kept if kept else 0.0)
    assignment = {sample: plan.split_of(a, b, sample) for a, b, sample in keys}
    names = {"train": [], "val": []}
    for sample, split in assignment.items():
        if split:
            names[split].append(sample)
    outputs = (
        _write_jsonl_splits(root, output, assignment)
        if layout == "files"
        else _write_parquet_splits(root, output, assignment)
    )
    manifest = {
        "seed": seed,
        "max_samples": max_samples,
        "val_size": val_size,
        "layout": layout,
        "total": plan.total,
        "kept": plan.kept,
        "train": len(names["train"]),
        "val": len(names["val"]),
        "train_ids_sha256": _ids_digest(names["train"]),
        "val_ids_sha256": _ids_digest(names["val"]),
        "plan": plan.to_json(),
        "inputs": [str(path.relative_to(root)) for path in sample_files(root, layout)],
        "outputs": outputs,
    }
    write_json_atomic(output / "split_manifest.json", manifest)
    return manifest


def _write_jsonl_splits(root: Path, output: Path, assignment: dict) -> dict:
    with atomic_output(output / "train.jsonl") as train, atomic_output(output / "val.jsonl") as val:
        handles = {"train": train, "val": val}
        for path in sample_files(root, "files"):
            for _, line, record in iter_jsonl(path):
                split = assignment[record["id"]]
                if split:
                    handles[split].write(line if line.endswith("\n") else line + "\n")
    return {"train": "train.jsonl", "val": "val.jsonl"}


def _write_parquet_splits(root: Path, output: Path, assignment: dict) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = sample_files(root, "parquet")
    chosen = {
        split: pa.array([s for s, v in assignment.items() if v == split], pa.string()) for split in ("train", "val")
    }
    with atomic_output(output / "train.parquet", "wb") as train, atomic_output(output / "val.parquet", "wb") as val:
        schema = pq.ParquetFile(files[0]).schema_arrow if files else pa.schema([("id", pa.string())])
        writers = {
            name: pq.ParquetWriter(handle, schema, compression="zstd")
            for name, handle in (("train", train), ("val", val))
        }
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
                for split, writer in writers.items():
                    picked = batch.filter(pc.is_in(batch.column("id"), value_set=chosen[split]))
                    if picked.num_rows:
                        writer.write_batch(picked)
        for writer in writers.values():
            writer.close()
    return {"train": "train.parquet", "val": "val.parquet"}

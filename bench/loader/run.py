"""Packed-data loader throughput: PackedDataset batches (mx.array) against the floor, pyarrow read -> numpy.

Builds (once per settings, under --work-dir) a packed dataset of about --size-mb of real tokens: the real text of
examples_local/data/real_text tokenized with cl100k_base, documents drawn in a seeded random order until the size
is reached, packed with trove_blocks.packing, written as Snappy Parquet shards with a manifest (the format of
pipelines/preprocess_to_parquet.py). Then, each in its own subprocess, --repeats epochs (the fastest counts) of:

- floor: every row group read with pyarrow (the four columns) and turned into numpy arrays, nothing else;
- loader: PackedDataset(batch_size, shuffle=True) batches as mx.array (input_ids, attention_mask, labels,
  segment_ids, seq_lengths): the same rows, shuffled, sharded for one rank.

Printed: rows, batches/s (floor rows/s divided by the batch size), the loader's share of the floor (goal >= 80%)
and each process's peak RSS (its own ru_maxrss). The contenders run --rounds times each, alternating, and the
fastest epoch of each counts: on a shared machine the load of other processes varies within seconds.

    python bench/loader/run.py
    python bench/loader/run.py --size-mb 1024 --max-seq-length 4096 --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))  # bench/ is not a package: its scripts run by path
from common import positive_float, positive_int  # noqa: E402

REAL_TEXT = REPO / "examples_local" / "data" / "real_text"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--size-mb", type=positive_float, default=192, help="uncompressed size of the token columns (MiB)"
    )
    parser.add_argument("--max-seq-length", type=positive_int, default=1024, help="tokens per row")
    parser.add_argument("--batch-size", type=positive_int, default=8, help="rows per batch")
    parser.add_argument("--row-group-rows", type=positive_int, default=512, help="rows per Parquet row group")
    parser.add_argument("--shard-rows", type=positive_int, default=4096, help="rows per shard")
    parser.add_argument("--window-groups", type=positive_int, default=4, help="row groups the loader shuffles together")
    parser.add_argument("--repeats", type=positive_int, default=2, help="epochs per process; the fastest one counts")
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=3,
        help="processes per contender, alternating floor and loader (fastest counts)",
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/trove_blocks_bench_loader"), help="data goes here")
    parser.add_argument("--worker", choices=["build", "floor", "loader"], help=argparse.SUPPRESS)
    return parser


def dataset_root(args: argparse.Namespace) -> Path:
    return args.work_dir / f"{args.size_mb:g}mb_{args.max_seq_length}_{args.row_group_rows}_{args.shard_rows}"


def build_dataset(args: argparse.Namespace) -> Path:
    """The packed dataset for these settings (reused when its manifest exists)."""
    root = dataset_root(args)
    if (root / "manifest.json").is_file():
        return root / "manifest.json"
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from trove_blocks.manifest import Manifest, SplitRecord, shard_record
    from trove_blocks.packing import ConcatPacker, labels_and_attention_mask
    from trove_blocks.tokenizers import load_tokenizer
    from trove_blocks.writers.packed_parquet import parquet_schema

    texts = [json.loads(line)["text"] for path in sorted(REAL_TEXT.glob("*.jsonl")) for line in path.open()]
    documents = [encoding.ids + [100257] for encoding in load_tokenizer("cl100k_base").encode_batch(texts)]
    width = args.max_seq_length
    target_rows = max(1, int(args.size_mb * 1024**2 // (3 * 4 * width)))
    rng = np.random.default_rng(0)
    packer = ConcatPacker(width, pad_id=100257)
    rows = []
    while len(rows) < target_rows:
        rows.extend(packer.add(documents[int(rng.integers(len(documents)))]))
    rows = rows[:target_rows]
    record = SplitRecord(name="bench", path=str(root / "bench"), category="factual_qa", source_file="bench.jsonl")
    (root / "bench").mkdir(parents=True, exist_ok=True)
    schema = parquet_schema()
    for index, first in enumerate(range(0, len(rows), args.shard_rows)):
        part = rows[first : first + args.shard_rows]
        ids = np.stack([row.input_ids for row in part])
        lengths = [row.seq_lengths for row in part]
        labels, mask = labels_and_attention_mask(ids, lengths)
        offsets = pa.array(np.arange(len(part) + 1, dtype=np.int32) * width)
        columns = [pa.ListArray.from_arrays(offsets, pa.array(column.reshape(-1))) for column in (ids, mask, labels)]
        table = pa.Table.from_arrays([*columns, pa.array(lengths, type=pa.list_(pa.int32()))], schema=schema)
        path = root / "bench" / f"shard_{index:04d}.parquet"
        # page CRCs as PackedParquetWriter writes them: the loader verifies them, the floor does not
        pq.write_table(table, path, row_group_size=args.row_group_rows, compression="snappy", write_page_checksum=True)
        record.shard_files.append(shard_record(root, path, len(part)))
        record.sequences += len(part)
        record.tokens += int(mask.sum())
    Manifest("cl100k_base", width, 2.0, str(REAL_TEXT), str(root), 1, "concat", 100257, 100257, [record], {}).write(
        root
    )
    return root / "manifest.json"


def run_floor(manifest: Path) -> dict:
    import pyarrow.parquet as pq

    data = json.loads(manifest.read_text())
    width = data["max_seq_length"]
    rows = 0
    started = time.perf_counter()
    for split in data["splits"].values():
        for shard in split["shard_files"]:
            handle = pq.ParquetFile(manifest.parent / shard["path"])
            for group in range(handle.num_row_groups):
                table = handle.read_row_group(group, columns=["input_ids", "attention_mask", "labels", "seq_lengths"])
                arrays = [
                    table.column(name).combine_chunks().values.to_numpy().reshape(-1, width)
                    for name in ("input_ids", "attention_mask", "labels")
                ]
                arrays.append(table.column("seq_lengths").combine_chunks().values.to_numpy())
                rows += len(arrays[0])
    return {"rows": rows, "seconds": time.perf_counter() - started}


def run_loader(manifest: Path, batch_size: int, window_groups: int) -> dict:
    from trove_blocks.loaders.packed import PackedDataset

    dataset = PackedDataset(manifest, batch_size=batch_size, seed=0, window_groups=window_groups)
    rows = batches = 0
    started = time.perf_counter()
    for batch in dataset:  # one epoch
        rows += batch["input_ids"].shape[0]
        batches += 1
    return {"rows": rows, "batches": batches, "seconds": time.perf_counter() - started}


def worker(args: argparse.Namespace, manifest: Path) -> None:
    if args.worker == "floor":
        runs = [run_floor(manifest) for _ in range(args.repeats)]
    else:
        import mlx.core  # noqa: F401  (imported before the clock, as a training script has it)

        runs = [run_loader(manifest, args.batch_size, args.window_groups) for _ in range(args.repeats)]
    result = min(runs, key=lambda run: run["seconds"])
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(name: str, argv: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *argv, "--worker", name], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.worker == "build":
        build_dataset(args)
        return 0
    if args.worker:
        worker(args, dataset_root(args) / "manifest.json")
        return 0
    # built in a process of its own: a contender started from this process would otherwise report this process's
    # peak memory (Linux carries the parent's high-water mark into a forked child's ru_maxrss)
    built = subprocess.run([sys.executable, __file__, *argv, "--worker", "build"], capture_output=True, text=True)
    if built.returncode != 0:
        raise SystemExit(f"building the data failed:\n{built.stderr[-3000:]}")
    manifest = dataset_root(args) / "manifest.json"
    size = sum(path.stat().st_size for path in manifest.parent.rglob("*.parquet")) / 1024**2
    print(f"data: {manifest} ({size:.1f} MiB of Parquet), batch {args.batch_size} x {args.max_seq_length}")
    rounds = [(measure("floor", argv), measure("loader", argv)) for _ in range(args.rounds)]
    floor = min((pair[0] for pair in rounds), key=lambda run: run["seconds"])
    loader = min((pair[1] for pair in rounds), key=lambda run: run["seconds"])
    floor["peak_rss_mb"] = max(pair[0]["peak_rss_mb"] for pair in rounds)
    loader["peak_rss_mb"] = max(pair[1]["peak_rss_mb"] for pair in rounds)
    floor_rate = floor["rows"] / floor["seconds"] / args.batch_size
    loader_rate = loader["batches"] / loader["seconds"]
    print(f"{'contender':<32} {'rows':>8} {'batches/s':>10} {'of floor':>9} {'peak RSS':>10}")
    print(
        f"{'floor: pyarrow -> numpy':<32} {floor['rows']:>8} {floor_rate:>10.1f} {'100%':>9} "
        f"{floor['peak_rss_mb']:>8.0f} MB"
    )
    print(
        f"{'PackedDataset -> mx.array':<32} {loader['rows']:>8} {loader_rate:>10.1f} "
        f"{loader_rate / floor_rate:>9.0%} {loader['peak_rss_mb']:>8.0f} MB"
    )
    if loader["rows"] != floor["rows"]:
        print(f"rows differ: loader {loader['rows']}, floor {floor['rows']}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

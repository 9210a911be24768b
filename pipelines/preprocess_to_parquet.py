"""Tokenize raw curriculum JSONL into packed Parquet shards with a manifest.json (the seed's Stage 2).

Each input file <split>.jsonl ({"text", "id", "source", "category", "metadata"} per line) becomes the split
<output>/<split>/shard_NNNN.parquet: rows of exactly --max-seq-length tokens with input_ids, attention_mask,
labels (already shifted; -100 = ignore) and seq_lengths (document boundaries), Snappy-compressed, shards rotating
at --shard-size GB. Stage "pack" (--tasks ranks, whole files per rank) writes the shards; stage "manifest" (one
task) verifies every shard (rows, bytes, sha256) and only then writes manifest.json with the mixture report
(token share per category against the registry's targets). Lines that are not JSON or have no text are excluded
with their reason and file:line into <output>/_excluded/<split>/ (a split packed again gets its exclusions afresh).

    python pipelines/preprocess_to_parquet.py --input data/distillation --output data/distillation_preprocessed \\
        --recursive --tokenizer cl100k_base --max-seq-length 1024
    python pipelines/verify_manifest.py data/distillation_preprocessed
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from datatrove.pipeline.filters import LambdaFilter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.curriculum.registry import DEFAULT_REGISTRY, load_registry
from trove_blocks.io import atomic_output, files_fingerprint
from trove_blocks.manifest import (
    MANIFEST_NAME,
    ManifestError,
    format_mixture,
    load_manifest,
    read_split_record,
    verify_split,
)
from trove_blocks.packing import PACKING_STRATEGIES
from trove_blocks.readers.curriculum import CurriculumJsonlReader, valid_record
from trove_blocks.taggers.curriculum import CurriculumTagger
from trove_blocks.tokenizers import TokenizerLoadError, load_tokenizer, tokenizer_inputs
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter
from trove_blocks.writers.packed_parquet import GB, PackedManifestWriter, PackedParquetWriter, tag_split

DEFAULT_TOKENIZER = "meta-llama/Llama-3.2-1B"

EXCLUDED_DIR = "_excluded"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--input", type=Path, required=True, help="folder of raw JSONL files (one split per file)")
    parser.add_argument("--output", type=Path, required=True, help="folder for <split>/shard_*.parquet + manifest.json")
    parser.add_argument("--recursive", action="store_true", help="also take *.jsonl files in sub-folders")
    parser.add_argument(
        "--tokenizer",
        default=DEFAULT_TOKENIZER,
        help="hub id, local folder, tokenizer.json file, or cl100k_base (bundled, offline)",
    )
    parser.add_argument("--max-seq-length", type=int, default=8192, help="tokens per row")
    parser.add_argument("--shard-size", type=float, default=2.0, help="target shard size in GB (GiB)")
    parser.add_argument(
        "--packing",
        choices=PACKING_STRATEGIES,
        default="concat",
        help="concat: documents end to end, split at row ends; bfd: best-fit decreasing, documents kept whole "
        "unless longer than a row",
    )
    parser.add_argument(
        "--eos-token",
        default="auto",
        help="token appended to every document: auto (the tokenizer's end-of-text token, if any), none, or a token",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="documents per tokenizer call")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY, help="curriculum registry (targets)")
    redo = parser.add_mutually_exclusive_group()
    redo.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip splits whose shards exist and verify (made with the same tokenizer/length/packing)",
    )
    redo.add_argument("--force", action="store_true", help="re-process every file, even ranks that completed")
    add_executor_arguments(parser, logging_dir="{output}/_logs")
    return parser


def find_inputs(input_dir: Path, recursive: bool, output_dir: Path) -> list[Path]:
    """The JSONL files to process, sorted; raises FileNotFoundError with the seed's hint when there are none.

    Left out: files under ``output_dir``, the downloader's ``*.excluded.jsonl``, and anything under a folder whose
    name starts with ``_`` (logs and exclusions).
    """
    pattern = "**/*.jsonl" if recursive else "*.jsonl"
    output = output_dir.resolve()
    files = sorted(
        path
        for path in input_dir.glob(pattern)
        if path.is_file()
        and output not in path.resolve().parents
        and not path.name.endswith(".excluded.jsonl")  # the downloader's exclusions
        and not any(part.startswith("_") for part in path.relative_to(input_dir).parts)  # _logs, _excluded
    )
    if not files:
        nested = not recursive and any(input_dir.glob("**/*.jsonl"))
        hint = " (there are some in sub-folders: add --recursive)" if nested else ""
        raise FileNotFoundError(f"No JSONL files found in {input_dir}{hint}")
    return files


def check_split_names(files: list[Path]) -> dict[str, Path]:
    """split name -> file; two files with one stem, or a stem starting with '_', cannot be splits."""
    splits: dict[str, Path] = {}
    for path in files:
        if path.stem.startswith("_"):
            raise ValueError(f"{path}: split names may not start with '_' (reserved for {EXCLUDED_DIR}, _logs)")
        if path.stem in splits:
            raise ValueError(f"{splits[path.stem]} and {path} would both be split {path.stem!r}: rename one")
        splits[path.stem] = path
    return splits


def splits_to_skip(output: Path, splits: dict[str, Path], row_settings: dict) -> dict[str, str]:
    """Splits whose record exists, was made with ``row_settings`` from the input file as it is now (size and
    modification time) and whose shards verify -> why they are kept."""
    skip = {}
    for split, source in splits.items():
        try:
            record = read_split_record(output, split)
        except ManifestError as error:  # damaged: the split is packed again
            print(f"pack {split} again: {error}")
            continue
        if record is None or record.source_fingerprint != files_fingerprint(source):
            continue
        made_with = {key: value for key, value in record.settings.items() if key in row_settings}
        if made_with == row_settings and not verify_split(output, record):
            skip[split] = f"{record.sequences} rows in {len(record.shard_files)} verified shards"
    return skip


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    if args.max_seq_length < 2:
        parser.error(f"--max-seq-length must be >= 2, got {args.max_seq_length}")
    if args.shard_size <= 0:
        parser.error(f"--shard-size must be > 0 GB, got {args.shard_size}")
    if not args.input.is_dir():
        parser.error(f"--input {args.input}: not a folder")
    try:
        files = find_inputs(args.input, args.recursive, args.output)
        splits = check_split_names(files)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    try:
        load_tokenizer(args.tokenizer)
    except TokenizerLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    registry = load_registry(args.registry)

    logging_dir = Path(args.logging_dir)
    paths_file = logging_dir / "pack_inputs.txt"
    writer = PackedParquetWriter(
        str(args.output.resolve()),
        args.tokenizer,
        max_seq_length=args.max_seq_length,
        packing=args.packing,
        shard_size_bytes=int(args.shard_size * GB),
        batch_size=args.batch_size,
        eos_token=args.eos_token,
        paths_file=str(paths_file.resolve()),
    )
    skip = splits_to_skip(args.output, splits, writer.row_settings) if args.skip_existing else {}
    for split, why in skip.items():
        print(f"skip {split}: {why}")
    todo = [path for split, path in splits.items() if split not in skip]

    (args.output / MANIFEST_NAME).unlink(missing_ok=True)  # rewritten only once every shard verifies
    shutil.rmtree(logging_dir / "manifest" / "completions", ignore_errors=True)  # always re-verify
    if args.force:
        shutil.rmtree(logging_dir / "pack" / "completions", ignore_errors=True)
        for split in splits:  # packed again whole: none of the earlier exclusions stay
            if split not in skip:
                shutil.rmtree(args.output / EXCLUDED_DIR / split, ignore_errors=True)

    stages = []
    if todo:
        with atomic_output(paths_file) as handle:
            handle.writelines(f"{path.relative_to(args.input).as_posix()}\n" for path in todo)
        excluded = AtomicJsonlWriter(str(args.output / EXCLUDED_DIR), output_filename="${split}/${rank}.jsonl")
        pipeline = [
            CurriculumJsonlReader(str(args.input), paths_file=str(paths_file.resolve())),
            tag_split,
            CurriculumTagger(registry_path=str(args.registry)),
            LambdaFilter(valid_record, exclusion_writer=excluded),
            writer,
        ]
        stages.append(
            Stage(
                "pack",
                pipeline,
                inputs=[*todo, *tokenizer_inputs(args.tokenizer)],
                outputs=[args.output / EXCLUDED_DIR / split for split in splits if split not in skip],
            )
        )
    manifest_step = PackedManifestWriter(
        str(args.output.resolve()),
        sorted(splits),
        args.tokenizer,
        max_seq_length=args.max_seq_length,
        shard_size_gb=args.shard_size,
        input_path=str(args.input),
        packing=args.packing,
        targets=registry.targets,
    )
    stages.append(Stage("manifest", [manifest_step], tasks=1))

    run_settings = {key: value for key, value in script_settings(args).items() if key not in ("skip_existing", "force")}
    report = run_stages(settings, stages, run_settings=run_settings, job_name="preprocess_to_parquet")

    counts: dict[str, int] = {"files": len(files), "skipped_splits": len(skip)}
    if report.finished and report.ok and todo:
        steps = report.stages[0].counters()
        reader = next((stats for name, stats in steps.items() if "JSONL" in name), {})
        kept = next((stats for name, stats in steps.items() if "FILTER" in name), {})
        packed = next((stats for name, stats in steps.items() if "Packed" in name), {})
        counts |= {
            "read": int(reader.get("documents", 0)),
            "kept": int(kept.get("forwarded", 0)),
            "excluded": int(kept.get("dropped", 0)),
            "rows": int(packed.get("rows", 0)),
            "tokens": int(packed.get("tokens", 0)),
        }
    manifest_path = args.output / MANIFEST_NAME
    if report.finished and manifest_path.is_file():
        print("\nmixture (token share per category vs target):")
        print(format_mixture(load_manifest(manifest_path)["mixture"]))
    return finish(
        report,
        counts=counts,
        outputs={"manifest": manifest_path, "excluded": args.output / EXCLUDED_DIR},
    )


if __name__ == "__main__":
    raise SystemExit(main())

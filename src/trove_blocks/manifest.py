"""The manifest of a packed-Parquet dataset: model, atomic write, verification, mixture report (no datatrove import).

``manifest.json`` keeps the seed's keys (tokenizer, max_seq_length, shard_size_gb, input_path, output_path,
files_processed, splits{path, shards, sequences, samples, tokens}) and adds, per split, its category, padding
tokens and the list of its shard files with rows, bytes and sha256; at the top a format version, the packing
strategy, the columns and label convention, and the mixture report (token share per category against the target).

A split's record is also written beside its shards as ``<split>/<split>_stats.json`` (by the rank that wrote
them); the manifest is assembled from those records only after every shard has been verified, so a crashed or
partial run never leaves a manifest that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trove_blocks.io import write_json_atomic

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
COLUMNS = ("input_ids", "attention_mask", "labels", "seq_lengths")
LABELS_CONVENTION = (
    "labels[i] = input_ids[i+1] within a document piece (already shifted: loss = CE(logits[i], labels[i])); "
    "-100 on the last token of each piece and on padding"
)


def split_stats_name(split: str) -> str:
    return f"{split}_stats.json"


@dataclass
class ShardRecord:
    """One Parquet shard: its path relative to the output folder, row count, size in bytes, sha256 hex digest."""

    path: str
    rows: int
    bytes: int
    sha256: str


@dataclass
class SplitRecord:
    """One split (= one input file): where its shards are and what they hold.

    ``sequences`` = rows of ``max_seq_length`` tokens; ``samples`` = documents packed; ``tokens`` = real
    (non-padding) tokens; ``padding_tokens`` = pad positions; ``long_documents`` = documents longer than a row
    (necessarily split over several rows); ``category`` = the category holding most of its tokens, and
    ``category_tokens`` the tokens per category (a file may mix categories); ``settings`` = the settings that
    shaped the rows (tokenizer, max_seq_length, packing, eos_token) and ``source_fingerprint`` the input file's
    (:func:`trove_blocks.io.files_fingerprint`: size and modification time): ``--skip-existing`` keeps a split only
    when both match the run's.
    """

    name: str
    path: str
    category: str
    source_file: str
    sequences: int = 0
    samples: int = 0
    tokens: int = 0
    padding_tokens: int = 0
    long_documents: int = 0
    category_tokens: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    shard_files: list[ShardRecord] = field(default_factory=list)
    source_fingerprint: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SplitRecord:
        values = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        values["shard_files"] = [ShardRecord(**shard) for shard in data.get("shard_files", [])]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["shards"] = len(self.shard_files)
        order = ["name", "path", "shards", "sequences", "samples", "tokens", "category", "padding_tokens"]
        return {key: data[key] for key in order} | {key: value for key, value in data.items() if key not in order}


def file_sha256(path: str | os.PathLike, chunk_bytes: int = 8 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def shard_record(output_dir: str | os.PathLike, shard_path: str | os.PathLike, rows: int) -> ShardRecord:
    """Record a finished shard (size and sha256 read from disk)."""
    path = Path(shard_path)
    return ShardRecord(
        path=path.relative_to(output_dir).as_posix(), rows=rows, bytes=path.stat().st_size, sha256=file_sha256(path)
    )


def verify_shard(output_dir: str | os.PathLike, shard: ShardRecord) -> list[str]:
    """What is wrong with one shard against its record (empty when it verifies)."""
    path = Path(output_dir) / shard.path
    if not path.is_file():
        return [f"{shard.path}: missing"]
    size = path.stat().st_size
    if size != shard.bytes:
        return [f"{shard.path}: {size} bytes on disk, {shard.bytes} recorded"]
    digest = file_sha256(path)
    if digest != shard.sha256:
        return [f"{shard.path}: sha256 {digest} on disk, {shard.sha256} recorded (the file changed or is corrupt)"]
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(path)
    except Exception as error:
        return [f"{shard.path}: not a readable Parquet file ({error})"]
    problems = []
    if metadata.num_rows != shard.rows:
        problems.append(f"{shard.path}: {metadata.num_rows} rows in the file, {shard.rows} recorded")
    missing = [column for column in COLUMNS if column not in metadata.schema.to_arrow_schema().names]
    if missing:
        problems.append(f"{shard.path}: columns {missing} missing")
    return problems


def verify_split(output_dir: str | os.PathLike, split: SplitRecord) -> list[str]:
    """What is wrong with a split's shards against its record (empty when every shard verifies)."""
    problems = [problem for shard in split.shard_files for problem in verify_shard(output_dir, shard)]
    rows = sum(shard.rows for shard in split.shard_files)
    if rows != split.sequences:
        problems.append(f"split {split.name}: shards hold {rows} rows, {split.sequences} sequences recorded")
    return problems


class ManifestError(ValueError):
    """A manifest or split record that is not one (not JSON, keys missing or of another type); the message names
    the file."""


def read_split_record(output_dir: str | os.PathLike, split: str) -> SplitRecord | None:
    """The ``<split>/<split>_stats.json`` record a finished split leaves, None when there is none, ManifestError
    when it is damaged."""
    path = Path(output_dir) / split / split_stats_name(split)
    if not path.is_file():
        return None
    try:
        return SplitRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, AttributeError) as error:
        raise ManifestError(f"{path}: not a split record ({error})") from None


def write_split_record(output_dir: str | os.PathLike, split: SplitRecord) -> None:
    write_json_atomic(Path(output_dir) / split.name / split_stats_name(split.name), split.to_dict())


def mixture_report(splits: list[SplitRecord], targets: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Realized token share per category next to its target share (``target_share`` None for unplanned ones)."""
    tokens: dict[str, int] = {category: 0 for category in targets}
    for split in splits:
        by_category = split.category_tokens or ({split.category: split.tokens} if split.category else {})
        for category, count in by_category.items():
            tokens[category] = tokens.get(category, 0) + count
    total = sum(tokens.values())
    return {
        category: {
            "tokens": count,
            "share": round(count / total, 4) if total else 0.0,
            "target_share": targets.get(category),
        }
        for category, count in tokens.items()
    }


def format_mixture(mixture: dict[str, dict[str, Any]]) -> str:
    """A printable table of :func:`mixture_report`."""
    lines = [f"{'category':<20} {'tokens':>14} {'share':>7} {'target':>7}"]
    for category, row in mixture.items():
        target = f"{row['target_share']:.0%}" if row["target_share"] is not None else "-"
        lines.append(f"{category:<20} {row['tokens']:>14,} {row['share']:>7.1%} {target:>7}")
    return "\n".join(lines)


@dataclass
class Manifest:
    """The whole manifest.json (see the module docstring)."""

    tokenizer: str
    max_seq_length: int
    shard_size_gb: float
    input_path: str
    output_path: str
    files_processed: int
    packing: str
    pad_token_id: int
    eos_token_id: int | None
    splits: list[SplitRecord]
    targets: dict[str, float]
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        mixture = mixture_report(self.splits, self.targets)
        return {
            "format_version": self.format_version,
            "tokenizer": self.tokenizer,
            "max_seq_length": self.max_seq_length,
            "shard_size_gb": self.shard_size_gb,
            "input_path": self.input_path,
            "output_path": self.output_path,
            "files_processed": self.files_processed,
            "packing": self.packing,
            "columns": list(COLUMNS),
            "labels": LABELS_CONVENTION,
            "pad_token_id": self.pad_token_id,
            "eos_token_id": self.eos_token_id,
            "tokens": sum(split.tokens for split in self.splits),
            "padding_tokens": sum(split.padding_tokens for split in self.splits),
            "splits": {split.name: split.to_dict() for split in self.splits},
            "mixture": mixture,
        }

    def write(self, output_dir: str | os.PathLike) -> Path:
        path = Path(output_dir) / MANIFEST_NAME
        write_json_atomic(path, self.to_dict())
        return path


def load_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest at ``path`` (a manifest.json or the folder holding one) as a dict; FileNotFoundError when there
    is none, :class:`ManifestError` when the file is damaged."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest (an unfinished or crashed run leaves none)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: not a manifest, not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("splits"), dict):
        raise ManifestError(f"{path}: not a manifest, no 'splits' mapping at its top level")
    if not isinstance(manifest.get("max_seq_length"), int):
        raise ManifestError(f"{path}: not a manifest, max_seq_length is {manifest.get('max_seq_length')!r}")
    for name, split in manifest["splits"].items():
        shards = split.get("shard_files", []) if isinstance(split, dict) else None
        if not isinstance(shards, list) or not all(isinstance(shard, dict) and "path" in shard for shard in shards):
            raise ManifestError(f"{path}: split {name!r} is not a split record with shard_files [{{path, ...}}]")
    return manifest


def verify_manifest(path: str | os.PathLike) -> list[str]:
    """Everything wrong with a manifest's shards (missing, size, sha256, rows, columns); empty when all verify."""
    path = Path(path)
    output_dir = path if path.is_dir() else path.parent
    manifest = load_manifest(path)
    problems = []
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"format_version {manifest.get('format_version')!r}, expected {FORMAT_VERSION}")
    for name, data in manifest["splits"].items():
        try:
            split = SplitRecord.from_dict(data | {"name": name})
        except TypeError as error:  # a field missing or unknown (load_manifest checked it is a mapping)
            problems.append(f"split {name}: not a split record ({error})")
            continue
        if len(split.shard_files) != data.get("shards"):
            problems.append(f"split {name}: {data.get('shards')} shards counted, {len(split.shard_files)} listed")
        problems.extend(verify_split(output_dir, split))
    return problems

"""Verify a packed-Parquet manifest against its shards: every shard present, with its recorded bytes, sha256 and rows.

Exits 0 when everything verifies, 1 naming each problem (missing shard, size, sha256, rows, columns), 2 when
there is no manifest (an unfinished or crashed run leaves none) or the file is not one (damaged JSON).

    python pipelines/verify_manifest.py data/distillation_preprocessed
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from trove_blocks.manifest import ManifestError, format_mixture, load_manifest, verify_manifest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("manifest", type=Path, help="manifest.json or the folder holding it")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        manifest = load_manifest(args.manifest)
    except (FileNotFoundError, ManifestError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problems = verify_manifest(args.manifest)
    shards = sum(len(split.get("shard_files", [])) for split in manifest["splits"].values())
    rows = sum(split.get("sequences", 0) for split in manifest["splits"].values())
    print(format_mixture(manifest.get("mixture", {})))
    for problem in problems:
        print(f"PROBLEM {problem}")
    verdict = "FAILED" if problems else "ok"
    print(
        f"\n== verify: {verdict} in {time.monotonic() - started:.1f} s\n"
        f"   splits: {len(manifest['splits'])}, shards: {shards}, rows: {rows}, tokens: {manifest.get('tokens')}, "
        f"problems: {len(problems)}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

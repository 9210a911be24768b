"""Tutorial 05 (spec/05_deduplication.md): exact deduplication in datatrove's three stages, on real duplicates.

The input is two real sources read in one pipeline: the 230 documents of examples_local/data/real_text/ and
the web pages of warcio's test WARCs (examples_local/data/warc/), extracted by Trafilatura. Both hold real
duplicates: example.com's page was captured into three of the WARC files, and a line of WikiText-2 credits
occurs twice in its article. Exact dedup works in three stages:

1. signatures (every task): a 64-bit hash of each document's normalised text (lower case, whitespace
   collapsed), sorted, written to <output>/signatures/;
2. find duplicates (one task): a merge of all sorted signature files; every hash seen before marks a duplicate
   (the first copy is kept), written to <output>/duplicates/;
3. filter (every task, reading the same input again): duplicates go to <output>/excluded/, the rest to
   <output>/kept/ with ``metadata["duplicate_count"]`` = copies removed.

    python examples_local/05_deduplication.py
    python examples_local/05_deduplication.py --tasks 4
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.dedup import ExactDedupConfig, ExactDedupFilter, ExactDedupSignature, ExactFindDedups
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.readers import CheckedJsonlReader

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "examples_local" / "data"
DEFAULT_OUTPUT = REPO / "examples_local" / "output" / "05_deduplication"


def normalised_text(doc: Document) -> str:
    """What two documents must share to count as duplicates: the text, lower case, whitespace collapsed.

    (The ``-> str`` annotation matters: datatrove picks its hash function from it.)
    """
    return " ".join(doc.text.lower().split())


def read_sources(warc_dir: Path, text_dir: Path) -> list:
    """Both sources as one document stream, in the same order every time the pipeline runs."""
    return [
        WarcReader(str(warc_dir), glob_pattern="*.warc*"),
        Trafilatura(favour_precision=True, timeout=10.0),
        CheckedJsonlReader(str(text_dir), glob_pattern="*.jsonl"),  # passes the extracted pages on, then adds its own
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--warc", type=Path, default=DATA / "warc", help="folder of WARC files")
    parser.add_argument("--text", type=Path, default=DATA / "real_text", help="folder of JSONL files ({text, id})")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="signatures/, duplicates/, kept/, excluded/"
    )
    add_executor_arguments(parser, logging_dir="{output}/logs", tasks=2)
    return parser


def build_stages(args: argparse.Namespace) -> list[Stage]:
    out = args.output
    config = ExactDedupConfig(content_getter=normalised_text)
    signatures, duplicates, kept, excluded = out / "signatures", out / "duplicates", out / "kept", out / "excluded"
    return [
        Stage(
            "signatures",
            [*read_sources(args.warc, args.text), ExactDedupSignature(str(signatures), config=config)],
            outputs=[signatures],
            inputs=[args.warc, args.text],
        ),
        Stage(
            "find_duplicates",
            [ExactFindDedups(str(signatures), str(duplicates), config=config)],
            tasks=1,
            outputs=[duplicates],
        ),
        Stage(
            "filter",
            [
                *read_sources(args.warc, args.text),
                ExactDedupFilter(
                    str(duplicates),
                    config=config,
                    exclusion_writer=JsonlWriter(str(excluded), output_filename="${rank}.jsonl", compression=None),
                ),
                JsonlWriter(str(kept), output_filename="${rank}.jsonl", compression=None),
            ],
            outputs=[kept, excluded],
        ),
    ]


def read_jsonl_folder(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def first_line(doc: dict) -> str:
    return doc["text"].split("\n", 1)[0]


def origin(doc: dict) -> str:
    meta = doc["metadata"]
    return meta.get("url") or meta.get("source") or "?"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    for flag, folder in (("--warc", args.warc), ("--text", args.text)):
        if not folder.is_dir():
            parser.error(f"{flag} {folder}: no such folder")
    report = run_stages(settings, build_stages(args), run_settings=script_settings(args), job_name="05_deduplication")
    counts: dict[str, int] = {}
    if report.ok:
        steps = report.stages[2].counters()
        dedup = next(stats for name, stats in steps.items() if "exact-deduplication" in name)
        kept, excluded = read_jsonl_folder(args.output / "kept"), read_jsonl_folder(args.output / "excluded")
        counts = {
            "documents_in": int(dedup["total"]),
            "kept": int(dedup["forwarded"]),
            "duplicates_removed": int(dedup["dropped"]),
            "distinct_with_copies": sum(1 for doc in kept if doc["metadata"]["duplicate_count"] > 0),
            "kept_sharing_first_line": sum(n for n in Counter(first_line(doc) for doc in kept).values() if n > 1),
        }
        print("\nkept documents that had copies, and the copies removed:")
        for doc in kept:
            if doc["metadata"]["duplicate_count"]:
                print(f"  kept {doc['id']} [{origin(doc)}], {doc['metadata']['duplicate_count']} copies removed")
        for doc in excluded:
            print(f"  removed {doc['id']} [{origin(doc)}] from {Path(doc['metadata']['file_path']).name}")
        print("kept documents that are not exact copies but start with the same line (near-duplicates, tutorial 07):")
        by_line: dict[str, list[str]] = {}
        for doc in kept:
            by_line.setdefault(first_line(doc), []).append(doc["id"])
        for ids in by_line.values():
            if len(ids) > 1:
                print(f"  {', '.join(ids)}")
        print("SUMMARY " + json.dumps(counts, sort_keys=True))
    return finish(report, counts=counts, outputs={"kept": args.output / "kept", "excluded": args.output / "excluded"})


if __name__ == "__main__":
    raise SystemExit(main())

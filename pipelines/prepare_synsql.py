"""Prepare SynSQL-2.5M for text-to-SQL training: schema merged, difficulty curriculum, exact subset and split.

Reads <synsql-dir>/data.json (ONE top-level JSON array, or JSON lines), tables.json and, for --check-sql or
--schema-format ddl example values, databases/<db_id>/<db_id>.sqlite. Streams in constant memory and splits the
one big file across --tasks by byte ranges; the output is the same for any number of tasks.

Writes to --output-dir:
  train/*.jsonl, val/*.jsonl             processed records (question, schema, sql, db_id, difficulty,
                                         sql_complexity, question_style, external_knowledge[, cot], id); files
                                         are named <rank>-<band> after the work file they come from
  stats.json                             totals, val ratio, difficulty distribution per split, exclusions by reason
  stats.png                              the same drawn: difficulty mix per split, where the records read went
  excluded/<group>/*.jsonl               every dropped record with its filter_reason
  _work/                                 intermediate files (schemas, processed lines, keys, plan, tallies)

Stages: schemas (1 task) -> process (N: parse, check, serialise each record once, grouped by split-key band)
-> plan (1: exact cutoffs from the keys) -> write (N: hard-link each work file that goes whole to one split,
copy the lines of the others by their keys) -> stats (1).

    python pipelines/prepare_synsql.py --synsql-dir data/synsql --output-dir data/processed
    python pipelines/prepare_synsql.py --subset-size 100000 --val-ratio 0.1 --tasks 8 --check-sql
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.filters.sql_execution import SqlExecutionFilter
from trove_blocks.filters.synsql_validation import SynsqlRecordFilter
from trove_blocks.readers.json_array import JsonArrayReader
from trove_blocks.synsql.records import parse_difficulty_overrides
from trove_blocks.synsql.schema import SCHEMA_FORMATS
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter
from trove_blocks.writers.schema_table import SchemaTableWriter
from trove_blocks.writers.selection import ProcessedLineWriter, SelectionPlanner, SelectionRouter
from trove_blocks.writers.synsql_stats import SynsqlStatsWriter

DATA_FILES = ("data.json", "data.jsonl")
HINT = "pass --synsql-dir /path/to/synsql (the folder with data.json, tables.json and databases/)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--synsql-dir", type=Path, default=Path("data/synsql"), help="Path to SynSQL directory")
    parser.add_argument("--output-dir", type=Path, default=Path("data/processed"), help="Output directory")
    parser.add_argument("--subset-size", type=int, default=5_000_000, help="Number of examples to use")
    parser.add_argument("--val-ratio", type=float, default=0.05, help="Validation split ratio")
    parser.add_argument("--seed", type=int, default=42, help="seed of the subset and split (with each record's id)")
    parser.add_argument(
        "--schema-format",
        choices=SCHEMA_FORMATS,
        default="compact",
        help="compact: table(col, ...) | ...; ddl: CREATE TABLE with types, keys, descriptions, example values",
    )
    parser.add_argument(
        "--check-sql",
        action="store_true",
        help="run each SQL read-only on databases/<db_id>/<db_id>.sqlite; failing records are excluded",
    )
    parser.add_argument("--sql-timeout", type=float, default=5.0, help="--check-sql time limit per query (seconds)")
    parser.add_argument("--include-cot", action="store_true", help="keep the chain-of-thought field `cot`")
    parser.add_argument(
        "--difficulty-map",
        action="append",
        default=[],
        metavar="SQL_COMPLEXITY=DIFFICULTY",
        help="override the mapping Simple=Simple, Moderate=Medium, Complex=Complex, Highly Complex=Complex "
        "(repeatable)",
    )
    add_executor_arguments(parser, logging_dir="{output_dir}/logs")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None):
    args, settings = parse_settings(parser, argv)
    try:
        args.difficulty = parse_difficulty_overrides(args.difficulty_map)
    except ValueError as error:
        parser.error(str(error))
    if args.subset_size < 0:
        parser.error(f"--subset-size must be >= 0, got {args.subset_size}")
    if not 0.0 <= args.val_ratio <= 1.0:
        parser.error(f"--val-ratio must be within [0, 1], got {args.val_ratio}")
    if args.sql_timeout <= 0:
        parser.error(f"--sql-timeout must be > 0, got {args.sql_timeout}")
    data = [name for name in DATA_FILES if (args.synsql_dir / name).is_file()]
    if not data:
        parser.error(f"FileNotFoundError: data.json not found in {args.synsql_dir}; {HINT}")
    args.data_file = data[0]
    if not (args.synsql_dir / "tables.json").is_file():
        parser.error(f"FileNotFoundError: tables.json not found in {args.synsql_dir}; {HINT}")
    if args.check_sql and not (args.synsql_dir / "databases").is_dir():
        parser.error(f"--check-sql needs {args.synsql_dir / 'databases'}/<db_id>/<db_id>.sqlite; {HINT}")
    return args, settings


def build_stages(args: argparse.Namespace) -> list[Stage]:
    out, work = args.output_dir, args.output_dir / "_work"
    databases = args.synsql_dir / "databases"
    schema_table = str(work / "schemas" / "schemas.jsonl")

    def exclusions(group: str) -> AtomicJsonlWriter:
        return AtomicJsonlWriter(
            str(out / "excluded" / group), tally_keys=("filter_reason",), tally_folder=str(work / "counts" / group)
        )

    process = [
        JsonArrayReader(str(args.synsql_dir), glob_pattern=args.data_file, text_key="question"),
        SynsqlRecordFilter(schema_table, args.difficulty, args.include_cot, exclusion_writer=exclusions("invalid")),
    ]
    if args.check_sql:
        process.append(SqlExecutionFilter(str(databases), args.sql_timeout, exclusion_writer=exclusions("sql_failed")))
    process.append(
        ProcessedLineWriter(str(work), schema_table, args.seed, args.difficulty, args.include_cot, args.val_ratio)
    )
    record = {
        "subset_size": args.subset_size,
        "seed": args.seed,
        "schema_format": args.schema_format,
        "check_sql": args.check_sql,
        "include_cot": args.include_cot,
        "difficulty_map": args.difficulty,
    }
    example_values = args.schema_format == "ddl" and databases.is_dir()
    return [
        Stage(
            "schemas",
            [
                SchemaTableWriter(
                    str(args.synsql_dir / "tables.json"),
                    schema_table,
                    args.schema_format,
                    str(databases) if example_values else None,
                )
            ],
            tasks=1,
            outputs=[work / "schemas"],
            inputs=[args.synsql_dir / "tables.json", *([databases] if example_values else [])],
        ),
        Stage(
            "process",
            process,
            inputs=[args.synsql_dir / args.data_file, *([databases] if args.check_sql else [])],
            outputs=[
                work / "lines",
                work / "keys",
                out / "excluded" / "invalid",
                out / "excluded" / "sql_failed",
                work / "counts" / "invalid",
                work / "counts" / "sql_failed",
            ],
        ),
        Stage(
            "plan", [SelectionPlanner(str(work), args.subset_size, args.val_ratio)], tasks=1, outputs=[work / "plan"]
        ),
        Stage(
            "write",
            [SelectionRouter(str(work), str(out))],
            outputs=[
                out / "train",
                out / "val",
                out / "excluded" / "not_in_subset",
                work / "counts" / "written",
                work / "counts" / "not_in_subset",
            ],
        ),
        Stage(
            "stats",
            [SynsqlStatsWriter(str(out), str(work), args.val_ratio, settings=record)],
            tasks=1,
            outputs=[out / "stats.json", out / "stats.png"],
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_args(parser, argv)
    report = run_stages(settings, build_stages(args), run_settings=script_settings(args), job_name="prepare_synsql")
    counts = {}
    stats_file = args.output_dir / "stats.json"
    if report.finished and report.ok and stats_file.is_file():
        stats = json.loads(stats_file.read_text(encoding="utf-8"))
        counts = {
            "read": stats["records_read"],
            "kept": stats["total_examples"],
            "train": stats["train_examples"],
            "val": stats["val_examples"],
            "excluded": stats["excluded_examples"],
        }
    outputs = {
        "train": args.output_dir / "train",
        "val": args.output_dir / "val",
        "stats": stats_file,
        "picture": args.output_dir / "stats.png",
        "excluded": args.output_dir / "excluded",
    }
    return finish(report, counts=counts, outputs=outputs)


if __name__ == "__main__":
    raise SystemExit(main())

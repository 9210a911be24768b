"""Export the tabular datasets: a Feast-readable Parquet file per dataset, and the rows as text documents.

1. ``<output>/feast/<dataset>.parquet``: sample_index, feature_*, target and the ``ingested_at`` event timestamp
   (``trove_blocks.tabular.export_to_parquet``; one file per dataset, written atomically in this process; the
   Parquet files of datasets not exported this time are removed, so feast/ holds this run's datasets only).
2. Stage ``documents`` (a DataTrove pipeline, the shared executor flags apply): one SQLiteReader per dataset
   (rows split across --tasks by rowid ranges of the features table) -> JsonlWriter to ``<output>/documents/``,
   one document per row: id ``<dataset>/<sample_index>``, text ``feature_0: 1.47085, ..., target: 1``,
   metadata dataset_name, sample_index, target. With --documents-db the same documents also go into that SQLite
   file (SQLiteWriter, table ``documents``, upserted by id: every rank writes the one database, WAL + busy timeout).
   The file is the stage's output like documents/: a re-run with other settings or a changed database removes it
   and writes it afresh.

Run ``python pipelines/generate_tabular.py`` first (same --database default).

    python pipelines/export_tabular.py --output out/tabular
    python pipelines/export_tabular.py --dataset classification_data --tasks 4 --executor slurm --wait
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.readers.sqlite import SQLiteReader
from trove_blocks.tabular import (
    DatabaseNotFoundError,
    DatasetNotFoundError,
    TabularDataError,
    dataset_info,
    documents_query,
    export_to_parquet,
    get_database_path,
    list_datasets,
)
from trove_blocks.tabular.database import connect_existing
from trove_blocks.tabular.text import DOCUMENT_METADATA_COLUMNS
from trove_blocks.writers.sqlite import SQLiteWriter

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "examples_local" / "output" / "tabular"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--database", type=Path, default=get_database_path(), help="SQLite file to read")
    parser.add_argument(
        "--dataset",
        action="append",
        default=None,
        help="dataset to export, repeatable (default: every dataset in the database)%(default).0s",
    )
    parser.add_argument(
        "--documents-db",
        type=Path,
        default=None,
        help="also write the documents to this SQLite file, table documents; the script's own file, written afresh "
        "when settings or the database change (default: off)%(default).0s",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="feast/ and documents/ are written here")
    add_executor_arguments(parser, logging_dir="{output}/logs")
    return parser


def build_stages(args: argparse.Namespace, database: Path, datasets: list[str]) -> list[Stage]:
    documents = args.output / "documents"
    conn, _ = connect_existing(database)
    with closing(conn):
        infos = [dataset_info(conn, database, name) for name in datasets]
    readers = [
        SQLiteReader(
            database,
            query=documents_query(info),
            rowid_table="features",
            metadata_columns=list(DOCUMENT_METADATA_COLUMNS),
        )
        for info in infos
    ]
    pipeline = [*readers, JsonlWriter(str(documents), output_filename="${rank}.jsonl", compression=None)]
    if args.documents_db:
        pipeline.append(SQLiteWriter(args.documents_db, "documents", metadata_columns={"target": "INTEGER"}))
    outputs = [documents, *([args.documents_db] if args.documents_db else [])]
    return [Stage("documents", pipeline, outputs=outputs, inputs=[database])]


def _total(stat) -> int:
    """A datatrove stat as saved in stats.json (a number, or a dict with "total"), as an int; 0 when absent."""
    return int(stat["total"] if isinstance(stat, dict) else stat or 0)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    database = args.database.resolve()
    if args.documents_db and args.documents_db.resolve() == database:
        parser.error(f"--documents-db {args.documents_db}: that is the --database read; give another file")
    try:
        datasets = args.dataset or list_datasets(database)
        feast = args.output / "feast"
        parquet_files = {name: export_to_parquet(name, database, feast / f"{name}.parquet") for name in datasets}
        for stale in set(feast.glob("*.parquet")) - set(parquet_files.values()):
            stale.unlink()  # a dataset of an earlier run, not exported now
        stages = build_stages(args, database, datasets)
    except (DatabaseNotFoundError, DatasetNotFoundError) as error:
        parser.error(str(error))
    except TabularDataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    run_settings = script_settings(args) | {"database_mtime_ns": database.stat().st_mtime_ns}
    report = run_stages(settings, stages, run_settings=run_settings, job_name="export_tabular")
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as conn:
        placeholders = ", ".join("?" * len(datasets))
        rows = conn.execute(
            "SELECT count(*) FROM features f JOIN datasets d ON d.dataset_id = f.dataset_id "
            f"WHERE d.dataset_name IN ({placeholders})",
            datasets,
        ).fetchone()[0]
    counts = {"rows": rows}
    if report.finished and report.ok and report.stages[0].stats_file:
        # one reader per dataset, all with the same step name: sum the steps of stats.json (counters() keys by name)
        steps = json.loads(report.stages[0].stats_file.read_text())
        readers = [step["stats"] for step in steps if "READER" in step["name"]]
        writer = next(step["stats"] for step in steps if "Jsonl" in step["name"])
        counts["documents_read"] = sum(_total(stats.get("documents")) for stats in readers)
        counts["excluded_empty_text"] = sum(_total(stats.get("empty_text")) for stats in readers)
        counts["documents_written"] = _total(writer.get("total"))
        if args.documents_db:  # the rows there (the writer's count includes documents that replaced a row)
            uri = f"{args.documents_db.resolve().as_uri()}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as conn:
                counts["documents_in_sqlite"] = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    outputs = {f"feast {name}": path for name, path in parquet_files.items()}
    outputs["documents"] = args.output / "documents"
    if args.documents_db:
        outputs["documents_db"] = args.documents_db
    return finish(report, counts=counts, outputs=outputs)


if __name__ == "__main__":
    raise SystemExit(main())

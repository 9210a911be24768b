"""Generate the tabular sample database: synthetic classification datasets in SQLite (the seed's data module).

Writes the ``datasets`` and ``features`` tables (feature_0..feature_{n-1}, target, sample_index, dataset_id) and
their indexes. The database is built beside the target and renamed over it: a re-run replaces it whole.
Where it goes by default: $TROVE_TABULAR_DB, else ~/.cache/trove_blocks/tabular/sample_data.db, which is where
``trove_blocks.tabular.load_data()`` looks. A plain script (generation is one sequential write, no executor).

    python pipelines/generate_tabular.py
    python pipelines/generate_tabular.py --database out/tabular.db \\
        --dataset train_data,n_samples=800 --dataset test_data,n_samples=200,random_state=7
"""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from trove_blocks import RunReport, finish
from trove_blocks.tabular import DEFAULT_DATASETS, DatasetSpec, generate_database, get_database_path

SPEC_FIELDS = {field.name: field.type for field in dataclasses.fields(DatasetSpec) if field.name != "name"}


def parse_dataset_spec(text: str) -> DatasetSpec:
    """``"name,key=value,..."`` -> DatasetSpec; keys are DatasetSpec's fields (n_samples, n_classes, ...).

    n_informative and n_redundant default to n_features // 2 and n_features // 4.
    """
    name, *pairs = [part.strip() for part in text.split(",")]
    if not name or "=" in name:
        raise argparse.ArgumentTypeError(f"--dataset {text!r}: expected NAME[,key=value...]")
    values: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in SPEC_FIELDS:
            raise argparse.ArgumentTypeError(
                f"--dataset {text!r}: {pair!r} is not key=value with key one of {', '.join(SPEC_FIELDS)}"
            )
        try:
            values[key] = value if key == "description" else int(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"--dataset {text!r}: {key} must be an integer, got {value!r}") from error
    return DatasetSpec(name, **values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--database", type=Path, default=get_database_path(), help="SQLite file to (re)create")
    parser.add_argument(
        "--dataset",
        type=parse_dataset_spec,
        action="append",
        default=None,
        metavar="NAME[,key=value...]",
        help=f"a dataset to generate, repeatable; keys: {', '.join(SPEC_FIELDS)} (default: "
        + "; ".join(
            f"{spec.name} ({spec.n_samples}x{spec.n_features}, {spec.n_classes} classes)" for spec in DEFAULT_DATASETS
        )
        + ")%(default).0s",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    datasets = args.dataset or list(DEFAULT_DATASETS)
    started = time.monotonic()
    try:
        path = generate_database(args.database, datasets)
    except ValueError as error:
        parser.error(str(error))
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT count(*) FROM features").fetchone()[0]
    for spec in datasets:
        print(f"{spec.name}: {spec.n_samples} samples, {spec.n_features} features, {spec.n_classes} classes")
    report = RunReport("local", [], time.monotonic() - started)
    return finish(report, counts={"datasets": len(datasets), "rows": rows}, outputs={"database": path})


if __name__ == "__main__":
    raise SystemExit(main())

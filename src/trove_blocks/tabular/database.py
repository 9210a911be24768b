"""The SQLite store of synthetic classification datasets: schema, generation, loading.

One database holds several datasets. ``datasets`` has one row per dataset (name, shape, description);
``features`` one row per sample: ``dataset_id`` (foreign key), ``sample_index`` (0 .. n_samples-1, the order
:func:`load_data` returns), ``feature_0 .. feature_{N-1}`` (REAL) and ``target`` (INTEGER class label). N is the
widest dataset's feature count; a narrower dataset leaves its extra columns NULL. Indexes:
``idx_dataset_sample (dataset_id, sample_index)`` and ``idx_dataset (dataset_id)``.

Where the database lives (:func:`get_database_path`): the ``db_path`` argument, else the ``TROVE_TABULAR_DB``
environment variable, else ``$XDG_CACHE_HOME/trove_blocks/tabular/sample_data.db`` (``~/.cache/...`` when
XDG_CACHE_HOME is unset), which is where ``python pipelines/generate_tabular.py`` writes by default.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trove_blocks.tabular.generator import make_classification

DATABASE_ENV_VAR = "TROVE_TABULAR_DB"
DATABASE_FILENAME = "sample_data.db"
GENERATE_COMMAND = "python pipelines/generate_tabular.py"
#: generated rows handed to SQLite per block (as Python numbers)
INSERT_ROWS = 8192

DATASETS_DDL = """
CREATE TABLE IF NOT EXISTS datasets (
    dataset_id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_name TEXT UNIQUE NOT NULL,
    n_samples INTEGER NOT NULL,
    n_features INTEGER NOT NULL,
    n_classes INTEGER NOT NULL,
    description TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)"""

INDEXES_DDL = (
    "CREATE INDEX IF NOT EXISTS idx_dataset_sample ON features(dataset_id, sample_index)",
    "CREATE INDEX IF NOT EXISTS idx_dataset ON features(dataset_id)",
)


@dataclass(frozen=True)
class DatasetSpec:
    """One synthetic dataset: its name and the :func:`make_classification` arguments that generate it.

    ``n_informative`` and ``n_redundant`` default to half and a quarter of ``n_features`` (the seed's 10 and 5 of 20).
    """

    name: str
    n_samples: int = 1000
    n_features: int = 20
    n_informative: int | None = None
    n_redundant: int | None = None
    n_classes: int = 2
    random_state: int = 42
    description: str = "Synthetic classification dataset"

    def __post_init__(self):
        if self.n_informative is None:
            object.__setattr__(self, "n_informative", max(1, self.n_features // 2))
        if self.n_redundant is None:
            object.__setattr__(self, "n_redundant", self.n_features // 4)


#: what ``generate_database`` writes when no datasets are given: the seed's binary dataset and a 5-class one
DEFAULT_DATASETS = (
    DatasetSpec("classification_data"),
    DatasetSpec("multiclass_data", n_classes=5, description="Synthetic 5-class classification dataset"),
)


class DatabaseNotFoundError(FileNotFoundError):
    """The tabular database file does not exist (the message says how to generate it)."""


class DatasetNotFoundError(ValueError):
    """The database has no dataset of that name (the message lists the available ones)."""


class TabularDataError(ValueError):
    """The database cannot be read as a tabular database (damaged, other tables) or holds a value that is not a
    number; the message names the file and, for a value, the dataset, sample_index and column."""


def get_database_path(db_path: str | os.PathLike | None = None) -> Path:
    """The database file to use: ``db_path``, else ``$TROVE_TABULAR_DB``, else the default cache location."""
    if db_path is not None:
        return Path(db_path)
    if os.environ.get(DATABASE_ENV_VAR):
        return Path(os.environ[DATABASE_ENV_VAR])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "trove_blocks" / "tabular" / DATABASE_FILENAME


def feature_columns(n_features: int) -> list[str]:
    return [f"feature_{i}" for i in range(n_features)]


def generate_database(
    db_path: str | os.PathLike | None = None, datasets: Sequence[DatasetSpec] = DEFAULT_DATASETS
) -> Path:
    """Write a fresh database holding ``datasets`` and return its path.

    The database is built in a temporary file beside the target and renamed over it, so an existing database is
    replaced whole and a killed run never leaves a half-filled one.
    """
    names = [spec.name for spec in datasets]
    if not names:
        raise ValueError("generate_database needs at least one dataset")
    if len(set(names)) != len(names):
        raise ValueError(f"dataset names must be unique, got {names}")
    target = get_database_path(db_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.tmp-")
    os.close(fd)
    try:
        with closing(sqlite3.connect(tmp_name)) as conn:
            create_schema(conn, max(spec.n_features for spec in datasets))
            for spec in datasets:
                _insert_dataset(conn, spec)
            conn.commit()
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def populate_dataset(
    db_path: str | os.PathLike | None, dataset_name: str | DatasetSpec, *, replace: bool = False, **settings: Any
) -> int:
    """Add one dataset to a database (created when missing) in one transaction; return its ``dataset_id``.

    ``dataset_name`` is a :class:`DatasetSpec`, or a name with the spec's other fields as keywords, as the seed
    calls it: ``populate_dataset(db_path, "train_data", n_samples=800, n_features=20, n_classes=2)``.
    A dataset of the same name is an error unless ``replace``, which swaps its rows in the same transaction.
    A dataset wider than the ``features`` table adds the missing ``feature_k`` columns.
    """
    if isinstance(dataset_name, DatasetSpec):
        if settings:
            raise TypeError(f"populate_dataset: settings {sorted(settings)} given beside a DatasetSpec; put them in it")
        spec = dataset_name
    else:
        spec = DatasetSpec(dataset_name, **settings)
    path = get_database_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=60)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            create_schema(conn, spec.n_features)
            existing = conn.execute("SELECT dataset_id FROM datasets WHERE dataset_name = ?", (spec.name,)).fetchone()
            if existing and not replace:
                raise ValueError(f"Dataset '{spec.name}' already exists in database {path}; pass replace=True")
            if existing:
                conn.execute("DELETE FROM features WHERE dataset_id = ?", existing)
                conn.execute("DELETE FROM datasets WHERE dataset_id = ?", existing)
            dataset_id = _insert_dataset(conn, spec)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return dataset_id


def create_schema(conn: sqlite3.Connection, n_features: int) -> None:
    """Create the ``datasets`` and ``features`` tables and indexes; widen ``features`` to ``n_features`` columns."""
    conn.execute(DATASETS_DDL)
    columns = ",\n    ".join(f"{name} REAL" for name in feature_columns(n_features))
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS features (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL,
    sample_index INTEGER NOT NULL,
    {columns},
    target INTEGER NOT NULL,
    FOREIGN KEY (dataset_id) REFERENCES datasets(dataset_id)
)"""
    )
    present = {row[1] for row in conn.execute("PRAGMA table_info(features)")}
    for name in feature_columns(n_features):
        if name not in present:
            conn.execute(f"ALTER TABLE features ADD COLUMN {name} REAL")
    for ddl in INDEXES_DDL:
        conn.execute(ddl)


def _insert_dataset(conn: sqlite3.Connection, spec: DatasetSpec) -> int:
    X, y = make_classification(
        n_samples=spec.n_samples,
        n_features=spec.n_features,
        n_informative=spec.n_informative,
        n_redundant=spec.n_redundant,
        n_classes=spec.n_classes,
        random_state=spec.random_state,
    )
    cursor = conn.execute(
        "INSERT INTO datasets (dataset_name, n_samples, n_features, n_classes, description) VALUES (?, ?, ?, ?, ?)",
        (spec.name, spec.n_samples, spec.n_features, spec.n_classes, spec.description),
    )
    dataset_id = cursor.lastrowid
    columns = ["dataset_id", "sample_index", *feature_columns(spec.n_features), "target"]
    placeholders = ", ".join("?" * len(columns))
    conn.executemany(f"INSERT INTO features ({', '.join(columns)}) VALUES ({placeholders})", _rows(dataset_id, X, y))
    return dataset_id


def _rows(dataset_id: int, X: np.ndarray, y: np.ndarray) -> Iterator[tuple]:
    """``(dataset_id, sample_index, *features, target)`` per row, converted to Python numbers
    :data:`INSERT_ROWS` rows at a time (the whole of ``X.tolist()`` takes ~6x the array's memory)."""
    for start in range(0, len(X), INSERT_ROWS):
        block = zip(X[start : start + INSERT_ROWS].tolist(), y[start : start + INSERT_ROWS].tolist())
        for index, (features, label) in enumerate(block, start):
            yield (dataset_id, index, *features, label)


def connect_existing(db_path: str | os.PathLike | None = None) -> tuple[sqlite3.Connection, Path]:
    """A read-only connection to an existing database; :class:`DatabaseNotFoundError` when there is none."""
    path = get_database_path(db_path)
    if not path.is_file():
        command = GENERATE_COMMAND if db_path is None or path == get_database_path() else ""
        command = command or f"{GENERATE_COMMAND} --database {path}"
        raise DatabaseNotFoundError(f"Database not found at {path}. Run '{command}' first.")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        conn.close()
        raise TabularDataError(f"Database {path} cannot be read: {error}") from error
    if not {"datasets", "features"} <= tables:
        conn.close()
        raise TabularDataError(
            f"Database {path} has no datasets and features tables (found: {', '.join(sorted(tables)) or 'none'}): "
            f"not a tabular database; '{GENERATE_COMMAND} --database {path}' makes one"
        )
    return conn, path


def list_datasets(db_path: str | os.PathLike | None = None) -> list[str]:
    """Names of the datasets in the database, in creation order."""
    conn, _ = connect_existing(db_path)
    with closing(conn):
        return [row[0] for row in conn.execute("SELECT dataset_name FROM datasets ORDER BY dataset_id")]


@dataclass(frozen=True)
class DatasetInfo:
    """A ``datasets`` row."""

    dataset_id: int
    name: str
    n_samples: int
    n_features: int
    n_classes: int


def dataset_info(conn: sqlite3.Connection, path: Path, dataset_name: str) -> DatasetInfo:
    """The ``datasets`` row of ``dataset_name``; :class:`DatasetNotFoundError` listing the available names."""
    row = conn.execute(
        "SELECT dataset_id, dataset_name, n_samples, n_features, n_classes FROM datasets WHERE dataset_name = ?",
        (dataset_name,),
    ).fetchone()
    if row is None:
        available = [name for (name,) in conn.execute("SELECT dataset_name FROM datasets ORDER BY dataset_id")]
        raise DatasetNotFoundError(
            f"Dataset '{dataset_name}' not found in database {path}; available: {', '.join(available) or 'none'}"
        )
    return DatasetInfo(*row)


#: rows per array :func:`iter_row_batches` yields (one Parquet row group on export; with 20 features 11.5 MB)
ROW_BATCH = 1 << 16
#: rows per fetch from SQLite: fetched rows are Python tuples of floats (~750 bytes each with 20 features)
FETCH_ROWS = 1 << 13


def iter_row_batches(
    dataset_name: str, db_path: str | os.PathLike | None = None, batch_rows: int = ROW_BATCH
) -> tuple[DatasetInfo, Iterator[np.ndarray]]:
    """``(info, batches)``: float64 arrays of ``sample_index, feature_0.., target`` rows, ordered by
    ``sample_index``, ``batch_rows`` at a time (memory: one batch). The iterator checks at its end that it gave
    as many rows as ``datasets`` says (ValueError otherwise)."""
    conn, path = connect_existing(db_path)
    try:
        info = dataset_info(conn, path, dataset_name)
    except BaseException:
        conn.close()
        raise
    width = info.n_features + 2
    columns = ["sample_index", *feature_columns(info.n_features), "target"]

    def numbers(rows: list[tuple]) -> np.ndarray:
        """The rows as float64; TabularDataError naming the first NULL or non-number (NULL would become NaN)."""
        try:
            block = np.array(rows, dtype=np.float64).reshape(len(rows), width)
        except (TypeError, ValueError):
            block = None
        if block is not None and not np.isnan(block).any():
            return block
        for row in rows:
            for column, value in zip(columns, row):
                if not isinstance(value, (int, float)) or value != value:  # NULL, text, bytes or NaN
                    raise TabularDataError(
                        f"Dataset '{dataset_name}' in database {path}: sample_index {row[0]!r}, column {column} "
                        f"holds {value!r}, not a number"
                    )
        raise AssertionError("a row that numpy refused holds only numbers")

    def batches() -> Iterator[np.ndarray]:
        count, pending, pending_rows = 0, [], 0
        with closing(conn):
            cursor = conn.execute(
                f"SELECT {', '.join(columns)} FROM features WHERE dataset_id = ? ORDER BY sample_index",
                (info.dataset_id,),
            )
            while rows := _fetch(cursor, min(FETCH_ROWS, batch_rows - pending_rows), path):
                pending.append(numbers(rows))
                pending_rows += len(rows)
                count += len(rows)
                if pending_rows == batch_rows:
                    yield np.concatenate(pending)
                    pending, pending_rows = [], 0
        if pending:
            yield np.concatenate(pending)
        if count != info.n_samples:
            raise ValueError(
                f"Dataset '{dataset_name}' in database {path}: datasets says {info.n_samples} samples, "
                f"features has {count} rows"
            )

    return info, batches()


def _fetch(cursor: sqlite3.Cursor, count: int, path: Path) -> list[tuple]:
    """``cursor.fetchmany(count)``; a damaged database file is a TabularDataError naming it."""
    try:
        return cursor.fetchmany(count)
    except sqlite3.DatabaseError as error:
        raise TabularDataError(f"Database {path} cannot be read: {error}") from error


def load_rows(
    dataset_name: str, db_path: str | os.PathLike | None = None
) -> tuple[DatasetInfo, np.ndarray, np.ndarray, np.ndarray]:
    """``(info, sample_index, X, y)`` of one dataset, ordered by ``sample_index`` (int64, float64, int64)."""
    info, batches = iter_row_batches(dataset_name, db_path)
    table = np.concatenate([np.empty((0, info.n_features + 2)), *batches])
    return info, table[:, 0].astype(np.int64), table[:, 1:-1].copy(), table[:, -1].astype(np.int64)


def load_data(dataset_name: str = "classification_data", db_path: str | os.PathLike | None = None):
    """``(X, y)`` of one dataset: X float64 (n_samples, n_features), y int64 (n_samples,), by ``sample_index``."""
    _, _, X, y = load_rows(dataset_name, db_path)
    return X, y

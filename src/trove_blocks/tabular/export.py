"""Export a dataset to Parquet for a feature store (Feast ``FileSource``), atomically.

The file has ``sample_index`` (int64, the entity join key), ``feature_0 .. feature_{n-1}`` (float64), ``target``
(int64) and ``ingested_at`` (``timestamp[us, tz=UTC]``, the same instant on every row: Feast's
``timestamp_field``). A Feast definition would read it as::

    FileSource(path=str(parquet_path), timestamp_field="ingested_at")
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from trove_blocks.io import atomic_output
from trove_blocks.tabular.database import feature_columns, get_database_path, load_rows

INGESTED_AT = "ingested_at"


def export_to_parquet(
    dataset_name: str = "classification_data",
    db_path: str | os.PathLike | None = None,
    output_path: str | os.PathLike | None = None,
    ingested_at: datetime | None = None,
) -> Path:
    """Write ``dataset_name`` to Parquet and return the path (default ``<database folder>/<dataset_name>.parquet``).

    ``ingested_at`` defaults to now (UTC); a naive datetime is taken as UTC.
    """
    info, sample_index, X, y = load_rows(dataset_name, db_path)
    stamp = ingested_at or datetime.now(timezone.utc)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    columns = {"sample_index": pa.array(sample_index, pa.int64())}
    for i, name in enumerate(feature_columns(info.n_features)):
        columns[name] = pa.array(X[:, i], pa.float64())
    columns["target"] = pa.array(y, pa.int64())
    columns[INGESTED_AT] = pa.array([stamp] * len(y), pa.timestamp("us", tz="UTC"))
    table = pa.table(columns)
    path = Path(output_path) if output_path else get_database_path(db_path).parent / f"{dataset_name}.parquet"
    with atomic_output(path, "wb") as handle:
        pq.write_table(table, handle)
    return path

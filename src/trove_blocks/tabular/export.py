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

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trove_blocks.io import atomic_output
from trove_blocks.tabular.database import feature_columns, get_database_path, iter_row_batches

INGESTED_AT = "ingested_at"


def export_to_parquet(
    dataset_name: str = "classification_data",
    db_path: str | os.PathLike | None = None,
    output_path: str | os.PathLike | None = None,
    ingested_at: datetime | None = None,
) -> Path:
    """Write ``dataset_name`` to Parquet and return the path (default ``<database folder>/<dataset_name>.parquet``).

    ``ingested_at`` defaults to now (UTC); a naive datetime is taken as UTC. Rows are streamed one batch
    (:data:`~trove_blocks.tabular.database.ROW_BATCH` rows, one row group) at a time: memory does not grow with the
    dataset.
    """
    info, batches = iter_row_batches(dataset_name, db_path)
    stamp = ingested_at or datetime.now(timezone.utc)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    schema = pa.schema(
        [pa.field("sample_index", pa.int64())]
        + [pa.field(name, pa.float64()) for name in feature_columns(info.n_features)]
        + [pa.field("target", pa.int64()), pa.field(INGESTED_AT, pa.timestamp("us", tz="UTC"))]
    )
    path = Path(output_path) if output_path else get_database_path(db_path).parent / f"{dataset_name}.parquet"
    with atomic_output(path, "wb") as handle, pq.ParquetWriter(handle, schema) as writer:
        for rows in batches:
            columns = [pa.array(rows[:, 0].astype(np.int64))]
            columns += [pa.array(rows[:, 1 + i]) for i in range(info.n_features)]
            columns += [
                pa.array(rows[:, -1].astype(np.int64)),
                pa.repeat(pa.scalar(stamp, schema.field(-1).type), len(rows)),
            ]
            writer.write_batch(pa.record_batch(columns, schema=schema))
    return path

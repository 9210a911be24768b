"""Round trip generate -> load -> export -> read Parquet, and the Feast-facing ingested_at column."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trove_blocks.tabular import DatasetSpec, export_to_parquet, generate_database, load_data

SPECS = (DatasetSpec("binary", n_samples=120), DatasetSpec("five", n_samples=60, n_classes=5, random_state=3))


def test_round_trip_generate_load_export_read(tmp_path):
    db = generate_database(tmp_path / "db" / "sample.db", SPECS)
    for spec in SPECS:
        X, y = load_data(spec.name, db)
        path = export_to_parquet(spec.name, db)
        assert path == tmp_path / "db" / f"{spec.name}.parquet"
        table = pq.read_table(path)
        features = np.column_stack([table[f"feature_{i}"].to_numpy() for i in range(spec.n_features)])
        assert np.array_equal(features, X)
        assert np.array_equal(table["target"].to_numpy(), y)
        assert table["sample_index"].to_pylist() == list(range(spec.n_samples))


def test_ingested_at_is_a_utc_event_timestamp(tmp_path):
    db = generate_database(tmp_path / "sample.db", SPECS[:1])
    stamp = datetime(2025, 11, 8, 12, 27, 46, tzinfo=timezone.utc)
    path = export_to_parquet("binary", db, tmp_path / "feast" / "binary.parquet", ingested_at=stamp)
    schema = pq.read_schema(path)
    assert schema.field("ingested_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("sample_index").type == pa.int64() and schema.field("target").type == pa.int64()
    frame = pq.read_table(path).to_pandas()  # how Feast's file offline store reads a FileSource
    assert str(frame["ingested_at"].dtype) == "datetime64[us, UTC]"
    assert (frame["ingested_at"] == stamp).all()
    assert [p.name for p in path.parent.iterdir()] == ["binary.parquet"]  # written atomically, no temp left


def test_export_streams_batches_into_row_groups(tmp_path, monkeypatch):
    """Rows go out a batch at a time (one row group each) and come back equal, in sample_index order."""
    import functools

    from trove_blocks.tabular import database, export

    db = generate_database(tmp_path / "sample.db", SPECS[:1])
    whole = pq.read_table(export_to_parquet("binary", db, tmp_path / "whole.parquet"))
    monkeypatch.setattr(export, "iter_row_batches", functools.partial(database.iter_row_batches, batch_rows=7))
    path = export_to_parquet("binary", db, tmp_path / "batched.parquet")
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-SPECS[0].n_samples // 7)
    batched = pq.read_table(path)
    assert batched.drop_columns(["ingested_at"]).equals(whole.drop_columns(["ingested_at"]))
    info, batches = database.iter_row_batches("binary", db, batch_rows=50)
    assert [len(batch) for batch in batches] == [50, 50, 20] and info.n_samples == 120


def test_a_row_count_that_disagrees_with_datasets_is_an_error_and_no_file(tmp_path):
    import sqlite3

    db = generate_database(tmp_path / "sample.db", SPECS[:1])
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM features WHERE sample_index = 5")
    target = tmp_path / "feast" / "binary.parquet"
    with pytest.raises(ValueError, match="datasets says 120 samples, features has 119 rows"):
        export_to_parquet("binary", db, target)
    assert not target.exists() and not list(target.parent.glob("*"))

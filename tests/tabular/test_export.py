"""Round trip generate -> load -> export -> read Parquet, and the Feast-facing ingested_at column."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

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

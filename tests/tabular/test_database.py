"""The tabular SQLite store: schema and indexes, several datasets, load_data, the seed's errors, database path."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from trove_blocks.tabular import (
    DATABASE_ENV_VAR,
    DatabaseNotFoundError,
    DatasetNotFoundError,
    DatasetSpec,
    TabularDataError,
    database,
    generate_database,
    get_database_path,
    list_datasets,
    load_data,
    make_classification,
    populate_dataset,
)

SMALL = (
    DatasetSpec("train_data", n_samples=80, random_state=1),
    DatasetSpec("test_data", n_samples=20, n_features=8, n_informative=4, n_redundant=2, n_classes=3, random_state=2),
)


def test_schema_and_indexes(tmp_path):
    db = generate_database(tmp_path / "sample.db", SMALL)
    conn = sqlite3.connect(db)
    datasets = [row[1] for row in conn.execute("PRAGMA table_info(datasets)")]
    features = [row[1] for row in conn.execute("PRAGMA table_info(features)")]
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(features)")}
    foreign = conn.execute("PRAGMA foreign_key_list(features)").fetchall()
    rows = conn.execute("SELECT dataset_name, n_samples, n_features, n_classes FROM datasets").fetchall()
    conn.close()
    assert datasets == [
        "dataset_id",
        "dataset_name",
        "n_samples",
        "n_features",
        "n_classes",
        "description",
        "created_at",
    ]
    assert features == ["id", "dataset_id", "sample_index", *[f"feature_{i}" for i in range(20)], "target"]
    assert {"idx_dataset_sample", "idx_dataset"} <= indexes
    assert foreign[0][2:5] == ("datasets", "dataset_id", "dataset_id")
    assert rows == [("train_data", 80, 20, 2), ("test_data", 20, 8, 3)]


@pytest.mark.parametrize("insert_rows", [8192, 7])
def test_load_data_returns_the_generated_arrays(tmp_path, monkeypatch, insert_rows):
    """Also when the rows are handed to SQLite in blocks that do not divide the row count."""
    monkeypatch.setattr(database, "INSERT_ROWS", insert_rows)
    db = generate_database(tmp_path / "sample.db", SMALL)
    for spec in SMALL:
        X, y = load_data(spec.name, db)
        expected_X, expected_y = make_classification(
            spec.n_samples, spec.n_features, spec.n_informative, spec.n_redundant, spec.n_classes, spec.random_state
        )
        assert X.dtype == np.float64 and y.dtype == np.int64
        assert np.array_equal(X, expected_X) and np.array_equal(y, expected_y)
    assert list_datasets(db) == ["train_data", "test_data"]


def test_load_data_orders_by_sample_index(tmp_path):
    db = generate_database(tmp_path / "sample.db", SMALL[:1])
    expected_X, _ = load_data("train_data", db)
    conn = sqlite3.connect(db)  # store the rows in reverse: load_data must still return sample order
    conn.execute("CREATE TABLE shuffled AS SELECT * FROM features ORDER BY sample_index DESC")
    conn.execute("DELETE FROM features")
    conn.execute("INSERT INTO features SELECT * FROM shuffled")
    conn.commit()
    conn.close()
    X, _ = load_data("train_data", db)
    assert np.array_equal(X, expected_X)


def test_missing_dataset_lists_the_available_ones(tmp_path):
    db = generate_database(tmp_path / "sample.db", SMALL)
    with pytest.raises(DatasetNotFoundError) as error:
        load_data("val_data", db)
    assert str(error.value) == f"Dataset 'val_data' not found in database {db}; available: train_data, test_data"


def test_a_value_that_is_not_a_number_is_named_not_turned_into_nan(tmp_path):
    db = generate_database(tmp_path / "sample.db", SMALL)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE features SET feature_5 = NULL WHERE sample_index = 58 AND dataset_id = 1")
    conn.close()
    with pytest.raises(
        TabularDataError, match=r"'train_data' in database .*: sample_index 58, column feature_5 holds None"
    ):
        load_data("train_data", db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE features SET feature_3 = 'n/a' WHERE sample_index = 7 AND dataset_id = 2")
    conn.close()
    with pytest.raises(TabularDataError, match=r"'test_data' .*: sample_index 7, column feature_3 holds 'n/a'"):
        load_data("test_data", db)


def test_damaged_or_foreign_databases_are_named(tmp_path):
    db = generate_database(tmp_path / "sample.db", SMALL)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(db.read_bytes()[:8192])
    with pytest.raises(TabularDataError, match=f"Database {damaged} cannot be read: "):
        load_data("train_data", damaged)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE posts (id TEXT)").connection.close()
    with pytest.raises(TabularDataError, match="has no datasets and features tables \\(found: posts\\)"):
        list_datasets(foreign)


def test_missing_database_says_how_to_generate_it(tmp_path, monkeypatch):
    monkeypatch.setenv(DATABASE_ENV_VAR, str(tmp_path / "env.db"))
    with pytest.raises(DatabaseNotFoundError) as error:
        load_data()
    assert str(error.value) == (
        f"Database not found at {tmp_path / 'env.db'}. Run 'python pipelines/generate_tabular.py' first."
    )
    with pytest.raises(FileNotFoundError, match=r"--database .*elsewhere\.db' first\."):
        load_data("x", tmp_path / "elsewhere.db")
    assert not (tmp_path / "elsewhere.db").exists()


def test_database_path_argument_then_env_then_default(tmp_path, monkeypatch):
    monkeypatch.delenv(DATABASE_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert get_database_path() == tmp_path / "cache" / "trove_blocks" / "tabular" / "sample_data.db"
    monkeypatch.setenv(DATABASE_ENV_VAR, str(tmp_path / "env.db"))
    assert get_database_path() == tmp_path / "env.db"
    assert get_database_path(tmp_path / "arg.db") == tmp_path / "arg.db"
    generate_database(datasets=SMALL[:1])
    assert load_data("train_data")[0].shape == (80, 20)


def test_populate_adds_replaces_and_widens(tmp_path):
    db = tmp_path / "sample.db"
    populate_dataset(db, SMALL[1])
    populate_dataset(db, DatasetSpec("wide", n_samples=10, n_features=25, random_state=3))
    assert load_data("wide", db)[0].shape == (10, 25)
    assert load_data("test_data", db)[0].shape == (20, 8)
    with pytest.raises(ValueError, match="Dataset 'wide' already exists"):
        populate_dataset(db, DatasetSpec("wide", n_samples=5))
    populate_dataset(db, DatasetSpec("wide", n_samples=5, n_features=25), replace=True)
    assert load_data("wide", db)[0].shape == (5, 25)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM features").fetchone() == (25,)
    conn.close()


def test_populate_takes_the_seeds_name_and_keyword_settings(tmp_path):
    """The seed's calls: a name and the generator's settings as keywords, positional or by keyword."""
    db = tmp_path / "sample.db"
    populate_dataset(db, "train_data", n_samples=80, n_features=20, n_classes=2, random_state=1)
    populate_dataset(db_path=db, dataset_name="multiclass_data", n_samples=30, n_classes=5, random_state=42)
    X, y = load_data("train_data", db)
    expected = make_classification(80, 20, n_informative=10, n_redundant=5, n_classes=2, random_state=1)
    np.testing.assert_array_equal(X, expected[0])
    assert set(load_data("multiclass_data", db)[1]) == set(range(5))
    with pytest.raises(TypeError, match="beside a DatasetSpec"):
        populate_dataset(db, DatasetSpec("other"), n_samples=5)


def test_generate_replaces_an_existing_database_whole(tmp_path):
    db = generate_database(tmp_path / "sample.db", SMALL)
    generate_database(db, [DatasetSpec("only", n_samples=5)])
    assert list_datasets(db) == ["only"]
    assert [p.name for p in tmp_path.iterdir()] == ["sample.db"]  # no temporary file left behind

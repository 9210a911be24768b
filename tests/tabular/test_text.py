"""Tabular rows as text (trove_blocks.tabular.text): the SQL that SQLite runs to turn a generated dataset's rows
into ``{id, text, dataset_name, sample_index, target}`` documents, checked against the stored numbers."""

from __future__ import annotations

import re
import sqlite3

import numpy as np
import pytest

from trove_blocks.readers.sqlite import SQLiteReader
from trove_blocks.tabular import DatasetSpec, generate_database
from trove_blocks.tabular.database import dataset_info, load_rows
from trove_blocks.tabular.text import DOCUMENT_METADATA_COLUMNS, documents_query, row_text_sql

SPECS = (
    DatasetSpec("small", n_samples=30, n_features=6, random_state=3),
    DatasetSpec("wide", n_samples=12, n_features=130, n_informative=20, n_redundant=5, n_classes=3, random_state=4),
)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return generate_database(tmp_path_factory.mktemp("tabular") / "data.db", SPECS)


def query_rows(database, name: str) -> list[dict]:
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        info = dataset_info(connection, database, name)
        rows = connection.execute(documents_query(info), {"lo": 0, "hi": 2**62}).fetchall()
    finally:
        connection.close()
    return [dict(row) for row in rows]


@pytest.mark.parametrize("name", ["small", "wide"])
def test_each_row_is_a_document_whose_text_holds_every_value_to_six_significant_digits(database, name):
    info, sample_index, features, target = load_rows(name, database)
    rows = query_rows(database, name)
    assert list(rows[0]) == ["id", "text", *DOCUMENT_METADATA_COLUMNS]
    assert len(rows) == info.n_samples
    assert [row["id"] for row in rows] == [f"{name}/{i}" for i in sample_index]
    assert [row["sample_index"] for row in rows] == sample_index.tolist()
    assert [row["target"] for row in rows] == target.tolist() and {row["dataset_name"] for row in rows} == {name}
    for row, values, label in zip(rows, features, target):
        pairs = [part.split(": ") for part in row["text"].split(", ")]
        assert [key for key, _ in pairs] == [f"feature_{i}" for i in range(info.n_features)] + ["target"]
        numbers = np.array([float(value) for _, value in pairs[:-1]])
        np.testing.assert_allclose(numbers, values, rtol=5e-6, atol=0)
        assert pairs[-1][1] == str(label)
        assert all(len(re.sub(r"[^0-9]", "", value.split("e")[0]).lstrip("0")) <= 6 for _, value in pairs)


def test_the_rowid_bounds_cut_the_rows_without_overlap(database):
    connection = sqlite3.connect(database)
    try:
        info = dataset_info(connection, database, "small")
        query = documents_query(info)
        low, high = connection.execute(
            "SELECT min(rowid), max(rowid) + 1 FROM features WHERE dataset_id = ?", (info.dataset_id,)
        ).fetchone()
        middle = (low + high) // 2
        first = [row[0] for row in connection.execute(query, {"lo": low, "hi": middle})]
        second = [row[0] for row in connection.execute(query, {"lo": middle, "hi": high})]
    finally:
        connection.close()
    assert first and second and not set(first) & set(second)
    assert first + second == [row["id"] for row in query_rows(database, "small")]


def test_row_text_sql_chains_concatenations_past_printfs_argument_limit():
    sql = row_text_sql(200, table_alias="t")
    assert sql.count("printf(") == 201 and "printf('%.6g', t.feature_199)" in sql and sql.endswith("t.target)")
    assert all(part.count(",") <= 2 for part in re.findall(r"printf\([^)]*\)", sql))  # one value per printf


def test_sqlite_reader_reads_the_documents_of_every_task_once(database):
    connection = sqlite3.connect(database)
    info = dataset_info(connection, database, "small")
    connection.close()
    documents = []
    for rank in range(3):
        reader = SQLiteReader(
            database,
            query=documents_query(info),
            rowid_table="features",
            metadata_columns=list(DOCUMENT_METADATA_COLUMNS),
        )
        documents += list(reader.run(None, rank, 3))
    expected = query_rows(database, "small")
    assert [(d.id, d.text, d.metadata["target"]) for d in documents] == [
        (r["id"], r["text"], r["target"]) for r in expected
    ]

"""pipelines/generate_tabular.py and pipelines/export_tabular.py run as a user runs them (subprocess)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pyarrow.parquet as pq
import pytest

from trove_blocks.tabular import list_datasets, load_data


def generate(script, db, *datasets):
    args = ["--database", db]
    for spec in datasets:
        args += ["--dataset", spec]
    done = script("pipelines/generate_tabular.py", *args)
    assert done.returncode == 0, done.stderr
    return done


def exported_documents(folder):
    return [json.loads(line) for file in sorted(folder.glob("*.jsonl")) for line in file.open()]


def test_help_shows_defaults(script):
    for name in ("generate_tabular", "export_tabular"):
        done = script(f"pipelines/{name}.py", "--help")
        assert done.returncode == 0
        assert "--database" in done.stdout and "(default:" in done.stdout
    assert "--executor" in script("pipelines/export_tabular.py", "--help").stdout


def test_generate_then_export_over_three_tasks(script, tmp_path):
    db, out = tmp_path / "sample.db", tmp_path / "out"
    done = generate(script, db, "small,n_samples=90", "multi,n_samples=40,n_classes=4,n_features=12,random_state=5")
    assert "rows: 130" in done.stdout
    assert list_datasets(db) == ["small", "multi"]
    documents_db = out / "documents.db"
    done = script(
        "pipelines/export_tabular.py",
        *("--database", db, "--output", out, "--documents-db", documents_db),
        *("--tasks", "3", "--workers", "3", "--logging-dir", out / "logs"),
    )
    assert done.returncode == 0, done.stderr
    assert "documents_read: 130" in done.stdout and "documents_written: 130" in done.stdout
    assert "documents_in_sqlite: 130" in done.stdout
    conn = sqlite3.connect(documents_db)  # three ranks wrote one database at once
    assert conn.execute("SELECT count(*), count(DISTINCT id), sum(target IS NULL) FROM documents").fetchone() == (
        130,
        130,
        0,
    )
    conn.close()
    docs = exported_documents(out / "documents")
    assert sorted(doc["id"] for doc in docs) == sorted(
        [f"small/{i}" for i in range(90)] + [f"multi/{i}" for i in range(40)]
    )
    X, y = load_data("multi", db)
    multi_3 = next(doc for doc in docs if doc["id"] == "multi/3")
    assert multi_3["metadata"]["target"] == y[3]
    assert multi_3["text"].startswith(f"feature_0: {X[3, 0]:.6g}, feature_1: {X[3, 1]:.6g}")
    assert multi_3["text"].endswith(f"feature_11: {X[3, 11]:.6g}, target: {y[3]}")
    table = pq.read_table(out / "feast" / "multi.parquet")
    assert np.array_equal(table["feature_11"].to_numpy(), X[:, 11])


def test_a_reexport_after_the_database_changed_keeps_nothing_of_the_earlier_one(script, tmp_path):
    db, out = tmp_path / "sample.db", tmp_path / "out"
    generate(script, db, "a,n_samples=30", "b,n_samples=20")
    export = ("pipelines/export_tabular.py", "--database", db, "--output", out, "--documents-db", out / "docs.db")
    assert script(*export).returncode == 0
    assert sorted(p.name for p in (out / "feast").iterdir()) == ["a.parquet", "b.parquet"]
    generate(script, db, "a,n_samples=10")  # the database now holds dataset a alone, with 10 rows
    again = script(*export)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "documents_in_sqlite: 10" in again.stdout
    with sqlite3.connect(out / "docs.db") as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (10,)
    assert sorted(p.name for p in (out / "feast").iterdir()) == ["a.parquet"]
    assert sorted(doc["id"] for doc in exported_documents(out / "documents")) == sorted(f"a/{i}" for i in range(10))


def test_export_errors_are_usage_errors(script, tmp_path):
    missing = script("pipelines/export_tabular.py", "--database", tmp_path / "none.db", "--output", tmp_path)
    assert missing.returncode == 2
    assert f"Database not found at {tmp_path / 'none.db'}" in missing.stderr
    db = tmp_path / "sample.db"
    generate(script, db, "small,n_samples=10")
    unknown = script("pipelines/export_tabular.py", "--database", db, "--dataset", "other", "--output", tmp_path)
    assert unknown.returncode == 2
    assert "Dataset 'other' not found in database" in unknown.stderr and "available: small" in unknown.stderr
    same = script("pipelines/export_tabular.py", "--database", db, "--output", tmp_path, "--documents-db", db)
    assert same.returncode == 2 and "that is the --database read" in same.stderr
    bad_spec = script("pipelines/generate_tabular.py", "--database", db, "--dataset", "x,n_rows=3")
    assert bad_spec.returncode == 2 and "'n_rows=3' is not key=value" in bad_spec.stderr


@pytest.mark.slurm
def test_export_on_slurm(script, tmp_path, slurm_cluster):
    db, out = tmp_path / "sample.db", tmp_path / "out"
    generate(script, db, "small,n_samples=200")
    done = script(
        "pipelines/export_tabular.py",
        "--database",
        db,
        "--output",
        out,
        "--documents-db",
        out / "documents.db",
        "--tasks",
        "2",
        "--executor",
        "slurm",
        "--wait",
        "--logging-dir",
        out / "logs",
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "documents_written: 200" in done.stdout
    docs = exported_documents(out / "documents")
    assert sorted(doc["id"] for doc in docs) == sorted(f"small/{i}" for i in range(200))
    assert len(list((out / "documents").glob("*.jsonl"))) == 2
    conn = sqlite3.connect(out / "documents.db")
    assert conn.execute("SELECT count(*), count(DISTINCT id) FROM documents").fetchone() == (200, 200)
    conn.close()

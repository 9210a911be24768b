"""The SynSQL-shaped sample folder (trove_blocks.synsql.sample) built from the real SynSQL and Spider slices:
records unchanged or converted to SynSQL's 7 keys, complexity labels from a query's shape, empty databases."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from trove_blocks.synsql.records import DEFAULT_DIFFICULTY
from trove_blocks.synsql.sample import (
    build_sample_dir,
    create_database,
    sample_records,
    sample_tables,
    spider_complexity,
    spider_to_synsql,
)

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"
SYNSQL = json.loads((REAL_DIR / "synsql_data_sample.json").read_text(encoding="utf-8"))
SPIDER = json.loads((REAL_DIR / "spider_dev_slice.json").read_text(encoding="utf-8"))
SYNSQL_KEYS = ["db_id", "sql_complexity", "question_style", "question", "external_knowledge", "cot", "sql"]


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("SELECT count(*) FROM singer", "Simple"),
        ("SELECT T2.name FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id", "Moderate"),
        ("SELECT country, count(*) FROM singer GROUP BY country", "Moderate"),
        ("SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)", "Complex"),
        # the second SELECT of a set operation is not nesting: one UNION alone is one "Complex" feature
        ("SELECT name FROM singer UNION SELECT name FROM stadium", "Complex"),
        ("SELECT a FROM t WHERE b IN (SELECT b FROM u) EXCEPT SELECT a FROM v", "Highly Complex"),
        ("SELECT a FROM t JOIN u ON t.x = u.x JOIN v ON u.y = v.y WHERE a IN (SELECT a FROM w)", "Highly Complex"),
    ],
)
def test_spider_complexity_ranks_nesting_and_set_operations_over_joins_over_plain(query, label):
    assert spider_complexity(query) == label


def test_spider_questions_become_synsql_records_with_the_seven_keys_in_order():
    for question in SPIDER:
        record = spider_to_synsql(question)
        assert list(record) == SYNSQL_KEYS
        assert (record["db_id"], record["question"], record["sql"]) == (
            question["db_id"],
            question["question"],
            question["query"],
        )
        assert record["sql_complexity"] in DEFAULT_DIFFICULTY and record["cot"] == ""
        assert record["question_style"] == ("Interrogative" if question["question"].endswith("?") else "Imperative")
    assert {spider_to_synsql(q)["question_style"] for q in SPIDER} == {"Interrogative", "Imperative"}


def test_sample_records_are_the_synsql_records_unchanged_then_the_converted_spider_questions():
    records = sample_records(REAL_DIR)
    assert records[: len(SYNSQL)] == SYNSQL
    assert records[len(SYNSQL) :] == [spider_to_synsql(q) for q in SPIDER]
    assert all(list(r) == SYNSQL_KEYS for r in records)


def test_every_record_has_a_tables_entry():
    tables = sample_tables(REAL_DIR)
    db_ids = [entry["db_id"] for entry in tables]
    assert len(db_ids) == len(set(db_ids))
    assert {r["db_id"] for r in sample_records(REAL_DIR)} <= set(db_ids)


def test_build_sample_dir_writes_the_files_and_an_empty_database_per_entry(tmp_path):
    counts = build_sample_dir(REAL_DIR, tmp_path, with_databases=True)
    records = json.loads((tmp_path / "data.json").read_text(encoding="utf-8"))
    tables = json.loads((tmp_path / "tables.json").read_text(encoding="utf-8"))
    assert (
        counts
        == {"records": len(records), "databases": len(tables)}
        == {
            "records": len(SYNSQL) + len(SPIDER),
            "databases": len(tables),
        }
    )
    for entry in tables:
        path = tmp_path / "databases" / entry["db_id"] / f"{entry['db_id']}.sqlite"
        connection = sqlite3.connect(path)
        try:
            names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            assert {n.lower() for n in names} == {
                t.lower() for t in entry["table_names_original"] if not t.lower().startswith("sqlite_")
            }
            assert all(connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] == 0 for n in names)
        finally:
            connection.close()


def test_build_sample_dir_without_databases_writes_none(tmp_path):
    build_sample_dir(REAL_DIR, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json", "tables.json"]


def test_create_database_replaces_an_existing_file(tmp_path):
    entry = next(e for e in sample_tables(REAL_DIR) if e["db_id"] == "concert_singer")
    path = create_database(entry, tmp_path)
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO singer (Singer_ID, Name) VALUES (1, 'Joe Sharp')")
    connection.commit()
    connection.close()
    assert create_database(entry, tmp_path) == path
    connection = sqlite3.connect(path)
    assert connection.execute("SELECT count(*) FROM singer").fetchone()[0] == 0
    connection.close()

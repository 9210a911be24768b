"""SqlExecutionFilter (trove_blocks.filters.sql_execution, --check-sql): each record's SQL runs read-only on its
real (empty) SQLite database; broken, writing, slow queries and missing databases are dropped with their reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.filters.sql_execution import SqlExecutionFilter
from trove_blocks.synsql.sample import sample_records
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"


def test_check_sql_keeps_real_queries_and_drops_broken_ones(concert_doc, synsql_document, synsql_sample):
    good = sample_records(REAL_DIR)
    concert = next(r for r in good if r["db_id"] == "concert_singer")
    bad = [{**concert, "sql": "SELECT missing_column FROM singer"}, {**concert, "sql": "DELETE FROM singer"}]
    docs = [synsql_document(r, i) for i, r in enumerate(good + bad)]
    step = SqlExecutionFilter(str(synsql_sample / "databases"), timeout_seconds=2)
    kept = list(step.run(iter(docs)))
    assert len(kept) == len(good)
    assert step.stats["dropped_sql_error"].total == 1 and step.stats["dropped_sql_not_read_only"].total == 1


@pytest.fixture
def concert_doc(synsql_document):
    """``concert_doc(sql, i, db_id)``: the real concert_singer record with another SQL (and db_id)."""
    record = next(r for r in sample_records(REAL_DIR) if r["db_id"] == "concert_singer")

    def make(sql: str, i: int = 0, db_id: str = "concert_singer") -> Document:
        return synsql_document({**record, "db_id": db_id, "sql": sql}, i)

    return make


def test_each_reason_is_given_with_the_sqlite_message_and_counted(concert_doc, synsql_sample, tmp_path):
    docs = [
        concert_doc("SELECT count(*) FROM singer", 0),
        concert_doc("SELECT missing_column FROM singer", 1),
        concert_doc("UPDATE singer SET Age = 1", 2),
        concert_doc("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n", 3),
        concert_doc("SELECT 1", 4, db_id="no_such_db"),
    ]
    excluded = AtomicJsonlWriter(str(tmp_path / "excluded"))
    step = SqlExecutionFilter(str(synsql_sample / "databases"), timeout_seconds=0.3, exclusion_writer=excluded)
    kept = list(step.run(iter(docs)))
    assert [doc.id for doc in kept] == ["d/0"]
    lines = [json.loads(line) for line in (tmp_path / "excluded" / "00000.jsonl").read_text().splitlines()]
    assert [(line["id"], line["metadata"]["filter_reason"]) for line in lines] == [
        ("d/1", "sql_error"),
        ("d/2", "sql_not_read_only"),
        ("d/3", "sql_timeout"),
        ("d/4", "database_missing"),
    ]
    reasons = ("sql_error", "sql_not_read_only", "sql_timeout", "database_missing")
    assert [step.stats[f"dropped_{reason}"].total for reason in reasons] == [1, 1, 1, 1]
    assert "no such column: missing_column" in docs[1].metadata["sql_error"]
    assert "not authorized" in docs[2].metadata["sql_error"]
    assert docs[4].metadata["sql_error"].endswith("no_such_db/no_such_db.sqlite")
    assert "sql_error" not in docs[0].metadata
    assert step.stats["total"].total == len(docs) == step.stats["forwarded"].total + step.stats["dropped"].total


def test_the_database_is_left_unchanged_by_a_refused_write(concert_doc, synsql_sample):
    database = synsql_sample / "databases" / "concert_singer" / "concert_singer.sqlite"
    before = database.read_bytes()
    docs = [concert_doc("INSERT INTO singer (Singer_ID, Name) VALUES (99, 'x')"), concert_doc("DROP TABLE singer")]
    step = SqlExecutionFilter(str(synsql_sample / "databases"))
    assert list(step.run(iter(docs))) == []
    assert step.stats["dropped_sql_not_read_only"].total == 2
    assert database.read_bytes() == before


def test_rows_of_a_multi_line_query_are_counted_and_its_record_not_rewritten(concert_doc, synsql_sample):
    multi_line = "SELECT 1\n  UNION ALL\n\tSELECT 2\nUNION ALL SELECT 3"
    step = SqlExecutionFilter(str(synsql_sample / "databases"))
    kept = list(step.run(iter([concert_doc(multi_line)])))
    assert len(kept) == 1 and step.stats["sql_rows"].total == 3
    assert kept[0].metadata["sql"] == multi_line  # the record itself is not rewritten here


def test_two_statements_in_one_record_are_an_sql_error(concert_doc, synsql_sample):
    doc = concert_doc("SELECT 1; SELECT 2")
    step = SqlExecutionFilter(str(synsql_sample / "databases"))
    assert list(step.run(iter([doc]))) == []
    assert step.stats["dropped_sql_error"].total == 1 and doc.metadata["sql_error"]

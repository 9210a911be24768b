"""SqlExecutionFilter (trove_blocks.filters.sql_execution, --check-sql): each record's SQL runs read-only on its
real (empty) SQLite database; broken, writing, slow queries and missing databases are dropped with their reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.filters.sql_execution import SqlExecutionFilter
from trove_blocks.synsql.sample import build_sample_dir, sample_records

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("synsql")
    build_sample_dir(REAL_DIR, root, with_databases=True)
    return root


def as_doc(record: dict, i: int) -> Document:
    fields = dict(record)
    question = fields.pop("question", "")
    return Document(text=question if isinstance(question, str) else "", id=f"d/{i}", metadata=fields)


def test_check_sql_keeps_real_queries_and_drops_broken_ones(sample):
    good = sample_records(REAL_DIR)
    concert = next(r for r in good if r["db_id"] == "concert_singer")
    bad = [{**concert, "sql": "SELECT missing_column FROM singer"}, {**concert, "sql": "DELETE FROM singer"}]
    docs = [as_doc(r, i) for i, r in enumerate(good + bad)]
    step = SqlExecutionFilter(str(sample / "databases"), timeout_seconds=2)
    kept = list(step.run(iter(docs)))
    assert len(kept) == len(good)
    assert step.stats["dropped_sql_error"].total == 1 and step.stats["dropped_sql_not_read_only"].total == 1

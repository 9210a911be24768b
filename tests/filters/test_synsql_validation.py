"""SynsqlRecordFilter (trove_blocks.filters.synsql_validation) on real SynSQL and Spider records: unusable records
are dropped with their reason, to the exclusion writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.filters.synsql_validation import SynsqlRecordFilter
from trove_blocks.synsql.sample import build_sample_dir, sample_records
from trove_blocks.synsql.schema import iter_table_entries, render_schema, schema_line
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("synsql")
    build_sample_dir(REAL_DIR, root)
    with open(root / "schemas.jsonl", "wb") as out:
        for entry in iter_table_entries(root / "tables.json"):
            out.write(schema_line(entry["db_id"], render_schema(entry, "compact")))
    return root


def as_doc(record: dict, i: int) -> Document:
    fields = dict(record)
    question = fields.pop("question", "")
    return Document(text=question if isinstance(question, str) else "", id=f"d/{i}", metadata=fields)


def test_validation_reasons_go_to_the_exclusion_writer(sample, tmp_path):
    good = sample_records(REAL_DIR)
    bad = [
        {**good[0], "db_id": "nope"},
        {**good[1], "sql_complexity": "Easy"},
        {k: v for k, v in good[2].items() if k != "sql"},
    ]
    docs = [as_doc(r, i) for i, r in enumerate(good + bad)]
    excluded = AtomicJsonlWriter(str(tmp_path / "ex"), tally_keys=("filter_reason",), tally_folder=str(tmp_path / "c"))
    kept = list(SynsqlRecordFilter(str(sample / "schemas.jsonl"), exclusion_writer=excluded).run(iter(docs)))
    assert len(kept) == len(good)
    tally = json.loads((tmp_path / "c" / "00000.json").read_text())["by"]
    assert tally == {"unknown_db_id": 1, "unknown_sql_complexity": 1, "missing_sql": 1}
    lines = (tmp_path / "ex" / "00000.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["metadata"]["filter_reason"] == "unknown_db_id"

"""SynSQL taggers (trove_blocks.taggers.synsql) on real SynSQL and Spider records: the difficulty label and the
schema merged in by db_id, metadata only."""

from __future__ import annotations

from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.synsql.sample import build_sample_dir, sample_records
from trove_blocks.synsql.schema import iter_table_entries, render_schema, schema_line
from trove_blocks.taggers.synsql import DifficultyTagger, SchemaMerger

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


def test_difficulty_and_schema_taggers(sample):
    docs = [as_doc(r, i) for i, r in enumerate(sample_records(REAL_DIR))]
    tagged = list(SchemaMerger(str(sample / "schemas.jsonl")).run(DifficultyTagger().run(iter(docs))))
    assert {d.metadata["difficulty"] for d in tagged} == {"Simple", "Medium", "Complex"}
    spider = next(d for d in tagged if d.metadata["db_id"] == "concert_singer")
    assert spider.metadata["schema"].startswith("stadium(Stadium_ID, Location, Name")
    assert all(d.text for d in tagged)  # taggers never touch the text

"""SynSQL taggers (trove_blocks.taggers.synsql) on real SynSQL and Spider records: the difficulty label and the
schema merged in by db_id, metadata only."""

from __future__ import annotations

from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.synsql.sample import sample_records
from trove_blocks.synsql.schema import iter_table_entries, render_schema
from trove_blocks.taggers.synsql import DifficultyTagger, SchemaMerger, load_schema_table, synsql_question

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"


def test_difficulty_and_schema_taggers(synsql_document, synsql_sample):
    docs = [synsql_document(r, i) for i, r in enumerate(sample_records(REAL_DIR))]
    tagged = list(SchemaMerger(str(synsql_sample / "schemas.jsonl")).run(DifficultyTagger().run(iter(docs))))
    assert {d.metadata["difficulty"] for d in tagged} == {"Simple", "Medium", "Complex"}
    spider = next(d for d in tagged if d.metadata["db_id"] == "concert_singer")
    assert spider.metadata["schema"].startswith("stadium(Stadium_ID, Location, Name")
    assert all(d.text for d in tagged)  # taggers never touch the text


def test_difficulty_follows_the_given_map_and_is_counted_per_level(synsql_document):
    records = sample_records(REAL_DIR)
    docs = [synsql_document(r, i) for i, r in enumerate(records)]
    mapping = {"Simple": "easy", "Moderate": "easy", "Complex": "hard", "Highly Complex": "hard"}
    step = DifficultyTagger(mapping)
    tagged = list(step.run(iter(docs)))
    assert [d.metadata["difficulty"] for d in tagged] == [mapping[r["sql_complexity"]] for r in records]
    easy = sum(r["sql_complexity"] in ("Simple", "Moderate") for r in records)
    assert 0 < easy < len(records)
    assert step.stats["difficulty_easy"].total == easy and step.stats["difficulty_hard"].total == len(records) - easy


def test_schema_merger_reads_a_nested_db_id_and_sets_each_database_schema(synsql_sample):
    schemas = load_schema_table(synsql_sample / "schemas.jsonl")
    records = sample_records(REAL_DIR)
    docs = [Document(text=r["question"], id=f"d/{i}", metadata={"record": dict(r)}) for i, r in enumerate(records)]
    step = SchemaMerger(str(synsql_sample / "schemas.jsonl"), db_id_path=("record", "db_id"))
    merged = list(step.run(iter(docs)))
    assert [d.metadata["schema"] for d in merged] == [schemas[r["db_id"]] for r in records]
    assert len(set(schemas.values())) == len(schemas) > 1  # each database has its own schema
    assert step.stats["schema_chars"].total == sum(len(schemas[r["db_id"]]) for r in records)


def test_schema_merger_names_the_document_the_db_id_and_the_table_when_a_db_id_is_unknown(
    synsql_document, synsql_sample
):
    record = {**sample_records(REAL_DIR)[0], "db_id": "no_such_db"}
    with pytest.raises(KeyError, match=r"document d/7: db_id 'no_such_db' is not in .*schemas\.jsonl"):
        list(SchemaMerger(str(synsql_sample / "schemas.jsonl")).run(iter([synsql_document(record, 7)])))


def test_load_schema_table_holds_one_schema_per_database_of_tables_json(synsql_sample):
    schemas = load_schema_table(synsql_sample / "schemas.jsonl")
    entries = list(iter_table_entries(synsql_sample / "tables.json"))
    assert list(schemas) == [entry["db_id"] for entry in entries]
    assert schemas["concert_singer"] == render_schema(entries[list(schemas).index("concert_singer")], "compact")


def test_synsql_question_is_the_text_else_the_raw_value_left_in_the_metadata(synsql_document):
    assert synsql_question(Document(text="How many?", id="a", metadata={})) == "How many?"
    assert synsql_question(Document(text="", id="b", metadata={"question": 42})) == 42
    assert synsql_question(Document(text="", id="c", metadata={})) is None

"""SchemaTableWriter (trove_blocks.writers.schema_table): the real tables.json entries rendered once into a
``{"db_id", "schema"}`` JSON-lines table, first entry of a repeated db_id kept, one task only, atomic output."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.synsql.schema import SchemaError, render_schema
from trove_blocks.taggers.synsql import load_schema_table
from trove_blocks.writers.schema_table import SchemaTableWriter

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"


def entries(sample: Path) -> list[dict]:
    return json.loads((sample / "tables.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("schema_format", ["compact", "ddl"])
def test_one_line_per_database_with_its_rendered_schema(synsql_sample, tmp_path, schema_format):
    out = tmp_path / "schemas.jsonl"
    step = SchemaTableWriter(str(synsql_sample / "tables.json"), str(out), schema_format)
    assert list(step.run(None)) == []
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["db_id"] for line in lines] == [entry["db_id"] for entry in entries(synsql_sample)]
    assert [line["schema"] for line in lines] == [
        render_schema(entry, schema_format) for entry in entries(synsql_sample)
    ]
    assert step.stats["schemas"].total == len(lines)


def test_ddl_takes_example_values_from_the_databases_when_given(synsql_sample, tmp_path):
    database = tmp_path / "databases"
    concert = next(entry for entry in entries(synsql_sample) if entry["db_id"] == "concert_singer")
    path = database / "concert_singer" / "concert_singer.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes((synsql_sample / "databases" / "concert_singer" / "concert_singer.sqlite").read_bytes())
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO singer (Singer_ID, Name, Country) VALUES (1, 'Joe Sharp', 'Netherlands')")
    connection.commit()
    connection.close()
    with_values, without = tmp_path / "with.jsonl", tmp_path / "without.jsonl"
    list(SchemaTableWriter(str(synsql_sample / "tables.json"), str(with_values), "ddl", str(database)).run(None))
    list(SchemaTableWriter(str(synsql_sample / "tables.json"), str(without), "ddl").run(None))
    rendered, plain = load_schema_table(with_values), load_schema_table(without)
    assert rendered["concert_singer"] == render_schema(concert, "ddl", database)
    assert "example: [Joe Sharp]" in rendered["concert_singer"]
    assert "example:" not in plain["concert_singer"]
    # databases without a file here are rendered as without databases
    assert {k: v for k, v in rendered.items() if k != "concert_singer"} == {
        k: v for k, v in plain.items() if k != "concert_singer"
    }


def test_a_repeated_db_id_keeps_its_first_entry_and_is_counted(synsql_sample, tmp_path):
    tables = entries(synsql_sample)
    concert = next(entry for entry in tables if entry["db_id"] == "concert_singer")
    pets = next(entry for entry in tables if entry["db_id"] == "pets_1")
    (tmp_path / "tables.json").write_text(json.dumps([concert, {**pets, "db_id": "concert_singer"}, pets]))
    out = tmp_path / "schemas.jsonl"
    step = SchemaTableWriter(str(tmp_path / "tables.json"), str(out))
    list(step.run(None))
    assert load_schema_table(out) == {
        "concert_singer": render_schema(concert, "compact"),
        "pets_1": render_schema(pets, "compact"),
    }
    assert step.stats["duplicate_db_id"].total == 1 and step.stats["schemas"].total == 2


def test_an_inconsistent_entry_names_its_db_id_and_leaves_no_table(synsql_sample, tmp_path):
    tables = entries(synsql_sample)
    broken = {**tables[1], "table_names_original": tables[1]["table_names_original"][:1]}
    (tmp_path / "tables.json").write_text(json.dumps([tables[0], broken]))
    out = tmp_path / "schemas.jsonl"
    with pytest.raises(SchemaError, match=repr(broken["db_id"])):
        list(SchemaTableWriter(str(tmp_path / "tables.json"), str(out)).run(None))
    assert list(tmp_path.glob("*schemas.jsonl*")) == []


def test_settings_are_checked(synsql_sample, tmp_path):
    with pytest.raises(ValueError, match="schema_format must be one of"):
        SchemaTableWriter(str(synsql_sample / "tables.json"), str(tmp_path / "s.jsonl"), "markdown")
    step = SchemaTableWriter(str(synsql_sample / "tables.json"), str(tmp_path / "s.jsonl"))
    with pytest.raises(ValueError, match="needs exactly one task, got 2"):
        list(step.run(None, 0, 2))


def test_documents_given_to_the_step_pass_through(synsql_sample, tmp_path):
    docs = [Document("a", "1")]
    assert (
        list(SchemaTableWriter(str(synsql_sample / "tables.json"), str(tmp_path / "s.jsonl")).run(iter(docs))) == docs
    )

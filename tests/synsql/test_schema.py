import json
import sqlite3

from trove_blocks.synsql.sample import build_sample_dir, create_database
from trove_blocks.synsql.schema import (
    entry_from_ddls,
    iter_table_entries,
    render_compact,
    render_ddl,
    render_schema,
    tables_from_entry,
)

DATA = "tests/data/text2sql/"
SPIDER = json.load(open(DATA + "spider_tables_slice.json", encoding="utf-8"))
DDLS = json.load(open(DATA + "synsql_ddls_sample.json", encoding="utf-8"))


def test_compact_is_original_names_in_order():
    for entry in SPIDER:
        text = render_schema(entry, "compact")
        parts = text.split(" | ")
        assert [p.split("(")[0] for p in parts] == entry["table_names_original"]
        for t, part in enumerate(parts):
            columns = [name for table, name in entry["column_names_original"] if table == t]
            assert part == f"{entry['table_names_original'][t]}({', '.join(columns)})"


def test_ddl_from_synsql_ddls_keeps_keys_descriptions_and_runs_in_sqlite():
    composite = 0
    for item in DDLS:
        entry = entry_from_ddls(item["db_id"], item["ddls"])
        composite += sum(isinstance(pk, list) for pk in entry["primary_keys"])
        tables = tables_from_entry(entry)
        ddl = render_ddl(tables)
        connection = sqlite3.connect(":memory:")
        connection.executescript(ddl)  # our DDL is valid SQLite
        again = entry_from_ddls(item["db_id"], [s + ")" for s in ddl.split(");") if s.strip()])
        assert again["column_names_original"] == entry["column_names_original"]
        assert again["primary_keys"] == entry["primary_keys"]
        assert sorted(again["foreign_keys"]) == sorted(entry["foreign_keys"])
        for table in tables:
            for column in table.columns:
                if column.description.lower().replace(" ", "_") != column.name.lower():
                    assert column.description in ddl  # descriptions that only restate the name are left out
    assert composite >= 1  # the real sample has composite primary keys
    first = render_ddl(tables_from_entry(entry_from_ddls(DDLS[0]["db_id"], DDLS[0]["ddls"])))
    assert "PRIMARY KEY (university_id)" in first and "REFERENCES regions (region_id)" in first


def test_ddl_example_values_come_from_the_database(tmp_path):
    entry = SPIDER[0]
    path = create_database(entry, tmp_path)
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO airlines VALUES (1, 'United Airlines', 'UAL', 'USA')")
    connection.commit()
    connection.close()
    text = render_schema(entry, "ddl", tmp_path)
    assert "example: [United Airlines]" in text and "example: [UAL]" in text


def test_tables_json_is_streamed(tmp_path):
    build_sample_dir(__import__("pathlib").Path(DATA), tmp_path)
    ids = [entry["db_id"] for entry in iter_table_entries(tmp_path / "tables.json")]
    assert len(ids) == len(DDLS) + len(SPIDER) and ids[-1] == SPIDER[-1]["db_id"]
    assert render_compact(tables_from_entry(SPIDER[1])).startswith("Student(")

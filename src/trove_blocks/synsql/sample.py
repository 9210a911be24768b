"""Build a small SynSQL-shaped folder (data.json, tables.json, databases/) from the real slices in the repo.

The real SynSQL sample has 27 records and their raw DDLs but no tables.json entries; Spider's slice has
tables.json entries and dev questions but no SynSQL fields. This joins them into one SynSQL-shaped folder:

* tables.json: entries built from the SynSQL DDLs (:func:`~trove_blocks.synsql.schema.entry_from_ddls`) plus
  the Spider entries unchanged;
* data.json: the 27 SynSQL records unchanged plus the Spider dev questions converted to SynSQL's 7 keys, with
  an ``sql_complexity`` assigned from the query's shape (:func:`spider_complexity`) and ``cot`` empty;
* databases/<db_id>/<db_id>.sqlite (optional): the schemas created in SQLite, tables empty, for --check-sql.

Used by the tests, the demo folder (examples_local/data/synsql) and the benchmark's record generator.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from trove_blocks.io import write_json_atomic
from trove_blocks.synsql.schema import entry_from_ddls, render_ddl, tables_from_entry

SYNSQL_DATA = "synsql_data_sample.json"
SYNSQL_DDLS = "synsql_ddls_sample.json"
SPIDER_TABLES = "spider_tables_slice.json"
SPIDER_DEV = "spider_dev_slice.json"


def spider_complexity(query: str) -> str:
    """A SynSQL-style label from a query's shape: nesting and set operations > joins and grouping > plain."""
    upper = query.upper()
    set_ops = len(re.findall(r"\b(UNION|INTERSECT|EXCEPT)\b", upper))
    nested = upper.count("SELECT") - 1 - set_ops  # each set operation brings its own SELECT, not a nested one
    joins = len(re.findall(r"\bJOIN\b", upper))
    grouping = bool(re.search(r"\bGROUP BY\b|\bHAVING\b", upper))
    if nested + set_ops >= 2 or (nested + set_ops >= 1 and joins >= 2):
        return "Highly Complex"
    if nested or set_ops:
        return "Complex"
    if joins or grouping:
        return "Moderate"
    return "Simple"


def spider_to_synsql(question: dict) -> dict:
    """A Spider dev question as a SynSQL record (the same 7 keys, in SynSQL's order)."""
    return {
        "db_id": question["db_id"],
        "sql_complexity": spider_complexity(question["query"]),
        "question_style": "Interrogative" if question["question"].rstrip().endswith("?") else "Imperative",
        "question": question["question"],
        "external_knowledge": "",
        "cot": "",
        "sql": question["query"],
    }


def sample_records(real_dir: Path) -> list[dict]:
    """The 27 real SynSQL records followed by the converted Spider dev questions."""
    synsql = json.loads((real_dir / SYNSQL_DATA).read_text(encoding="utf-8"))
    spider = json.loads((real_dir / SPIDER_DEV).read_text(encoding="utf-8"))
    return synsql + [spider_to_synsql(question) for question in spider]


def sample_tables(real_dir: Path) -> list[dict]:
    """tables.json entries: derived from the SynSQL DDLs, then Spider's unchanged."""
    ddls = json.loads((real_dir / SYNSQL_DDLS).read_text(encoding="utf-8"))
    spider = json.loads((real_dir / SPIDER_TABLES).read_text(encoding="utf-8"))
    return [entry_from_ddls(item["db_id"], item["ddls"]) for item in ddls] + spider


def create_database(entry: dict, databases_dir: Path) -> Path:
    """``databases_dir/<db_id>/<db_id>.sqlite`` with the entry's tables created (empty); returns its path."""
    path = databases_dir / entry["db_id"] / f"{entry['db_id']}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        tables = [table for table in tables_from_entry(entry) if not table.name.lower().startswith("sqlite_")]
        connection.executescript(render_ddl(tables))  # sqlite_* tables are SQLite's own
        connection.commit()
    finally:
        connection.close()
    return path


def build_sample_dir(real_dir: Path, out_dir: Path, with_databases: bool = False) -> dict[str, int]:
    """Write data.json, tables.json (and databases/) under ``out_dir``; returns the counts written."""
    records, tables = sample_records(real_dir), sample_tables(real_dir)
    write_json_atomic(out_dir / "data.json", records)
    write_json_atomic(out_dir / "tables.json", tables)
    if with_databases:
        for entry in tables:
            create_database(entry, out_dir / "databases")
    return {"records": len(records), "databases": len(tables)}

"""Schema text per database from Spider-style tables.json entries: ``compact`` and ``ddl`` renderings.

A tables.json entry (Spider, BIRD, SynSQL) holds ``table_names_original``, ``column_names_original`` as
``[table index, name]`` (``[-1, "*"]`` first), ``column_names`` (SynSQL: column *descriptions*), ``column_types``,
``primary_keys`` (items: a column index, or a list of them for a composite key) and ``foreign_keys``
(``[column, referenced column]`` pairs).

* ``compact``: the seed's ``table(col, col) | table2(col)``, original names in tables.json order.
* ``ddl``: ``CREATE TABLE`` statements with types, primary keys (composite too), foreign keys, descriptions and,
  when the database is at hand, up to :data:`EXAMPLE_VALUES` example values per column (OmniSQL's prompt style).

:func:`entry_from_ddls` goes the other way: it builds a tables.json entry (and optionally the SQLite database)
from raw ``CREATE TABLE`` statements, for data that ships DDLs but no tables.json entry.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from trove_blocks.json_stream import iter_records

SCHEMA_FORMATS = ("compact", "ddl")
EXAMPLE_VALUES = 2
EXAMPLE_CHARS = 40
_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset(
    """abort action add after all alter analyze and as asc attach autoincrement before begin between by cascade case
    cast check collate column commit conflict constraint create cross current_date current_time current_timestamp
    database default deferrable deferred delete desc detach distinct drop each else end escape except exclusive exists
    explain fail for foreign from full glob group having if ignore immediate in index indexed initially inner insert
    instead intersect into is isnull join key left like limit match natural no not notnull null of offset on or order
    outer plan pragma primary query raise recursive references regexp reindex release rename replace restrict right
    rollback row rows savepoint select set table temp temporary then to transaction trigger union unique update using
    vacuum values view virtual when where with without""".split()
)


class SchemaError(ValueError):
    """A tables.json entry that cannot be rendered; the message names the db_id and what is wrong."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...]  # (column, referenced table, referenced column)


def tables_from_entry(entry: dict) -> list[Table]:
    """The tables of one tables.json entry, in its order; raises :class:`SchemaError` on inconsistent indexes."""
    db_id = entry.get("db_id")
    try:
        table_names = entry["table_names_original"]
        columns = entry["column_names_original"]
        descriptions = entry.get("column_names") or columns
        types = entry.get("column_types") or [""] * len(columns)
        per_table: list[list[int]] = [[] for _ in table_names]
        for index, (table_index, _) in enumerate(columns):
            if table_index >= 0:
                per_table[table_index].append(index)
        pk_columns: list[list[int]] = [[] for _ in table_names]
        for item in entry.get("primary_keys", []):
            group = item if isinstance(item, list) else [item]
            pk_columns[columns[group[0]][0]].extend(group)
        fks: list[list[tuple[str, str, str]]] = [[] for _ in table_names]
        for source, target in entry.get("foreign_keys", []):
            target_table = table_names[columns[target][0]]
            fks[columns[source][0]].append((columns[source][1], target_table, columns[target][1]))
        return [
            Table(
                name=name,
                columns=tuple(Column(columns[c][1], types[c], descriptions[c][1]) for c in per_table[t]),
                primary_key=tuple(columns[c][1] for c in pk_columns[t]),
                foreign_keys=tuple(fks[t]),
            )
            for t, name in enumerate(table_names)
        ]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise SchemaError(f"tables.json entry {db_id!r}: inconsistent entry ({error!r})") from None


def render_compact(tables: list[Table]) -> str:
    """``table(col, col) | table2(col)`` with the original names."""
    return " | ".join(f"{t.name}({', '.join(c.name for c in t.columns)})" for t in tables)


def quote_identifier(name: str) -> str:
    """``name`` as is when it is a plain identifier, else double-quoted (reserved words, spaces, symbols)."""
    if _PLAIN_IDENTIFIER.match(name) and name.lower() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def render_ddl(tables: list[Table], database: Path | None = None) -> str:
    """CREATE TABLE statements; example values come from ``database`` (a SQLite file) when it exists."""
    connection = None
    if database is not None and database.is_file():
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return "\n\n".join(_render_table(table, connection) for table in tables)
    finally:
        if connection is not None:
            connection.close()


def _render_table(table: Table, connection: sqlite3.Connection | None) -> str:
    lines = []
    for column in table.columns:
        line = f"    {quote_identifier(column.name)} {column.type}".rstrip()
        notes = []
        if _normalized(column.description) != _normalized(column.name):
            notes.append(" ".join(column.description.split()))
        if connection is not None:
            examples = _example_values(connection, table.name, column.name)
            if examples:
                notes.append(f"example: [{', '.join(examples)}]")
        lines.append(line + (", -- " + ", ".join(notes) if notes else ","))
    if table.primary_key:
        lines.append(f"    PRIMARY KEY ({', '.join(map(quote_identifier, table.primary_key))}),")
    for column, target_table, target_column in table.foreign_keys:
        constraint = quote_identifier(f"fk_{table.name}_{column}")
        lines.append(
            f"    CONSTRAINT {constraint} FOREIGN KEY ({quote_identifier(column)}) "
            f"REFERENCES {quote_identifier(target_table)} ({quote_identifier(target_column)}),"
        )
    if lines:
        last = lines[-1]
        lines[-1] = last.replace(", -- ", " -- ", 1) if ", -- " in last else last.rstrip(",")
    return f"CREATE TABLE {quote_identifier(table.name)} (\n" + "\n".join(lines) + "\n);"


def _normalized(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text).strip().lower()


def _example_values(connection: sqlite3.Connection, table: str, column: str) -> list[str]:
    query = (
        f'SELECT DISTINCT "{column.replace(chr(34), chr(34) * 2)}" FROM "{table.replace(chr(34), chr(34) * 2)}" '
        f'WHERE "{column.replace(chr(34), chr(34) * 2)}" IS NOT NULL LIMIT {EXAMPLE_VALUES}'
    )
    try:
        rows = connection.execute(query).fetchall()
    except sqlite3.Error:
        return []
    return [str(value)[:EXAMPLE_CHARS] for (value,) in rows]


def render_schema(entry: dict, schema_format: str, databases_dir: Path | None = None) -> str:
    """Schema text of one tables.json entry in ``schema_format`` ("compact" or "ddl")."""
    tables = tables_from_entry(entry)
    if schema_format == "compact":
        return render_compact(tables)
    if schema_format == "ddl":
        database = databases_dir / entry["db_id"] / f"{entry['db_id']}.sqlite" if databases_dir else None
        return render_ddl(tables, database)
    raise ValueError(f"schema format must be one of {SCHEMA_FORMATS}, got {schema_format!r}")


def iter_table_entries(path: Path) -> Iterator[dict]:
    """The entries of a tables.json file, streamed one at a time (the raw file is never held in memory)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        for record in iter_records(handle, str(path), 0, size, size):
            entry = record.decode(str(path))
            if not isinstance(entry, dict) or not isinstance(entry.get("db_id"), str):
                raise SchemaError(f"{path}: byte {record.offset}: a tables.json entry must be an object with a db_id")
            yield entry


_DESCRIPTION = re.compile(r'^[ \t]*"?([^"\s]+)"?[ \t]+[^/\n]*?/\*\s*(.*?)\s*\*/', re.MULTILINE)


def entry_from_ddls(db_id: str, ddls: list[str], database: Path | None = None) -> dict:
    """A Spider-style tables.json entry built from raw CREATE TABLE statements (SynSQL's ``ddls`` style).

    The statements run in SQLite (in memory, or in ``database`` when given, which is then created with the
    tables, empty); names, types, keys come from SQLite's own catalogue, descriptions from ``/* ... */`` comments.
    """
    connection = sqlite3.connect(database if database is not None else ":memory:")
    try:
        for ddl in ddls:
            connection.execute(ddl)
        connection.commit()
        entry: dict = {
            "db_id": db_id,
            "table_names_original": [],
            "column_names_original": [[-1, "*"]],
            "column_names": [[-1, "*"]],
            "column_types": ["text"],
            "primary_keys": [],
            "foreign_keys": [],
        }
        pending_fks = []
        for ddl in ddls:
            table = re.match(r'\s*CREATE TABLE\s+"?([^"\s(]+)"?', ddl, re.IGNORECASE).group(1)
            descriptions = dict(_DESCRIPTION.findall(ddl))
            t = len(entry["table_names_original"])
            entry["table_names_original"].append(table)
            columns = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
            pk = []
            for _, name, sql_type, _, _, pk_position in columns:
                entry["column_names_original"].append([t, name])
                entry["column_names"].append([t, descriptions.get(name, name)])
                entry["column_types"].append(sql_type.lower())
                if pk_position:
                    pk.append((pk_position, len(entry["column_names_original"]) - 1))
            if pk:
                ordered = [index for _, index in sorted(pk)]
                entry["primary_keys"].append(ordered[0] if len(ordered) == 1 else ordered)
            for row in connection.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
                pending_fks.append((table, row[3], row[2], row[4]))
        index_of = {
            (entry["table_names_original"][t], name): i
            for i, (t, name) in enumerate(entry["column_names_original"])
            if t >= 0
        }
        for table, column, target_table, target_column in pending_fks:
            if (table, column) in index_of and (target_table, target_column) in index_of:
                entry["foreign_keys"].append([index_of[table, column], index_of[target_table, target_column]])
        entry["table_names"] = list(entry["table_names_original"])
        return entry
    finally:
        connection.close()


def schema_line(db_id: str, schema: str) -> bytes:
    """One line of a rendered-schema table: ``{"db_id": ..., "schema": ...}``."""
    return orjson.dumps({"db_id": db_id, "schema": schema}, option=orjson.OPT_APPEND_NEWLINE)

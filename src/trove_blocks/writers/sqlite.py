"""SQLiteWriter: documents into one SQLite table, in batched transactions, idempotent by document id.

Table layout (created when missing): ``<id_column> TEXT PRIMARY KEY``, ``<text_column> TEXT NOT NULL``, one column
per entry of ``metadata_columns`` (metadata keys promoted to real columns, e.g. for SQL filters), and
``<metadata_json_column> TEXT`` holding the rest of ``doc.metadata`` as a JSON object (SQLiteReader reads it back into
``doc.metadata``). An existing table must have exactly these columns and that primary key; anything else is an error
naming the table and the expected and found columns, because appending to a different layout would mix two datasets.

Why a re-run after a crash leaves no duplicates: every batch is one ``INSERT ... ON CONFLICT(id) DO UPDATE``
transaction, so a killed run leaves whole committed batches and nothing else, and writing the same documents again
updates their rows in place. Documents with the same id within a run keep the last one written. Stats:
``documents`` written, and ``replaced`` of them that overwrote a row of the same id (written earlier in the batch,
by an earlier batch or rank, or by an earlier run), so the rows a run added are ``documents - replaced``.

Several ranks may write one database at once: the database is in WAL mode (readers never block the writer) and
each batch takes the write lock with ``BEGIN IMMEDIATE``, waiting up to ``busy_timeout`` seconds for another rank's
batch to commit. SQLite has one writer at a time, so ranks serialise on the lock; larger batches mean fewer waits.
WAL needs every writer on one host (it uses shared memory): across nodes, put ``${rank}`` in the database path.
``synchronous=NORMAL``: a committed batch survives a killed process; a power cut may lose the last batches, never
corrupt the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from string import Template

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

#: pause between two attempts to switch a database to WAL (seconds)
WAL_RETRY_SECONDS = 0.02


class SQLiteSchemaError(ValueError):
    """An existing table's columns or primary key differ from what the writer would create."""


class SQLiteWriter(PipelineStep):
    """Write documents (id, text, metadata) into a table of a SQLite database; passes the documents on unchanged.

    Args:
        database: path of the SQLite file (created with its folder when missing); ``${rank}`` in it gives each rank
            its own file (needed where WAL cannot work: a database on a network file system shared by several nodes).
        table: table to write.
        id_column / text_column: columns of ``doc.id`` (the primary key) and ``doc.text``.
        metadata_columns: metadata keys stored in their own columns, as ``{key: SQL type}``, e.g.
            ``{"score": "REAL"}``; a document without the key stores NULL there.
        metadata_json_column: column of the remaining metadata as JSON; None drops the remaining metadata.
        batch_size: documents per transaction.
        busy_timeout: seconds to wait for another writer's lock before failing (several ranks, one database).
    """

    type = "💽 - WRITER"
    name = "🗄️ SQLite"
    _requires_dependencies = ["orjson"]

    def __init__(
        self,
        database: str | os.PathLike,
        table: str = "documents",
        *,
        id_column: str = "id",
        text_column: str = "text",
        metadata_columns: Mapping[str, str] | None = None,
        metadata_json_column: str | None = "metadata",
        batch_size: int = 5_000,
        busy_timeout: float = 120.0,
    ):
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"SQLiteWriter({database}): batch_size must be >= 1, got {batch_size}")
        self.database = str(database)
        self.table = table
        self.id_column = id_column
        self.text_column = text_column
        self.metadata_columns = dict(metadata_columns or {})
        self.metadata_json_column = metadata_json_column
        self.batch_size = batch_size
        self.busy_timeout = busy_timeout
        names = self.column_names()
        if len(set(names)) != len(names):
            raise ValueError(f"SQLiteWriter({database}, table {table!r}): column names repeat: {names}")

    def column_names(self) -> list[str]:
        """The table's columns in order: id, text, promoted metadata keys, then the JSON metadata column."""
        json_column = [self.metadata_json_column] if self.metadata_json_column else []
        return [self.id_column, self.text_column, *self.metadata_columns, *json_column]

    def _create_table_sql(self) -> str:
        columns = [f'"{self.id_column}" TEXT PRIMARY KEY NOT NULL', f'"{self.text_column}" TEXT NOT NULL']
        columns += [f'"{name}" {sql_type}' for name, sql_type in self.metadata_columns.items()]
        if self.metadata_json_column:
            columns.append(f'"{self.metadata_json_column}" TEXT')
        return f'CREATE TABLE IF NOT EXISTS "{self.table}" ({", ".join(columns)})'

    def _upsert_sql(self) -> str:
        names = self.column_names()
        quoted = ", ".join(f'"{name}"' for name in names)
        updates = ", ".join(f'"{name}" = excluded."{name}"' for name in names[1:])
        return (
            f'INSERT INTO "{self.table}" ({quoted}) VALUES ({", ".join("?" * len(names))}) '
            f'ON CONFLICT("{self.id_column}") DO UPDATE SET {updates}'
        )

    def database_path(self, rank: int) -> str:
        """The database file of ``rank``: ``database`` with ``${rank}`` (if any) replaced by the 5-digit rank."""
        return Template(self.database).safe_substitute(rank=f"{rank:05d}")

    def connect(self, path: str) -> sqlite3.Connection:
        """Open the database (WAL, busy timeout), create the table when missing, check an existing one's schema."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=self.busy_timeout, isolation_level=None)
        try:
            self._enable_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(self._create_table_sql())
            conn.execute("COMMIT")
            self._check_schema(conn, path)
        except BaseException:
            conn.close()
            raise
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the database to WAL, retrying for up to ``busy_timeout`` seconds: the switch needs the database to
        itself, and SQLite refuses it at once ("database is locked", no busy wait) while another rank opens the same
        new file (measured: 8 of 100 races of 4 processes failed without the retry)."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(WAL_RETRY_SECONDS)

    def _check_schema(self, conn: sqlite3.Connection, path: str) -> None:
        info = conn.execute(f'PRAGMA table_info("{self.table}")').fetchall()
        found = [row[1] for row in info]
        primary_key = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]]
        expected = self.column_names()
        if sorted(found) != sorted(expected) or primary_key != [self.id_column]:
            raise SQLiteSchemaError(
                f"SQLiteWriter: table {self.table!r} in database {path} has columns {found} "
                f"(primary key {primary_key or 'none'}), expected {expected} (primary key [{self.id_column!r}]); "
                "write to another table or database, or drop this one"
            )

    def _commit_batch(self, conn: sqlite3.Connection, path: str, sql: str, batch: list[tuple]) -> None:
        ids = [row[0] for row in batch]
        with self.track_time(unit="batch"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # one indexed lookup per id, in the write transaction: no other rank writes in between
                (present,) = conn.execute(self._present_sql(), (json.dumps(ids),)).fetchone()
                conn.executemany(sql, batch)
            except BaseException as error:
                conn.execute("ROLLBACK")
                if isinstance(error, (sqlite3.InterfaceError, sqlite3.ProgrammingError, sqlite3.IntegrityError)):
                    raise ValueError(
                        f"SQLiteWriter (database {path}, table {self.table!r}): cannot store the batch of "
                        f"documents {batch[0][0]!r} .. {batch[-1][0]!r}: {error} (text must not be None; metadata "
                        "columns take None, int, float, str or bytes)"
                    ) from error
                raise
            conn.execute("COMMIT")
        self.stat_update("documents", value=len(batch), unit="batch")
        if replaced := present + len(ids) - len(set(ids)):
            self.stat_update("replaced", value=replaced, unit="batch")

    def _present_sql(self) -> str:
        """How many of a JSON array of ids are rows of the table already."""
        return f'SELECT count(*) FROM "{self.table}" WHERE "{self.id_column}" IN (SELECT value FROM json_each(?))'

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        import orjson

        dumps = partial(orjson.dumps, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
        sql = self._upsert_sql()
        promoted_keys = list(self.metadata_columns)
        with_json = bool(self.metadata_json_column)
        path = self.database_path(rank)
        conn = self.connect(path)
        try:
            batch: list[tuple] = []
            for index, document in enumerate(data or ()):
                if not document.id:
                    raise ValueError(
                        f"SQLiteWriter (database {path}, table {self.table!r}): document {index} of rank "
                        f"{rank} has no id; the id is the table's primary key"
                    )
                metadata = document.metadata
                if promoted_keys:
                    promoted = [metadata.get(key) for key in promoted_keys]
                    metadata = {key: value for key, value in metadata.items() if key not in self.metadata_columns}
                    row = (document.id, document.text, *promoted)
                else:
                    row = (document.id, document.text)
                if with_json:
                    row += (dumps(metadata).decode() if metadata else None,)
                batch.append(row)
                if len(batch) >= self.batch_size:
                    self._commit_batch(conn, path, sql, batch)
                    batch = []
                yield document
            if batch:
                self._commit_batch(conn, path, sql, batch)
        finally:
            conn.close()

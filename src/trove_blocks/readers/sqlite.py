"""SQLiteReader: documents from a SQLite table or query, split across ranks by rowid ranges.

Why rowid ranges: datatrove splits work by whole files, so one database would go to one task. Here every task asks
SQLite for the table's smallest and largest rowid (two index lookups) and reads only its own slice of that span,
``WHERE rowid >= lo AND rowid < hi``, through the rowid b-tree: no task scans rows of another. Rank ``r`` of ``W``
gets ``[lo + r * span, lo + (r + 1) * span)`` with ``span = ceil((max - min + 1) / W)``. The slices cover the whole
span without overlap, so the union over ranks is every row exactly once, also when rowids have gaps (deleted rows);
gaps only make some slices hold fewer rows than others.

A ``query`` source is split the same way, over the rowids of ``rowid_table``: the query must contain the named
parameters ``:lo`` and ``:hi`` and use them on that table's rowid, e.g.::

    SQLiteReader("forum.db", query="SELECT p.id, p.body, a.name AS author FROM posts p JOIN authors a "
                 "ON a.id = p.author_id WHERE p.rowid >= :lo AND p.rowid < :hi",
                 rowid_table="posts", text_column="body")

Every row a query returns belongs to the rank whose range holds its ``rowid_table`` rowid (rows a join multiplies
stay together); the query's other conditions filter within that range.
A query without ``:lo``/``:hi`` can only run with one task (each task would otherwise read every row).

Documents: ``text`` from ``text_column``; ``id`` from ``id_column`` as a string (a table source with
``id_column=None`` gets ``<database file name>/<table>/<rowid>``; a query must name its id column); metadata from
``metadata_columns`` (None = every other column of the row). A column named ``metadata`` holding a JSON object
(what SQLiteWriter writes) is merged into the metadata.
Rows whose text is NULL or empty are skipped and counted as ``empty_text``; a NULL id is an error naming the row.
The connection is read-only (``mode=ro``): the reader never creates, locks for writing or changes the database.
"""

from __future__ import annotations

import json
import operator
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from itertools import chain
from pathlib import Path

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.readers.base import BaseReader
from datatrove.utils.logging import logger
from datatrove.utils.stats import MetricStats

RANGE_PARAMETERS = (":lo", ":hi")
#: positions in a cursor row of the text column, the id column (None: generated) and ``(position, name)`` of metadata
RowLayout = tuple[int, "int | None", list[tuple[int, str]]]
#: key of the generated id in the row dict handed to the adapter when ``id_column`` is None (no column clash)
GENERATED_ID_KEY = "__sqlite_row_id__"


def rowid_range_for_rank(min_rowid: int, max_rowid: int, rank: int, world_size: int) -> tuple[int, int]:
    """Half-open rowid range ``[lo, hi)`` of ``[min_rowid, max_rowid]`` read by rank ``rank`` of ``world_size``."""
    span = -(-(max_rowid - min_rowid + 1) // world_size)
    lo = min_rowid + rank * span
    return lo, min(lo + span, max_rowid + 1)


def open_read_only(database: str | os.PathLike) -> sqlite3.Connection:
    """A read-only connection; FileNotFoundError naming the file when it does not exist (SQLite would create it)."""
    path = Path(database)
    if not path.is_file():
        raise FileNotFoundError(f"SQLite database not found: {path}")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


class SQLiteReader(BaseReader):
    """Read documents from one table (or one query) of a SQLite database, each rank a rowid range of it.

    Args:
        database: path of the SQLite file.
        table: table to read (every column); give either ``table`` or ``query``.
        query: a SELECT with ``:lo``/``:hi`` rowid bounds on ``rowid_table`` (see the module docstring).
        rowid_table: the table whose rowid range a query is split over (required with ``query``).
        text_column: column holding the document text.
        id_column: column holding the document id; None = ``<file name>/<table>/<rowid>`` (table sources only).
        metadata_columns: columns copied into ``doc.metadata``; None = all columns but text and id.
        batch_size: rows per ``fetchmany`` call (memory holds one batch of rows at a time).
        limit / skip / adapter / default_metadata: as in datatrove's BaseReader (limit and skip count per task).
    """

    name = "🗄️ SQLite"

    def __init__(
        self,
        database: str | os.PathLike,
        table: str | None = None,
        *,
        query: str | None = None,
        rowid_table: str | None = None,
        text_column: str = "text",
        id_column: str | None = "id",
        metadata_columns: Sequence[str] | None = None,
        batch_size: int = 10_000,
        limit: int = -1,
        skip: int = 0,
        adapter: Callable | None = None,
        default_metadata: dict | None = None,
    ):
        super().__init__(limit, skip, adapter, text_column, id_column or GENERATED_ID_KEY, default_metadata)
        if (table is None) == (query is None):
            raise ValueError(f"SQLiteReader({database}): give exactly one of table= or query=")
        if query is not None and rowid_table is None and any(p in query for p in RANGE_PARAMETERS):
            raise ValueError(f"SQLiteReader({database}): a query with :lo/:hi needs rowid_table= (the table split)")
        if query is not None and id_column is None:
            raise ValueError(
                f"SQLiteReader({database}): a query source needs id_column= (select a unique column as the id, "
                "e.g. the table's rowid AS id)"
            )
        if batch_size < 1:
            raise ValueError(f"SQLiteReader({database}): batch_size must be >= 1, got {batch_size}")
        self.database = str(database)
        self.table = table
        self.query = query
        self.rowid_table = rowid_table if query is not None else table
        self.text_column = text_column
        self.id_column = id_column
        self.metadata_columns = list(metadata_columns) if metadata_columns is not None else None
        self.batch_size = batch_size
        #: prefix of generated ids and the "source" handed to a custom adapter: ``<file name>/<table>``
        self.source_name = f"{Path(self.database).name}/{self.rowid_table or 'query'}"

    def _describe(self) -> str:
        return f"database {self.database}, " + (f"table {self.table!r}" if self.table else f"query {self.query!r}")

    def table_query(self) -> str:
        """The SELECT of a table source: its rowid then every column, over one rank's rowid range (a b-tree search)."""
        return f'SELECT rowid, * FROM "{self.table}" WHERE rowid >= :lo AND rowid < :hi ORDER BY rowid'

    def rowid_bounds_queries(self) -> tuple[str, str]:
        """The SELECTs of the smallest and largest rowid of ``rowid_table``.

        Two statements: SQLite answers a lone ``min(rowid)`` or ``max(rowid)`` from an end of the rowid b-tree, but
        ``SELECT min(rowid), max(rowid)`` scans the whole table (in every task).
        """
        return tuple(f'SELECT {end}(rowid) FROM "{self.rowid_table}"' for end in ("min", "max"))

    def _rowid_bounds(self, conn: sqlite3.Connection) -> tuple[int, int] | None:
        """``(min rowid, max rowid)`` of ``rowid_table``, None when it is empty."""
        try:
            low, high = (conn.execute(sql).fetchone()[0] for sql in self.rowid_bounds_queries())
        except sqlite3.OperationalError as error:
            tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            raise ValueError(
                f"SQLiteReader: cannot read the rowids of table {self.rowid_table!r} in database {self.database} "
                f"({error}); tables there: {', '.join(tables) or 'none'} (WITHOUT ROWID tables cannot be split)"
            ) from error
        return None if low is None else (low, high)

    def _open_cursor(self, conn: sqlite3.Connection, rank: int, world_size: int) -> sqlite3.Cursor | None:
        """The cursor over this rank's rows (rowid first for a table), None when the rank has no rows."""
        splittable = self.table is not None or all(p in self.query for p in RANGE_PARAMETERS)
        if not splittable:
            if world_size > 1:
                raise ValueError(
                    f"SQLiteReader ({self._describe()}): with {world_size} tasks the query needs :lo and :hi rowid "
                    "bounds (else every task reads every row); add them or run one task"
                )
            return conn.execute(self.query)
        bounds = self._rowid_bounds(conn)
        if bounds is None:
            return None
        lo, hi = rowid_range_for_rank(*bounds, rank, world_size)
        if lo >= hi:
            return None
        logger.info(f"SQLiteReader rank {rank}/{world_size}: rowids [{lo}, {hi}) of {self.source_name}")
        if self.query is not None:
            return conn.execute(self.query, {"lo": lo, "hi": hi})
        return conn.execute(self.table_query(), {"lo": lo, "hi": hi})

    def _column_plan(self, columns: list[str]) -> RowLayout:
        """Positions of text, id and metadata columns in the cursor's rows; ValueError naming missing columns."""
        named = columns[1:] if self.table is not None else columns  # a table cursor starts with its rowid
        offset = len(columns) - len(named)
        wanted = [self.text_column, *([self.id_column] if self.id_column else []), *(self.metadata_columns or [])]
        missing = [name for name in wanted if name not in named]
        if missing:
            raise ValueError(
                f"SQLiteReader ({self._describe()}): no column {', '.join(map(repr, missing))}; "
                f"columns there: {', '.join(named)}"
            )
        text_at = offset + named.index(self.text_column)
        id_at = offset + named.index(self.id_column) if self.id_column else None
        if self.metadata_columns is None:
            metadata = [(offset + i, n) for i, n in enumerate(named) if n not in (self.text_column, self.id_column)]
        else:
            metadata = [(offset + named.index(n), n) for n in self.metadata_columns]
        return text_at, id_at, metadata

    def _batches(self, rank: int, world_size: int) -> Iterator[RowLayout | list[tuple]]:
        """The positions of the cursor's columns, then this rank's rows one ``fetchmany`` batch at a time.

        Nothing at all when the rank has no rows. The connection closes when the batches are exhausted or the
        generator is closed.
        """
        with closing(open_read_only(self.database)) as conn:
            cursor = self._open_cursor(conn, rank, world_size)
            if cursor is None:
                return
            yield self._column_plan([description[0] for description in cursor.description])
            while rows := cursor.fetchmany(self.batch_size):
                yield rows

    def _adapted_documents(self, rows: list[tuple], layout: RowLayout, first_number: int) -> Iterator[Document]:
        """Documents of one batch through a custom adapter (rows it turns into no text are left out)."""
        text_at, id_at, metadata_columns = layout
        from_table = self.table is not None
        for number, row in enumerate(rows, first_number):
            position = row[0] if from_table else number
            data = {name: row[at] for at, name in metadata_columns}
            data[self.text_key] = self._text(row[text_at], position)
            if id_at is None:
                data[self.id_key] = f"{self.source_name}/{position}"
            else:
                data[self.id_key] = str(row[id_at]) if row[id_at] is not None else self._null_id(position)
            document = self.get_document_from_dict(data, self.source_name, position)
            if document is not None:
                yield document

    def _null_id(self, position) -> str:
        """Raise for a row whose id column is NULL: ``str(None)`` would give every such row the id "None"."""
        raise ValueError(
            f"SQLiteReader ({self._describe()}): row {position!r}, id column {self.id_column!r} is NULL; every "
            "document needs an id (select rows with an id, or id_column=None for <file>/<table>/<rowid> ids)"
        )

    def _text(self, value, position) -> str | None:
        """The text column's value as text: BLOBs decoded as UTF-8, numbers formatted, NULL kept.

        ``position`` names the row in errors: its rowid (table) or its first column (query).
        """
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"SQLiteReader ({self._describe()}): row {position!r}, column {self.text_column!r} is a BLOB "
                    f"that is not UTF-8 ({error})"
                ) from error
        return str(value)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        """The documents of ``data`` (passed through), then those of this rank's rows.

        Not a generator itself: it opens the database and runs the query at once (so a missing table or column is
        an error of this call) and returns a chain whose documents each pass through one Python frame only, the
        row converter's (a generator level per document costs ~4 % of the read).
        """
        self._log_limit_scope(rank, world_size)
        batches = self._batches(rank, world_size)
        layout = next(batches, None)
        if layout is None:
            documents = iter(())
        elif self.adapter == self._default_adapter:
            if self.skip or self.limit != -1:
                batches = self._skip_and_limit(self._rows_with_text(batches, layout[0]))
            documents = self._compile_documents(layout)(batches, self._count_batch)
        else:
            documents = self._counted(self._skip_and_limit(self._adapted_batches(batches, layout)))
        return chain(data or (), documents)

    def _rows_with_text(self, batches: Iterator[list[tuple]], text_at: int) -> Iterator[list[tuple]]:
        """Each batch without its rows whose text is NULL or empty (counted as ``empty_text``)."""
        for rows in batches:
            with_text = [row for row in rows if row[text_at]]
            self._add_count("empty_text", len(rows) - len(with_text))
            yield with_text

    def _adapted_batches(self, batches: Iterator[list[tuple]], layout: RowLayout) -> Iterator[list[Document]]:
        """Each batch's documents through ``self.adapter`` (rows it turns into no text counted as ``empty_text``)."""
        numbered = 0
        for rows in batches:
            documents = list(self._adapted_documents(rows, layout, numbered))
            numbered += len(rows)
            self._add_count("empty_text", len(rows) - len(documents))
            yield documents

    def _skip_and_limit(self, batches: Iterator[list]) -> Iterator[list]:
        """The batches without their first ``skip`` items and with at most ``limit`` items in all (per task)."""
        to_skip, remaining = self.skip, self.limit if self.limit != -1 else None
        for batch in batches:
            if to_skip:
                skipped = min(to_skip, len(batch))
                batch, to_skip = batch[skipped:], to_skip - skipped
            if remaining is not None:
                batch, remaining = batch[:remaining], remaining - min(remaining, len(batch))
            yield batch
            if remaining == 0:
                return

    def _counted(self, batches: Iterator[list[Document]]) -> Iterator[Document]:
        """The documents of the batches, counted (``documents``, ``doc_len``) once per batch."""
        for documents in batches:
            yield from documents
            self._count_batch(len(documents), [len(document.text) for document in documents])

    def _compile_documents(
        self, layout: RowLayout
    ) -> Callable[[Iterator[list[tuple]], Callable[[int, list[int]], None]], Iterator[Document]]:
        """A generator function turning rows of ``layout`` into Documents (BaseReader's default adapter, unrolled).

        Why generated code: the per-row work is this reader's whole cost, and written generically (a dict
        comprehension over the metadata columns, ``Document(**fields)``) it takes ~0.7 us per row, as much as SQLite's
        own fetch. The generated loop reads each column by a constant position, builds the metadata as a dict literal
        and fills the Document's slots directly (~0.25 us per row). Column names enter the source only through
        ``repr`` (string literals) and positions are ints, so no value of the database becomes code.
        The generator takes the row batches and ``count_batch``, called after each batch with its number of rows and
        its documents' text lengths; rows whose text is NULL or empty give no document.
        """
        text_at, id_at, metadata_columns = layout
        metadata = "{" + ", ".join(f"{name!r}: row[{at}]" for at, name in metadata_columns) + "}"
        if any(name == "metadata" for _, name in metadata_columns):
            metadata = f"merge_json_metadata({metadata})"
        if self.default_metadata:
            metadata = f"default_metadata | {metadata}"
        if id_at is None:
            document_id = "id_prefix + str(row[0])"
        else:
            document_id = f"str(row[{id_at}]) if row[{id_at}] is not None else null_id(row[0])"
        source = f"""
def to_documents(batches, count_batch):
    for rows in batches:
        lengths = []
        add_length = lengths.append
        for row in rows:
            text = row[{text_at}]
            if not text:
                continue
            if type(text) is not str:
                text = text_of(text, row[0])
            document = new_document(Document)
            document.text = text
            document.id = {document_id}
            document.media = []
            document.metadata = {metadata}
            add_length(len(text))
            yield document
        count_batch(len(rows), lengths)
"""
        namespace = {
            "Document": Document,
            "new_document": Document.__new__,
            "text_of": self._text,
            "null_id": self._null_id,
            "merge_json_metadata": _merge_json_metadata,
            "default_metadata": self.default_metadata,
            "id_prefix": f"{self.source_name}/",
        }
        exec(compile(source, f"<SQLiteReader row converter of {self.source_name}>", "exec"), namespace)
        return namespace["to_documents"]

    def _count_batch(self, rows: int, lengths: list[int]) -> None:
        """Stats of one batch of ``rows`` rows that gave documents of these text lengths (the rest had no text).

        Merged once per batch: a ``stat_update`` per document costs ~1 us, as much as reading the row.
        """
        self._add_count("empty_text", rows - len(lengths))
        self._add_count("documents", len(lengths))
        self._add_doc_lengths(lengths)

    def _add_count(self, label: str, count: int) -> None:
        """``stat_update(label)`` ``count`` times, in one step."""
        if count:
            self.stats[label] += MetricStats(total=count, n=count, mean=1.0, min=1, max=1)

    def _add_doc_lengths(self, lengths: list[int]) -> None:
        """``doc_len`` of a batch, merged as one step (same totals, mean and variance as per-document updates)."""
        if not lengths:
            return
        count, total = len(lengths), sum(lengths)
        # sum of squared deviations from the mean, in exact integer arithmetic (C loops, no per-length bytecode)
        squared_deviations = (count * sum(map(operator.mul, lengths, lengths)) - total * total) / count
        self.stats["doc_len"] += MetricStats(
            total=total,
            n=count,
            mean=total / count,
            min=min(lengths),
            max=max(lengths),
            _running_variance=squared_deviations,
        )


def _merge_json_metadata(metadata: dict) -> dict:
    """Fold a ``metadata`` column holding a JSON object (SQLiteWriter's) into the metadata, as BaseReader does."""
    packed = metadata.pop("metadata")
    if isinstance(packed, str):
        try:
            packed = json.loads(packed)
        except json.JSONDecodeError:
            pass
    if packed is None:
        return metadata
    if not isinstance(packed, dict):
        packed = {"metadata": packed}
    return packed | metadata

"""--check-sql: drops records whose SQL does not run on their database (read-only, under a time limit)."""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from trove_blocks.synsql.sandbox import DatabasePool
from trove_blocks.synsql.sql_text import normalize_sql


class SqlExecutionFilter(BaseFilter):
    """Runs each document's normalised SQL on ``<databases_dir>/<db_id>/<db_id>.sqlite`` in the sandbox.

    The normalised SQL is what gets written, so that is what is checked. Reasons: ``sql_error``,
    ``sql_timeout``, ``sql_not_read_only`` (refused by the authorizer), ``database_missing``; the SQLite
    message goes to ``metadata["sql_error"]``.

    Args:
        databases_dir: SynSQL's databases/ folder
        timeout_seconds: wall-clock limit per query (seconds)
        open_databases: how many database connections stay open (records of one db_id tend to be adjacent)
    """

    name = "🛡 SQL execution check"

    def __init__(
        self,
        databases_dir: str,
        timeout_seconds: float = 5.0,
        open_databases: int = 8,
        exclusion_writer: DiskWriter | None = None,
    ):
        super().__init__(exclusion_writer)
        self.databases_dir = databases_dir
        self.timeout_seconds = timeout_seconds
        self.open_databases = open_databases
        self._pool: DatabasePool | None = None

    def filter(self, document: Document) -> bool | tuple[bool, str]:
        result = self._pool.run(
            document.metadata["db_id"], normalize_sql(document.metadata["sql"]), self.timeout_seconds
        )
        if result.ok:
            self.stat_update("sql_rows", value=result.rows)
            return True
        document.metadata["sql_error"] = result.detail
        return False, result.reason

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._pool = DatabasePool(self.databases_dir, self.open_databases)
        try:
            yield from super().run(data, rank, world_size)
        finally:
            self._pool.close()

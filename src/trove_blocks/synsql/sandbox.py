"""Run a record's SQL on its SQLite database, read-only and under a time limit.

Three fences: the file is opened ``mode=ro``; an authorizer allows only reading (SELECT, reads, functions,
recursive CTEs) and refuses writes, ATTACH/DETACH, PRAGMA and transactions; a progress handler aborts a query
that runs longer than its time limit. Every row is stepped through (a query's errors and cost can appear late)
but none is kept, so memory stays flat.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
)
#: SQLite virtual-machine instructions between two checks of the clock
PROGRESS_STEPS = 10_000


@dataclass(frozen=True)
class ExecutionResult:
    """``reason`` is None when the SQL ran to the end; else a short exclusion reason, with ``detail``."""

    reason: str | None
    detail: str = ""
    rows: int = 0

    @property
    def ok(self) -> bool:
        return self.reason is None


def _authorize(action: int, *_args) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


def open_read_only(database: Path) -> sqlite3.Connection:
    """A read-only connection to ``database`` with the authorizer installed."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
    connection.set_authorizer(_authorize)
    return connection


def execute_sql(connection: sqlite3.Connection, sql: str, timeout_seconds: float) -> ExecutionResult:
    """Run ``sql`` to its last row within ``timeout_seconds`` (wall clock)."""
    deadline = time.monotonic() + timeout_seconds
    connection.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
    rows = 0
    try:
        cursor = connection.execute(sql)
        for _ in cursor:
            rows += 1
    except sqlite3.DatabaseError as error:
        message = str(error)
        if "interrupted" in message:
            return ExecutionResult("sql_timeout", f"over {timeout_seconds:g} s")
        if "not authorized" in message or "prohibited" in message:
            return ExecutionResult("sql_not_read_only", message)
        return ExecutionResult("sql_error", message)
    except (sqlite3.ProgrammingError, sqlite3.Warning) as error:  # e.g. several statements in one string
        return ExecutionResult("sql_error", str(error))
    finally:
        connection.set_progress_handler(None, 0)
    return ExecutionResult(None, rows=rows)


class DatabasePool:
    """Read-only connections to ``<databases_dir>/<db_id>/<db_id>.sqlite``, the ``size`` most recent kept open."""

    def __init__(self, databases_dir: Path, size: int = 8):
        self.databases_dir, self.size = Path(databases_dir), size
        self._open: OrderedDict[str, sqlite3.Connection] = OrderedDict()

    def path(self, db_id: str) -> Path:
        return self.databases_dir / db_id / f"{db_id}.sqlite"

    def run(self, db_id: str, sql: str, timeout_seconds: float) -> ExecutionResult:
        connection = self._open.pop(db_id, None)
        if connection is None:
            path = self.path(db_id)
            if not path.is_file():
                return ExecutionResult("database_missing", str(path))
            connection = open_read_only(path)
        self._open[db_id] = connection
        while len(self._open) > self.size:
            self._open.popitem(last=False)[1].close()
        return execute_sql(connection, sql, timeout_seconds)

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()

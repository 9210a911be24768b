"""SQLiteWriter on real SQLite files: round trip, idempotence (also after SIGKILL), schema errors, several ranks."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor

from trove_blocks.readers.sqlite import SQLiteReader
from trove_blocks.writers.sqlite import SQLiteSchemaError, SQLiteWriter


def documents(count: int, start: int = 0) -> list[Document]:
    return [
        Document(text=f"text of {i} " * 3, id=f"doc-{i}", metadata={"score": i / 4, "tags": ["a", str(i % 3)]})
        for i in range(start, start + count)
    ]


def rows(db: Path, table: str = "documents") -> tuple[int, int]:
    """(row count, distinct id count) of the table."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*), count(DISTINCT id) FROM {table}").fetchone()
    finally:
        conn.close()


def test_round_trip_through_the_reader(tmp_path):
    db = tmp_path / "out.db"
    docs = documents(25)
    passed = list(SQLiteWriter(db, batch_size=10, metadata_columns={"score": "REAL"}).run(iter(docs)))
    assert passed == docs  # the writer passes documents on
    back = list(SQLiteReader(db, "documents").run())
    assert [(d.id, d.text, d.metadata) for d in back] == [(d.id, d.text, d.metadata) for d in docs]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT score FROM documents WHERE id = 'doc-6'").fetchone() == (1.5,)
    conn.close()


def test_rewriting_updates_rows_in_place(tmp_path):
    db = tmp_path / "out.db"
    list(SQLiteWriter(db, batch_size=7).run(iter(documents(30))))
    changed = [Document(text="new text", id=d.id, metadata={}) for d in documents(40)]
    writer = SQLiteWriter(db, batch_size=7)
    list(writer.run(iter(changed)))
    assert rows(db) == (40, 40)
    assert writer.stats["documents"].total == 40
    assert writer.stats["replaced"].total == 30, "the rows of the first run"
    twice = SQLiteWriter(db, batch_size=4)
    list(twice.run(iter([Document(text="x", id=f"twice-{i % 3}") for i in range(9)])))  # within and across batches
    assert rows(db) == (43, 43)
    assert (twice.stats["documents"].total, twice.stats["replaced"].total) == (9, 6)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT DISTINCT text FROM documents WHERE id LIKE 'doc-%'").fetchall() == [("new text",)]
    conn.close()


KILLED_WRITER = """
import sys, time
from datatrove.data import Document
from trove_blocks.writers.sqlite import SQLiteWriter

def slow_documents(count):
    for i in range(count):
        if i and i % 50 == 0:
            time.sleep(0.05)
        yield Document(text=f"text {i}", id=f"doc-{i}", metadata={"i": i})

for _ in SQLiteWriter(sys.argv[1], batch_size=50).run(slow_documents(int(sys.argv[2]))):
    pass
"""


def test_rerun_after_sigkill_leaves_no_duplicates(tmp_path):
    db, total = tmp_path / "out.db", 3000
    process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(db), str(total)])
    deadline = time.monotonic() + 60
    written = 0
    while written < 300 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        if db.exists():
            try:
                written = rows(db)[0]
            except sqlite3.OperationalError:  # table not created yet
                written = 0
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the writer finished before it could be killed"
    partial, _ = rows(db)
    assert 0 < partial < total and partial % 50 == 0  # whole batches only
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(db), str(total)], timeout=120)
    assert done.returncode == 0
    assert rows(db) == (total, total)


def test_existing_table_with_other_columns_is_an_error(tmp_path):
    db = tmp_path / "out.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE documents (id TEXT PRIMARY KEY, body TEXT, metadata TEXT)")
    conn.close()
    with pytest.raises(SQLiteSchemaError) as error:
        list(SQLiteWriter(db).run(iter(documents(2))))
    message = str(error.value)
    assert "table 'documents'" in message and str(db) in message
    assert "['id', 'body', 'metadata']" in message and "expected ['id', 'text', 'metadata']" in message


def test_existing_table_without_the_id_primary_key_is_an_error(tmp_path):
    db = tmp_path / "out.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE documents (id TEXT, text TEXT, metadata TEXT)")
    conn.close()
    with pytest.raises(SQLiteSchemaError, match=r"primary key none"):
        list(SQLiteWriter(db).run(iter(documents(2))))


def test_document_without_id_names_its_position(tmp_path):
    docs = documents(3) + [Document(text="no id", id="")]
    with pytest.raises(ValueError, match=r"document 3 of rank 0 has no id"):
        list(SQLiteWriter(tmp_path / "out.db").run(iter(docs)))


def test_three_ranks_write_one_database_at_once(tmp_path):
    source, db = tmp_path / "source.db", tmp_path / "out.db"
    list(SQLiteWriter(source, batch_size=500).run(iter(documents(3000))))
    LocalPipelineExecutor(
        pipeline=[SQLiteReader(source, "documents"), SQLiteWriter(db, batch_size=25, busy_timeout=60)],
        tasks=3,
        workers=3,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    assert rows(db) == (3000, 3000)
    assert len(list((tmp_path / "logs" / "completions").iterdir())) == 3


def _connect_after(barrier, path: str, results) -> None:
    barrier.wait()
    try:
        SQLiteWriter(path, busy_timeout=30).connect(path).close()
        results.put("ok")
    except sqlite3.OperationalError as error:
        results.put(str(error))


def test_ranks_opening_one_new_database_at_once_all_switch_it_to_wal(tmp_path):
    """SQLite refuses the switch to WAL at once while another connection opens the same new file (8 of 100 races
    of 4 processes failed before the writer retried)."""
    context = multiprocessing.get_context("fork")
    outcomes = []
    for round_ in range(25):
        path, barrier, results = str(tmp_path / f"{round_}.db"), context.Barrier(4), context.Queue()
        processes = [context.Process(target=_connect_after, args=(barrier, path, results)) for _ in range(4)]
        for process in processes:
            process.start()
        outcomes += [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join()
    assert outcomes == ["ok"] * 100
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_rank_placeholder_gives_each_rank_its_own_database(tmp_path):
    writer = SQLiteWriter(tmp_path / "part-${rank}.db", batch_size=4)
    for rank in range(2):
        list(writer.run(iter(documents(10, start=10 * rank)), rank=rank, world_size=2))
    assert rows(tmp_path / "part-00000.db") == (10, 10) and rows(tmp_path / "part-00001.db") == (10, 10)


def test_unstorable_metadata_names_the_batch_and_commits_nothing_of_it(tmp_path):
    db = tmp_path / "out.db"
    docs = documents(6)
    docs[4].metadata["weight"] = {"not": "a column value"}
    writer = SQLiteWriter(db, batch_size=3, metadata_columns={"weight": "REAL"})
    with pytest.raises(ValueError, match=r"cannot store the batch of documents 'doc-3' \.\. 'doc-5'"):
        list(writer.run(iter(docs)))
    assert rows(db) == (3, 3)  # the first batch committed, the failing one rolled back whole

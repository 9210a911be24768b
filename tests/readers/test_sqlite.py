"""SQLiteReader on real SQLite files: rowid-range sharding, query sources, column errors, read-only access."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks.readers.sqlite import SQLiteReader, open_read_only, rowid_range_for_rank

ROWS = 1000


def make_database(path: Path, rows: int = ROWS, gaps: bool = False) -> Path:
    """A ``docs`` table (id, text, lang, score); with ``gaps`` some rowids are deleted, a block and a stride."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE docs (id TEXT, text TEXT, lang TEXT, score REAL)")
        conn.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?)",
            ((f"doc-{i}", f"document number {i} " * (1 + i % 5), "en" if i % 3 else "fr", i / 7) for i in range(rows)),
        )
        if gaps:
            conn.execute("DELETE FROM docs WHERE rowid % 7 = 0 OR rowid BETWEEN 200 AND 450")
    conn.close()
    return path


def table_ids(path: Path, table: str = "docs") -> list[str]:
    with sqlite3.connect(path) as conn:
        ids = [row[0] for row in conn.execute(f"SELECT id FROM {table}")]
    conn.close()
    return ids


@pytest.mark.parametrize("gaps", [False, True], ids=["dense", "gaps"])
def test_four_tasks_read_each_row_exactly_once(tmp_path, gaps):
    db = make_database(tmp_path / "docs.db", gaps=gaps)
    expected = table_ids(db)
    reader = SQLiteReader(db, "docs")
    per_rank = [[doc.id for doc in reader.run(rank=rank, world_size=4)] for rank in range(4)]
    union = [doc_id for ids in per_rank for doc_id in ids]
    assert sorted(union) == sorted(expected)
    assert len(union) == len(set(union))
    assert all(len(ids) < len(expected) for ids in per_rank)  # no task reads every row


def test_rowid_ranges_cover_the_span_without_overlap():
    for low, high, world in [(1, 1000, 4), (5, 5, 3), (1, 3, 8), (-10, 97, 7)]:
        ranges = [rowid_range_for_rank(low, high, rank, world) for rank in range(world)]
        covered = [rowid for lo, hi in ranges for rowid in range(lo, hi)]
        assert covered == list(range(low, high + 1))


def test_four_task_pipeline_writes_each_row_once(tmp_path):
    db = make_database(tmp_path / "docs.db", gaps=True)
    out = tmp_path / "out"
    LocalPipelineExecutor(
        pipeline=[SQLiteReader(db, "docs"), JsonlWriter(str(out), output_filename="${rank}.jsonl", compression=None)],
        tasks=4,
        workers=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    written = [json.loads(line)["id"] for file in sorted(out.glob("*.jsonl")) for line in file.open()]
    assert len(list(out.glob("*.jsonl"))) == 4
    assert sorted(written) == sorted(table_ids(db))


def test_documents_carry_text_id_and_metadata(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=10)
    docs = list(SQLiteReader(db, "docs", metadata_columns=["lang"]).run())
    assert [doc.id for doc in docs] == [f"doc-{i}" for i in range(10)]
    assert docs[4].text == "document number 4 " * 5
    assert docs[3].metadata == {"lang": "fr"}
    every_column = list(SQLiteReader(db, "docs").run())[1]
    assert every_column.metadata == {"lang": "en", "score": pytest.approx(1 / 7)}


def test_generated_ids_without_an_id_column(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=5)
    docs = list(SQLiteReader(db, "docs", id_column=None).run())
    assert [doc.id for doc in docs] == [f"docs.db/docs/{rowid}" for rowid in range(1, 6)]
    assert docs[0].metadata["id"] == "doc-0"  # an "id" column stays metadata


def test_query_source_split_by_lo_hi(tmp_path):
    db = make_database(tmp_path / "docs.db", gaps=True)
    query = "SELECT id, text, lang FROM docs WHERE lang = 'en' AND rowid >= :lo AND rowid < :hi"
    reader = SQLiteReader(db, query=query, rowid_table="docs")
    union = [doc.id for rank in range(4) for doc in reader.run(rank=rank, world_size=4)]
    with sqlite3.connect(db) as conn:
        expected = [row[0] for row in conn.execute("SELECT id FROM docs WHERE lang = 'en'")]
    conn.close()
    assert sorted(union) == sorted(expected) and len(union) == len(set(union))


def test_query_without_bounds_runs_only_as_one_task(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=20)
    reader = SQLiteReader(db, query="SELECT id, text FROM docs")
    assert len(list(reader.run(rank=0, world_size=1))) == 20
    with pytest.raises(ValueError, match=r"with 4 tasks the query needs :lo and :hi"):
        list(reader.run(rank=0, world_size=4))


def test_missing_column_names_database_table_and_columns(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=3)
    with pytest.raises(ValueError, match=r"docs\.db, table 'docs'\): no column 'body'; columns there: id, text"):
        list(SQLiteReader(db, "docs", text_column="body").run())
    with pytest.raises(ValueError, match=r"table 'nope' in database .*docs\.db.*tables there: docs"):
        list(SQLiteReader(db, "nope").run())


def test_missing_database_is_not_created(tmp_path):
    missing = tmp_path / "missing.db"
    with pytest.raises(FileNotFoundError, match="missing.db"):
        list(SQLiteReader(missing, "docs").run())
    assert not missing.exists()


def test_connection_is_read_only(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=3)
    conn = open_read_only(db)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM docs")
    conn.close()


def upper_case_adapter(self, data: dict, path: str, id_in_file: int) -> dict:
    return {"text": data[self.text_key].upper(), "id": f"{path}#{id_in_file}", "metadata": {"lang": data["lang"]}}


def test_custom_adapter(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=3)
    docs = list(SQLiteReader(db, "docs", adapter=upper_case_adapter).run())
    assert [(doc.text, doc.id, doc.metadata) for doc in docs][0] == (
        "DOCUMENT NUMBER 0 ",
        "docs.db/docs#1",
        {"lang": "fr"},
    )


def test_limit_skip_and_empty_text_counted(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=50)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE docs SET text = NULL WHERE rowid <= 5")
    conn.close()
    reader = SQLiteReader(db, "docs", skip=3, limit=10, batch_size=4)
    docs = list(reader.run())
    assert [doc.id for doc in docs] == [f"doc-{i}" for i in range(8, 18)]
    assert reader.stats["documents"].total == 10
    everything = SQLiteReader(db, "docs", batch_size=7)
    assert len(list(everything.run())) == 45
    assert everything.stats["empty_text"].total == 5
    assert everything.stats["doc_len"].n == 45


def test_query_source_needs_an_id_column(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=3)
    with pytest.raises(ValueError, match="a query source needs id_column="):
        SQLiteReader(
            db, query="SELECT text FROM docs WHERE rowid >= :lo AND rowid < :hi", rowid_table="docs", id_column=None
        )


def test_writer_metadata_json_comes_back_as_metadata(tmp_path):
    from datatrove.data import Document

    from trove_blocks.writers.sqlite import SQLiteWriter

    db = tmp_path / "written.db"
    docs = [Document(text="hello", id="a", metadata={"nested": {"k": [1, 2]}, "lang": "en"})]
    list(SQLiteWriter(db).run(iter(docs)))
    assert [doc.metadata for doc in SQLiteReader(db, "documents").run()] == [{"nested": {"k": [1, 2]}, "lang": "en"}]


def test_non_text_text_column(tmp_path):
    db = tmp_path / "values.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER, body)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, 2.5), (2, "ünïcode".encode()), (3, b"\xff\xfe")])
    conn.close()
    reader = SQLiteReader(db, "t", text_column="body", batch_size=2)
    docs = reader.run()
    assert [(doc.id, doc.text) for doc in [next(docs), next(docs)]] == [("1", "2.5"), ("2", "ünïcode")]
    with pytest.raises(ValueError, match=r"table 't'\): row 3, column 'body' is a BLOB that is not UTF-8"):
        next(docs)


def test_a_null_id_is_an_error_naming_the_row(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=10)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE docs SET id = NULL WHERE rowid = 7")
    conn.close()
    for adapter in (None, upper_case_adapter):  # the generated row loop and the adapter path
        options = {"adapter": adapter} if adapter else {}
        read = []
        with pytest.raises(ValueError, match=r"table 'docs'\): row 7, id column 'id' is NULL"):
            read.extend(SQLiteReader(db, "docs", batch_size=4, **options).run())
        assert 4 <= len(read) <= 6 and "None" not in [doc.id for doc in read]


def test_a_rank_searches_its_rowid_range_instead_of_scanning(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=10)
    conn = sqlite3.connect(db)
    plan = " ".join(
        row[3]
        for row in conn.execute("EXPLAIN QUERY PLAN " + SQLiteReader(db, "docs").table_query(), {"lo": 1, "hi": 5})
    )
    conn.close()
    assert plan.startswith("SEARCH docs USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"), plan


def test_rowid_bounds_are_index_lookups_not_scans(tmp_path):
    db = make_database(tmp_path / "docs.db", rows=10)
    conn = sqlite3.connect(db)
    plans = [
        " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        for sql in SQLiteReader(db, "docs").rowid_bounds_queries()
    ]
    conn.close()
    assert all(plan.startswith("SEARCH docs") for plan in plans), plans


def test_batched_doc_len_stats_equal_per_document_updates(tmp_path):
    from datatrove.utils.stats import MetricStats

    db = make_database(tmp_path / "docs.db", rows=101, gaps=True)
    reader = SQLiteReader(db, "docs", batch_size=8)
    docs = list(reader.run())
    expected = MetricStats()
    for doc in docs:
        expected.update(len(doc.text))
    batched = reader.stats["doc_len"]
    assert (batched.total, batched.n, batched.min, batched.max) == (
        expected.total,
        expected.n,
        expected.min,
        expected.max,
    )
    assert batched.mean == pytest.approx(expected.mean)
    assert batched.variance == pytest.approx(expected.variance)
    assert batched.variance > 0


def test_skip_and_limit_build_the_same_documents_as_a_full_read(tmp_path):
    from datatrove.data import Document

    from trove_blocks.writers.sqlite import SQLiteWriter

    db = tmp_path / "written.db"
    docs = [Document(text=f"t{i}", id=f"{i:02d}", metadata={"k": i} if i % 2 else {}) for i in range(12)]
    list(SQLiteWriter(db).run(iter(docs)))

    def read(**options):
        return [
            (doc.id, doc.text, doc.metadata) for doc in SQLiteReader(db, "documents", batch_size=5, **options).run()
        ]

    everything = read()
    assert everything[0] == ("00", "t0", {}) and everything[1] == ("01", "t1", {"k": 1})  # NULL metadata: none
    assert read(skip=3, limit=6) == everything[3:9]

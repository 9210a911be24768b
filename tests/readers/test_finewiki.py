"""FineWikiReader: the real FineWiki sample, the columns it needs, rows without text kept, files named, progress."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datatrove.utils.logging import logger

from trove_blocks.readers.finewiki import FineWikiReader

SAMPLE = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "finewiki" / "finewiki_sample.parquet"


def test_reads_the_real_sample_as_parquet_has_it(tmp_path):
    shutil.copy(SAMPLE, tmp_path)
    docs = list(FineWikiReader(str(tmp_path), batch_size=3).run())
    table = pq.read_table(SAMPLE)
    assert [doc.text for doc in docs] == table.column("text").to_pylist()
    assert [doc.id for doc in docs] == table.column("id").to_pylist()
    assert [doc.metadata for doc in docs] == [{"title": title} for title in table.column("title").to_pylist()]


def test_rows_without_text_are_passed_on_and_title_is_optional(tmp_path):
    pq.write_table(
        pa.table({"id": ["a", "b", "c"], "text": ["Some text.", "", None], "wikitext": ["x" * 10_000] * 3}),
        tmp_path / "no_title.parquet",
    )
    docs = list(FineWikiReader(str(tmp_path)).run())
    assert [(doc.id, doc.text, doc.metadata) for doc in docs] == [
        ("a", "Some text.", {"title": None}),
        ("b", "", {"title": None}),
        ("c", "", {"title": None}),
    ]


def test_a_file_without_text_or_id_is_named(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "body": ["text"]}), tmp_path / "other.parquet")
    with pytest.raises(
        ValueError, match=r"other\.parquet: not a FineWiki parquet file: no column text \(it has id, body\)"
    ):
        list(FineWikiReader(str(tmp_path)).run())


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"id": ["a", None], "text": ["x", "y"]}), r"bad\.parquet: row 1 has no id \(null\)"),
        (pa.table({"id": ["a"], "text": [b"x"]}), r"bad\.parquet: column text is binary, not text"),
        (pa.table({"id": [1.5], "text": ["x"]}), r"bad\.parquet: column id is double, not text or an integer"),
    ],
    ids=["null id", "binary text", "float id"],
)
def test_bad_rows_and_columns_are_named(tmp_path, table, message):
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=message):
        list(FineWikiReader(str(tmp_path)).run())


def test_integer_ids_are_read_as_text_and_a_damaged_file_is_named(tmp_path):
    pq.write_table(pa.table({"id": [7], "text": ["x"]}), tmp_path / "ints.parquet")
    assert [doc.id for doc in FineWikiReader(str(tmp_path)).run()] == ["7"]
    (tmp_path / "ints.parquet").unlink()
    (tmp_path / "cut.parquet").write_bytes(SAMPLE.read_bytes()[:15_000])
    with pytest.raises(ValueError, match=r"cut\.parquet: cannot read it as parquet \(.*magic bytes"):
        list(FineWikiReader(str(tmp_path)).run())


def test_progress_through_each_file(tmp_path):
    pq.write_table(pa.table({"id": [str(i) for i in range(10)], "text": ["t"] * 10}), tmp_path / "a.parquet")
    lines = []
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="INFO")
    try:
        docs = list(FineWikiReader(str(tmp_path), batch_size=4, progress_seconds=1e-9).run())
    finally:
        logger.remove(sink)
    assert len(docs) == 10
    progress = [line for line in lines if "records/s" in line]
    assert [line.split(", ")[1] for line in progress] == ["4 records", "8 records", "10 records"]
    assert "(100 %)" in progress[-1] and "ETA 0m00s" in progress[-1]


def test_a_document_is_not_kept_once_handed_on(tmp_path):
    """The reader holds no document of its batch after yielding it: downstream steps add to documents (the token
    filter their ids, ~40 bytes a token), so a batch of 1000 long articles kept whole held all their ids."""
    import gc
    import weakref

    class Probe:
        pass

    pq.write_table(
        pa.table({"id": [str(i) for i in range(50)], "text": [f"article {i}" for i in range(50)]}),
        tmp_path / "a.parquet",
    )
    reader = FineWikiReader(str(tmp_path), batch_size=1000).run()
    previous = None
    for doc in reader:
        gc.collect()
        assert previous is None or previous() is None, "the document before this one is still referenced"
        probe = Probe()
        doc.metadata["probe"] = probe  # what a downstream step adds
        previous = weakref.ref(probe)
        del doc, probe

"""Reading a chunk+render stage's samples (trove_blocks.finewiki.samples) in both layouts, written from real
FineWiki-shaped articles: the same statistics and pages from either, images read only when asked, bad lines named."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from trove_blocks.finewiki.records import finewiki_article
from trove_blocks.finewiki.samples import LAYOUTS, iter_jsonl, iter_sample_stats, read_pages, sample_files
from trove_blocks.formatters.context_chunks import ContextChunker
from trove_blocks.taggers.page_render import PageRenderer
from trove_blocks.writers.images import ImageFilesWriter, ImageParquetWriter

SAMPLE = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "finewiki" / "finewiki_sample.parquet"
MODES = ("tiny", "small")


def rendered() -> list[Document]:
    rows = pq.read_table(SAMPLE).to_pylist()
    articles = [Document(**finewiki_article(None, row, str(SAMPLE), i)) for i, row in enumerate(rows)]
    return list(PageRenderer(MODES).run(ContextChunker("cl100k_base", 700, 300).run(iter(articles))))


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> dict[str, Path]:
    """The same samples in both layouts, written by two tasks (two sample files each)."""
    base = tmp_path_factory.mktemp("samples")
    docs = rendered()
    half = len(docs) // 2
    for rank, part in enumerate((docs[:half], docs[half:])):
        with ImageFilesWriter(str(base / "files"), MODES) as writer:
            for doc in part:
                writer.write(doc, rank)
        with ImageParquetWriter(str(base / "parquet" / "parquet"), MODES) as writer:
            for doc in part:
                writer.write(doc, rank)
    return {"files": base / "files", "parquet": base / "parquet"}


def records(root: Path) -> list[dict]:
    return [record for path in sample_files(root, "files") for _, _, record in iter_jsonl(path)]


def test_sample_files_of_each_layout_sorted_by_name(roots):
    assert [p.name for p in sample_files(roots["files"], "files")] == ["00000.jsonl", "00001.jsonl"]
    parquet = [p.name for p in sample_files(roots["parquet"], "parquet")]
    assert parquet == sorted(parquet) and len(parquet) == 2 and all(name.endswith(".parquet") for name in parquet)
    assert sample_files(roots["files"], "parquet") == []
    with pytest.raises(ValueError, match=r"layout must be one of \('files', 'parquet'\), got 'arrow'"):
        sample_files(roots["files"], "arrow")


def test_statistics_are_the_same_in_both_layouts_and_those_of_the_records(roots):
    stats = {layout: list(iter_sample_stats(roots[layout], layout, MODES)) for layout in LAYOUTS}
    assert stats["files"] == stats["parquet"]
    expected = [
        {
            "id": r["id"],
            "characters": r["characters"],
            "text_tokens": r["text_tokens"],
            **{m: {k: r["render"][m][k] for k in ("font_size", "overflow", "png_bytes")} for m in MODES},
        }
        for r in records(roots["files"])
    ]
    assert stats["files"] == expected and len(expected) > 4


def test_pages_are_the_same_in_both_layouts_and_stop_at_the_limit(roots):
    every = read_pages(roots["files"], "files", MODES, 1000)
    assert [sample_id for sample_id, _ in every] == [r["id"] for r in records(roots["files"])]
    for sample_id, pages in every:
        assert pages == {m: (roots["files"] / "images" / m / f"{sample_id}.png").read_bytes() for m in MODES}
    assert read_pages(roots["parquet"], "parquet", MODES, 1000) == every
    for limit in (0, 1, 3):
        assert read_pages(roots["files"], "files", MODES, limit) == every[:limit]
        assert read_pages(roots["parquet"], "parquet", ("small",), limit) == [
            (sample_id, {"small": pages["small"]}) for sample_id, pages in every[:limit]
        ]


def test_statistics_do_not_read_the_images(roots, tmp_path):
    copy = tmp_path / "files"
    (copy / "samples").mkdir(parents=True)
    for path in sample_files(roots["files"], "files"):
        (copy / "samples" / path.name).write_bytes(path.read_bytes())  # no images/ at all
    assert list(iter_sample_stats(copy, "files", MODES)) == list(iter_sample_stats(roots["files"], "files", MODES))
    with pytest.raises(FileNotFoundError):
        read_pages(copy, "files", MODES, 1)


def test_iter_jsonl_skips_blank_lines_and_names_the_file_and_line_of_a_bad_one(roots, tmp_path):
    lines = (roots["files"] / "samples" / "00000.jsonl").read_text().splitlines()
    path = tmp_path / "samples.jsonl"
    path.write_text(f"{lines[0]}\n\n{lines[1]}\n")
    assert [(number, record["id"]) for number, _, record in iter_jsonl(path)] == [
        (1, json.loads(lines[0])["id"]),
        (3, json.loads(lines[1])["id"]),
    ]
    path.write_text(f"{lines[0]}\n{lines[1][:50]}\n")
    with pytest.raises(ValueError, match=rf"{path.name}:2: not a JSON record"):
        list(iter_jsonl(path))

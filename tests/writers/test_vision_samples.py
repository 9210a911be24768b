"""The single-task steps that finish a FineWiki vision run (trove_blocks.writers.vision_samples), on samples
rendered from the real FineWiki-shaped articles in both layouts: report, train/val splits and Arrow files, the
same figures from either layout, input documents consumed and none passed on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datatrove.data import Document
from PIL import Image

from trove_blocks.finewiki.records import finewiki_article
from trove_blocks.formatters.context_chunks import ContextChunker
from trove_blocks.taggers.page_render import PageRenderer
from trove_blocks.writers.images import ImageFilesWriter, ImageParquetWriter
from trove_blocks.writers.vision_samples import ArrowConverter, CompressionReportWriter, SplitWriter

SAMPLE = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "finewiki" / "finewiki_sample.parquet"
MODES = ("tiny",)
LAYOUTS = ("files", "parquet")


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> tuple[Path, list[Document]]:
    """Rendered samples written in both layouts under one base folder: ``<base>/files`` and ``<base>/parquet``."""
    rows = pq.read_table(SAMPLE).to_pylist()
    articles = [Document(**finewiki_article(None, row, str(SAMPLE), i)) for i, row in enumerate(rows)]
    docs = list(PageRenderer(MODES).run(ContextChunker("cl100k_base", 700, 300).run(iter(articles))))
    base = tmp_path_factory.mktemp("vision")
    with ImageFilesWriter(str(base / "files"), MODES) as writer:
        for doc in docs:
            writer.write(doc)
    with ImageParquetWriter(str(base / "parquet" / "parquet"), MODES) as writer:
        for doc in docs:
            writer.write(doc)
    return base, docs


@pytest.fixture
def roots(samples, tmp_path) -> dict[str, Path]:
    """A fresh copy of both layouts for one test (the steps write beside the samples)."""
    base, _ = samples
    return {layout: Path(shutil.copytree(base / layout, tmp_path / layout)) for layout in LAYOUTS}


def consumed(step, docs: list[Document]) -> tuple[list, int]:
    """Run ``step`` on ``docs``: what it passes on, and how many of the documents it read."""
    seen = []

    def feed():
        for doc in docs:
            seen.append(doc.id)
            yield doc

    return list(step.run(feed(), 0, 1)), len(seen)


def test_the_report_holds_every_sample_and_is_the_same_from_either_layout(roots, samples):
    _, docs = samples
    reports = {}
    for layout in LAYOUTS:
        step = CompressionReportWriter(str(roots[layout]), layout, MODES, sheet_samples=2)
        assert consumed(step, docs[:3]) == ([], 3)
        report_dir = roots[layout] / "report"
        reports[layout] = json.loads((report_dir / "report.json").read_text())
        assert "| tiny |" in (report_dir / "report.md").read_text()
        assert Image.open(report_dir / "contact_sheet.png").format == "PNG"
        assert step.stats["samples"].total == len(docs)
    assert reports["files"] == reports["parquet"]
    report = reports["files"]
    assert report["samples"] == len(docs) and report["text_tokens"]["mean"] == 700
    assert report["modes"]["tiny"]["png_bytes_total"] == sum(len(d.media[0].media_bytes) for d in docs)


def test_no_sample_gives_an_empty_report_and_no_contact_sheet(tmp_path):
    (tmp_path / "samples").mkdir()
    list(CompressionReportWriter(str(tmp_path), "files", MODES).run(None))
    assert json.loads((tmp_path / "report" / "report.json").read_text())["samples"] == 0
    assert not (tmp_path / "report" / "contact_sheet.png").exists()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_splits_keep_max_samples_with_val_size_in_val_and_the_same_ids_on_a_rerun(roots, samples, layout):
    _, docs = samples
    max_samples, val_size = len(docs) - 2, 2
    step = SplitWriter(str(roots[layout]), layout, MODES, max_samples, val_size, seed=5)
    assert consumed(step, docs[:2]) == ([], 2)
    manifest = json.loads((roots[layout] / "splits" / "split_manifest.json").read_text())
    assert (manifest["total"], manifest["kept"], manifest["val"]) == (len(docs), max_samples, val_size)
    assert manifest["train"] + manifest["val"] == max_samples
    counts = {name: step.stats[name].total for name in ("samples", "train", "val", "not_selected")}
    assert counts == {"samples": len(docs), "train": max_samples - val_size, "val": val_size, "not_selected": 2}
    again = roots[layout].parent / f"{layout}_again"
    shutil.copytree(roots[layout], again, ignore=shutil.ignore_patterns("splits"))
    list(SplitWriter(str(again), layout, MODES, max_samples, val_size, seed=5).run(None))
    rerun = json.loads((again / "splits" / "split_manifest.json").read_text())
    assert (rerun["train_ids_digest"], rerun["val_ids_digest"]) == (
        manifest["train_ids_digest"],
        manifest["val_ids_digest"],
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_arrow_files_hold_the_rows_of_the_splits(roots, samples, layout):
    _, docs = samples
    list(SplitWriter(str(roots[layout]), layout, MODES, len(docs), 3, seed=1).run(None))
    step = ArrowConverter(str(roots[layout]), layout, MODES)
    assert consumed(step, docs[:1]) == ([], 1)
    ids = {}
    for split in ("train", "val"):
        table = pa.ipc.open_file(pa.memory_map(str(roots[layout] / "arrow" / f"{split}.arrow"))).read_all()
        ids[split] = table.column("id").to_pylist()
        assert step.stats[f"{split}_rows"].total == table.num_rows
    assert len(ids["val"]) == 3 and sorted(ids["train"] + ids["val"]) == sorted(d.id for d in docs)

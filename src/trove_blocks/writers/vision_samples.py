"""Single-task steps that finish a FineWiki vision run from the samples on disk: report, splits, Arrow.

Each reads what the chunk+render stage wrote under ``root`` (either layout, see
:mod:`trove_blocks.finewiki.samples`) and ignores its input documents; run them in a stage of one task.
"""

from __future__ import annotations

from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.finewiki.arrow import convert_to_arrow
from trove_blocks.finewiki.report import aggregate, contact_sheet, markdown_table
from trove_blocks.finewiki.samples import iter_sample_stats, read_pages
from trove_blocks.finewiki.splitting import make_splits
from trove_blocks.io import atomic_output, write_json_atomic


class _FolderStep(PipelineStep):
    type = "💽 - WRITER"

    def __init__(self, root: str, layout: str, modes: tuple[str, ...]):
        super().__init__()
        self.root = root
        self.layout = layout
        self.modes = tuple(modes)

    def _drain(self, data: DocumentsPipeline) -> None:
        for _ in data or ():
            pass


class CompressionReportWriter(_FolderStep):
    """``report/report.json`` + ``report/report.md`` (compression per mode, see :mod:`trove_blocks.finewiki.report`)
    and ``report/contact_sheet.png`` (the first ``sheet_samples`` samples, every mode) under ``root``."""

    name = "📊 Compression report"

    def __init__(
        self, root: str, layout: str, modes: tuple[str, ...], vision_token_count: str = "code", sheet_samples: int = 3
    ):
        super().__init__(root, layout, modes)
        self.vision_token_count = vision_token_count
        self.sheet_samples = sheet_samples

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._drain(data)
        root = Path(self.root)
        target = root / "report"
        with self.track_time():
            report = aggregate(iter_sample_stats(root, self.layout, self.modes), self.modes, self.vision_token_count)
            write_json_atomic(target / "report.json", report)
            with atomic_output(target / "report.md") as handle:
                handle.write(markdown_table(report))
            pages = read_pages(root, self.layout, self.modes, self.sheet_samples)
            if pages:
                with atomic_output(target / "contact_sheet.png", "wb") as handle:
                    handle.write(contact_sheet(pages, self.modes))
        self.stat_update("samples", value=report["samples"])
        yield from ()


class SplitWriter(_FolderStep):
    """``splits/`` under ``root``: train/val + ``split_manifest.json`` (see :mod:`trove_blocks.finewiki.splitting`).
    Image paths in the JSONL records stay relative to ``root``."""

    name = "🔀 Train/val split"

    def __init__(self, root: str, layout: str, modes: tuple[str, ...], max_samples: int, val_size: int, seed: int):
        super().__init__(root, layout, modes)
        self.max_samples = max_samples
        self.val_size = val_size
        self.seed = seed

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._drain(data)
        with self.track_time():
            manifest = make_splits(
                self.root, self.layout, Path(self.root) / "splits", self.max_samples, self.val_size, self.seed
            )
        self.stat_update("samples", value=manifest["total"])
        self.stat_update("train", value=manifest["train"])
        self.stat_update("val", value=manifest["val"])
        self.stat_update("not_selected", value=manifest["total"] - manifest["kept"])
        yield from ()


class ArrowConverter(_FolderStep):
    """``arrow/train.arrow`` / ``arrow/val.arrow`` (memory-mappable Arrow IPC) from ``splits/`` under ``root``."""

    name = "🏹 Arrow"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._drain(data)
        extension = ".jsonl" if self.layout == "files" else ".parquet"
        root = Path(self.root)
        for split in ("train", "val"):
            with self.track_time():
                rows = convert_to_arrow(
                    root / "splits" / f"{split}{extension}", root / "arrow" / f"{split}.arrow", self.modes
                )
            self.stat_update(f"{split}_rows", value=rows)
        yield from ()

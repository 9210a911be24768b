"""Writing one downloaded curriculum dataset as raw JSONL, atomically, with its ``<name>.stats.json``.

Layout (the seed's): ``<output>/<category>/<name>.jsonl`` holding ``{"text", "id", "source", "category",
"metadata"}`` per line, ``<name>.stats.json`` beside it, and ``<name>.excluded.jsonl`` for the rows that could
not be rendered (each with ``metadata["filter_reason"]``), only when there are any. Files appear by rename once
complete, the stats file last: a dataset counts as present (:func:`download_status`) only when its stats file
exists, the JSONL still has the size and sha256 the stats recorded, and the stats' settings (source, its files,
format, row limit) are the run's, so an interrupted download, or one made otherwise, is redone.

This module holds the one block of the downloader; registry and adapters stay free of datatrove.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.io import atomic_output, write_json_atomic
from trove_blocks.manifest import file_sha256
from trove_blocks.readers.curriculum import INVALID_REASON


def dataset_paths(output_dir: str | Path, category: str, name: str) -> tuple[Path, Path, Path]:
    """``(jsonl, stats, excluded)`` paths of one dataset under ``output_dir``."""
    folder = Path(output_dir) / category
    return folder / f"{name}.jsonl", folder / f"{name}.stats.json", folder / f"{name}.excluded.jsonl"


@dataclass(frozen=True)
class DownloadStatus:
    """Whether a dataset is present and complete, with its recorded stats (None when absent or broken)."""

    name: str
    category: str
    present: bool
    reason: str
    stats: dict[str, Any] | None


def download_status(
    output_dir: str | Path,
    category: str,
    name: str,
    check_sha256: bool = True,
    settings: dict[str, Any] | None = None,
) -> DownloadStatus:
    """Present = stats file readable, the JSONL matches its recorded bytes (and sha256) and, when ``settings`` are
    given, the download was made with them (``CurriculumDataset.download_settings``)."""
    jsonl, stats_path, _ = dataset_paths(output_dir, category, name)
    if not stats_path.is_file():
        return DownloadStatus(name, category, False, "not downloaded", None)
    try:
        stats = json.loads(stats_path.read_text())
    except json.JSONDecodeError:
        return DownloadStatus(name, category, False, f"{stats_path.name} is not JSON", None)
    if not jsonl.is_file():
        return DownloadStatus(name, category, False, f"{jsonl.name} missing", stats)
    if jsonl.stat().st_size != stats.get("bytes"):
        return DownloadStatus(name, category, False, f"{jsonl.name} size differs from its stats", stats)
    if check_sha256 and file_sha256(jsonl) != stats.get("sha256"):
        return DownloadStatus(name, category, False, f"{jsonl.name} sha256 differs from its stats", stats)
    recorded = stats.get("settings") or {}
    if settings is not None and recorded != settings:
        changed = sorted(key for key in settings.keys() | recorded.keys() if settings.get(key) != recorded.get(key))
        return DownloadStatus(name, category, False, f"settings changed: {', '.join(changed)}", stats)
    return DownloadStatus(name, category, True, "present", stats)


class RawCurriculumWriter(PipelineStep):
    """Write a dataset's documents as the seed's raw JSONL; invalid records go to an exclusion file, counted.

    Counts ``documents`` (kept), ``excluded`` and ``excluded_<reason>``; kept + excluded = rows read.
    """

    type = "💽 - WRITER"
    name = "📚 Raw curriculum JSONL"

    def __init__(
        self, output_dir: str, dataset_name: str, category: str, origin: str, settings: dict[str, Any] | None = None
    ):
        super().__init__()
        self.output_dir = output_dir
        self.dataset_name = dataset_name
        self.category = category
        self.origin = origin
        self.settings = settings or {}

    @staticmethod
    def raw_record(document, category: str, source: str) -> dict[str, Any]:
        metadata = {k: v for k, v in document.metadata.items() if k not in ("category", "source", "dataset")}
        metadata["num_chars"] = len(document.text)
        return {"text": document.text, "id": document.id, "source": source, "category": category, "metadata": metadata}

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError(
                f"{self.dataset_name}: the raw JSONL of a dataset is written by one task, got {world_size}"
            )
        started = time.monotonic()
        jsonl, stats_path, excluded_path = dataset_paths(self.output_dir, self.category, self.dataset_name)
        kept = excluded = chars = 0
        reasons: dict[str, int] = {}
        with ExitStack() as stack:
            out = stack.enter_context(atomic_output(jsonl))
            excluded_out = None
            for document in data:
                reason = document.metadata.get(INVALID_REASON)
                if reason:
                    if excluded_out is None:
                        excluded_out = stack.enter_context(atomic_output(excluded_path))
                    document.metadata["filter_reason"] = reason
                    excluded_out.write(json.dumps(self.raw_record(document, self.category, self.dataset_name)) + "\n")
                    excluded += 1
                    reasons[reason] = reasons.get(reason, 0) + 1
                    self.stat_update("excluded")
                    self.stat_update(f"excluded_{reason}")
                    continue
                with self.track_time():
                    line = json.dumps(self.raw_record(document, self.category, self.dataset_name), ensure_ascii=False)
                    out.write(line + "\n")
                kept += 1
                chars += len(document.text)
                self.stat_update("documents")
                yield document
        if excluded_out is None:
            excluded_path.unlink(missing_ok=True)
        write_json_atomic(
            stats_path,
            {
                "name": self.dataset_name,
                "category": self.category,
                "origin": self.origin,
                "settings": self.settings,
                "rows_read": kept + excluded,
                "documents": kept,
                "excluded": excluded,
                "excluded_reasons": reasons,
                "chars": chars,
                "bytes": jsonl.stat().st_size,
                "sha256": file_sha256(jsonl),
                "seconds": round(time.monotonic() - started, 3),
            },
        )

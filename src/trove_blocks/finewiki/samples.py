"""Reading the samples a chunk+render stage wrote, in either layout, without loading images unless asked.

- ``files``: ``<root>/samples/*.jsonl`` (sample records) + ``<root>/images/<mode>/<id>.png``
- ``parquet``: ``<root>/parquet/*.parquet`` (one row per sample, ``image_<mode>`` binary columns)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from trove_blocks.finewiki.paths import image_relpath, inside

LAYOUTS = ("files", "parquet")

#: what the statistics need from a sample, in either layout
STAT_FIELDS = ("id", "characters", "text_tokens")


def sample_files(root: str | Path, layout: str) -> list[Path]:
    """The sample files of ``layout`` under ``root``, sorted by name."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    root = Path(root)
    return (
        sorted((root / "samples").glob("*.jsonl"))
        if layout == "files"
        else sorted((root / "parquet").glob("*.parquet"))
    )


def iter_jsonl(path: Path) -> Iterator[tuple[int, str, dict]]:
    """``(line number, raw line, record)`` of a JSONL file; a bad line raises naming the file and line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield number, line, json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON record ({error})") from error


def iter_sample_stats(root: str | Path, layout: str, modes: tuple[str, ...]) -> Iterator[dict]:
    """Per sample: ``id, characters, text_tokens`` and ``font_size/overflow/png_bytes`` per mode (no images read)."""
    if layout == "files":
        for path in sample_files(root, layout):
            for _, _, record in iter_jsonl(path):
                row = {key: record[key] for key in STAT_FIELDS}
                for mode in modes:
                    render = record["render"][mode]
                    row[mode] = {key: render[key] for key in ("font_size", "overflow", "png_bytes")}
                yield row
        return
    import pyarrow.parquet as pq

    kinds = ("font_size", "overflow", "png_bytes")
    columns = [*STAT_FIELDS, *(f"{kind}_{mode}" for mode in modes for kind in kinds)]
    for path in sample_files(root, layout):
        for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=4096):
            data = batch.to_pydict()
            for index in range(batch.num_rows):
                row = {key: data[key][index] for key in STAT_FIELDS}
                for mode in modes:
                    row[mode] = {kind: data[f"{kind}_{mode}"][index] for kind in kinds}
                yield row


def read_pages(root: str | Path, layout: str, modes: tuple[str, ...], limit: int) -> list[tuple[str, dict[str, bytes]]]:
    """The PNG bytes of the first ``limit`` samples (in file order): ``[(id, {mode: png})]``."""
    pages: list[tuple[str, dict[str, bytes]]] = []
    if layout == "files":
        for path in sample_files(root, layout):
            for _, _, record in iter_jsonl(path):
                if len(pages) >= limit:
                    return pages
                images = {mode: inside(root, image_relpath(mode, record["id"])).read_bytes() for mode in modes}
                pages.append((record["id"], images))
        return pages
    import pyarrow.parquet as pq

    for path in sample_files(root, layout):
        columns = ["id", *(f"image_{mode}" for mode in modes)]
        for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=max(1, limit)):
            data = batch.to_pydict()
            for index in range(batch.num_rows):
                if len(pages) >= limit:
                    return pages
                pages.append((data["id"][index], {mode: data[f"image_{mode}"][index] for mode in modes}))
    return pages

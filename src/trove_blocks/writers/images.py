"""Rendered pages to disk, in the seed's layout (one PNG file per page) or inside Parquet (a binary column per mode).

Both take documents from :class:`trove_blocks.taggers.page_render.PageRenderer` (PNG bytes in ``doc.media``,
``Media.metadata["mode"]``) and write the sample record of :func:`trove_blocks.finewiki.records.sample_record`.
Ids become file names only through :mod:`trove_blocks.finewiki.paths`: an id such as ``../../x`` raises
:class:`~trove_blocks.finewiki.paths.UnsafePathError` naming it, before anything is written.
"""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.writers.jsonl import JsonlWriter
from datatrove.pipeline.writers.parquet import ParquetWriter

from trove_blocks.finewiki.arrow import sample_fields
from trove_blocks.finewiki.paths import check_name, image_relpath, inside
from trove_blocks.finewiki.records import sample_record
from trove_blocks.io import atomic_output
from trove_blocks.render import MODES


def _pages(document: Document, modes: tuple[str, ...]) -> dict[str, bytes]:
    pages = {media.metadata.get("mode"): media.media_bytes for media in document.media}
    missing = [mode for mode in modes if not pages.get(mode)]
    if missing:
        raise ValueError(f"document {document.id!r} has no rendered page for modes {missing} (run PageRenderer first)")
    return pages


class ImageFilesWriter(JsonlWriter):
    """The seed's layout under a local ``output_folder``: ``images/<mode>/<id>.png`` (each written atomically) and
    ``samples/<rank>.jsonl`` of sample records whose ``images`` are paths relative to ``output_folder``.

    The seed's single ``samples.jsonl`` is the concatenation of the per-task files.
    """

    name = "🖼️ Image files"

    def __init__(self, output_folder: str, modes: tuple[str, ...] = tuple(MODES), vision_token_count: str = "code"):
        super().__init__(output_folder, output_filename="samples/${rank}.jsonl", compression=None)
        self.root = output_folder
        self.modes = tuple(modes)
        self.vision_token_count = vision_token_count

    def _default_adapter(self, document: Document) -> dict:
        return sample_record(document, self.modes, self.vision_token_count)

    def write(self, document: Document, rank: int = 0, **kwargs):
        pages = _pages(document, self.modes)
        for mode in self.modes:
            path = inside(self.root, image_relpath(mode, document.id))
            with atomic_output(path, "wb") as handle:
                handle.write(pages[mode])
            self.stat_update(f"image_bytes_{mode}", value=len(pages[mode]))
        super().write(document, rank, **kwargs)


def sample_parquet_schema(modes: tuple[str, ...]):
    """Columns of :class:`ImageParquetWriter`: the sample record (no image paths) + ``image_<mode>`` PNG bytes and
    ``font_size_<mode>`` / ``overflow_<mode>`` / ``png_bytes_<mode>`` per mode."""
    import pyarrow as pa

    fields = sample_fields()
    for mode in modes:
        fields += [
            pa.field(f"image_{mode}", pa.binary()),
            pa.field(f"font_size_{mode}", pa.int16()),
            pa.field(f"overflow_{mode}", pa.bool_()),
            pa.field(f"png_bytes_{mode}", pa.int32()),
        ]
    return pa.schema(fields)


class ImageParquetWriter(ParquetWriter):
    """Samples with their pages inside Parquet: ``<output_folder>/<rank>.parquet``, one row per sample, a binary
    column ``image_<mode>`` per mode (see :func:`sample_parquet_schema`), so millions of pages are a few files.

    PNG bytes do not compress further; ``compression`` (zstd) works on the text and token columns.
    """

    name = "🖼️ Image Parquet"

    def __init__(
        self,
        output_folder: str,
        modes: tuple[str, ...] = tuple(MODES),
        batch_size: int = 256,
        compression: str | None = "zstd",
    ):
        super().__init__(
            output_folder,
            output_filename="${rank}.parquet",
            compression=compression,
            batch_size=batch_size,
            schema=sample_parquet_schema(tuple(modes)),
        )
        self.modes = tuple(modes)

    def _default_adapter(self, document: Document) -> dict:
        check_name(document.id)
        pages = _pages(document, self.modes)
        record = sample_record(document, self.modes, with_image_paths=False)
        row = {key: record[key] for key in self.schema.names if key in record}
        for mode in self.modes:
            row[f"image_{mode}"] = pages[mode]
            row[f"font_size_{mode}"] = record["render"][mode]["font_size"]
            row[f"overflow_{mode}"] = record["render"][mode]["overflow"]
            row[f"png_bytes_{mode}"] = len(pages[mode])
            self.stat_update(f"image_bytes_{mode}", value=len(pages[mode]))
        return row

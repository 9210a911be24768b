"""Sample records -> Arrow IPC files that training reads memory-mapped (the reader's memory does not grow with
the dataset: column buffers stay in the page cache, only the batch metadata is on the heap).

Input: a JSONL file of sample records (the files layout: images are relative paths, stored as ``image_<mode>``
string columns) or a Parquet file of the Parquet layout (``image_<mode>`` PNG bytes). Rows are converted in
batches of ``batch_rows``, so the converter's memory does not grow with the file either.
"""

from __future__ import annotations

from pathlib import Path

from trove_blocks.finewiki.samples import iter_jsonl
from trove_blocks.io import atomic_output


def sample_fields() -> list:
    """The Arrow fields of a sample record without its images (shared by the Arrow files and the Parquet layout)."""
    import pyarrow as pa

    return [
        pa.field("id", pa.string()),
        pa.field("article_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("chunk_index", pa.int32()),
        pa.field("context_text", pa.string()),
        pa.field("context_tokens", pa.list_(pa.int32())),
        pa.field("continuation_tokens", pa.list_(pa.int32())),
        pa.field("characters", pa.int32()),
        pa.field("text_tokens", pa.int32()),
        pa.field("missing_glyphs", pa.string()),
    ]


def jsonl_arrow_schema(modes: tuple[str, ...]):
    """Sample records of the files layout: ``image_<mode>`` holds the page's relative path."""
    import pyarrow as pa

    return pa.schema(sample_fields() + [pa.field(f"image_{mode}", pa.string()) for mode in modes])


def convert_to_arrow(source: str | Path, target: str | Path, modes: tuple[str, ...], batch_rows: int = 1024) -> int:
    """Write ``source`` (.jsonl sample records or .parquet samples) to the Arrow IPC file ``target``; returns rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = Path(source)
    rows = 0
    with atomic_output(target, "wb") as handle:
        if source.suffix == ".parquet":
            parquet = pq.ParquetFile(source)
            with pa.ipc.new_file(handle, parquet.schema_arrow) as writer:
                for batch in parquet.iter_batches(batch_size=batch_rows):
                    writer.write_batch(batch)
                    rows += batch.num_rows
            return rows
        schema = jsonl_arrow_schema(modes)
        with pa.ipc.new_file(handle, schema) as writer:
            pending: list[dict] = []
            for _, _, record in iter_jsonl(source):
                row = {name: record.get(name) for name in schema.names if not name.startswith("image_")}
                row.update({f"image_{mode}": record["images"][mode] for mode in modes})
                pending.append(row)
                if len(pending) == batch_rows:
                    writer.write_batch(pa.RecordBatch.from_pylist(pending, schema=schema))
                    rows += len(pending)
                    pending = []
            if pending:
                writer.write_batch(pa.RecordBatch.from_pylist(pending, schema=schema))
                rows += len(pending)
    return rows


def open_arrow(path: str | Path):
    """The table of an Arrow IPC file, memory-mapped (zero-copy: ``pyarrow.total_allocated_bytes()`` stays flat)."""
    import pyarrow as pa

    return pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()

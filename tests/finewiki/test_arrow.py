"""Arrow conversion: every row and column kept; the reader memory-maps (its heap does not grow with the data)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from trove_blocks.finewiki.arrow import convert_to_arrow, open_arrow


def records(count):
    for index in range(count):
        yield {
            "id": f"sample_{index:06d}_chunk_0",
            "context_tokens": list(range(index, index + 50)),
            "continuation_tokens": [index] * 40,
            "context_text": "text " * 200,
            "images": {"tiny": f"images/tiny/sample_{index:06d}_chunk_0.png"},
            "article_id": f"enwiki/{index}",
            "title": "T",
            "chunk_index": 0,
            "characters": 1000,
            "text_tokens": 50,
        }


def test_jsonl_to_arrow_round_trip_and_memory_mapped(tmp_path):
    source = tmp_path / "train.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records(3000)))
    rows = convert_to_arrow(source, tmp_path / "train.arrow", ("tiny",), batch_rows=500)
    assert rows == 3000
    before = pa.total_allocated_bytes()
    table = open_arrow(tmp_path / "train.arrow")
    assert pa.total_allocated_bytes() - before < 64 * 1024  # tens of MB of data, nothing copied to the heap
    assert table.num_rows == 3000
    assert table.column("context_tokens")[7].as_py() == list(range(7, 57))
    assert table.column("image_tiny")[3].as_py() == "images/tiny/sample_000003_chunk_0.png"


def test_parquet_to_arrow_keeps_binary_images(tmp_path):
    table = pa.table({"id": ["a", "b"], "image_tiny": [b"\x89PNG-a", b"\x89PNG-b"]})
    pq.write_table(table, tmp_path / "val.parquet")
    assert convert_to_arrow(tmp_path / "val.parquet", tmp_path / "val.arrow", ("tiny",)) == 2
    assert open_arrow(tmp_path / "val.arrow").column("image_tiny").to_pylist() == [b"\x89PNG-a", b"\x89PNG-b"]

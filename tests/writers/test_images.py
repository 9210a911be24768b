"""Image writers: the seed's files layout and Parquet with a binary column per mode hold the same pages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document
from PIL import Image

from trove_blocks.finewiki.paths import UnsafePathError
from trove_blocks.formatters.context_chunks import ContextChunker
from trove_blocks.taggers.page_render import PageRenderer
from trove_blocks.writers.images import ImageFilesWriter, ImageParquetWriter

WIKI = Path(__file__).resolve().parents[1] / "data" / "wiki" / "wikitext2_test_first3articles.txt"
MODES = ("tiny",)


@pytest.fixture(scope="module")
def rendered():
    article = Document(text=WIKI.read_text(encoding="utf-8"), id="enwiki/42", metadata={"title": "Three articles"})
    chunks = ContextChunker("cl100k_base", 700, 300).run(iter([article]))
    return list(PageRenderer(MODES).run(chunks))


def copies(docs):
    return [Document(text=d.text, id=d.id, media=list(d.media), metadata=dict(d.metadata)) for d in docs]


def test_files_layout_and_parquet_layout_hold_the_same_pages(tmp_path, rendered):
    assert len(rendered) == 9
    with ImageFilesWriter(str(tmp_path / "files"), MODES) as writer:
        for doc in copies(rendered):
            writer.write(doc)
    with ImageParquetWriter(str(tmp_path / "pq"), MODES) as writer:
        for doc in copies(rendered):
            writer.write(doc)
    records = [json.loads(line) for line in (tmp_path / "files" / "samples" / "00000.jsonl").open()]
    table = pq.read_table(next((tmp_path / "pq").glob("*.parquet")))
    assert [r["id"] for r in records] == table.column("id").to_pylist() == [d.id for d in rendered]
    for record, png in zip(records, table.column("image_tiny").to_pylist()):
        assert record["images"] == {"tiny": f"images/tiny/{record['id']}.png"}
        on_disk = (tmp_path / "files" / record["images"]["tiny"]).read_bytes()
        assert on_disk == png
        assert Image.open(io.BytesIO(png)).size == (512, 512)
        assert record["text_tokens"] == len(record["context_tokens"]) == 700
        assert len(record["continuation_tokens"]) == 300
        assert record["compression"]["tiny"] == round(700 / 73, 4)
        assert record["render"]["tiny"]["png_bytes"] == len(png)


def test_unsafe_id_writes_nothing_outside(tmp_path, rendered):
    doc = copies(rendered[:1])[0]
    doc.id = "../../escaped"
    out = tmp_path / "out"
    with pytest.raises(UnsafePathError, match="escaped"):
        with ImageFilesWriter(str(out), MODES) as writer:
            writer.write(doc)
    assert not list(tmp_path.rglob("*escaped*"))
    with pytest.raises(UnsafePathError):
        with ImageParquetWriter(str(tmp_path / "pq"), MODES) as writer:
            writer.write(doc)

"""FineWiki record formats (trove_blocks.finewiki.records) on the FineWiki-shaped sample of real articles: the
parquet row adapter (a row without id is an error naming file and row), the filtered article round trip, the
exclusion record without token lists, and the sample record of a rendered chunk."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from trove_blocks.finewiki.records import (
    excluded_record,
    filtered_article,
    filtered_article_record,
    finewiki_article,
    sample_record,
)
from trove_blocks.formatters.context_chunks import ContextChunker
from trove_blocks.render import vision_tokens
from trove_blocks.taggers.page_render import PageRenderer

SAMPLE = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "finewiki" / "finewiki_sample.parquet"
ROWS = pq.read_table(SAMPLE).to_pylist()


def test_a_finewiki_row_becomes_text_id_and_title_only():
    assert len(ROWS[0]) == 14
    for index, row in enumerate(ROWS):
        article = finewiki_article(None, dict(row), str(SAMPLE), index)
        assert article == {"text": row["text"], "id": row["id"], "metadata": {"title": row["title"]}}
    assert finewiki_article(None, {**ROWS[0], "text": None}, str(SAMPLE), 0)["text"] == ""
    assert finewiki_article(None, {**ROWS[0], "id": 23146210}, str(SAMPLE), 0)["id"] == "23146210"


def test_a_row_without_id_is_an_error_naming_the_file_and_row():
    with pytest.raises(ValueError, match=r"finewiki_sample\.parquet: row 3 has no id \(null\)"):
        finewiki_article(None, {**ROWS[3], "id": None}, str(SAMPLE), 3)


def test_a_filtered_article_is_written_and_read_back_unchanged(tokenizer):
    row = ROWS[3]
    tokens = tokenizer.encode(row["text"], add_special_tokens=False).ids
    doc = Document(row["text"], row["id"], metadata={"title": row["title"], "tokens": tokens, "total_tokens": 80})
    record = filtered_article_record(None, doc)
    assert list(record) == ["id", "title", "text", "tokens", "total_tokens"]  # the seed's format
    back = filtered_article(None, record, "filtered/00000.jsonl.gz", 0)
    assert back == {"text": doc.text, "id": doc.id, "metadata": doc.metadata}


def test_an_excluded_record_keeps_why_and_leaves_the_token_lists_out():
    metadata = {
        "title": "Bill Gutteron",
        "tokens": [1, 2],
        "context_tokens": [3],
        "continuation_tokens": [4],
        "filter_reason": "too_short",
        "total_tokens": 80,
    }
    record = excluded_record(None, Document(ROWS[3]["text"], ROWS[3]["id"], metadata=dict(metadata)))
    assert record == {
        "id": ROWS[3]["id"],
        "text": ROWS[3]["text"],
        "metadata": {"title": "Bill Gutteron", "filter_reason": "too_short", "total_tokens": 80},
    }


@pytest.fixture(scope="module")
def rendered() -> list[Document]:
    articles = [Document(**finewiki_article(None, row, str(SAMPLE), i)) for i, row in enumerate(ROWS)]
    return list(PageRenderer(("tiny", "small")).run(ContextChunker("cl100k_base", 700, 300).run(iter(articles))))


@pytest.mark.parametrize("count", ["code", "readme"])
def test_the_sample_record_of_a_rendered_chunk(rendered, count):
    modes = ("tiny", "small")
    doc = rendered[0]
    record = sample_record(doc, modes, count)
    assert list(record)[:5] == ["id", "context_tokens", "continuation_tokens", "context_text", "images"]
    assert record["id"] == doc.id and record["context_text"] == doc.text
    assert record["images"] == {"tiny": f"images/tiny/{doc.id}.png", "small": f"images/small/{doc.id}.png"}
    assert record["article_id"] == doc.metadata["article_id"] and record["title"] == doc.metadata["title"]
    assert record["characters"] == len(doc.text) and record["text_tokens"] == len(doc.metadata["context_tokens"])
    assert record["vision_tokens"] == {mode: vision_tokens(mode, count) for mode in modes}
    assert record["compression"] == {mode: round(700 / vision_tokens(mode, count), 4) for mode in modes}
    assert record["render"] == doc.metadata["render"] and record["missing_glyphs"] == ""
    assert "images" not in sample_record(doc, modes, count, with_image_paths=False)


def test_the_sample_record_keeps_only_the_asked_modes_and_the_missing_glyphs(rendered):
    doc = Document(rendered[1].text, rendered[1].id, metadata={**rendered[1].metadata, "missing_glyphs": "出"})
    record = sample_record(doc, ("small",))
    assert set(record["render"]) == set(record["images"]) == set(record["vision_tokens"]) == {"small"}
    assert record["missing_glyphs"] == "出"

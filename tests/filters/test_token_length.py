"""TokenLengthFilter on real Wikipedia text: kept + excluded = input, reasons recorded, ids match the tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks.filters.token_length import TokenLengthFilter
from trove_blocks.tokenizers import load_tokenizer

WIKI = Path(__file__).resolve().parents[1] / "data" / "wiki" / "wikitext2_test_first3articles.txt"


def documents():
    paragraphs = [line for line in WIKI.read_text(encoding="utf-8").split("\n") if line.strip()]
    return [Document(text=text, id=f"enwiki/{index}") for index, text in enumerate(paragraphs)]


def test_keeps_long_documents_and_excludes_the_rest_with_reason(tmp_path):
    docs = documents()
    tokenizer = load_tokenizer("cl100k_base")
    expected = {doc.id for doc in docs if len(tokenizer.encode(doc.text, add_special_tokens=False).ids) >= 150}
    assert 0 < len(expected) < len(docs)
    block = TokenLengthFilter(
        "cl100k_base", 150, exclusion_writer=JsonlWriter(str(tmp_path), output_filename="x.jsonl", compression=None)
    )
    kept = list(block.run(iter(docs)))
    assert {doc.id for doc in kept} == expected
    for doc in kept:
        assert doc.metadata["tokens"] == tokenizer.encode(doc.text, add_special_tokens=False).ids
        assert doc.metadata["total_tokens"] == len(doc.metadata["tokens"])
    excluded = [json.loads(line) for line in (tmp_path / "x.jsonl").open()]
    assert len(kept) + len(excluded) == len(docs)
    assert {row["metadata"]["filter_reason"] for row in excluded} == {"fewer_than_150_tokens"}
    assert all(row["metadata"]["total_tokens"] < 150 for row in excluded)
    assert block.stats["dropped"].total == len(excluded)


def test_pickles_without_its_tokenizer():
    import pickle

    block = TokenLengthFilter("cl100k_base", 10)
    list(block.run(iter([Document(text="loaded once " * 20, id="a")])))
    assert block._tokenizer is not None
    copy = pickle.loads(pickle.dumps(block))
    assert copy._tokenizer is None and len(list(copy.run(iter([Document(text="word " * 50, id="b")])))) == 1

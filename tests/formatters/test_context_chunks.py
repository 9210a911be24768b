"""ContextChunker (trove_blocks.formatters.context_chunks) on the FineWiki-shaped sample of real Wikipedia articles:
windows of context + continuation tokens whose text is the article's own, and articles excluded with a reason
(``shorter_than_window``, ``tokens_differ``) so that articles = chunked + excluded."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from trove_blocks.finewiki.records import excluded_record, finewiki_article
from trove_blocks.formatters.context_chunks import ContextChunker
from trove_blocks.tokenizers import load_tokenizer
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter

SAMPLE = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "finewiki" / "finewiki_sample.parquet"
CONTEXT, CONTINUATION = 700, 300


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("cl100k_base")


def articles() -> list[Document]:
    """The sample's rows as the FineWiki reader gives them."""
    rows = pq.read_table(SAMPLE).to_pylist()
    return [Document(**finewiki_article(None, row, str(SAMPLE), i)) for i, row in enumerate(rows)]


def test_each_article_gives_its_full_windows_with_the_articles_own_text(tokenizer):
    source = articles()
    chunks = list(ContextChunker("cl100k_base", CONTEXT, CONTINUATION).run(iter(articles())))
    expected = 0
    for article in source:
        ids = tokenizer.encode(article.text, add_special_tokens=False).ids
        mine = [c for c in chunks if c.metadata["article_id"] == article.id]
        assert len(mine) == len(ids) // (CONTEXT + CONTINUATION)
        expected += len(mine)
        number = int(article.id.rsplit("/", 1)[1])
        for index, chunk in enumerate(mine):
            meta = chunk.metadata
            assert chunk.id == f"sample_{number:06d}_chunk_{index}" and meta["chunk_index"] == index
            assert meta["title"] == article.metadata["title"]
            assert chunk.text == article.text[meta["context_start"] : meta["context_end"]]
            first = index * (CONTEXT + CONTINUATION)
            assert meta["context_tokens"] == ids[first : first + CONTEXT]
            assert meta["continuation_tokens"] == ids[first + CONTEXT : first + CONTEXT + CONTINUATION]
            assert tokenizer.decode(meta["context_tokens"]) == chunk.text
    assert expected == len(chunks) > 3


def test_counts_add_up_and_a_short_article_is_excluded_with_its_reason(tmp_path, tokenizer):
    excluded = AtomicJsonlWriter(str(tmp_path / "excluded"), adapter=excluded_record)
    step = ContextChunker("cl100k_base", CONTEXT, CONTINUATION, exclusion_writer=excluded)
    chunks = list(step.run(iter(articles())))
    lengths = {a.id: len(tokenizer.encode(a.text, add_special_tokens=False).ids) for a in articles()}
    short = sorted(i for i, n in lengths.items() if n < CONTEXT + CONTINUATION)
    assert short == ["enwiki/23146210"]  # Bill Gutteron, 80 tokens
    lines = [json.loads(line) for line in (tmp_path / "excluded" / "00000.jsonl").read_text().splitlines()]
    assert [(line["id"], line["metadata"]["filter_reason"]) for line in lines] == [(short[0], "shorter_than_window")]
    stats = {name: step.stats[name].total for name in ("articles", "chunked", "excluded", "chunks", "tail_tokens")}
    assert stats["articles"] == len(lengths) == stats["chunked"] + stats["excluded"]
    assert step.stats["excluded_shorter_than_window"].total == stats["excluded"] == 1
    assert stats["chunks"] == len(chunks)
    window = CONTEXT + CONTINUATION
    assert stats["tail_tokens"] == sum(n % window for i, n in lengths.items() if i not in short)


def test_articles_whose_given_tokens_are_not_this_tokenizers_are_excluded(tmp_path, tokenizer):
    docs = articles()[:2]
    for doc in docs:
        doc.metadata["tokens"] = tokenizer.encode(doc.text, add_special_tokens=False).ids
    docs[1].metadata["tokens"] = docs[1].metadata["tokens"][:-1]  # from a tokenizer that encodes otherwise
    excluded = AtomicJsonlWriter(str(tmp_path / "excluded"), adapter=excluded_record)
    step = ContextChunker("cl100k_base", CONTEXT, CONTINUATION, exclusion_writer=excluded)
    chunks = list(step.run(iter(docs)))
    assert {c.metadata["article_id"] for c in chunks} == {docs[0].id}
    lines = [json.loads(line) for line in (tmp_path / "excluded" / "00000.jsonl").read_text().splitlines()]
    assert [(line["id"], line["metadata"]["filter_reason"]) for line in lines] == [(docs[1].id, "tokens_differ")]
    assert "tokens" not in lines[0]["metadata"]  # the excluded record leaves the token lists out
    assert step.stats["excluded_tokens_differ"].total == 1 and step.stats["articles"].total == 2


def test_no_continuation_cuts_windows_of_context_only_and_runs_are_identical(tokenizer):
    first = list(ContextChunker("cl100k_base", 500, 0).run(iter(articles())))
    again = list(ContextChunker("cl100k_base", 500, 0).run(iter(articles())))
    assert all(c.metadata["continuation_tokens"] == [] and len(c.metadata["context_tokens"]) == 500 for c in first)
    assert [(c.id, c.text, c.metadata) for c in first] == [(c.id, c.text, c.metadata) for c in again]
    by_article: dict[str, list] = {}
    for chunk in first:
        by_article.setdefault(chunk.metadata["article_id"], []).append(chunk)
    for chunks in by_article.values():  # consecutive windows meet: together they are one stretch of the article
        assert all(a.metadata["context_end"] <= b.metadata["context_start"] for a, b in zip(chunks, chunks[1:]))


@pytest.mark.parametrize(("context", "continuation"), [(0, 10), (10, -1)])
def test_window_sizes_are_checked(context, continuation):
    with pytest.raises(ValueError, match="need context_tokens >= 1, continuation_tokens >= 0"):
        ContextChunker("cl100k_base", context, continuation)

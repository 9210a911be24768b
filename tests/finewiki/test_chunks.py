"""Chunking: exact token windows, exact context text by offsets, stable ids."""

from __future__ import annotations

import pytest

from trove_blocks.finewiki.chunks import chunk_article, sample_id, sample_number, tail_tokens


def chunks_of(tokenizer, text, context=300, continuation=200, article="enwiki/34833"):
    encoding = tokenizer.encode(text, add_special_tokens=False)
    return encoding, chunk_article(article, text, encoding.ids, encoding.offsets, context, continuation)


@pytest.mark.parametrize("seed", [1, 2])
def test_windows_are_exact_non_overlapping_token_slices(tokenizer, make_long_article, seed):
    text = make_long_article(seed)
    encoding, chunks = chunks_of(tokenizer, text)
    window = 500
    assert len(chunks) == len(encoding.ids) // window >= 3
    for k, chunk in enumerate(chunks):
        assert chunk.chunk_index == k
        assert chunk.context_tokens == encoding.ids[k * window : k * window + 300]
        assert chunk.continuation_tokens == encoding.ids[k * window + 300 : (k + 1) * window]
    used = sum(len(c.context_tokens) + len(c.continuation_tokens) for c in chunks)
    assert used + tail_tokens(len(encoding.ids), 300, 200) == len(encoding.ids)


def test_context_text_is_the_original_text_of_its_tokens(tokenizer, real_text):
    encoding, chunks = chunks_of(tokenizer, real_text)
    for chunk in chunks:
        assert chunk.context_text == real_text[chunk.context_start : chunk.context_end]
        # plain ASCII-ish text: decoding the context tokens gives the same characters back
        assert tokenizer.decode(chunk.context_tokens) == chunk.context_text
        assert tokenizer.encode(chunk.context_text, add_special_tokens=False).ids[:250] == chunk.context_tokens[:250]
    # the windows and the gaps between them tile the text in order: nothing is reordered or duplicated
    starts = [c.context_start for c in chunks]
    assert starts == sorted(starts) and chunks[0].context_start == 0


def test_multibyte_characters_stay_whole(tokenizer, make_long_article):
    text = make_long_article(3)
    _, chunks = chunks_of(tokenizer, text, context=120, continuation=80)
    for chunk in chunks:
        assert chunk.context_text == text[chunk.context_start : chunk.context_end]
        # the context text re-encodes to its own tokens, except maybe where a character straddles the split
        decoded = tokenizer.decode(chunk.context_tokens)
        assert decoded.rstrip("\ufffd") in chunk.context_text or chunk.context_text in decoded
    assert any("🎉" in c.context_text or "漢" in c.context_text for c in chunks)


def test_short_article_gives_no_window(tokenizer):
    _, chunks = chunks_of(tokenizer, "A short article.", context=300, continuation=200)
    assert chunks == []


def test_sample_ids_come_from_the_article_not_the_run():
    assert sample_id("enwiki/34833", 0) == "sample_034833_chunk_0"
    assert sample_id("enwiki/1", 12) == "sample_000001_chunk_12"
    assert sample_number("frwiki/77") == 77
    hashed = sample_number("some/other/id")
    assert hashed == sample_number("some/other/id") and 0 <= hashed < 10**12
    assert sample_number("some/other/id2") != hashed

"""Packing invariants: every row exactly max_seq_length, no token lost or duplicated, labels match boundaries."""

from __future__ import annotations

import random

import numpy as np
import pytest

from trove_blocks.packing import (
    IGNORE_INDEX,
    BestFitDecreasingPacker,
    ConcatPacker,
    best_fit_decreasing,
    labels_and_attention_mask,
    make_packer,
)

PAD = 0


def random_docs(seed: int, count: int, max_len: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(1, 50_000) for _ in range(rng.randrange(1, max_len))] for _ in range(count)]


def pack_all(packer, docs):
    rows = []
    for doc in docs:
        rows.extend(packer.add(doc))
    rows.extend(packer.finish())
    return rows


def pieces_of(rows) -> list[list[int]]:
    """The document pieces laid in the rows, in row order, read back through seq_lengths."""
    pieces = []
    for row in rows:
        start = 0
        for length in row.seq_lengths:
            pieces.append(row.input_ids[start : start + length].tolist())
            start += length
        assert (row.input_ids[start:] == PAD).all(), "only padding after the real tokens"
    return pieces


@pytest.mark.parametrize("length", [16, 64, 257])
def test_concat_rows_minus_padding_in_order_equal_the_documents(length):
    docs = random_docs(seed=length, count=200, max_len=3 * length)
    rows = pack_all(ConcatPacker(length, PAD), docs)
    assert all(row.input_ids.shape == (length,) and row.input_ids.dtype == np.int32 for row in rows)
    real = [token for row in rows for token in row.input_ids[: row.real_tokens].tolist()]
    assert real == [token for doc in docs for token in doc]
    assert all(row.real_tokens == length for row in rows[:-1]), "only the last row is padded"
    # pieces re-joined at row ends give back each document
    pieces, rebuilt, doc_index = pieces_of(rows), [], 0
    for piece in pieces:
        rebuilt.extend(piece)
        if rebuilt == docs[doc_index]:
            rebuilt, doc_index = [], doc_index + 1
    assert doc_index == len(docs) and not rebuilt


def test_bfd_keeps_documents_whole_and_loses_nothing():
    length = 128
    docs = random_docs(seed=7, count=500, max_len=int(2.5 * length))
    rows = pack_all(BestFitDecreasingPacker(length, PAD, window_tokens=20 * length), docs)
    assert all(row.input_ids.shape == (length,) for row in rows)
    expected = []
    for doc in docs:
        full = len(doc) // length * length
        expected += [doc[start : start + length] for start in range(0, full, length)]
        if full < len(doc):
            expected.append(doc[full:])
    assert sorted(map(tuple, pieces_of(rows))) == sorted(map(tuple, expected))
    short = [doc for doc in docs if len(doc) <= length]
    assert {tuple(p) for p in pieces_of(rows)} >= {tuple(doc) for doc in short}, "short documents stay whole"


def test_bfd_pads_less_than_concat_would_on_many_small_documents():
    length = 1024
    docs = random_docs(seed=3, count=2000, max_len=300)
    rows = pack_all(BestFitDecreasingPacker(length, PAD), docs)
    padding = sum(length - row.real_tokens for row in rows)
    assert padding / sum(map(len, docs)) < 0.02


def test_best_fit_decreasing_fills_bins_without_overflow():
    bins = best_fit_decreasing([5, 5, 4, 3, 3], capacity=10)
    assert len(bins) == 2
    assert sorted(i for b in bins for i in b) == [0, 1, 2, 3, 4]
    lengths = random.Random(1).choices(range(1, 100), k=400)
    bins = best_fit_decreasing(lengths, capacity=100)
    assert sorted(i for b in bins for i in b) == list(range(400))
    assert all(sum(lengths[i] for i in b) <= 100 for b in bins)
    assert len(bins) <= sum(lengths) / 100 * 1.1 + 1
    with pytest.raises(ValueError, match="not in 1..10"):
        best_fit_decreasing([11], capacity=10)


def test_labels_are_next_tokens_within_a_piece_and_ignore_boundaries_and_padding():
    length = 32
    docs = random_docs(seed=11, count=40, max_len=50)
    for packer in (ConcatPacker(length, PAD), BestFitDecreasingPacker(length, PAD, window_tokens=4 * length)):
        rows = pack_all(packer, docs)
        input_ids = np.stack([row.input_ids for row in rows])
        labels, mask = labels_and_attention_mask(input_ids, [row.seq_lengths for row in rows])
        assert labels.shape == mask.shape == (len(rows), length)
        for r, row in enumerate(rows):
            expected = [IGNORE_INDEX] * length
            start = 0
            for piece in row.seq_lengths:
                for i in range(start, start + piece - 1):
                    expected[i] = int(row.input_ids[i + 1])
                start += piece
            assert labels[r].tolist() == expected
            assert mask[r].tolist() == [1] * row.real_tokens + [0] * (length - row.real_tokens)


def test_make_packer_rejects_unknown_strategy_and_tiny_rows():
    with pytest.raises(ValueError, match="unknown packing strategy 'greedy'"):
        make_packer("greedy", 128)
    with pytest.raises(ValueError, match=">= 2"):
        make_packer("concat", 1)

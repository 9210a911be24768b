"""Packing of tokenized documents into rows of exactly ``max_seq_length`` tokens (no datatrove import).

A packer takes documents one at a time (``add(ids)``, a sequence of token ids) and returns the rows it completed;
``finish()`` returns the rest. A row is a :class:`PackedRow`: ``input_ids`` (int32, exactly ``max_seq_length``
long, padded with ``pad_id``) and ``seq_lengths``, the lengths of the document pieces laid out in it, in order,
without padding. ``sum(seq_lengths)`` real tokens are followed by padding.

Strategies:

- ``concat`` (:class:`ConcatPacker`): documents are laid end to end in input order; a document that does not fit
  in the rest of a row continues in the next one. Only the very last row is padded.
- ``bfd`` (:class:`BestFitDecreasingPacker`): a document stays whole in one row unless it is longer than a row;
  then it is cut into full rows of ``max_seq_length`` tokens plus a remainder piece. Pieces are collected in a
  window of about ``window_tokens`` tokens, and each window is packed by best-fit decreasing (longest piece first,
  into the fullest row it still fits); the pieces of a window's emptiest row go back into the next window, so
  only the very end pads much. Memory is bounded by the window; row order is not document order.

Training columns derived from a row (:func:`labels_and_attention_mask`):

- ``attention_mask``: 1 on the ``sum(seq_lengths)`` real tokens, 0 on padding.
- ``labels``: already shifted, ``labels[i] = input_ids[i + 1]`` when position ``i + 1`` belongs to the same
  document piece as ``i``; ``-100`` on the last token of every piece (nothing of that document follows in this
  row) and on padding. The loss at position ``i`` is ``cross_entropy(logits[i], labels[i])``: do not shift again
  (HF models that take ``labels=`` shift internally; pass them ``input_ids`` with -100 instead).
- ``seq_lengths`` is the boundary column: ``cumsum([0, *seq_lengths])`` are the ``cu_seqlens`` of varlen
  attention, so attention never has to cross a document boundary.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IGNORE_INDEX = -100
PACKING_STRATEGIES = ("concat", "bfd")


@dataclass
class PackedRow:
    """One training row: ``input_ids`` of exactly ``max_seq_length`` int32 ids and the piece lengths laid in it."""

    input_ids: np.ndarray
    seq_lengths: list[int]

    @property
    def real_tokens(self) -> int:
        return sum(self.seq_lengths)


def _check_length(max_seq_length: int) -> None:
    if max_seq_length < 2:
        raise ValueError(f"max_seq_length must be >= 2 tokens, got {max_seq_length}")


class ConcatPacker:
    """Lay documents end to end in input order; split a document across rows where a row is full."""

    def __init__(self, max_seq_length: int, pad_id: int = 0):
        _check_length(max_seq_length)
        self.max_seq_length = max_seq_length
        self.pad_id = pad_id
        self._row = np.full(max_seq_length, pad_id, dtype=np.int32)
        self._filled = 0
        self._lengths: list[int] = []

    def add(self, ids: Sequence[int]) -> list[PackedRow]:
        """Append one document; returns the rows it completed (possibly none)."""
        tokens = np.asarray(ids, dtype=np.int32)
        rows = []
        start = 0
        while start < len(tokens):
            take = min(self.max_seq_length - self._filled, len(tokens) - start)
            self._row[self._filled : self._filled + take] = tokens[start : start + take]
            self._filled += take
            self._lengths.append(take)
            start += take
            if self._filled == self.max_seq_length:
                rows.append(self._take_row())
        return rows

    def finish(self) -> list[PackedRow]:
        """The last, padded row (if any tokens are pending)."""
        return [self._take_row()] if self._filled else []

    def pending(self) -> tuple[list[int], list[int]]:
        """The row being filled: its tokens so far and their piece lengths (to save a resumable state)."""
        return self._row[: self._filled].tolist(), list(self._lengths)

    def restore(self, tokens: Sequence[int], lengths: Sequence[int]) -> None:
        """Continue filling a row saved by :meth:`pending`."""
        if len(tokens) != sum(lengths) or len(tokens) >= self.max_seq_length:
            raise ValueError(f"not a pending row of {self.max_seq_length} tokens: {len(tokens)} tokens, {lengths}")
        self._row = np.full(self.max_seq_length, self.pad_id, dtype=np.int32)
        self._row[: len(tokens)] = tokens
        self._filled, self._lengths = len(tokens), list(lengths)

    def _take_row(self) -> PackedRow:
        row = PackedRow(self._row, self._lengths)
        self._row = np.full(self.max_seq_length, self.pad_id, dtype=np.int32)
        self._filled = 0
        self._lengths = []
        return row


def best_fit_decreasing(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Bins of item indices: longest item first, each into the bin with the least room that still fits it.

    Items within a bin are in placement order (longest first); bins in the order they were opened.
    Every length must be in ``1..capacity``.
    """
    order = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    bins: list[list[int]] = []
    room: list[tuple[int, int]] = []  # (free tokens, bin index), ascending; full bins are dropped
    for index in order:
        length = lengths[index]
        if not 0 < length <= capacity:
            raise ValueError(f"item {index}: length {length} not in 1..{capacity}")
        slot = bisect.bisect_left(room, (length, -1))
        if slot == len(room):
            bins.append([index])
            free, bin_index = capacity - length, len(bins) - 1
        else:
            free, bin_index = room.pop(slot)
            bins[bin_index].append(index)
            free -= length
        if free:
            bisect.insort(room, (free, bin_index))
    return bins


class BestFitDecreasingPacker:
    """Keep documents whole where they fit in a row; pack windows of pieces by best-fit decreasing.

    ``window_tokens`` (default 64 rows' worth) bounds memory and sets how many pieces each packing sees: larger
    windows pad less.
    """

    def __init__(self, max_seq_length: int, pad_id: int = 0, window_tokens: int | None = None):
        _check_length(max_seq_length)
        self.max_seq_length = max_seq_length
        self.pad_id = pad_id
        self.window_tokens = window_tokens or 64 * max_seq_length
        self._pieces: list[np.ndarray] = []
        self._pending = 0

    def add(self, ids: Sequence[int]) -> list[PackedRow]:
        """Add one document; returns its full-length rows (documents longer than a row) and any packed window."""
        tokens = np.asarray(ids, dtype=np.int32)
        rows = []
        full = len(tokens) // self.max_seq_length * self.max_seq_length
        for start in range(0, full, self.max_seq_length):
            rows.append(PackedRow(tokens[start : start + self.max_seq_length].copy(), [self.max_seq_length]))
        if full < len(tokens):
            self._pieces.append(tokens[full:])
            self._pending += len(tokens) - full
        if self._pending >= self.window_tokens:
            rows.extend(self._pack_window())
        return rows

    def finish(self) -> list[PackedRow]:
        """Pack what is left in the window."""
        return self._pack_window(final=True) if self._pieces else []

    def _pack_window(self, final: bool = False) -> list[PackedRow]:
        """Rows of the window's pieces; unless ``final``, the emptiest row's pieces stay for the next window."""
        pieces, self._pieces, self._pending = self._pieces, [], 0
        bins = best_fit_decreasing([len(piece) for piece in pieces], self.max_seq_length)
        if not final and len(bins) > 1:
            emptiest = min(range(len(bins)), key=lambda b: sum(len(pieces[i]) for i in bins[b]))
            for index in bins.pop(emptiest):
                self._pieces.append(pieces[index])
                self._pending += len(pieces[index])
        rows = []
        for members in bins:
            row = np.full(self.max_seq_length, self.pad_id, dtype=np.int32)
            lengths = []
            filled = 0
            for index in members:
                piece = pieces[index]
                row[filled : filled + len(piece)] = piece
                filled += len(piece)
                lengths.append(len(piece))
            rows.append(PackedRow(row, lengths))
        return rows


def make_packer(strategy: str, max_seq_length: int, pad_id: int = 0) -> ConcatPacker | BestFitDecreasingPacker:
    """The packer for ``strategy`` (one of :data:`PACKING_STRATEGIES`)."""
    if strategy == "concat":
        return ConcatPacker(max_seq_length, pad_id)
    if strategy == "bfd":
        return BestFitDecreasingPacker(max_seq_length, pad_id)
    raise ValueError(f"unknown packing strategy {strategy!r}; choose one of {', '.join(PACKING_STRATEGIES)}")


def labels_and_attention_mask(
    input_ids: np.ndarray, seq_lengths: Sequence[Sequence[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, attention_mask)`` for a ``[rows, max_seq_length]`` int32 batch (see the module docstring)."""
    rows, width = input_ids.shape
    labels = np.full((rows, width), IGNORE_INDEX, dtype=np.int32)
    labels[:, :-1] = input_ids[:, 1:]
    real = np.fromiter((sum(lengths) for lengths in seq_lengths), dtype=np.int64, count=rows)
    attention_mask = (np.arange(width)[None, :] < real[:, None]).astype(np.int32)
    labels[attention_mask == 0] = IGNORE_INDEX
    piece_ends = [(row, end - 1) for row, lengths in enumerate(seq_lengths) for end in np.cumsum(lengths).tolist()]
    if piece_ends:
        row_index, column = zip(*piece_ends)
        labels[list(row_index), list(column)] = IGNORE_INDEX
    return labels, attention_mask

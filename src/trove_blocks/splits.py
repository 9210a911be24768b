"""Deterministic subsets and train/val splits from (record id, seed), independent of the number of tasks.

Every record gets two 63-bit keys from a keyed hash of its id: one ranks it for the subset, one for the split.
The order of records is ``(key, id)``, a total order for unique ids (ties of the hash are broken by the id;
records that share an id share both keys and are kept or dropped together: when such a group straddles a
cutoff, planning fails with an error naming the id), so

* the subset of size N is the N smallest records by subset key: exactly ``min(N, total)`` records;
* the validation set is, among the kept records, the ``round(val_ratio * kept)`` smallest by split key:
  the val share is ``val_ratio`` within rounding, not just on average.

Both need a global view of all keys: :func:`plan_selection_of_chunks` streams every task's keys (a few bytes per
record) a few times, in one small task, and returns :class:`Cutoff` values that every task then applies to its
own records (:meth:`Cutoff.admits`). Nothing here depends on how records were spread over tasks, and memory does
not grow with their number: each cutoff is an exact order statistic found by histogram passes over the keys
(:func:`kth_smallest`).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

KEY_BITS = 63  # keys fit a signed int64 (numpy, JSON readers that stop at 2**63)
#: split names by code in :meth:`SelectionPlan.split_codes`; ``NOT_KEPT`` marks records outside the subset
SPLITS = ("train", "val")
NOT_KEPT = -1


#: names of the split-key bands of :func:`split_key_band_edges`, from the smallest keys up
SPLIT_KEY_BANDS = ("low", "mid", "high")


def split_key_band_edges(val_ratio: float, margin: float = 0.01) -> tuple[int, int]:
    """Split keys ``[low, high)`` around where the exact val cutoff will fall: ``val_ratio ± margin`` of the key space.

    Split keys are uniform and independent of subset keys, so among any kept records the val cutoff lies near the
    ``val_ratio`` quantile of the key space; its spread shrinks as ``sqrt(val_ratio * (1 - val_ratio) / kept)``
    (~0.0004 for 255 k records at 5 %). Records below ``low`` are then all val and records at or above ``high``
    all train, except in small runs or with a subset cut (callers check, nothing here is assumed); the band
    between holds ``2 * margin`` of the records.
    """
    scale = 2**KEY_BITS
    low = max(0, math.floor((val_ratio - margin) * scale))
    high = min(scale, math.ceil((val_ratio + margin) * scale))
    return low, high


def selection_keys(record_id: str, seed: int) -> tuple[int, int]:
    """``(subset key, split key)`` of ``record_id``: the two halves of one keyed 128-bit BLAKE2b, 63 bits each."""
    return SelectionKeys(seed)(record_id)


def subset_key(record_id: str, seed: int) -> int:
    return selection_keys(record_id, seed)[0]


def split_key(record_id: str, seed: int) -> int:
    return selection_keys(record_id, seed)[1]


class SelectionKeys:
    """:func:`selection_keys` for many ids: the keyed hash is set up once per seed (~0.5 µs per id).

    One 16-byte digest gives both keys (two independent 8-byte halves): half the cost of two keyed hashes; a
    keyed BLAKE2b spends about half its time on the key block, which ``copy()`` of a prepared hash skips.
    """

    _halves = struct.Struct(">QQ").unpack

    def __init__(self, seed: int):
        self.seed = seed
        self._hash = hashlib.blake2b(digest_size=16, key=f"{seed}:selection".encode(), usedforsecurity=False)

    def __call__(self, record_id: str) -> tuple[int, int]:
        digest = self._hash.copy()
        digest.update(record_id.encode("utf-8"))
        subset, split = self._halves(digest.digest())
        return subset >> (64 - KEY_BITS), split >> (64 - KEY_BITS)

    def __getstate__(self) -> dict:
        return {"seed": self.seed}  # hash objects do not pickle (executors pickle pipelines)

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["seed"])


@dataclass(frozen=True)
class Cutoff:
    """Admit records with ``(key, id) <= (key, tie_id)``; ``tie_id`` None admits every record with that key.

    ``key`` -1 admits nothing; :data:`ALL` admits everything.
    """

    key: int
    tie_id: str | None = None

    def admits(self, key: int, record_id: str) -> bool:
        if key != self.key:
            return key < self.key
        return self.tie_id is None or record_id <= self.tie_id

    def admits_keys(self, keys: np.ndarray, ids_at: IdsAt) -> np.ndarray:
        """:meth:`admits` for an int64 array of keys at once; ``ids_at`` is asked only for the ids of tied keys."""
        if self.key >= 2**KEY_BITS:
            return np.ones(len(keys), dtype=bool)
        if self.tie_id is None:
            return keys <= self.key
        admitted = keys < self.key
        tied = np.flatnonzero(keys == self.key)
        if len(tied):
            admitted[tied] = [record_id <= self.tie_id for record_id in ids_at(tied)]
        return admitted

    def to_json(self) -> dict:
        return {"key": self.key, "tie_id": self.tie_id}

    @classmethod
    def from_json(cls, data: dict) -> Cutoff:
        return cls(int(data["key"]), data["tie_id"])


#: ``ids_at(indices)``: the ids of the records at these positions (an int array), in that order
IdsAt = Callable[[np.ndarray], Sequence[str]]

NONE = Cutoff(-1)
ALL = Cutoff(2**KEY_BITS)


#: ``key_chunks()``: every record's key as int64 arrays, the same records in the same order on every call
KeyChunks = Callable[[], Iterable[np.ndarray]]
#: bins of one histogram pass of :func:`kth_smallest` (2**16 int64 counts: 512 KB)
SELECT_BIN_BITS = 16
#: :func:`kth_smallest` collects the keys once the range holding the answer has at most this many (8 bytes each)
SELECT_COLLECT = 1 << 18


def kth_smallest(key_chunks: KeyChunks, k: int, count: int) -> tuple[int, int, int]:
    """The ``k``-th smallest (1-based) of ``count`` keys in ``[0, 2**KEY_BITS)``, with how many keys are smaller
    and how many equal it.

    Each pass over the chunks narrows the key range that holds the answer to one of ``2**SELECT_BIN_BITS`` bins
    (a histogram), until the range holds at most :data:`SELECT_COLLECT` keys, which are then collected and
    partitioned. Up to 262 k keys that is one pass; 2.5 M SynSQL records take two. Memory: one chunk, the
    histogram and the collected keys, whatever ``count``.
    """
    lo, top, below = 0, 2**KEY_BITS - 1, 0  # the answer lies in [lo, top]; ``below`` keys are smaller than lo
    inside = count
    while inside > SELECT_COLLECT and lo < top:
        shift = max(0, (top - lo).bit_length() - SELECT_BIN_BITS)
        counts = np.zeros(((top - lo) >> shift) + 1, dtype=np.int64)
        for keys in key_chunks():
            counts += np.bincount((keys[(keys >= lo) & (keys <= top)] - lo) >> shift, minlength=len(counts))
        cumulative = np.cumsum(counts)
        bin_ = int(np.searchsorted(cumulative, k - below))  # the first bin reaching the k-th key
        below += int(cumulative[bin_] - counts[bin_])
        inside = int(counts[bin_])
        lo, top = lo + (bin_ << shift), min(top, lo + ((bin_ + 1) << shift) - 1)
    if lo == top:  # a range of one value (many records with one key: duplicate ids) need not be collected
        return lo, below, inside
    collected = np.concatenate([np.empty(0, np.int64), *(keys[(keys >= lo) & (keys <= top)] for keys in key_chunks())])
    value = int(np.partition(collected, k - below - 1)[k - below - 1])
    return value, below + int(np.count_nonzero(collected < value)), int(np.count_nonzero(collected == value))


def repeated_keys(key_chunks: KeyChunks, count: int) -> list[int]:
    """The key values that occur more than once among ``count`` keys in ``[0, 2**KEY_BITS)``, ascending.

    The key space is cut into as many equal ranges as it takes for each to hold about :data:`SELECT_COLLECT` keys
    (keys are uniform hashes); one pass over the chunks per range collects and sorts its keys. Memory: one chunk
    and one range's keys, whatever ``count`` (the number of passes grows with it instead: 20 for 5 M keys).
    """
    ranges = max(1, -(-count // SELECT_COLLECT))
    width = -(-(2**KEY_BITS) // ranges)
    repeated: list[int] = []
    for lo in range(0, 2**KEY_BITS, width):
        top = lo + width - 1
        keys = np.sort(
            np.concatenate([np.empty(0, np.int64), *(keys[(keys >= lo) & (keys <= top)] for keys in key_chunks())])
        )
        equal = keys[1:][keys[1:] == keys[:-1]]
        repeated.extend(sorted(set(equal.tolist())))
    return repeated


def smallest_cutoff(key_chunks: KeyChunks, n: int, count: int, ids_with_key: Callable[[int], Iterable[str]]) -> Cutoff:
    """The cutoff that admits exactly the ``min(n, count)`` smallest of ``count`` records by ``(key, id)``.

    ``ids_with_key(k)`` yields the ids of the records whose key is ``k``; it is called only when several
    records share the key at the cutoff (a hash tie), so ids never need to be held in memory.
    """
    if n <= 0:
        return NONE
    if n >= count:
        return ALL
    threshold, below, tied = kth_smallest(key_chunks, n, count)
    if below + tied == n:
        return Cutoff(threshold)
    tied_ids = sorted(ids_with_key(threshold))
    last = tied_ids[n - below - 1]
    if tied_ids[n - below] == last:  # (key, id) no longer orders the records: no cutoff admits exactly n
        raise ValueError(
            f"cannot select exactly {n} records: {tied_ids.count(last)} records share the id {last!r} (and so both "
            "keys) where the selection ends; ids must be unique"
        )
    return Cutoff(threshold, last)


def val_count(kept: int, val_ratio: float) -> int:
    """How many of ``kept`` records go to validation: ``val_ratio * kept`` rounded half up."""
    return min(kept, math.floor(val_ratio * kept + 0.5))


@dataclass(frozen=True)
class SelectionPlan:
    """The global decisions: which records are kept and which of those go to validation."""

    total: int
    kept: int
    val: int
    subset: Cutoff
    val_cutoff: Cutoff

    def split_of(self, subset_key_: int, split_key_: int, record_id: str) -> str | None:
        """ "train", "val", or None when the record is not in the subset."""
        if not self.subset.admits(subset_key_, record_id):
            return None
        return "val" if self.val_cutoff.admits(split_key_, record_id) else "train"

    def split_codes(self, subset_keys: np.ndarray, split_keys: np.ndarray, ids_at: IdsAt) -> np.ndarray:
        """:meth:`split_of` of many records at once, as int8 codes: index into :data:`SPLITS`, or -1 (not kept)."""
        codes = np.where(self.val_cutoff.admits_keys(split_keys, ids_at), 1, 0).astype(np.int8)
        codes[~self.subset.admits_keys(subset_keys, ids_at)] = NOT_KEPT
        return codes

    def to_json(self) -> dict:
        return {
            "total": self.total,
            "kept": self.kept,
            "val": self.val,
            "subset": self.subset.to_json(),
            "val_cutoff": self.val_cutoff.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict) -> SelectionPlan:
        return cls(
            int(data["total"]),
            int(data["kept"]),
            int(data["val"]),
            Cutoff.from_json(data["subset"]),
            Cutoff.from_json(data["val_cutoff"]),
        )


def plan_selection(
    read_keys: Callable[[], Iterable[tuple[int, int, str]]], subset_size: int, val_ratio: float
) -> SelectionPlan:
    """Plan the subset and split from every record's ``(subset key, split key, id)``.

    ``read_keys()`` must yield the same records each time it is called (once per pass, and again on hash ties
    to look up ids).
    """

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rows = iter(read_keys())
        while batch := [row[:2] for _, row in zip(range(1 << 16), rows)]:
            keys = np.array(batch, dtype=np.int64)
            yield keys[:, 0], keys[:, 1]

    return plan_selection_of_chunks(
        chunks, lambda indices: ids_at_positions((row[2] for row in read_keys()), indices), subset_size, val_ratio
    )


def ids_at_positions(ids: Iterable[str], indices: np.ndarray) -> list[str]:
    """The ids at positions ``indices`` of the stream ``ids`` (one pass over it; an :data:`IdsAt` for streamed ids)."""
    wanted = dict.fromkeys(indices.tolist())
    for index, record_id in enumerate(ids):
        if index in wanted:
            wanted[index] = record_id
    return [wanted[index] for index in indices.tolist()]


def positions_where(
    chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]],
    select: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
) -> np.ndarray:
    """Positions of the records where ``select(subset keys, split keys, first position of the chunk)`` holds."""
    found, first = [np.empty(0, np.int64)], 0
    for subset_keys, split_keys in chunks():
        found.append(np.flatnonzero(select(subset_keys, split_keys, first)) + first)
        first += len(subset_keys)
    return np.concatenate(found)


def plan_selection_of_chunks(
    chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]], ids_at: IdsAt, subset_size: int, val_ratio: float
) -> SelectionPlan:
    """:func:`plan_selection` from int64 arrays of the records' keys: ``chunks()`` yields ``(subset keys, split
    keys)`` of every record, the same in the same order on each call; ``ids_at`` looks up ids (by position in
    that order) on hash ties. Memory does not grow with the number of records (:func:`kth_smallest`).
    """
    total = sum(len(subset_keys) for subset_keys, _ in chunks())

    subset = smallest_cutoff(
        lambda: (subset_keys for subset_keys, _ in chunks()),
        subset_size,
        total,
        lambda k: ids_at(positions_where(chunks, lambda subset_keys, _, first: subset_keys == k)),
    )

    def kept_mask(subset_keys: np.ndarray, first: int) -> np.ndarray:
        return subset.admits_keys(subset_keys, lambda local: ids_at(local + first))

    def kept_split_keys() -> Iterator[np.ndarray]:
        first = 0
        for subset_keys, split_keys in chunks():
            yield split_keys[kept_mask(subset_keys, first)]
            first += len(subset_keys)

    kept = sum(len(keys) for keys in kept_split_keys())
    val = val_count(kept, val_ratio)
    val_cutoff = smallest_cutoff(
        kept_split_keys,
        val,
        kept,
        lambda k: ids_at(
            positions_where(
                chunks, lambda subset_keys, split_keys, first: kept_mask(subset_keys, first) & (split_keys == k)
            )
        ),
    )
    return SelectionPlan(total, kept, val, subset, val_cutoff)

"""The seed's SynSQL curriculum over processed records: each phase trains on one difficulty, packed on the fly.

``pipelines/prepare_synsql.py`` writes processed records (question, schema, sql, difficulty, ...); the seed
trains on them phase by phase (Simple, then Medium, then Complex: :data:`~trove_blocks.loaders.curriculum.
SEED_SYNSQL_PHASES`). :func:`processed_phase_loaders` is the loader factory for
:class:`~trove_blocks.loaders.curriculum.CurriculumLoader`: a phase streams the records of its ``difficulty``
through :class:`~trove_blocks.loaders.processed.ProcessedDataLoader`, renders each as one training text
(:func:`synsql_training_text`), tokenizes it and packs the texts end to end (``concat``) into rows of exactly
``max_seq_length`` tokens, with the same columns as the packed Parquet shards (labels pre-shifted, -100 at
piece ends and on padding; ``seq_lengths`` as the boundary column).

Rank ``r`` of ``world_size`` takes records ``r, r + world_size, ...`` of the phase's stream; a phase cycles over
its records epoch after epoch. The state (epoch, next record, rows packed but not yet batched, the row being
filled, and the byte position after the last record taken) resumes at exactly the next batch, reading on from
that position: nothing before it is read again. A state saved with other settings or on other data is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from trove_blocks.loaders.curriculum import BatchSource, Phase
from trove_blocks.loaders.order import check_resume
from trove_blocks.loaders.packed import PackedRows, boundary_arrays, to_mlx_batch
from trove_blocks.loaders.processed import ProcessedDataLoader
from trove_blocks.packing import ConcatPacker, PackedRow, labels_and_attention_mask


def synsql_training_text(record: dict) -> str:
    """One processed record as a causal-LM training text: schema and question as the prompt, then the SQL."""
    return f"-- schema: {record['schema']}\n-- question: {record['question']}\nSELECT-SQL: {record['sql']}\n"


def rows_to_mlx_batch(rows: list[PackedRow]) -> dict[str, Any]:
    """Packed rows as the loaders' batch dict of ``mx.array``, the same keys as a packed manifest's batches."""
    input_ids = np.stack([row.input_ids for row in rows])
    pieces = [row.seq_lengths for row in rows]
    labels, attention_mask = labels_and_attention_mask(input_ids, pieces)
    offsets = np.concatenate([[0], np.cumsum([len(lengths) for lengths in pieces])]).astype(np.int64)
    lengths = np.concatenate([np.asarray(lengths, dtype=np.int32) for lengths in pieces])
    segment_ids, seq_lengths = boundary_arrays(offsets, lengths, input_ids.shape[1])
    return to_mlx_batch(PackedRows(input_ids, attention_mask, labels, segment_ids, seq_lengths, np.diff(offsets)))


class ProcessedPhaseBatches(BatchSource):
    """Endless batches of one difficulty's processed records, packed into rows (module docstring)."""

    def __init__(
        self,
        data_dir: str | os.PathLike,
        difficulty: str | None,
        *,
        tokenizer: str,
        max_seq_length: int,
        batch_size: int,
        split: str = "train",
        rank: int = 0,
        world_size: int = 1,
    ):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.records = ProcessedDataLoader(data_dir, split, difficulty)
        count = len(self.records)
        if count <= rank:
            raise ValueError(
                f"rank {rank} of {world_size} has no record: {data_dir} holds {count} {split} records of difficulty "
                f"{difficulty!r}, and rank r takes records r, r + {world_size}, ...; this phase has nothing to train on"
            )
        self.tokenizer_spec, self.max_seq_length, self.batch_size = tokenizer, max_seq_length, batch_size
        self.rank, self.world_size = rank, world_size
        self._state: dict[str, Any] = {"epoch": 0, "record": 0, "position": [0, 0], "rows": [], "pending": [[], []]}

    def state_dict(self) -> dict[str, Any]:
        return dict(self._state) | {"settings": self._settings()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        check_resume(self._settings(), state.get("settings") or {})
        self._state = {key: value for key, value in state.items() if key != "settings"}

    def _settings(self) -> dict[str, Any]:
        """What a resumed state must have been saved with: the records (difficulty, split, and the run's totals from
        stats.json), their rendering into rows, and this rank's place."""
        stats = self.records.stats()
        return {
            "difficulty": self.records.difficulty_filter,
            "split": self.records.split,
            "records": [stats.get("total_examples"), stats.get("train_examples"), stats.get("val_examples")],
            "tokenizer": self.tokenizer_spec,
            "max_seq_length": self.max_seq_length,
            "batch_size": self.batch_size,
            "rank": self.rank,
            "world_size": self.world_size,
        }

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from trove_blocks.tokenizers import load_tokenizer

        tokenizer = load_tokenizer(self.tokenizer_spec)
        packer = ConcatPacker(self.max_seq_length)
        packer.restore(*self._state["pending"])
        rows = [PackedRow(np.asarray(ids, dtype=np.int32), lengths) for ids, lengths in self._state["rows"]]
        epoch, next_record = self._state["epoch"], self._state["record"]
        position = tuple(self._state["position"])
        while True:
            taken = next_record > 0  # a resumed epoch has taken records before
            for index, (after, record) in enumerate(self.records.positioned(position), next_record):
                if index % self.world_size != self.rank:
                    continue
                taken = True
                ids = tokenizer.encode(synsql_training_text(record), add_special_tokens=False).ids
                rows.extend(packer.add(ids))
                next_record, position = index + 1, after
                while len(rows) >= self.batch_size:
                    batch, rows = rows[: self.batch_size], rows[self.batch_size :]
                    self._state = {
                        "epoch": epoch,
                        "record": next_record,
                        "position": list(position),
                        "rows": [[row.input_ids.tolist(), list(row.seq_lengths)] for row in rows],
                        "pending": [list(part) for part in packer.pending()],
                    }
                    yield rows_to_mlx_batch(batch)
            if not taken:  # stats.json promised records that the split's files do not hold: they changed under us
                raise ValueError(
                    f"rank {self.rank} of {self.world_size}: a pass over {self.records.data_dir / self.records.split} "
                    f"found no record of difficulty {self.records.difficulty_filter!r}, although its stats.json counts "
                    f"{len(self.records)}; prepare the data again"
                )
            epoch, next_record, position = epoch + 1, 0, (0, 0)


def processed_phase_loaders(data_dir: str | os.PathLike, **settings: Any) -> Callable[[Phase], BatchSource]:
    """A loader factory for :class:`CurriculumLoader`: phase ``p`` trains on the records of ``p.difficulty``;
    ``settings`` are :class:`ProcessedPhaseBatches`' keyword arguments (tokenizer, max_seq_length, ...)."""
    return lambda phase: ProcessedPhaseBatches(data_dir, phase.difficulty, **settings)

"""Curriculum training: phases by step, and batches mixed across splits by category weights.

- :class:`CurriculumSchedule`: contiguous phases ``[start_step, end_step)``; the seed's SynSQL curriculum is
  :data:`SEED_SYNSQL_PHASES` (Simple 0-40K, Medium 40K-75K, Complex 75K-100K).
- :class:`MixtureLoader`: batches whose rows come from the manifest's categories in proportion to weights (the
  seed's :data:`SEED_CATEGORY_WEIGHTS`, 35/25/20/10, normalised). Rows are allocated to categories by largest
  remainder on the running totals, so after any number of batches each category's row count is within one row of
  its share (not just on average); the rows of a batch are then shuffled together. Each category is a
  :class:`~trove_blocks.loaders.order.RowStream` over its splits (sharded per rank, reshuffled per epoch, cycling).
- :class:`CurriculumLoader`: one loader per phase, switched at the phase's first step; resumable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from trove_blocks.loaders.order import check_resume
from trove_blocks.loaders.packed import (
    EmptyManifestError,
    PackedDataset,
    PackedRows,
    PackedSource,
    open_manifest,
    row_stream,
    to_mlx_batch,
)

#: the seed's category targets (percent; normalised to shares when used)
SEED_CATEGORY_WEIGHTS = {"instruction_chat": 35.0, "code": 25.0, "math_reasoning": 20.0, "factual_qa": 10.0}


@dataclass(frozen=True)
class Phase:
    """Steps ``[start_step, end_step)`` of training (``end_step`` None: open-ended, last phase only).

    What a phase trains on is up to the loader factory; the packed one reads ``splits`` (None = all) of a
    manifest, mixed by ``weights`` (category -> weight) when given. ``difficulty`` names the SynSQL difficulty
    of a phase over processed records.
    """

    name: str
    start_step: int
    end_step: int | None
    splits: tuple[str, ...] | None = None
    weights: Mapping[str, float] | None = None
    difficulty: str | None = None


#: the seed's curriculum over SynSQL processed data
SEED_SYNSQL_PHASES = (
    Phase("Simple", 0, 40_000, difficulty="Simple"),
    Phase("Medium", 40_000, 75_000, difficulty="Medium"),
    Phase("Complex", 75_000, 100_000, difficulty="Complex"),
)


class CurriculumSchedule:
    """Contiguous phases from step 0; ``phase_at(step)`` says which one trains a step."""

    def __init__(self, phases: Sequence[Phase]):
        if not phases:
            raise ValueError("a curriculum needs at least one phase")
        phases = sorted(phases, key=lambda phase: phase.start_step)
        if phases[0].start_step != 0:
            raise ValueError(f"the first phase ({phases[0].name}) must start at step 0, not {phases[0].start_step}")
        for phase, following in zip(phases, phases[1:]):
            if phase.end_step != following.start_step:
                raise ValueError(
                    f"phase {phase.name} ends at step {phase.end_step} but the next phase ({following.name}) starts "
                    f"at {following.start_step}: phases must be contiguous (end_step = next start_step)"
                )
        for phase in phases:
            if phase.end_step is not None and phase.end_step <= phase.start_step:
                raise ValueError(f"phase {phase.name}: end_step {phase.end_step} <= start_step {phase.start_step}")
        self.phases = tuple(phases)

    @property
    def total_steps(self) -> int | None:
        return self.phases[-1].end_step

    def phase_at(self, step: int) -> Phase:
        """The phase that trains ``step``; raises past the last phase's end."""
        if step < 0 or (self.total_steps is not None and step >= self.total_steps):
            raise ValueError(f"step {step} is outside the curriculum (steps 0..{self.total_steps})")
        starts = [phase.start_step for phase in self.phases]
        return self.phases[int(np.searchsorted(starts, step, side="right")) - 1]


def allocate_rows(weights: np.ndarray, given: np.ndarray, rows: int) -> np.ndarray:
    """Rows per category for the next ``rows``: the running totals ``given + result`` stay within one row of
    ``weights * total`` (largest remainder on the cumulative targets). ``weights`` sum to 1."""
    target = weights * (given.sum() + rows) - given
    allocation = np.maximum(np.floor(target), 0).astype(np.int64)
    short = rows - int(allocation.sum())
    if short > 0:
        remainder = target - allocation
        allocation[np.argsort(-remainder, kind="stable")[:short]] += 1
    elif short < 0:
        excess = allocation - target
        for index in np.argsort(-excess, kind="stable")[:-short]:
            allocation[index] -= 1
    return allocation


class MixtureLoader:
    """Endless batches mixing the manifest's categories by ``weights`` (see the module docstring).

    Args:
        manifest: manifest.json, its folder, or an opened :class:`PackedSource`
        weights: category -> weight (> 0); each needs at least one split of that category with sequences
        splits: restrict to these splits (None: all with sequences > 0)
        batch_size, seed, rank, world_size, window_groups: as for :class:`PackedDataset`
    """

    def __init__(
        self,
        manifest: str | os.PathLike | PackedSource,
        weights: Mapping[str, float] = SEED_CATEGORY_WEIGHTS,
        splits: Sequence[str] | None = None,
        *,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        window_groups: int = 4,
    ):
        source = manifest if isinstance(manifest, PackedSource) else open_manifest(manifest, splits)
        if isinstance(manifest, PackedSource) and splits is not None:
            source = source.subset(splits)
        weights = {category: float(weight) for category, weight in weights.items() if weight > 0}
        if not weights:
            raise ValueError("mixture weights: at least one category needs a weight > 0")
        by_category = source.splits_by_category()
        missing = [category for category in weights if category not in by_category]
        if missing:
            raise EmptyManifestError(
                f"{source.manifest_path}: no split with sequences > 0 has category {missing} (categories present: "
                f"{', '.join(f'{c} ({len(s)} splits)' for c, s in sorted(by_category.items()))}); give those "
                "categories weight 0 or preprocess data for them"
            )
        self.source = source
        self.categories = list(weights)
        self.weights = np.array([weights[c] for c in self.categories]) / sum(weights.values())
        self.category_splits = {category: by_category[category] for category in self.categories}
        self.streams = [
            row_stream(source.subset(self.category_splits[category]), seed, True, rank, world_size, window_groups)
            for category in self.categories
        ]
        for category, stream in zip(self.categories, self.streams):
            if stream.rows_per_epoch == 0:
                raise EmptyManifestError(
                    f"{source.manifest_path}: category {category} has {stream.total_rows} rows, fewer than the "
                    f"{world_size} ranks: rank {rank} gets none; use fewer ranks or give the category weight 0"
                )
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.step = 0
        self.rows_given = np.zeros(len(self.categories), dtype=np.int64)

    @property
    def max_seq_length(self) -> int:
        return self.source.max_seq_length

    def next_rows(self) -> PackedRows:
        """The next batch's rows (numpy), rows of all categories shuffled together."""
        allocation = allocate_rows(self.weights, self.rows_given, self.batch_size)
        parts = [
            piece
            for stream, count in zip(self.streams, allocation.tolist())
            if count
            for piece in stream.take_cycling(count)
        ]
        order = np.random.default_rng([self.seed, self.rank, self.step]).permutation(self.batch_size)
        self.rows_given += allocation
        self.step += 1
        return PackedRows.concat(parts).take(order)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            yield to_mlx_batch(self.next_rows())

    def realized_shares(self) -> dict[str, float]:
        """Share of rows given per category so far."""
        total = max(int(self.rows_given.sum()), 1)
        return {category: int(count) / total for category, count in zip(self.categories, self.rows_given)}

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "categories": self.categories,
            "settings": self._settings(),
            "rows_given": self.rows_given.tolist(),
            "streams": [stream.state_dict() for stream in self.streams],
        }

    def _settings(self) -> dict[str, Any]:
        """What a resumed state must have been saved with: batch size, weights and the data (its identity)."""
        return {
            "batch_size": self.batch_size,
            "weights": [round(float(weight), 12) for weight in self.weights],
            "data": self.source.identity(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["categories"] != self.categories:
            raise ValueError(f"cannot resume: categories saved {state['categories']}, here {self.categories}")
        check_resume(self._settings(), state.get("settings") or {})
        for stream, saved in zip(self.streams, state["streams"]):
            stream.load_state_dict(saved)
        self.step = int(state["step"])
        self.rows_given = np.array(state["rows_given"], dtype=np.int64)


class BatchSource(Protocol):
    """What a phase trains on: endless batches, and a resumable state."""

    def __iter__(self) -> Iterator[dict[str, Any]]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class EndlessPackedDataset:
    """A :class:`PackedDataset` as a :class:`BatchSource`: batches epoch after epoch, without end."""

    def __init__(self, dataset: PackedDataset):
        self.dataset = dataset

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.dataset.batches()

    def state_dict(self) -> dict[str, Any]:
        return self.dataset.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.dataset.load_state_dict(state)


def packed_phase_loaders(
    manifest: str | os.PathLike | PackedSource,
    *,
    batch_size: int,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    window_groups: int = 4,
) -> Callable[[Phase], BatchSource]:
    """A loader factory for :class:`CurriculumLoader` over one manifest: a phase reads its ``splits`` (None: all),
    mixed by its ``weights`` when it has some, else shuffled together."""
    source = manifest if isinstance(manifest, PackedSource) else open_manifest(manifest)

    def make(phase: Phase) -> BatchSource:
        settings = dict(batch_size=batch_size, seed=seed, rank=rank, world_size=world_size, window_groups=window_groups)
        if phase.weights:
            return MixtureLoader(source, phase.weights, phase.splits, **settings)
        return EndlessPackedDataset(PackedDataset(source, phase.splits, drop_last=True, **settings))

    return make


class CurriculumLoader:
    """Batches of the schedule's phases in turn: step ``s`` comes from the loader of ``schedule.phase_at(s)``.

    ``make_loader(phase)`` builds a phase's :class:`BatchSource` when the phase starts (for a manifest:
    :func:`packed_phase_loaders`). Iteration ends at the last phase's ``end_step``. ``state_dict()`` after step
    ``k`` resumes at step ``k`` of the same phase with the same batches.
    """

    def __init__(self, schedule: CurriculumSchedule, make_loader: Callable[[Phase], BatchSource]):
        self.schedule = schedule
        self.make_loader = make_loader
        self.step = 0
        self._phase: Phase | None = None
        self._loader: BatchSource | None = None
        self._batches: Iterator[dict[str, Any]] | None = None

    @property
    def phase(self) -> Phase:
        """The phase of the next step."""
        return self.schedule.phase_at(self.step)

    def _enter(self, phase: Phase, state: dict[str, Any] | None = None) -> None:
        self._phase = phase
        self._loader = self.make_loader(phase)
        if state is not None:
            self._loader.load_state_dict(state)
        self._batches = iter(self._loader)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        total = self.schedule.total_steps
        while total is None or self.step < total:
            phase = self.schedule.phase_at(self.step)
            if phase != self._phase:
                self._enter(phase)
            batch = next(self._batches)
            self.step += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"step": self.step, "phase": None, "loader": None}
        if self._phase is not None and self.step < (self._phase.end_step or self.step + 1):
            state["phase"] = self._phase.name
            state["loader"] = self._loader.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self._phase = self._loader = self._batches = None
        if state["phase"] is not None:
            phase = self.schedule.phase_at(self.step)
            if phase.name != state["phase"]:
                raise ValueError(f"cannot resume: step {self.step} is in phase {phase.name}, saved in {state['phase']}")
            self._enter(phase, state["loader"])

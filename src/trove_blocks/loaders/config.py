"""The seed's training config (YAML) -> MLX loaders.

The seed (data pipeline quickstart) trains from::

    train_data_path: "data/distillation_preprocessed"   # the --output folder of preprocess_to_parquet.py
    val_data_path: "data/distillation_preprocessed"
    use_pretokenized_data: true
    pretokenized_splits: ["openhermes", "numina_cot"]  # or null: every split with sequences > 0

Keys read here besides those (all optional; other keys of a training config are left to the trainer):
``batch_size`` (8), ``seed`` (0), ``max_seq_length`` (checked against the manifest's), ``val_splits`` (default:
the training splits; the seed points both paths at one folder, so name other splits here to hold rows out),
``mixture_weights`` (category -> weight: mix training batches by category) and ``curriculum_phases`` (a list of
``{name, start_step, end_step, splits, weights}``: phases by step). Relative paths are taken from the working
directory, as the seed's trainer does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trove_blocks.loaders.curriculum import (
    CurriculumLoader,
    CurriculumSchedule,
    MixtureLoader,
    Phase,
    packed_phase_loaders,
)
from trove_blocks.loaders.packed import (
    EmptyManifestError,
    ManifestNotFoundError,
    PackedDataset,
    UnknownSplitError,
    open_manifest,
)


class ConfigError(ValueError):
    """A training config the loaders cannot use; the message names the key and the fix."""


@dataclass
class LoaderConfig:
    """The loader settings of a training config (see the module docstring)."""

    train_data_path: Path
    val_data_path: Path | None = None
    pretokenized_splits: list[str] | None = None
    val_splits: list[str] | None = None
    batch_size: int = 8
    seed: int = 0
    max_seq_length: int | None = None
    mixture_weights: dict[str, float] | None = None
    curriculum_phases: list[Phase] = field(default_factory=list)
    origin: str = "config"

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "config") -> LoaderConfig:
        def fail(message: str) -> ConfigError:
            return ConfigError(f"{origin}: {message}")

        if not isinstance(data, dict):
            raise fail(f"expected a mapping of keys, got {type(data).__name__}")
        if not data.get("train_data_path"):
            raise fail(
                "train_data_path is missing; set it to the --output folder of pipelines/preprocess_to_parquet.py "
                "(the folder holding manifest.json)"
            )
        if data.get("use_pretokenized_data", True) is not True:
            raise fail(
                "use_pretokenized_data must be true: these loaders read pretokenized Parquet through manifest.json. "
                "Tokenize the raw JSONL with pipelines/preprocess_to_parquet.py, then set use_pretokenized_data: true"
            )
        splits = {}
        for key in ("pretokenized_splits", "val_splits"):
            value = data.get(key)
            if isinstance(value, str):
                value = [value]
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise fail(f"{key} must be a list of split names or null (= all splits), got {value!r}")
            if value is not None and not value:
                raise fail(f"{key} is an empty list; use null for all splits, or name some")
            splits[key] = value
        for key, least in (("batch_size", 1), ("seed", 0), ("max_seq_length", 2)):
            if data.get(key) is not None and (not isinstance(data[key], int) or data[key] < least):
                raise fail(f"{key} must be an integer >= {least}, got {data[key]!r}")
        weights = data.get("mixture_weights")
        if weights is not None and not _weights_ok(weights):
            raise fail(f"mixture_weights must map categories to weights >= 0, got {weights!r}")
        if weights is not None and data.get("curriculum_phases"):
            raise fail(
                "mixture_weights and curriculum_phases: with phases, each phase mixes by its own weights; "
                "move the weights into the phases (or drop curriculum_phases)"
            )
        phases = []
        for index, phase in enumerate(data.get("curriculum_phases") or []):
            where = f"curriculum_phases[{index}]"
            needs = f"{where} needs name, start_step, end_step (+ optional splits, weights)"
            if not isinstance(phase, dict):
                raise fail(f"{needs}: got {phase!r}")
            phase_splits = phase.get("splits")
            phase_splits = [phase_splits] if isinstance(phase_splits, str) else phase_splits
            if phase_splits is not None and not all(isinstance(name, str) for name in phase_splits):
                raise fail(f"{where}: splits must be a list of split names, got {phase_splits!r}")
            if phase.get("weights") is not None and not _weights_ok(phase["weights"]):
                raise fail(f"{where}: weights must map categories to weights >= 0, got {phase['weights']!r}")
            try:
                phases.append(
                    Phase(
                        name=str(phase["name"]),
                        start_step=int(phase["start_step"]),
                        end_step=None if phase.get("end_step") is None else int(phase["end_step"]),
                        splits=tuple(phase_splits) if phase_splits else None,
                        weights=phase.get("weights"),
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise fail(f"{needs}: {error!r} in {phase!r}") from None
        if phases:
            try:
                CurriculumSchedule(phases)
            except ValueError as error:
                raise fail(f"curriculum_phases: {error}") from None
        val = data.get("val_data_path")
        return cls(
            train_data_path=Path(data["train_data_path"]),
            val_data_path=Path(val) if val else None,
            pretokenized_splits=splits["pretokenized_splits"],
            val_splits=splits["val_splits"],
            batch_size=data.get("batch_size") or 8,
            seed=data.get("seed") or 0,
            max_seq_length=data.get("max_seq_length"),
            mixture_weights=weights,
            curriculum_phases=phases,
            origin=origin,
        )


def _weights_ok(weights: object) -> bool:
    """A mapping of category names to numbers >= 0."""
    return isinstance(weights, dict) and all(
        isinstance(weight, (int, float)) and not isinstance(weight, bool) and weight >= 0 for weight in weights.values()
    )


def load_config(path: str | os.PathLike) -> LoaderConfig:
    """The loader settings of the YAML training config at ``path``."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    return LoaderConfig.from_dict(data, origin=str(path))


@dataclass
class TrainingLoaders:
    """What a config builds: the training batches (a :class:`PackedDataset`, :class:`MixtureLoader` or
    :class:`CurriculumLoader`) and the validation batches (in order, all rows; None without ``val_data_path``)."""

    train: PackedDataset | MixtureLoader | CurriculumLoader
    val: PackedDataset | None


def _open(config: LoaderConfig, key: str, path: Path, splits: list[str] | None):
    try:
        source = open_manifest(path, splits)
    except (ManifestNotFoundError, EmptyManifestError, UnknownSplitError) as error:
        raise type(error)(f"{config.origin}: {key} {path}: {error}") from None
    if config.max_seq_length is not None and config.max_seq_length != source.max_seq_length:
        raise ConfigError(
            f"{config.origin}: max_seq_length {config.max_seq_length}, but {source.manifest_path} was packed at "
            f"{source.max_seq_length}; set max_seq_length: {source.max_seq_length} or preprocess again with "
            f"--max-seq-length {config.max_seq_length}"
        )
    return source


def _check_phase(config: LoaderConfig, source, phase: Phase) -> None:
    """ConfigError naming the config file and phase when its splits are not in the training data, or a category it
    weighs has no split there."""
    unknown = [name for name in phase.splits or () if name not in source.splits]
    if unknown:
        raise ConfigError(
            f"{config.origin}: curriculum phase {phase.name!r}: splits {unknown} are not in the training data "
            f"({', '.join(source.splits)})"
        )
    present = set((source.subset(phase.splits) if phase.splits else source).splits_by_category())
    missing = [category for category, weight in (phase.weights or {}).items() if weight > 0 and category not in present]
    if missing:
        raise ConfigError(
            f"{config.origin}: curriculum phase {phase.name!r}: weights name categories {missing} that none of its "
            f"splits has (present: {', '.join(sorted(present))})"
        )


def build_loaders(config: LoaderConfig | str | os.PathLike, rank: int = 0, world_size: int = 1) -> TrainingLoaders:
    """The loaders of ``config`` (a :class:`LoaderConfig` or a YAML path) for one data-parallel rank."""
    if not isinstance(config, LoaderConfig):
        config = load_config(config)
    source = _open(config, "train_data_path", config.train_data_path, config.pretokenized_splits)
    settings = dict(batch_size=config.batch_size, seed=config.seed, rank=rank, world_size=world_size)
    for phase in config.curriculum_phases:  # checked now, not when training reaches the phase
        _check_phase(config, source, phase)
    if config.curriculum_phases:
        train = CurriculumLoader(CurriculumSchedule(config.curriculum_phases), packed_phase_loaders(source, **settings))
    elif config.mixture_weights:
        train = MixtureLoader(source, config.mixture_weights, **settings)
    else:
        train = PackedDataset(source, **settings)
    val = None
    if config.val_data_path is not None:
        val_source = _open(
            config, "val_data_path", config.val_data_path, config.val_splits or config.pretokenized_splits
        )
        val = PackedDataset(val_source, shuffle=False, **settings)
    return TrainingLoaders(train, val)

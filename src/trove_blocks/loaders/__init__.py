"""Loaders: iterate prepared data for training (mlx is imported only when a batch is built).

- :class:`ProcessedDataLoader`: processed SynSQL records, one difficulty at a time (the seed's curriculum).
- :class:`PackedDataset`: batches of packed rows from a manifest.json (shuffled per epoch, sharded, resumable).
- :class:`CurriculumLoader` with :class:`CurriculumSchedule` / :class:`Phase`: phases by step, over a manifest
  (:func:`packed_phase_loaders`, category mixtures via :class:`MixtureLoader`) or over processed SynSQL records
  (:func:`processed_phase_loaders`).
- :class:`FineWikiDataset`: FineWiki text and vision samples from either layout.
- :func:`load_config` / :func:`build_loaders`: the seed's training YAML -> loaders.
"""

from trove_blocks.loaders.config import ConfigError, LoaderConfig, TrainingLoaders, build_loaders, load_config
from trove_blocks.loaders.curriculum import (
    SEED_CATEGORY_WEIGHTS,
    SEED_SYNSQL_PHASES,
    CurriculumLoader,
    CurriculumSchedule,
    MixtureLoader,
    Phase,
    packed_phase_loaders,
)
from trove_blocks.loaders.finewiki import FineWikiDataset
from trove_blocks.loaders.packed import (
    EmptyManifestError,
    ManifestNotFoundError,
    PackedDataset,
    ShardFormatError,
    UnknownSplitError,
    open_manifest,
)
from trove_blocks.loaders.processed import ProcessedDataLoader
from trove_blocks.loaders.synsql_curriculum import ProcessedPhaseBatches, processed_phase_loaders

__all__ = [
    "SEED_CATEGORY_WEIGHTS",
    "SEED_SYNSQL_PHASES",
    "ConfigError",
    "CurriculumLoader",
    "CurriculumSchedule",
    "EmptyManifestError",
    "FineWikiDataset",
    "LoaderConfig",
    "ManifestNotFoundError",
    "MixtureLoader",
    "PackedDataset",
    "Phase",
    "ProcessedDataLoader",
    "ProcessedPhaseBatches",
    "ShardFormatError",
    "TrainingLoaders",
    "UnknownSplitError",
    "build_loaders",
    "load_config",
    "open_manifest",
    "packed_phase_loaders",
    "processed_phase_loaders",
]

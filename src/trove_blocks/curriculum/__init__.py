"""Curriculum data: the registry of datasets per category with target shares, and source-format adapters.

The plain modules (``registry``, ``adapters``) import no datatrove; ``download`` holds the downloader's writer
block. The blocks that read and tag curriculum data are in ``trove_blocks.readers.curriculum`` and
``trove_blocks.taggers.curriculum``.
"""

from trove_blocks.curriculum.adapters import ADAPTERS, InvalidRow, convert_row
from trove_blocks.curriculum.registry import (
    DEFAULT_REGISTRY,
    CurriculumDataset,
    Registry,
    RegistryError,
    load_registry,
    parse_source_overrides,
)

__all__ = [
    "ADAPTERS",
    "DEFAULT_REGISTRY",
    "CurriculumDataset",
    "InvalidRow",
    "Registry",
    "RegistryError",
    "convert_row",
    "load_registry",
    "parse_source_overrides",
]

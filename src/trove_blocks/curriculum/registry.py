"""The curriculum registry: categories with target token shares and the datasets of each (no datatrove import).

The registry is ``registry.yaml`` next to this module (package data); another file can be passed with
``load_registry(path)``. A hub dataset is read through ``datasets.load_dataset``, unless it names ``hub_files``:
those files of its repository are fetched into the Hugging Face cache and streamed, because ``datasets`` reads a
file that holds one JSON array whole (about 11x the file in memory). A local override (``--source NAME=PATH``)
points a dataset at local files in the dataset's original format, so everything runs offline.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trove_blocks.curriculum.adapters import ADAPTERS
from trove_blocks.io import files_fingerprint

DEFAULT_REGISTRY = Path(__file__).with_name("registry.yaml")
#: the files a local override is read from
LOCAL_SUFFIXES = (".json", ".jsonl")


class RegistryError(ValueError):
    """A registry file or a --source override that cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class CurriculumDataset:
    """One dataset of the mix: where it comes from (hub or local files) and how its rows become text."""

    name: str
    category: str
    hub_id: str
    format: str
    config: str | None = None
    split: str = "train"
    text_field: str | None = None
    json_field: str | None = None
    hub_files: str | None = None
    max_samples: int = -1

    def load_options(self) -> tuple[str, dict[str, Any]]:
        """``(dataset, dataset_options)`` for ``datasets.load_dataset`` of a hub dataset without ``hub_files``."""
        options: dict[str, Any] = {"split": self.split}
        if self.config:
            options["name"] = self.config
        return self.hub_id, options

    def download_settings(self, local_path: str | os.PathLike | None, limit: int) -> dict[str, Any]:
        """What a download of this dataset depends on, recorded in its stats: a download made with other settings is
        not served again. Local files count by name, size and modification time (every file under a folder)."""
        settings: dict[str, Any] = {
            "format": self.format,
            "text_field": self.text_field,
            "limit": limit,
        }
        if local_path is None and self.hub_files:
            return settings | {"hub_id": self.hub_id, "hub_files": self.hub_files, "json_field": self.json_field}
        if local_path is None:
            return settings | {"hub_id": self.hub_id, "config": self.config, "split": self.split}
        return settings | {
            "local": str(Path(local_path).resolve()),
            "json_field": self.json_field,
            "files": files_fingerprint(Path(local_path)),
        }

    def local_files(self, local_path: str | os.PathLike) -> tuple[Path, str]:
        """``(folder, glob pattern)`` of a local override: the file, or every .json/.jsonl file under the folder."""
        path = Path(local_path)
        if path.is_file():
            if path.suffix not in LOCAL_SUFFIXES:
                raise RegistryError(f"--source {self.name}={local_path}: not a .json or .jsonl file")
            return path.parent, glob.escape(path.name)
        if not any(p.suffix in LOCAL_SUFFIXES for p in path.rglob("*")):
            raise RegistryError(f"--source {self.name}={local_path}: no .json/.jsonl files there")
        return path, "**/*.json*"

    def fetch_hub_files(self) -> tuple[Path, str]:
        """``(folder, glob pattern)`` of the ``hub_files`` of the hub repository: fetched into the Hugging Face cache
        with ``huggingface_hub.snapshot_download`` (only what is missing or changed there; offline, what the cache
        holds)."""
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(self.hub_id, repo_type="dataset", allow_patterns=self.hub_files))
        except OSError as error:  # the hub's HTTP errors, offline without a cached snapshot, no connection
            raise RegistryError(
                f"dataset {self.name}: cannot fetch {self.hub_files} of hub dataset {self.hub_id} ({error}); "
                f"pass --source {self.name}=PATH to read local files instead"
            ) from error
        if not any(path.is_file() for path in folder.glob(self.hub_files)):
            raise RegistryError(
                f"dataset {self.name}: no file of hub dataset {self.hub_id} matches hub_files {self.hub_files!r}"
            )
        return folder, self.hub_files


@dataclass(frozen=True)
class Registry:
    """Categories (name -> target share, in registry order) and datasets (name -> entry)."""

    path: Path
    targets: dict[str, float]
    datasets: dict[str, CurriculumDataset]

    def in_category(self, category: str | None) -> list[CurriculumDataset]:
        if category is not None and category not in self.targets:
            raise RegistryError(f"unknown category {category!r}; the registry has {', '.join(self.targets)}")
        return [entry for entry in self.datasets.values() if category is None or entry.category == category]

    def category_of(self, dataset_name: str) -> str | None:
        entry = self.datasets.get(dataset_name)
        return entry.category if entry else None


def load_registry(path: str | os.PathLike | None = None) -> Registry:
    """Read and check a registry file (default: the packaged registry.yaml)."""
    path = Path(path) if path is not None else DEFAULT_REGISTRY
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RegistryError(f"registry {path}: cannot read it ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise RegistryError(f"registry {path}: expected top-level 'categories' and 'datasets' mappings")
    targets = {}
    for name, category in data["categories"].items():
        share = (category or {}).get("target_share")
        if not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise RegistryError(f"registry {path}: category {name}: target_share must be in 0..1, got {share!r}")
        targets[name] = float(share)
    if sum(targets.values()) > 1 + 1e-9:
        raise RegistryError(f"registry {path}: target shares add up to {sum(targets.values()):.2f} > 1")
    datasets = {}
    for name, entry in (data.get("datasets") or {}).items():
        entry = dict(entry or {})
        for key in ("category", "hub_id", "format"):
            if not entry.get(key):
                raise RegistryError(f"registry {path}: dataset {name}: '{key}' is required")
        if entry["category"] not in targets:
            raise RegistryError(f"registry {path}: dataset {name}: unknown category {entry['category']!r}")
        if entry["format"] not in ADAPTERS:
            raise RegistryError(
                f"registry {path}: dataset {name}: unknown format {entry['format']!r} (known: {', '.join(ADAPTERS)})"
            )
        unknown = set(entry) - set(CurriculumDataset.__dataclass_fields__)
        if unknown:
            raise RegistryError(f"registry {path}: dataset {name}: unknown keys {sorted(unknown)}")
        datasets[name] = CurriculumDataset(name=name, **entry)
    return Registry(path=path, targets=targets, datasets=datasets)


def parse_source_overrides(items: list[str], registry: Registry) -> dict[str, Path]:
    """``["gsm8k=path/file.jsonl", ...]`` -> ``{"gsm8k": Path(...)}``, checking names and paths."""
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise RegistryError(f"--source {item!r}: expected NAME=PATH")
        if name not in registry.datasets:
            raise RegistryError(
                f"--source {item!r}: no dataset {name!r} in the registry ({', '.join(registry.datasets)})"
            )
        path = Path(value).expanduser()
        if not path.exists():
            raise RegistryError(f"--source {item!r}: {path} does not exist")
        registry.datasets[name].local_files(path)  # raises when there is nothing to read
        overrides[name] = path
    return overrides

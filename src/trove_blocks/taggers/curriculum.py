"""Curriculum category tagger: sets ``metadata["category"]`` (text untouched) so the mix can be measured."""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from pathlib import PurePath

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

UNCATEGORIZED = "uncategorized"


class CurriculumTagger(PipelineStep):
    """Tag each document with its curriculum category.

    The first that applies: the fixed ``category`` given; the document's own ``category`` (raw curriculum JSONL
    carries one); the name of the folder holding its file when that is a registry category (the downloader's
    ``<category>/<name>.jsonl`` layout); the registry's category of its ``source`` dataset; else
    ``uncategorized``. Counts ``category_<name>`` per document.
    """

    type = "🏷 - TAGGER"
    name = "📚 Curriculum category"

    def __init__(self, category: str | None = None, registry_path: str | None = None):
        super().__init__()
        self.category = category
        self.registry_path = registry_path

    @cached_property
    def registry(self):
        from trove_blocks.curriculum.registry import load_registry

        return load_registry(self.registry_path)

    def category_of(self, metadata: dict) -> str:
        if self.category:
            return self.category
        own = metadata.get("category")
        if isinstance(own, str) and own.strip():
            return own.strip()
        file_path = metadata.get("file_path")
        if file_path:
            folder = PurePath(str(file_path)).parent.name
            if folder in self.registry.targets:
                return folder
        return self.registry.category_of(str(metadata.get("source", ""))) or UNCATEGORIZED

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        counts: Counter[str] = Counter()  # counted here, handed to the stats every 10,000 documents and at the end
        try:
            for document in data:
                category = self.category_of(document.metadata)
                document.metadata["category"] = category
                counts[category] += 1
                if counts.total() >= 10_000:
                    self._flush(counts)
                yield document
        finally:
            self._flush(counts)

    def _flush(self, counts: Counter) -> None:
        for category, count in counts.items():
            self.stat_update(f"category_{category}", value=count)
        counts.clear()

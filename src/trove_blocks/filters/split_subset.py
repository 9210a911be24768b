"""Applies the selection plan: drops records outside the subset, tags the others train or val."""

from __future__ import annotations

import json

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from trove_blocks.splits import SelectionPlan


class SubsetSplitFilter(BaseFilter):
    """Keeps the records the plan admits and sets ``metadata["split"]`` to "train" or "val".

    Expects ``metadata["subset_key"]``/``["split_key"]`` (see :mod:`trove_blocks.writers.selection`); the
    decision depends only on the record's keys and id, never on which task reads it. Reason: ``not_in_subset``.
    """

    name = "✂️ Subset and split"

    def __init__(self, plan_file: str, exclusion_writer: DiskWriter | None = None):
        super().__init__(exclusion_writer)
        self.plan_file = plan_file
        self._plan: SelectionPlan | None = None

    def filter(self, document: Document) -> bool | tuple[bool, str]:
        if self._plan is None:
            with open(self.plan_file, encoding="utf-8") as handle:
                self._plan = SelectionPlan.from_json(json.load(handle))
        split = self._plan.split_of(document.metadata["subset_key"], document.metadata["split_key"], document.id)
        if split is None:
            return False, "not_in_subset"
        document.metadata["split"] = split
        self.stat_update(f"split_{split}")
        return True

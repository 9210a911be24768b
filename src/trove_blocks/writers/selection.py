"""Two-pass exact selection: candidates with their keys (per task), then one small task plans the cut.

Pass 1 (:class:`CandidateWriter`, every task): each valid record is written as a candidate line
``{"id", "subset_key", "split_key", "record"}`` to ``<work>/candidates/<rank>.jsonl`` and its keys to
``<work>/keys/<rank>.jsonl`` (a few dozen bytes per record). Pass 2 (:class:`SelectionPlanner`, one task)
reads all keys and writes ``<work>/plan/plan.json`` (:class:`trove_blocks.splits.SelectionPlan`): the exact
subset and val cutoffs. A third stage reads the candidates back (:func:`candidate_adapter`) and applies the plan
(:class:`trove_blocks.filters.split_subset.SubsetSplitFilter`). The raw file is parsed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.io import write_json_atomic
from trove_blocks.splits import plan_selection, split_key, subset_key
from trove_blocks.synsql.records import ordered_output, processed_record
from trove_blocks.taggers.synsql import synsql_fields
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter

PLAN_FILE = "plan/plan.json"


def candidate_adapter(reader, data: dict, path: str, id_in_file) -> dict:
    """Reader adapter for candidate lines: the processed record in ``metadata["record"]``, keys beside it."""
    record = data["record"]
    return {
        "text": record["question"],
        "id": data["id"],
        "metadata": {
            "subset_key": data["subset_key"],
            "split_key": data["split_key"],
            "difficulty": record["difficulty"],
            "record": record,
        },
    }


class CandidateWriter(AtomicJsonlWriter):
    """Writes valid SynSQL documents as candidate lines plus their selection keys (see the module docstring).

    Needs ``metadata["difficulty"]`` (DifficultyTagger). ``seed`` shapes both keys; ``include_cot`` keeps ``cot``.
    """

    name = "🎟 Selection candidates"

    def __init__(self, work_dir: str, seed: int, include_cot: bool = False):
        super().__init__(work_dir, output_filename="candidates/${rank}.jsonl")
        self.adapter = self._candidate
        self.seed = seed
        self.include_cot = include_cot

    def _candidate(self, document: Document) -> dict:
        record = processed_record(synsql_fields(document), document.metadata["difficulty"], self.include_cot)
        keys = document.metadata
        return {"id": document.id, "subset_key": keys["subset_key"], "split_key": keys["split_key"], "record": record}

    def write(self, document: Document, rank: int = 0, **kwargs):
        document.metadata["subset_key"] = subset_key(document.id, self.seed)
        document.metadata["split_key"] = split_key(document.id, self.seed)
        super().write(document, rank, **kwargs)
        keys = [document.metadata["subset_key"], document.metadata["split_key"], document.id]
        handle = self._get_output_file_with_retry(f"keys/{rank:05d}.jsonl")
        handle.write(orjson.dumps(keys, option=orjson.OPT_APPEND_NEWLINE))


class SelectionPlanner(PipelineStep):
    """One-task step: reads every task's keys and writes the exact subset/val plan to ``<work>/plan/plan.json``."""

    name = "📐 Selection plan"
    type = "✂️ - SPLIT"

    def __init__(self, work_dir: str, subset_size: int, val_ratio: float):
        super().__init__()
        self.work_dir = work_dir
        self.subset_size = subset_size
        self.val_ratio = val_ratio

    def _keys(self) -> Iterator[tuple[int, int, str]]:
        for path in sorted((Path(self.work_dir) / "keys").glob("*.jsonl")):
            with path.open("rb") as handle:
                for line in handle:
                    a, b, record_id = orjson.loads(line)
                    yield a, b, record_id

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError(f"{self.name} needs exactly one task, got {world_size}")
        plan = plan_selection(self._keys, self.subset_size, self.val_ratio)
        self.stat_update("candidates", value=plan.total)
        self.stat_update("kept", value=plan.kept)
        self.stat_update("val", value=plan.val)
        write_json_atomic(Path(self.work_dir) / PLAN_FILE, plan.to_json())
        yield from data or ()


def processed_output(writer, document: Document) -> dict:
    """Writer adapter: the final processed record (seed's fields in order, schema merged) plus its ``id``."""
    return {**ordered_output(document.metadata["record"], document.metadata["schema"]), "id": document.id}

"""One-task step: merges the per-task tallies of a SynSQL run into ``stats.json`` (the seed's fields + exclusions)
and draws them into ``stats.png``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.io import write_json_atomic
from trove_blocks.splits import SelectionPlan
from trove_blocks.synsql.stats_picture import write_stats_picture
from trove_blocks.writers.selection import PLAN_FILE


def merge_tallies(folder: Path) -> Counter:
    """Sum the ``by`` counts of every ``<rank>.json`` tally in ``folder`` (none -> empty)."""
    total: Counter = Counter()
    for path in sorted(folder.glob("*.json")):
        total.update(json.loads(path.read_text(encoding="utf-8"))["by"])
    return total


class SynsqlStatsWriter(PipelineStep):
    """Writes ``<output_dir>/stats.json`` from the plan and the tallies under ``<work_dir>/counts/``, and
    ``<output_dir>/stats.png`` (:mod:`trove_blocks.synsql.stats_picture`).

    ``counts/written`` holds ``split/difficulty`` tallies of the written records, every other folder there
    ``filter_reason`` tallies of exclusions. Fails when the written counts disagree with the plan (a partial run).
    """

    name = "📊 SynSQL stats"
    type = "✍️ - WRITER"

    def __init__(self, output_dir: str, work_dir: str, val_ratio: float, settings: dict | None = None):
        super().__init__()
        self.output_dir = output_dir
        self.work_dir = work_dir
        self.val_ratio = val_ratio
        self.settings = settings or {}

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        work = Path(self.work_dir)
        plan = SelectionPlan.from_json(json.loads((work / PLAN_FILE).read_text(encoding="utf-8")))
        written = merge_tallies(work / "counts" / "written")
        exclusions: Counter = Counter()
        for folder in sorted(p for p in (work / "counts").iterdir() if p.is_dir() and p.name != "written"):
            exclusions.update(merge_tallies(folder))
        split_totals = Counter()
        # every difficulty the run's map gives, in the map's (curriculum) order and with zeros, as the seed lists
        # them: a phase with no record is then seen as empty, not as unknown
        levels = dict.fromkeys(self.settings.get("difficulty_map", {}).values())
        distribution = {level: {"train": 0, "val": 0} for level in levels}
        for key, count in sorted(written.items()):
            split, difficulty = key.split("/", 1)
            split_totals[split] += count
            distribution.setdefault(difficulty, {"train": 0, "val": 0})[split] += count
        if split_totals["train"] + split_totals["val"] != plan.kept or split_totals["val"] != plan.val:
            raise RuntimeError(
                f"written records ({dict(split_totals)}) disagree with the plan (kept {plan.kept}, val {plan.val}): "
                "a stage did not finish; re-run the same command"
            )
        stats = {
            "total_examples": plan.kept,
            "train_examples": split_totals["train"],
            "val_examples": split_totals["val"],
            "val_ratio": self.val_ratio,
            "difficulty_distribution": distribution,
            "records_read": plan.total + sum(v for k, v in exclusions.items() if k != "not_in_subset"),
            "excluded_examples": sum(exclusions.values()),
            "exclusions": dict(sorted(exclusions.items())),
            "settings": self.settings,
        }
        write_json_atomic(Path(self.output_dir) / "stats.json", stats)
        write_stats_picture(stats, Path(self.output_dir) / "stats.png")
        self.stat_update("kept", value=plan.kept)
        yield from data or ()

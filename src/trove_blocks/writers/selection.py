"""Exact selection in three passes, with all per-record work done once: process (N tasks), plan (1), route (N).

Pass 1 (:class:`ProcessedLineWriter`, every task): each valid record becomes its FINAL output line (the
processed record, schema merged, SQL normalised, serialised once) in ``<work>/lines/<rank>.jsonl``, and its keys
``[subset_key, split_key, id, difficulty]`` go to ``<work>/keys/<rank>.jsonl``, line for line (a few dozen bytes
per record). Pass 2 (:class:`SelectionPlanner`, one task) reads all keys and writes ``<work>/plan/plan.json``
(:class:`trove_blocks.splits.SelectionPlan`): the exact subset and val cutoffs. Pass 3 (:class:`SelectionRouter`,
every task) reads the keys again and copies each line's bytes to ``train/``, ``val/`` or the exclusions, without
decoding it. The raw file is parsed once; a processed record is serialised once.

Per-record counters are kept in local variables and handed to datatrove's stats once per task: a
``stat_update`` costs ~0.6 µs, and datatrove's writer spends ~100 µs of bookkeeping per document.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import orjson
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.io import write_json_atomic
from trove_blocks.splits import SelectionKeys, SelectionPlan, plan_selection
from trove_blocks.synsql.records import DEFAULT_DIFFICULTY, processed_record
from trove_blocks.taggers.synsql import load_schema_table, synsql_fields
from trove_blocks.writers.atomic_jsonl import open_replacing

PLAN_FILE = "plan/plan.json"
LINES, KEYS = "lines", "keys"
_LINE = orjson.OPT_APPEND_NEWLINE


class ProcessedLineWriter(PipelineStep):
    """Writes each valid SynSQL document as its final processed line plus its selection keys (module docstring).

    Run it after :class:`~trove_blocks.filters.synsql_validation.SynsqlRecordFilter` (which drops unknown
    db_ids and sql_complexity labels). Output lines are the processed record (seed's fields in order, schema
    merged from ``schema_table``) plus its ``id``; ``seed`` shapes both keys; ``include_cot`` keeps ``cot``.
    Files are committed atomically when the task ends without error.
    """

    name = "🎟 SynSQL processed lines"
    type = "💽 - WRITER"

    def __init__(
        self,
        work_dir: str,
        schema_table: str,
        seed: int,
        difficulty_map: Mapping[str, str] = DEFAULT_DIFFICULTY,
        include_cot: bool = False,
    ):
        super().__init__()
        self.work_dir = work_dir
        self.schema_table = schema_table
        self.keys = SelectionKeys(seed)
        self.difficulty_map = dict(difficulty_map)
        self.include_cot = include_cot

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        schemas = load_schema_table(self.schema_table)
        work = Path(self.work_dir)
        difficulties: Counter = Counter()
        seconds = 0.0
        clock = time.perf_counter
        with ExitStack() as stack:
            lines = open_replacing(stack, work / LINES / f"{rank:05d}.jsonl")
            keys = open_replacing(stack, work / KEYS / f"{rank:05d}.jsonl")
            for document in data:
                started = clock()
                record = synsql_fields(document)
                difficulty = self.difficulty_map[record["sql_complexity"]]
                schema = schemas.get(record["db_id"])
                if schema is None:
                    raise KeyError(f"document {document.id}: db_id {record['db_id']!r} is not in {self.schema_table}")
                output = processed_record(record, schema, difficulty, self.include_cot)
                output["id"] = document.id
                lines.write(orjson.dumps(output, option=_LINE))
                keys.write(orjson.dumps([*self.keys(document.id), document.id, difficulty], option=_LINE))
                difficulties[difficulty] += 1
                seconds += clock() - started
                yield document
        for difficulty, count in difficulties.items():
            self.stat_update(f"difficulty_{difficulty}", value=count, unit="task")
        self.stat_update("lines", value=sum(difficulties.values()), unit="task")
        self.track_time(unit="task").update(seconds)


def iter_keys(work_dir: str | Path) -> Iterator[tuple[int, int, str]]:
    """``(subset_key, split_key, id)`` of every processed line, from ``<work_dir>/keys/*.jsonl``."""
    for path in sorted((Path(work_dir) / KEYS).glob("*.jsonl")):
        with path.open("rb") as handle:
            for line in handle:
                subset, split, record_id, _ = orjson.loads(line)
                yield subset, split, record_id


class SelectionPlanner(PipelineStep):
    """One-task step: reads every task's keys and writes the exact subset/val plan to ``<work>/plan/plan.json``."""

    name = "📐 Selection plan"
    type = "✂️ - SPLIT"

    def __init__(self, work_dir: str, subset_size: int, val_ratio: float):
        super().__init__()
        self.work_dir = work_dir
        self.subset_size = subset_size
        self.val_ratio = val_ratio

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError(f"{self.name} needs exactly one task, got {world_size}")
        plan = plan_selection(lambda: iter_keys(self.work_dir), self.subset_size, self.val_ratio)
        self.stat_update("candidates", value=plan.total)
        self.stat_update("kept", value=plan.kept)
        self.stat_update("val", value=plan.val)
        write_json_atomic(Path(self.work_dir) / PLAN_FILE, plan.to_json())
        yield from data or ()


class SelectionRouter(PipelineStep):
    """Applies the plan: copies each processed line to ``<output>/train|val/<rank>.jsonl`` or drops it.

    Task ``rank`` takes the work files ``i`` with ``i % world_size == rank`` and reads each line's keys, never
    the line's JSON. Dropped records go to ``<output>/excluded/not_in_subset/<rank>.jsonl`` as
    ``{"id", "filter_reason"}``. Tallies (``<work>/counts/written/<rank>.json`` by ``split/difficulty``,
    ``<work>/counts/not_in_subset/<rank>.json``) feed :class:`~trove_blocks.writers.synsql_stats.SynsqlStatsWriter`.
    Every file is committed atomically when the task ends without error.
    """

    name = "🔀 Selection router"
    type = "💽 - WRITER"

    def __init__(self, work_dir: str, output_dir: str):
        super().__init__()
        self.work_dir = work_dir
        self.output_dir = output_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        work, out = Path(self.work_dir), Path(self.output_dir)
        plan = SelectionPlan.from_json(orjson.loads((work / PLAN_FILE).read_bytes()))
        key_files = sorted((work / KEYS).glob("*.jsonl"))[rank::world_size]
        written: Counter = Counter()
        dropped = 0
        started = time.perf_counter()
        with ExitStack() as stack:
            outputs: dict[str, IO[bytes]] = {}

            def output(name: str) -> IO[bytes]:
                if name not in outputs:
                    outputs[name] = open_replacing(stack, out / name / f"{rank:05d}.jsonl")
                return outputs[name]

            for key_file in key_files:
                line_file = work / LINES / key_file.name
                with key_file.open("rb") as keys, line_file.open("rb") as lines:
                    for index, key_line in enumerate(keys):
                        line = lines.readline()
                        if not line:
                            raise ValueError(f"{line_file} has fewer lines than {key_file} ({index}): a partial run")
                        subset, split_key, record_id, difficulty = orjson.loads(key_line)
                        split = plan.split_of(subset, split_key, record_id)
                        if split is None:
                            output("excluded/not_in_subset").write(
                                orjson.dumps({"id": record_id, "filter_reason": "not_in_subset"}, option=_LINE)
                            )
                            dropped += 1
                            continue
                        (outputs.get(split) or output(split)).write(line)
                        written[split, difficulty] += 1
                    if lines.readline():
                        raise ValueError(f"{line_file} has more lines than {key_file}: a partial run")
        by = {f"{split}/{difficulty}": count for (split, difficulty), count in sorted(written.items())}
        write_json_atomic(work / "counts" / "written" / f"{rank:05d}.json", {"documents": sum(by.values()), "by": by})
        write_json_atomic(
            work / "counts" / "not_in_subset" / f"{rank:05d}.json",
            {"documents": dropped, "by": {"not_in_subset": dropped} if dropped else {}},
        )
        for split in ("train", "val"):
            self.stat_update(f"split_{split}", value=sum(n for (s, _), n in written.items() if s == split))
        self.stat_update("not_in_subset", value=dropped)
        self.track_time(unit="task").update(time.perf_counter() - started)
        yield from data or ()

"""Exact selection in three passes, with all per-record work done once: process (N tasks), plan (1), route (N).

Pass 1 (:class:`ProcessedLineWriter`, every task): each valid record becomes its FINAL output line (the
processed record, schema merged, SQL normalised, serialised once) in a work file ``<work>/lines/<name>.jsonl``
(``<rank>-low|mid|high`` by the band of the record's split key, see there); its keys go to
``<work>/keys/<name>.bin`` as one fixed-width binary row per line (:data:`KEY_ROW`: subset key, split key, line
length in bytes, difficulty code; 21 bytes), and ``<work>/keys/<name>.json`` names the difficulty codes.
Pass 2 (:class:`SelectionPlanner`, one task) streams every work file's key columns a chunk at a time (a few
passes) and writes ``<work>/plan/plan.json`` (:class:`trove_blocks.splits.SelectionPlan`): the exact subset and
val cutoffs.
Pass 3 (:class:`SelectionRouter`, every task) applies the plan to a chunk of key rows at a time with numpy. A work
file whose lines all go to one split is hard-linked into it (no byte copied: with the bands, all but ~2 % of the
lines of a run without a subset cut); the others are copied run by run, each run of consecutive lines bound for
the same split as one block of bytes, never decoding a line. Only dropped lines (their exclusion entry needs the
id) and lines whose key ties a cutoff (the tie is broken by id) are looked into. The raw file is parsed once; a
processed record is serialised once and written once in most cases.

Per-record counters are kept in local variables and handed to datatrove's stats once per task: a
``stat_update`` costs ~0.6 µs, and datatrove's writer spends ~100 µs of bookkeeping per document.
"""

from __future__ import annotations

import json
import os
import struct
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO

import numpy as np
import orjson
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.io import link_atomic, write_json_atomic
from trove_blocks.splits import (
    KEY_BITS,
    NOT_KEPT,
    SPLIT_KEY_BANDS,
    SPLITS,
    SelectionKeys,
    SelectionPlan,
    plan_selection_of_chunks,
    split_key_band_edges,
)
from trove_blocks.synsql.records import DEFAULT_DIFFICULTY, processed_record
from trove_blocks.taggers.synsql import load_schema_table
from trove_blocks.writers.atomic_jsonl import open_replacing

PLAN_FILE = "plan/plan.json"
LINES, KEYS = "lines", "keys"
_LINE = orjson.OPT_APPEND_NEWLINE
#: one binary key row per processed line: subset key, split key (int64), line length in bytes (uint32),
#: difficulty code (uint8, an index into the ``difficulties`` of the keys file's JSON sidecar); little endian
KEY_ROW = np.dtype([("subset", "<i8"), ("split", "<i8"), ("length", "<u4"), ("difficulty", "u1")])
_PACK_KEY_ROW = struct.Struct("<qqIB").pack
#: key rows read at once to check or route a work file (~5.5 MB of keys and per-row arrays)
ROUTE_CHUNK_ROWS = 1 << 18
#: largest block of line bytes held in memory while copying a run of lines
COPY_BYTES = 1 << 22
#: the id is the last field of every processed line: ``..., "id": <JSON string>}\n``
_ID_FIELD = b',"id":'


def line_id(line: bytes) -> str:
    """The ``id`` of a processed line (its last field), without decoding the rest of the line."""
    return orjson.loads(line[line.rindex(_ID_FIELD) + len(_ID_FIELD) : line.rindex(b"}")])


def read_line_ids(lines: Path, offsets: np.ndarray, lengths: np.ndarray) -> list[str]:
    """Ids of the lines of ``lines`` starting at byte ``offsets`` with these ``lengths`` (random access reads)."""
    fd = os.open(lines, os.O_RDONLY)
    try:
        return [line_id(os.pread(fd, int(length), int(offset))) for offset, length in zip(offsets, lengths)]
    finally:
        os.close(fd)


@dataclass(frozen=True)
class WorkFile:
    """One process task's output: ``lines/<name>.jsonl``, its key rows ``keys/<name>.bin`` and their sidecar."""

    work_dir: Path
    name: str

    @property
    def lines(self) -> Path:
        return self.work_dir / LINES / f"{self.name}.jsonl"

    @property
    def keys(self) -> Path:
        return self.work_dir / KEYS / f"{self.name}.bin"

    @cached_property
    def sidecar(self) -> dict:
        """``{"records", "difficulties"}``; written last by its task, so a task that did not finish has none."""
        path = self.keys.with_suffix(".json")
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the process task that writes it did not finish")
        return json.loads(path.read_text(encoding="utf-8"))

    @property
    def difficulties(self) -> list[str]:
        """Difficulty names by code."""
        return self.sidecar["difficulties"]

    def check(self) -> int:
        """Number of key rows; ValueError when keys, sidecar and lines disagree (files of different runs)."""
        rows, remainder = divmod(self.keys.stat().st_size, KEY_ROW.itemsize)
        described = sum(int(chunk["length"].sum(dtype=np.int64)) for chunk in self.key_chunks())
        found = self.lines.stat().st_size if self.lines.is_file() else 0
        if remainder or rows != self.sidecar["records"] or described != found:
            raise ValueError(
                f"{self.lines} holds {found} bytes, its keys {self.keys} describe {rows} lines of {described} bytes "
                f"and its sidecar {self.sidecar['records']} lines: a partial run; re-run the same command"
            )
        return rows

    def key_rows(self, count: int = -1, offset: int = 0) -> np.ndarray:
        """``count`` key rows (-1: all) from row ``offset`` on."""
        return np.fromfile(self.keys, dtype=KEY_ROW, count=count, offset=offset * KEY_ROW.itemsize)

    def key_chunks(self) -> Iterator[np.ndarray]:
        """The key rows, :data:`ROUTE_CHUNK_ROWS` at a time (memory does not grow with the file)."""
        for first in range(0, self.keys.stat().st_size // KEY_ROW.itemsize, ROUTE_CHUNK_ROWS):
            yield self.key_rows(ROUTE_CHUNK_ROWS, first)

    def line_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(key rows, their lines' byte offsets in the lines file, their lengths in bytes)`` a chunk at a time."""
        offset = 0  # of the chunk's first line
        for rows in self.key_chunks():
            lengths = rows["length"].astype(np.int64)
            yield rows, offset + np.cumsum(lengths) - lengths, lengths
            offset += int(lengths.sum())

    def ids_at(self, rows: np.ndarray, first: int = 0) -> dict[int, str]:
        """``{first + row: id}`` of the lines at these row numbers, read a chunk of key rows at a time."""
        wanted = np.sort(rows)
        found: dict[int, str] = {}
        start = 0  # the chunk's first row
        for chunk, offsets, lengths in self.line_chunks():
            local = wanted[(wanted >= start) & (wanted < start + len(chunk))] - start
            if len(local):
                ids = read_line_ids(self.lines, offsets[local], lengths[local])
                found.update(zip((local + start + first).tolist(), ids))
            start += len(chunk)
        return found


def work_files(work_dir: str | Path) -> list[WorkFile]:
    """Every process task's work file, in rank order."""
    work = Path(work_dir)
    return [WorkFile(work, path.stem) for path in sorted((work / KEYS).glob("*.bin"))]


class ProcessedLineWriter(PipelineStep):
    """Writes each valid SynSQL document as its final processed line plus its selection keys (module docstring).

    Run it after :class:`~trove_blocks.filters.synsql_validation.SynsqlRecordFilter` (which drops unknown
    db_ids and sql_complexity labels). Output lines are the processed record (seed's fields in order, schema
    merged from ``schema_table``) plus its ``id``; ``seed`` shapes both keys; ``include_cot`` keeps ``cot``.
    Files are committed atomically when the task ends without error.

    With ``val_ratio``, each task writes three work files, ``<rank>-low|mid|high``, by the band of the line's
    split key (:func:`~trove_blocks.splits.split_key_band_edges`): in a run of any size without a subset cut, every
    ``low`` line goes to val and every ``high`` line to train, and the router hard-links those files instead of
    copying their bytes (it checks each file's lines against the plan first). Without it, one file ``<rank>``.
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
        val_ratio: float | None = None,
    ):
        super().__init__()
        self.work_dir = work_dir
        self.schema_table = schema_table
        self.keys = SelectionKeys(seed)
        self.difficulty_map = dict(difficulty_map)
        self.include_cot = include_cot
        self.val_ratio = val_ratio

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        # each schema serialised once per task, spliced into every line of its database as a JSON fragment
        texts = load_schema_table(self.schema_table)
        schemas = {db_id: orjson.Fragment(orjson.dumps(text)) for db_id, text in texts.items()}
        names = sorted(set(self.difficulty_map.values()))
        codes = {label: (names.index(name), name) for label, name in self.difficulty_map.items()}
        if self.val_ratio is None:
            bands, (low, high) = [f"{rank:05d}"], (2**KEY_BITS, 2**KEY_BITS)  # every line in band 0
        else:
            bands, (low, high) = (
                [f"{rank:05d}-{band}" for band in SPLIT_KEY_BANDS],
                split_key_band_edges(self.val_ratio),
            )
        counts = [[0] * len(names) for _ in bands]
        work = Path(self.work_dir)
        seconds = 0.0
        clock = time.perf_counter
        keys_of, include_cot = self.keys, self.include_cot
        with ExitStack() as stack:
            lines = [open_replacing(stack, work / LINES / f"{band}.jsonl") for band in bands]
            keys = [open_replacing(stack, work / KEYS / f"{band}.bin") for band in bands]
            for document in data:
                started = clock()
                fields = document.metadata
                code, difficulty = codes[fields["sql_complexity"]]
                schema = schemas.get(fields["db_id"])
                if schema is None:
                    raise KeyError(f"document {document.id}: db_id {fields['db_id']!r} is not in {self.schema_table}")
                output = processed_record(document.text, fields, schema, difficulty, include_cot)
                output["id"] = document.id
                line = orjson.dumps(output, option=_LINE)
                subset_key, split_key = keys_of(document.id)
                band = 0 if split_key < low else 2 if split_key >= high else 1
                lines[band].write(line)
                keys[band].write(_PACK_KEY_ROW(subset_key, split_key, len(line), code))
                counts[band][code] += 1
                seconds += clock() - started
                yield document
        # sidecars after lines and keys are committed: keys without one belong to a task that did not finish
        for band, band_counts in zip(bands, counts):
            write_json_atomic(work / KEYS / f"{band}.json", {"records": sum(band_counts), "difficulties": names})
        for code, name in enumerate(names):
            if total := sum(band_counts[code] for band_counts in counts):
                self.stat_update(f"difficulty_{name}", value=total, unit="task")
        self.stat_update("lines", value=sum(map(sum, counts)), unit="task")
        self.track_time(unit="task").update(seconds)


class SelectionPlanner(PipelineStep):
    """One-task step: reads every task's key rows and writes the exact subset/val plan to ``<work>/plan/plan.json``.

    Memory: a chunk of key rows and the order statistics' histogram (:func:`trove_blocks.splits.kth_smallest`),
    whatever the number of records.
    """

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
        files = work_files(self.work_dir)
        first_rows = np.cumsum([0, *(work_file.check() for work_file in files)])

        def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for work_file in files:
                for rows in work_file.key_chunks():
                    yield rows["subset"].copy(), rows["split"].copy()

        def ids_at(indices: np.ndarray) -> list[str]:
            """Ids by position in the run's key rows, in file order (only asked for hash ties: rare)."""
            ids: dict[int, str] = {}
            owners = np.searchsorted(first_rows, indices, side="right") - 1
            for owner in np.unique(owners).tolist():
                ids.update(files[owner].ids_at(indices[owners == owner] - first_rows[owner], first_rows[owner]))
            return [ids[index] for index in indices.tolist()]

        plan = plan_selection_of_chunks(chunks, ids_at, self.subset_size, self.val_ratio)
        self.stat_update("candidates", value=plan.total)
        self.stat_update("kept", value=plan.kept)
        self.stat_update("val", value=plan.val)
        write_json_atomic(Path(self.work_dir) / PLAN_FILE, plan.to_json())
        yield from data or ()


class SelectionRouter(PipelineStep):
    """Applies the plan: each processed line goes to ``<output>/train|val/<work file>.jsonl`` or is dropped.

    Task ``rank`` takes the work files ``i`` with ``i % world_size == rank``. A work file whose lines all go to one
    split is hard-linked there whole (no bytes copied); any other is copied run by run (module docstring), so
    outputs are named after the work file they come from (``train/00000-high.jsonl``, ``val/00000-mid.jsonl``).
    Dropped records go to ``<output>/excluded/not_in_subset/<work file>.jsonl`` as ``{"id", "filter_reason"}``.
    Tallies (``<work>/counts/written/<rank>.json`` by ``split/difficulty``,
    ``<work>/counts/not_in_subset/<rank>.json``) feed :class:`~trove_blocks.writers.synsql_stats.SynsqlStatsWriter`.
    Copied files are committed atomically when the task ends without error, links at once (atomically too).
    Memory: one chunk of :data:`ROUTE_CHUNK_ROWS` key rows and one block of :data:`COPY_BYTES`, whatever the input
    size.
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
        written: Counter = Counter()
        dropped = linked = 0
        started = time.perf_counter()
        with ExitStack() as stack:
            for work_file in work_files(work)[rank::world_size]:
                work_file.check()
                names = work_file.difficulties
                seen: set[int] = set()
                for keys, _, codes in self._coded_chunks(plan, work_file):
                    kept = codes != NOT_KEPT
                    not_kept = len(codes) - int(kept.sum())
                    if not_kept:
                        seen.add(NOT_KEPT)
                        dropped += not_kept
                    by_split = np.bincount(
                        codes[kept].astype(np.int64) * len(names) + keys["difficulty"][kept],
                        minlength=len(SPLITS) * len(names),
                    )
                    for index, count in enumerate(by_split.tolist()):
                        if count:
                            seen.add(index // len(names))
                            written[SPLITS[index // len(names)], names[index % len(names)]] += count
                if len(seen) == 1 and NOT_KEPT not in seen:
                    link_atomic(work_file.lines, out / SPLITS[seen.pop()] / f"{work_file.name}.jsonl")
                    linked += 1
                elif seen:
                    self._copy_lines(plan, work_file, stack, out)
        by = {f"{split}/{difficulty}": count for (split, difficulty), count in sorted(written.items())}
        write_json_atomic(work / "counts" / "written" / f"{rank:05d}.json", {"documents": sum(by.values()), "by": by})
        write_json_atomic(
            work / "counts" / "not_in_subset" / f"{rank:05d}.json",
            {"documents": dropped, "by": {"not_in_subset": dropped} if dropped else {}},
        )
        for split in SPLITS:
            self.stat_update(f"split_{split}", value=sum(n for (s, _), n in written.items() if s == split))
        self.stat_update("not_in_subset", value=dropped)
        self.stat_update("files_linked", value=linked)
        self.track_time(unit="task").update(time.perf_counter() - started)
        yield from data or ()

    @staticmethod
    def _coded_chunks(plan: SelectionPlan, work_file: WorkFile) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(key rows, line lengths, split codes)`` of a work file, one chunk of :data:`ROUTE_CHUNK_ROWS` rows at a
        time.

        A file that is copied goes through this twice (to tally and decide, then to copy): computing its codes again
        costs a few numpy passes; keeping them would cost memory that grows with the file.
        """
        for keys, starts, lengths in work_file.line_chunks():

            def ids_at(indices: np.ndarray, starts=starts, lengths=lengths) -> list[str]:
                return read_line_ids(work_file.lines, starts[indices], lengths[indices])

            yield keys, lengths, plan.split_codes(keys["subset"], keys["split"], ids_at)

    def _copy_lines(self, plan: SelectionPlan, work_file: WorkFile, stack: ExitStack, out: Path) -> None:
        """Copy a work file's lines to their splits, each run of lines bound for one split as blocks of bytes."""
        outputs: dict[str, IO[bytes]] = {}

        def output(folder: str) -> IO[bytes]:
            if folder not in outputs:
                outputs[folder] = open_replacing(stack, out / folder / f"{work_file.name}.jsonl")
            return outputs[folder]

        with work_file.lines.open("rb") as lines:
            for _, lengths, codes in self._coded_chunks(plan, work_file):
                bounds = np.flatnonzero(codes[1:] != codes[:-1]) + 1
                for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), len(codes)]):
                    code = int(codes[start])
                    if code == NOT_KEPT:
                        excluded = output("excluded/not_in_subset")
                        for length in lengths[start:stop].tolist():
                            entry = {"id": line_id(lines.read(length)), "filter_reason": "not_in_subset"}
                            excluded.write(orjson.dumps(entry, option=_LINE))
                        continue
                    remaining = int(lengths[start:stop].sum())
                    target = output(SPLITS[code])
                    while remaining:
                        block = lines.read(min(remaining, COPY_BYTES))
                        if not block:
                            raise ValueError(
                                f"{work_file.lines} ends before the lines its keys describe: a partial run"
                            )
                        target.write(block)
                        remaining -= len(block)
